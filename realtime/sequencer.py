"""The pure sequencer of one document: accept, commit, roll back, rebase.

The model is ot.js ``Server.receiveOperation``: transform a change over
everything after its base revision, apply it, and return it; storing and
broadcasting are the caller's job (:mod:`realtime.authority` stores,
:mod:`realtime.fanout` delivers). Synchronous and deterministic: no asyncio,
no Django, no I/O, no frame text. Authors are opaque keys the caller passes
in (a socket's ``Subscriber``; ``None`` for a change the server makes)::

    submission (base rev r)
        |  seen(): dedupe by op id (the author rule)
        v
    accept(): check r, bound the work, check reach at r's length,
        |     transform over every op after r (committed window, then
        |     pending), serialise, check against the tip text, hold it
        |     to the review policy (who may change what), apply
        v
    queued with revision tip + 1
        |  take_batch(): the next batch is in flight
        v
    commit(batch): committed text, window and head move
        or rollback(): every pending op is returned, the tip rebuilt
        or rebase(reloaded state): pending ops accepted again

State is split in two so that a failed commit rolls back exactly:

* committed: ``_committed_text`` at ``head``, the ``_window`` of recent
  committed ops and their ids. Only :meth:`Sequencer.commit` and
  :meth:`Sequencer.rebase` change it.
* pending: ``_inflight`` (being stored) then ``_queue`` (waiting), and
  ``_text``, the committed text with every pending op applied (the tip).
  New ops are checked and transformed against the tip.

Invariants: revisions are consecutive (``head < tip``, the queue's entries
numbered ``head + 1 ...``); an op id is in at most one of ``_ids``
(committed, in the window) and ``_pending_ids``; ``_text`` equals
``_committed_text`` with the in-flight then queued ops applied.

Failure modes (each returns a :class:`~realtime.protocol.Rejection`, and a
refused op leaves every part of the state as it was):

* the op id belongs to another user's op: ``bad_message`` (ids are visible
  to everyone on the document, so only the author may resend one);
* base revision ahead of head: ``bad_message``; older than the window, or
  too much transform work since it: ``stale`` (the caller may rebase an op
  older than the window from storage first);
* a change that does not fit its base revision or the tip: ``bad_op``;
  past the size limit: ``too_large``;
* a change its author may not make (a commenter's op that is not a
  suggestion, a suggestion mark in someone else's name):
  ``forbidden`` naming why (:func:`realtime.ot.review.policy_problem`;
  server-made changes, ``may_edit`` None, are trusted);
* a change that cannot be transformed or written as JSON: ``bad_op``;
* a bug in a check or in applying: ``unavailable`` for that op alone (the
  tip is rebuilt from the committed text if applying failed half-way).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic

from realtime import protocol
from realtime.oplog import A, Entry, LoadedState, Submission
from realtime.ot import Delta, DocumentText, DocumentTooLarge, InvalidDelta
from realtime.ot import authorship as ot_authorship
from realtime.ot.authorship import Runs
from realtime.ot.delta import op_length
from realtime.ot.document import check_reach
from realtime.ot.review_policy import policy_problem
from realtime.presence import transform_range
from realtime.protocol import ErrorCode, Rejection

logger = logging.getLogger(__name__)

#: Most op-steps transforming one change to the tip may take (the ops it is
#: transformed over plus its own ops once per op it passes): ~25 ms here.
MAX_TRANSFORM_WORK = 50_000
#: Most ops the window of committed changes holds (beyond its entry count).
MAX_WINDOW_OPS = 100_000
#: Entries the window keeps whatever their size (catch-up of slow sockets).
MIN_WINDOW_ENTRIES = 64
#: A committed batch with more ops than this is copied from the tip, not re-applied.
COPY_TIP_OPS = 64

#: Op ids are visible to everyone on the document, so a resend is only
#: recognised as one when it comes from the op's author; anyone else reusing
#: an id (to make someone's next op look applied) is refused.
ID_TAKEN = Rejection(ErrorCode.BAD_MESSAGE, "this op id belongs to another user's op")


def transform_work(change: Delta, later: Sequence[Delta]) -> int:
    """Return the op-steps transforming ``change`` over ``later`` takes (at most)."""
    if not later:
        return 0
    return len(later) * len(change.ops) + sum(len(delta.ops) for delta in later)


class Sequencer(Generic[A]):
    """Committed and pending state of one document, and the OT that moves it."""

    def __init__(
        self,
        state: LoadedState,
        *,
        window_size: int,
        max_length: int,
        max_runs: int | None,
    ) -> None:
        self._window_size = window_size
        self._max_length = max_length
        #: Most formatting runs one change may reformat or delete (too_large).
        self._max_runs = max_runs
        self._inflight: list[Entry[A]] = []
        self._queue: list[Entry[A]] = []
        self._pending_ids: dict[str, Entry[A]] = {}
        self._install(state)

    def _install(self, state: LoadedState) -> None:
        self.document_pk = state.document_pk
        self._committed_text = state.text
        self._text = state.text.copy()
        #: Who wrote each character of the committed text (moves with it).
        self._runs = ot_authorship.Tracker(
            state.runs if state.runs is not None else ot_authorship.initial(state.text.length)
        )
        #: The last committed revision.
        self.head = state.head
        self._tip = state.head
        self._window: list[Entry[A]] = state.window
        self._window_ops = sum(len(entry.delta.ops) for entry in state.window)
        #: The oldest revision an op or ``?rev=`` may be based on.
        self.window_start = state.window_start
        self._start_length = state.start_length
        self._ids = {entry.op_id: entry.rev for entry in state.window}

    # -- reading ---------------------------------------------------------------

    @property
    def window(self) -> list[Entry[A]]:
        """Return the committed ops after ``window_start`` (not a copy: read only)."""
        return self._window

    @property
    def queued(self) -> list[Entry[A]]:
        """Return the accepted ops waiting for the next batch (read only)."""
        return self._queue

    @property
    def pending(self) -> bool:
        """Return whether ops are queued or in flight."""
        return bool(self._queue) or bool(self._inflight)

    def content(self) -> list[dict[str, Any]]:
        """Return the committed content (at ``head``)."""
        return self._committed_text.to_ops()

    @property
    def runs(self) -> Runs:
        """Return the authorship of the committed content (at ``head``; a copy)."""
        return self._runs.runs()

    def length_at(self, rev: int) -> int:
        """Return the document's length at committed revision ``rev`` in the window."""
        if rev == self.head:
            return self._committed_text.length
        if rev == self.window_start:
            return self._start_length
        return self._window[rev - self.window_start - 1].length

    def deltas_after(self, base: int) -> list[Delta]:
        """Return the ops after revision ``base`` up to the tip: committed, then pending."""
        later = [entry.delta for entry in self._window[base - self.window_start :]]
        later.extend(entry.delta for entry in self._inflight)
        later.extend(entry.delta for entry in self._queue)
        return later

    def range_at_head(self, rev: int, index: int, length: int) -> tuple[int, int] | None:
        """Return a selection made at ``rev`` moved to ``head``; None if older than the window."""
        if rev < self.window_start:
            return None
        if rev == self.head:
            return index, length
        first = rev - self.window_start
        return transform_range(index, length, (entry.delta for entry in self._window[first:]))

    # -- accepting -------------------------------------------------------------

    def seen(
        self, op_id: str, user_id: int | None, author: A | None
    ) -> int | Entry[A] | Rejection | None:
        """Return what is known of op ``op_id``, sent (again) by ``author``.

        Its committed revision (ack it), its pending entry (``author`` is
        owed its ack too, at commit), a refusal (another user's id), or None:
        a new op, for :meth:`accept`.
        """
        rev = self._ids.get(op_id)
        if rev is not None:
            if self._window[rev - self.window_start - 1].user_id != user_id:
                return ID_TAKEN.with_id(op_id)
            return rev
        pending = self._pending_ids.get(op_id)
        if pending is not None:
            if pending.user_id != user_id:
                return ID_TAKEN.with_id(op_id)
            pending.add_acker(author)
            return pending
        return None

    def accept(self, sub: Submission[A]) -> Entry[A] | Rejection:
        """Transform a new op to the tip, apply it and queue it, or refuse it.

        All or nothing: everything that can fail (the base-revision check,
        transformation, serialisation, the document's own check) runs before
        any state moves, so a refusal leaves the tip, the revision sequence
        and the queue exactly as they were. Only the mutation of ``_text``
        comes after; should it fail (a bug), the tip is rebuilt from the
        committed text and the pending ops before the op is refused.
        """
        base = sub.base_rev
        if base > self.head:
            return Rejection(
                ErrorCode.BAD_MESSAGE, f"rev {base} is ahead of the server ({self.head})", sub.op_id
            )
        if base < self.window_start:
            return Rejection(
                ErrorCode.STALE,
                f"rev {base} is older than the history held (from {self.window_start}); reload",
                sub.op_id,
            )
        later = self.deltas_after(base)
        work = transform_work(sub.change, later)
        if work > MAX_TRANSFORM_WORK:
            # Large changes piled up since ``base``: transforming over them
            # would hold the loop; the client reloads and makes it again.
            return Rejection(
                ErrorCode.STALE,
                f"rev {base} is too far behind for a change this large "
                f"({work} steps to transform); reload",
                sub.op_id,
            )
        try:
            # The base-revision rule (protocol.md): reach is checked against
            # the document the client saw; surrogate pairs after transform.
            check_reach(sub.change, self.length_at(base), rev=base)
            if sub.attribution is not None and ot_authorship.length(sub.attribution) != sum(
                op_length(op) for op in sub.change.ops if "insert" in op
            ):
                raise InvalidDelta("the attribution does not cover exactly the inserts")
            change = sub.change
            for delta in later:
                change = delta.transform(change, True)
            delta_json = protocol.dumps(change.ops)
            self._text.check(change, max_length=self._max_length, max_runs=self._max_runs)
            if sub.may_edit is not None:
                # The review policy, against the tip the op will apply to:
                # after the check, so every range it reads exists.
                problem = policy_problem(
                    self._text, change, user_id=sub.user_id or 0, may_edit=sub.may_edit
                )
                if problem is not None:
                    return Rejection(ErrorCode.FORBIDDEN, problem, sub.op_id)
        except DocumentTooLarge as exc:
            return Rejection(
                ErrorCode.TOO_LARGE, str(exc) or "the document would be too large", sub.op_id
            )
        except InvalidDelta as exc:
            return Rejection(ErrorCode.BAD_OP, str(exc), sub.op_id)
        except (RecursionError, ValueError, TypeError) as exc:
            # Accepted input that cannot be transformed or written as JSON:
            # refuse it here rather than store something unreadable.
            logger.warning(
                "op %s on document %s cannot be accepted: %r", sub.op_id, self.document_pk, exc
            )
            return Rejection(ErrorCode.BAD_OP, "the change cannot be stored", sub.op_id)
        except Exception:
            logger.exception("accepting op %s on document %s failed", sub.op_id, self.document_pk)
            return Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later", sub.op_id)
        try:
            self._text.apply_checked(change)
        except Exception:
            logger.exception("applying op %s on document %s failed", sub.op_id, self.document_pk)
            self._rebuild_tip()
            return Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later", sub.op_id)
        # Nothing below can fail: the state moves from here on.
        self._tip += 1
        entry: Entry[A] = Entry(
            rev=self._tip,
            op_id=sub.op_id,
            delta=change,
            delta_json=delta_json,
            user_id=sub.user_id,
            author=sub.author,
            length=self._text.length,
            submission=sub,
            attribution=sub.attribution,
        )
        self._queue.append(entry)
        self._pending_ids[entry.op_id] = entry
        return entry

    def _rebuild_tip(self) -> None:
        """Make ``_text`` the committed text with every pending op applied again."""
        text = self._committed_text.copy()
        for entry in self._inflight + self._queue:
            text.apply_checked(entry.delta)
        self._text = text

    # -- committing ------------------------------------------------------------

    def take_batch(self, max_ops: int) -> list[Entry[A]]:
        """Move the next (at most ``max_ops``) queued ops in flight and return them."""
        batch = self._queue[:max_ops]
        del self._queue[: len(batch)]
        self._inflight = batch
        return batch

    def commit(self, batch: list[Entry[A]]) -> None:
        """Make the stored in-flight ``batch`` the committed state."""
        self._inflight = []
        committed: DocumentText | None = self._committed_text
        if not self._queue and sum(len(entry.delta.ops) for entry in batch) > COPY_TIP_OPS:
            # Nothing is queued behind the batch, so the tip is exactly the
            # committed text with the batch applied: copying it costs a list
            # copy per block, applying a large batch a second time would
            # hold the loop as long as accepting it did.
            self._committed_text = self._text.copy()
            committed = None
        pending_ids, ids = self._pending_ids, self._ids
        runs = self._runs
        for entry in batch:
            if committed is not None:
                committed.apply_checked(entry.delta)  # checked against the tip already
            # O(chunks + runs reached) per op; fits: checked against the tip.
            try:
                runs.apply(entry.delta.ops, entry.user_id, entry.attribution)
            except ValueError:  # a bug: authorship is lost, never the commit
                logger.exception("authorship of %s at r%d", self.document_pk, entry.rev)
                runs.reset(ot_authorship.initial(entry.length))
            entry.submission = None
            del pending_ids[entry.op_id]
            ids[entry.op_id] = entry.rev
        self._window.extend(batch)
        self._window_ops += sum(len(entry.delta.ops) for entry in batch)
        self.head = batch[-1].rev
        self._trim_window()

    def _trim_window(self) -> None:
        """Drop the oldest committed ops past the window's bounds.

        Two bounds: ``window_size`` entries (trimmed in steps, so that
        trimming is rare) and ``MAX_WINDOW_OPS`` ops held in all of them,
        so that a few large changes cannot make the window hold millions
        of objects (memory, and the garbage collector's full passes, which
        stall the loop). The newest ``MIN_WINDOW_ENTRIES`` always stay.
        """
        window = self._window
        excess = len(window) - self._window_size
        if excess < max(16, self._window_size // 8):
            excess = 0
        held = self._window_ops - sum(len(e.delta.ops) for e in window[:excess])
        while held > MAX_WINDOW_OPS and len(window) - excess > MIN_WINDOW_ENTRIES:
            held -= len(window[excess].delta.ops)
            excess += 1
        if excess <= 0:
            return
        for entry in window[:excess]:
            self._ids.pop(entry.op_id, None)
        self._start_length = window[excess - 1].length
        del window[:excess]
        self.window_start += excess
        self._window_ops = held

    def rollback(self) -> list[Entry[A]]:
        """Drop every pending op (in flight and queued) and return them, oldest first.

        The queued ops were transformed over the in-flight ones, so they
        fail with them; the tip becomes the committed text again.
        """
        failed = self._inflight + self._queue
        self._inflight = []
        self._queue = []
        self._pending_ids = {}
        self._text = self._committed_text.copy()
        self._tip = self.head
        return failed

    def rebase(
        self,
        state: LoadedState,
        *,
        deferred: Iterable[Submission[A]] = (),
        stored_elsewhere: Mapping[str, int] | None = None,
        refusal: Rejection | None = None,
    ) -> list[tuple[Submission[A], int | Rejection]]:
        """Install a reloaded ``state`` and accept the pending ops again.

        ``state`` must not be behind ``head``. The pending ops (then
        ``deferred``, submissions that arrived during the reload) are
        transformed again from their own base revisions. An op found in the
        reloaded window was stored by its first attempt (its answer was
        lost): its entry gets its author back, so the delivery acks it.
        Return, in submission order, the ops the caller must answer: stored
        elsewhere (``stored_elsewhere``, op id to revision: ack at that
        revision) or refused. With ``refusal``, nothing is accepted again:
        each op still to accept is refused with it.
        """
        pending = [entry.submission for entry in self._inflight + self._queue]
        pending.extend(deferred)
        self._inflight = []
        self._queue = []
        self._pending_ids = {}
        self._install(state)
        by_id = {entry.op_id: entry for entry in self._window}
        for sub in pending:
            if sub is None:
                continue
            stored = by_id.get(sub.op_id)
            if stored is not None and sub.author is not None:
                stored.author = sub.author
        answers: list[tuple[Submission[A], int | Rejection]] = []
        for sub in pending:
            if sub is None or sub.op_id in self._ids:
                continue  # stored: the delivery acks it
            if stored_elsewhere and sub.op_id in stored_elsewhere:
                answers.append((sub, stored_elsewhere[sub.op_id]))
                continue
            duplicate = self._pending_ids.get(sub.op_id)
            if duplicate is not None:
                duplicate.add_acker(sub.author)
                continue
            result = refusal.with_id(sub.op_id) if refusal is not None else self.accept(sub)
            if isinstance(result, Rejection):
                answers.append((sub, result))
        return answers
