"""Catch-up from storage: ops older than the authority's window, read off the loop.

The authority holds a window of recent ops in memory. A client offline
longer (past a compaction, an unload or many edits) is caught up with the
ops compaction kept (``RETENTION_DAYS``), read from storage on a store
thread:

* its ``hello`` carries the stored ops after its revision
  (``Authority.attach_caught_up``);
* an op it made before them is rebased over them here
  (:func:`rebase_submission`), then accepted like any op.

Failure modes:

* ops no longer stored, more than the caller's ``max_ops`` (or
  ``max_bytes``), or too much transform work: ``stale``; the client reloads
  and hands the person their unsaved text;
* storage down: ``unavailable`` (the op; the client resends) or the full
  content (a ``hello``);
* the op's id is stored already (its first send committed, the ack was
  lost, the window moved on): its stored revision, to ack; another user's
  op under that id: ``bad_message``;
* the window moves on during a read (commits trim it): read again from
  where the last read ended, :data:`STORAGE_REBASE_READS` times at most,
  then ``stale``;
* each rebase costs a read of up to thousands of rows, so a socket may have
  one per :data:`STORAGE_REBASE_INTERVAL` (``rate_limited`` with
  ``retry_after`` otherwise).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable
from typing import TypeVar

from documents.store import DocumentStore, StoredOp
from realtime.exceptions import AuthorityClosed
from realtime.oplog import Submission
from realtime.ot import Delta, InvalidDelta
from realtime.ot.document import check_reach
from realtime.protocol import ErrorCode, Rejection
from realtime.runner import StoreRunner
from realtime.sequencer import ID_TAKEN, MAX_TRANSFORM_WORK, Sequencer, transform_work

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Hashable)

#: A socket may have an op rebased from storage once per this many seconds:
#: a reconnecting client needs it once, while one op per frame reading
#: 20,000 rows would turn the op rate limit into a database load.
STORAGE_REBASE_INTERVAL = 1.0
#: Reads a rebase from storage may take while the window moves on under it.
STORAGE_REBASE_READS = 4


class RebaseRate:
    """When each author last had an op rebased from storage."""

    def __init__(self) -> None:
        self._last: dict[Hashable, float] = {}

    def check(self, author: Hashable, now: float, op_id: str) -> Rejection | None:
        """Return ``rate_limited`` if ``author`` had one too recently; else count this one."""
        last = self._last.get(author)
        wait = 0.0 if last is None else last + STORAGE_REBASE_INTERVAL - now
        if wait > 0:
            return Rejection(
                ErrorCode.RATE_LIMITED,
                "one op far behind per second; resend after a pause",
                op_id,
                max(1, math.ceil(wait * 1000)),
            )
        self._last[author] = now
        return None

    def forget(self, author: Hashable) -> None:
        """Drop ``author`` (its socket closed)."""
        self._last.pop(author, None)

    def clear(self) -> None:
        """Drop every author."""
        self._last.clear()


async def read_stored(
    runner: StoreRunner,
    *,
    document_pk: int,
    after: int,
    up_to: int,
    max_ops: int,
    max_bytes: int,
    name: str,
) -> list[StoredOp] | None:
    """Return the stored ops after ``after`` up to ``up_to``, for a ``hello``.

    None when they are no longer all stored, more than ``max_ops`` (or
    ``max_bytes``), or storage is down: the full content will do.
    """
    try:
        return await runner.run(
            runner.store.history,
            document_pk=document_pk,
            after=after,
            up_to=up_to,
            max_ops=max_ops,
            max_bytes=max_bytes,
        )
    except Exception as exc:  # noqa: BLE001 - storage trouble: the full content will do
        logger.warning("reading the history of %s after r%d failed: %s", name, after, exc)
        return None


async def rebase_submission(
    submission: Submission[A],
    *,
    runner: StoreRunner,
    seq: Sequencer[A],
    still_open: Callable[[], bool],
    max_ops: int,
    max_bytes: int,
) -> Submission[A] | int | Rejection:
    """Return ``submission`` rebased to the window's start, its stored revision, or why not.

    :raises AuthorityClosed: ``still_open()`` turned false during a read.
    """
    op_id = submission.op_id
    base, change = submission.base_rev, submission.change
    for attempt in range(STORAGE_REBASE_READS):
        up_to = seq.window_start
        try:
            outcome = await runner.run(
                rebase_from_storage,
                store=runner.store,
                document_pk=seq.document_pk,
                op_id=op_id if attempt == 0 else None,
                base=base,
                up_to=up_to,
                length_at_up_to=seq.length_at(up_to),
                change=change,
                max_ops=max_ops,
                max_bytes=max_bytes,
            )
        except Exception as exc:  # noqa: BLE001 - StorageUnavailable: the client resends
            logger.warning("rebasing op %s from storage failed: %s", op_id, exc)
            return Rejection(ErrorCode.UNAVAILABLE, "storage is unavailable; resend later", op_id)
        if isinstance(outcome, StoredOp):
            if outcome.author_id != submission.user_id:
                return ID_TAKEN.with_id(op_id)
            return outcome.revision
        if isinstance(outcome, Rejection):
            return outcome.with_id(op_id)
        if not still_open():
            raise AuthorityClosed("the document's authority was closed")
        base, change = up_to, outcome
        if up_to >= seq.window_start:
            return Submission(
                op_id=op_id,
                base_rev=base,
                change=change,
                author=submission.author,
                user_id=submission.user_id,
            )
    return Rejection(
        ErrorCode.STALE, "the history moved on while this op was rebased; reload", op_id
    )


def rebase_from_storage(
    *,
    store: DocumentStore,
    document_pk: int,
    op_id: str | None,
    base: int,
    up_to: int,
    length_at_up_to: int,
    change: Delta,
    max_ops: int,
    max_bytes: int,
) -> StoredOp | Rejection | Delta:
    """Return a resend's stored op, its change rebased to ``up_to``, or why not.

    ``op_id`` None: the id was looked up already (a later read of a rebase).

    Runs on a store thread: reads storage, and transforms at most
    ``MAX_TRANSFORM_WORK`` op-steps. The reach is checked against the
    document at ``base``, whose length is ``length_at_up_to`` less what the
    stored ops changed.
    """
    stored = store.find_op(document_pk=document_pk, op_id=op_id) if op_id is not None else None
    if stored is not None:
        return stored
    ops = store.history(
        document_pk=document_pk, after=base, up_to=up_to, max_ops=max_ops, max_bytes=max_bytes
    )
    if ops is None:
        return Rejection(ErrorCode.STALE, f"rev {base} is older than the history kept; reload")
    deltas = [Delta(op.delta) for op in ops]
    work = transform_work(change, deltas)
    if work > MAX_TRANSFORM_WORK:
        return Rejection(
            ErrorCode.STALE,
            f"rev {base} is too far behind for a change this large "
            f"({work} steps to transform); reload",
        )
    length = length_at_up_to - sum(d.change_length() for d in deltas)
    try:
        check_reach(change, length, rev=base)
        for delta in deltas:
            change = delta.transform(change, True)
    except InvalidDelta as exc:
        return Rejection(ErrorCode.BAD_OP, str(exc))
    return change
