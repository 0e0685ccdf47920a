"""The per-document authority: the one writer of an open document.

One :class:`Authority` per open document per worker holds the document's
content, its head revision, a window of the most recent ops and the sockets
attached to it. Every op goes through it::

    client op (base rev r)
        |  dedupe by op id, check r, parse_change, reach at r's length
        v
    transform over every op after r (committed window, then pending)
        |  server op a, incoming b: b' = a.transform(b, True)
        v
    serialise b', check it against the tip text (bounds, surrogates, final
    newline, size, runs touched); only then apply it (all or nothing)
        |  queued with revision tip + 1
        v
    group commit: the writer stores everything queued in ONE transaction
        |
        v
    only then: committed text, window and head move; acks and broadcasts go
    out, one frame per socket per delivery (``batch``)

State is split in two so that a failed commit rolls back exactly:

* committed: ``_committed_text`` at ``head``, the ``_window`` of recent
  committed ops and their ids. Only a successful commit changes it.
* pending: ``_inflight`` (being stored) then ``_queue`` (waiting), and
  ``_text``, the committed text with every pending op applied. New ops are
  validated and transformed against this tip.

Failure modes:

* Storage unavailable: every pending op (in flight or queued behind, since
  those were transformed over it) gets ``unavailable``; the tip is rebuilt
  from the committed text. Nothing was acked or broadcast, so the sockets
  stay consistent and usable; clients resend with the same ids.
* ``UNIQUE(document, revision)`` conflict: another writer stored revisions
  first (two workers both thought they owned the document). The authority
  reloads from storage, broadcasts the other writer's ops, and transforms
  its pending ops again from their original base revisions (bounded
  retries). A pending op whose id turns out to be stored already (its
  first attempt committed but the answer was lost) is acked instead.
* The document is gone: every socket is closed with 4404.

Group commit waits a little for stragglers: before a commit the writer
gives the last commit's authors a fraction of a commit's duration to send
their next op (``_gather``), so closed-loop writers share one transaction.

Deliveries: the sockets that authored ops of a commit get their frames at
once (acks must not wait). The others get theirs at once on a small
document, or on a short tick on a busy one (``fanout_delay``), so that one
frame carries many ops: fan-out costs grow with the square of the people.
"""
from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from documents.store import (
    DocumentMissing,
    DuplicateOpIds,
    LoadedDocument,
    NewOp,
    RevisionConflict,
    StoredOp,
)
from realtime import protocol
from realtime.content_policy import content_policy
from realtime.exceptions import AuthorityClosed
from realtime.ot import Delta, DocumentText, DocumentTooLarge, InvalidDelta, parse_change
from realtime.ot.document import check_reach
from realtime.presence import transform_range
from realtime.protocol import CloseCode, ErrorCode, Rejection
from realtime.runner import StoreRunner
from realtime.subscriber import Subscriber
from routing.lease import LEASE_RETRY_MS
from routing.lease import accepting as lease_accepting

logger = logging.getLogger(__name__)

#: Most ops stored by one transaction.
MAX_BATCH_OPS = 500
#: Consecutive revision conflicts before pending ops get ``unavailable``.
MAX_CONFLICT_RETRIES = 5
#: Most op-steps transforming one change to the tip may take (the ops it is
#: transformed over plus its own ops once per op it passes): ~25 ms here.
MAX_TRANSFORM_WORK = 50_000
#: Most ops the window of committed changes holds (beyond its entry count).
MAX_WINDOW_OPS = 100_000
#: Entries the window keeps whatever their size (catch-up of slow sockets).
MIN_WINDOW_ENTRIES = 64
#: A committed batch with more ops than this is copied from the tip, not re-applied.
COPY_TIP_OPS = 64
#: Up to this many sockets, every delivery is immediate.
IMMEDIATE_FANOUT_SOCKETS = 16
#: Longest a commit waits for the previous commit's authors to send again.
GATHER_MAX_SECONDS = 0.003
#: Most stored ops (older than the window) a catch-up ``hello`` or a resend's
#: rebase reads from storage; more, or more bytes, and the client reloads.
MAX_STORED_CATCHUP_OPS = 20_000
MAX_STORED_CATCHUP_BYTES = 8 * 1024 * 1024
#: A socket may have an op rebased from storage once per this many seconds:
#: a reconnecting client needs it once, while one op per frame reading
#: 20,000 rows would turn the op rate limit into a database load.
STORAGE_REBASE_INTERVAL = 1.0
#: Reads a rebase from storage may take while the window moves on under it.
STORAGE_REBASE_READS = 4


#: Op ids are visible to everyone on the document, so a resend is only
#: recognised as one when it comes from the op's author; anyone else reusing
#: an id (to make someone's next op look applied) is refused.
_ID_TAKEN = Rejection(ErrorCode.BAD_MESSAGE, "this op id belongs to another user's op")


def _setting(name: str) -> int | None:
    """Return a ``COLLABDOCS`` limit, or None when settings do not name it."""
    from django.conf import settings

    return settings.COLLABDOCS.get(name)


def transform_work(change: Delta, later: list[Delta]) -> int:
    """Return the op-steps transforming ``change`` over ``later`` takes (at most)."""
    if not later:
        return 0
    return len(later) * len(change.ops) + sum(len(delta.ops) for delta in later)


def fanout_delay(sockets: int) -> float:
    """Return how long broadcasts may wait to be combined, in seconds."""
    if sockets <= IMMEDIATE_FANOUT_SOCKETS:
        return 0.0
    return min(0.05, sockets * 0.0001)


class Entry:
    """One op in the history, committed or pending."""

    __slots__ = (
        "rev",
        "op_id",
        "delta",
        "delta_json",
        "user_id",
        "author",
        "ackers",
        "op_text",
        "ack_text",
        "length",
        "submission",
    )

    def __init__(
        self,
        *,
        rev: int,
        op_id: str,
        delta: Delta,
        delta_json: str,
        user_id: int | None,
        session: str,
        author: Subscriber | None,
        length: int,
        submission: Submission | None = None,
    ) -> None:
        self.rev = rev
        self.op_id = op_id
        self.delta = delta
        self.delta_json = delta_json
        self.user_id = user_id
        self.author = author
        #: Other sockets that resent this op while it was pending.
        self.ackers: list[Subscriber] | None = None
        self.op_text = protocol.op_frame(
            rev=rev, op_id=op_id, session=session, user_id=user_id, delta_json=delta_json
        )
        self.ack_text = protocol.ack_frame(op_id=op_id, rev=rev)
        #: Length of the document after this op.
        self.length = length
        self.submission = submission

    def acks(self, sub: Subscriber) -> bool:
        """Return whether ``sub`` gets this op's ack rather than the op."""
        return self.author is sub or (self.ackers is not None and sub in self.ackers)

    def new_op(self) -> NewOp:
        """Return this op as the store appends it."""
        return NewOp(
            revision=self.rev,
            op_id=self.op_id,
            delta=self.delta.ops,
            delta_json=self.delta_json,
            author_id=self.user_id,
        )


@dataclass(slots=True)
class Submission:
    """An op as its client sent it: kept to transform it again after a conflict."""

    op_id: str
    base_rev: int
    change: Delta
    author: Subscriber | None
    user_id: int | None


@dataclass(slots=True)
class LoadedState:
    """What :func:`build_state` makes of a loaded document (off the loop)."""

    document_pk: int
    text: DocumentText
    head: int
    window_start: int
    start_length: int
    window: list[Entry]
    snapshot_revision: int = 0


def _stored_entry(stored: StoredOp, delta: Delta, length: int) -> Entry:
    return Entry(rev=stored.revision, op_id=stored.op_id, delta=delta,
                 delta_json=protocol.dumps(stored.delta), user_id=stored.author_id,
                 session="", author=None, length=length)


def build_state(loaded: LoadedDocument, *, window_size: int) -> LoadedState:
    """Compose a loaded document into content and a window of its last ops.

    When the ops after the snapshot do not fill the window, the ops that
    compaction kept at or before the snapshot (``loaded.earlier``) fill it
    from the front: they serve catch-up and transformation only, the
    content already holds them. Their lengths are worked out backwards
    from the snapshot's.
    """
    text = DocumentText.from_ops(loaded.snapshot_content)
    keep_from = max(0, len(loaded.ops) - window_size)
    room = window_size - (len(loaded.ops) - keep_from)
    earlier = list(getattr(loaded, "earlier", ()) or ())[-room:] if room > 0 else []
    window: list[Entry] = []
    length = text.length
    for stored in reversed(earlier):
        delta = Delta(stored.delta)
        window.append(_stored_entry(stored, delta, length))
        length -= delta.change_length()
    window.reverse()
    start_length = length
    for i, stored in enumerate(loaded.ops):
        delta = Delta(stored.delta)
        text.apply(delta)
        if i < keep_from:
            start_length = text.length
            continue
        window.append(_stored_entry(stored, delta, text.length))
    head = loaded.head_revision
    return LoadedState(
        document_pk=loaded.document_pk,
        text=text,
        head=head,
        window_start=head - len(window),
        start_length=start_length,
        window=window,
        snapshot_revision=loaded.snapshot_revision,
    )


class Authority:
    """The single writer of one open document on this worker (module docstring)."""

    def __init__(
        self,
        *,
        public_id: uuid.UUID,
        state: LoadedState,
        runner: StoreRunner,
        window_size: int,
        max_length: int,
        max_runs: int | None = None,
    ) -> None:
        self.public_id = public_id
        self._doc = str(public_id)
        self._runner = runner
        self._store = runner.store
        self._window_size = window_size
        self._max_length = max_length
        #: Most formatting runs one change may reformat or delete (too_large).
        self._max_runs = max_runs if max_runs is not None else _setting("MAX_CHANGE_RUNS")
        self._loop = asyncio.get_running_loop()
        self._subs: list[Subscriber] = []
        self._install(state)
        self._inflight: list[Entry] = []
        self._queue: list[Entry] = []
        self._pending_ids: dict[str, Entry] = {}
        self._tip = self.head
        self._writer: asyncio.Task[None] | None = None
        self._rebasing = False
        self._deferred: list[Submission] = []
        self._stored_elsewhere: dict[str, int] = {}
        #: Loop time of each socket's last rebase from storage.
        self._storage_rebased: dict[Subscriber, float] = {}
        self._conflicts = 0
        #: Sockets owed a delivery right away (authors of a commit).
        self._owed: dict[Subscriber, None] = {}
        self._tick: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._content_cache: tuple[int, str] | None = None
        self._frame_cache: dict[int, str] = {}
        #: Authors of the last commit, when it was made, the mean store time.
        self._last_authors: set[Subscriber] = set()
        self._last_commit_at = 0.0
        self._store_seconds = 0.0
        self._arrival: asyncio.Future[None] | None = None
        #: Called with the authority after every commit (the registry's
        #: compaction trigger); must not block.
        self.on_commit: Callable[[Authority], None] | None = None
        self.closed = False
        #: Handing over (scale-out): no new ops; pending ones still commit.
        self.draining = False

    # -- loading -----------------------------------------------------------

    @classmethod
    async def load(
        cls, *, public_id: uuid.UUID, runner: StoreRunner, window_size: int, max_length: int
    ) -> Authority:
        """Load a document (snapshot + later ops) and return its authority."""
        state = await runner.run(_load_state, store=runner.store, public_id=public_id,
                                 window_size=window_size)
        return cls(public_id=public_id, state=state, runner=runner, window_size=window_size,
                   max_length=max_length)

    def _install(self, state: LoadedState) -> None:
        self.document_pk = state.document_pk
        self._committed_text = state.text
        self._text = state.text.copy()
        self.head = state.head
        self._window = state.window
        self._window_ops = sum(len(entry.delta.ops) for entry in state.window)
        self._window_start = state.window_start
        self._start_length = state.start_length
        self._ids = {entry.op_id: entry.rev for entry in state.window}
        #: The revision of the stored snapshot (compaction moves it forward).
        self.snapshot_revision = max(getattr(self, "snapshot_revision", 0), state.snapshot_revision)
        self._content_cache = None
        self._frame_cache = {}

    # -- introspection -------------------------------------------------------

    @property
    def subscribers(self) -> list[Subscriber]:
        """Return the attached sockets."""
        return list(self._subs)

    @property
    def window_start(self) -> int:
        """Return the oldest revision an op or ``?rev=`` may be based on."""
        return self._window_start

    @property
    def busy(self) -> bool:
        """Return whether ops are pending or being stored."""
        return self._writer is not None or bool(self._queue) or bool(self._inflight)

    def content(self) -> list[dict]:
        """Return the committed content (at ``head``)."""
        return self._committed_text.to_ops()

    # -- attach / detach -----------------------------------------------------

    async def attach_caught_up(self, sub: Subscriber, *, since_rev: int | None = None) -> str:
        """Attach ``sub`` like :meth:`attach`, catching up from storage if need be.

        A ``since_rev`` older than the window (a client offline past a
        compaction, an unload or many edits) is caught up with the ops
        compaction kept (``RETENTION_DAYS``), read off the loop: the client
        rebases its unsaved edits over them as over any catch-up. Ops no
        longer stored, or more than ``MAX_STORED_CATCHUP_OPS`` (or bytes),
        or storage down: the full content, and the client hands the person
        their unsaved text.

        :raises AuthorityClosed: the authority closed or began handing over
            while storage was read.
        """
        if since_rev is None or not 0 <= since_rev < self._window_start:
            return self.attach(sub, since_rev=since_rev)
        up_to = self._window_start
        try:
            stored = await self._runner.run(
                self._store.history, document_pk=self.document_pk, after=since_rev, up_to=up_to,
                max_ops=MAX_STORED_CATCHUP_OPS, max_bytes=MAX_STORED_CATCHUP_BYTES)
        except Exception as exc:  # noqa: BLE001 - storage trouble: the full content will do
            logger.warning("reading the history of %s after r%d failed: %s", self._doc,
                           since_rev, exc)
            stored = None
        if self.closed or self.draining:
            raise AuthorityClosed("the document's authority was closed")
        if stored is None or up_to < self._window_start:
            return self.attach(sub, since_rev=None)
        return self.attach(sub, since_rev=up_to, stored=stored)

    def attach(self, sub: Subscriber, *, since_rev: int | None = None,
               stored: list[StoredOp] | None = None) -> str:
        """Attach ``sub`` and return its ``hello`` frame (send it first).

        With ``since_rev`` inside the window, ``hello`` carries the ops
        after it (after ``stored``, ops read from storage that end at
        ``since_rev``); otherwise the full content.
        """
        peers = []
        for other in self._subs:
            index, length = self._presence_at_head(other)
            peers.append(protocol.peer_json(session=other.session, user_json=other.user_json,
                                            index=index, length=length))
        common = dict(doc=self._doc, rev=self.head, session=sub.session, user_json=sub.user_json,
                      can_edit=sub.can_edit, peers_json=peers)
        if since_rev is not None and self._window_start <= since_rev <= self.head:
            first = since_rev - self._window_start
            items = [
                protocol.op_item(protocol.op_frame(
                    rev=op.revision, op_id=op.op_id, session="", user_id=op.author_id,
                    delta_json=protocol.dumps(op.delta)))
                for op in stored or ()
            ]
            items.extend(protocol.op_item(entry.op_text) for entry in self._window[first:])
            hello = protocol.hello_frame(**common, op_items=items)
        else:
            hello = protocol.hello_frame(**common, content_json=self._content_json())
        sub.sent_rev = self.head
        sub.authored_rev = 0
        join = protocol.join_frame(session=sub.session, user_json=sub.user_json)
        for other in self._subs:
            other.post(join)
        self._subs.append(sub)
        self._schedule_delivery()
        return hello

    def detach(self, sub: Subscriber) -> None:
        """Detach ``sub``: tell the others it left; its pending ops still commit."""
        sub.closed = True
        try:
            self._subs.remove(sub)
        except ValueError:
            return
        self._owed.pop(sub, None)
        self._storage_rebased.pop(sub, None)
        leave = protocol.leave_frame(session=sub.session)
        for other in self._subs:
            other.post(leave)
        self._schedule_delivery()

    # -- ops -----------------------------------------------------------------

    async def submit(self, sub: Subscriber | None, msg: protocol.OpMessage) -> None:
        """Take a client's op; its ack, broadcast or error follows later.

        A rejection is sent to ``sub`` right away; an accepted op is queued
        for the next commit.
        """
        if self.closed or self.draining:
            raise AuthorityClosed("the document's authority was closed")
        op_id = msg.op_id
        user_id = sub.user_id if sub is not None else None
        rev = self._ids.get(op_id)
        if rev is not None:
            if self._window[rev - self._window_start - 1].user_id != user_id:
                await self._reject(sub, _ID_TAKEN.with_id(op_id))
                return
            await self._ack_stored(sub, op_id, rev)
            return
        pending = self._pending_ids.get(op_id)
        if pending is not None:
            if pending.user_id != user_id:
                await self._reject(sub, _ID_TAKEN.with_id(op_id))
                return
            self._add_acker(pending, sub)
            return
        try:
            change = parse_change(msg.delta, content_policy())
        except InvalidDelta as exc:
            await self._reject(sub, Rejection(ErrorCode.BAD_OP, str(exc), op_id))
            return
        except RecursionError:
            await self._reject(sub, Rejection(ErrorCode.BAD_OP, "the change is nested too deeply",
                                              op_id))
            return
        except Exception:  # noqa: BLE001 - a bug in a check: refuse this op alone
            logger.exception("parsing op %s on %s failed", op_id, self._doc)
            await self._reject(sub, Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later",
                                              op_id))
            return
        submission = Submission(op_id=op_id, base_rev=msg.rev, change=change, author=sub,
                                user_id=sub.user_id if sub is not None else None)
        if 0 <= msg.rev < self._window_start:
            await self._submit_from_storage(submission)
            return
        if self._rebasing:
            self._deferred.append(submission)
            return
        result = self._accept(submission)
        if isinstance(result, Rejection):
            await self._reject(sub, result)

    async def _submit_from_storage(self, sub_: Submission) -> None:
        """Take an op based on a revision older than the window, via storage.

        Off the loop: if its id is stored already (its first send committed,
        the ack was lost, the window moved on) it is acked at its stored
        revision; otherwise it is transformed over the stored ops up to the
        window's start and then accepted like any op. Ops no longer stored
        (past ``RETENTION_DAYS``), too many of them, or too much work:
        ``stale``, and the client reloads and hands the person their text.
        At most one such op per socket per ``STORAGE_REBASE_INTERVAL``
        (``rate_limited`` with ``retry_after`` otherwise).
        """
        author = sub_.author
        if author is not None:
            now = self._loop.time()
            last = self._storage_rebased.get(author)
            wait = 0.0 if last is None else last + STORAGE_REBASE_INTERVAL - now
            if wait > 0:
                await self._reject(author, Rejection(
                    ErrorCode.RATE_LIMITED, "one op far behind per second; resend after a pause",
                    sub_.op_id, max(1, math.ceil(wait * 1000))))
                return
            self._storage_rebased[author] = now
        base, change = sub_.base_rev, sub_.change
        # The window may move on during a read (commits trim it): read again
        # from where the last read ended, a few times at most.
        for attempt in range(STORAGE_REBASE_READS):
            up_to = self._window_start
            try:
                outcome = await self._runner.run(
                    _rebase_from_storage, store=self._store, document_pk=self.document_pk,
                    op_id=sub_.op_id if attempt == 0 else None, base=base, up_to=up_to,
                    length_at_up_to=self._start_length, change=change)
            except Exception as exc:  # noqa: BLE001 - StorageUnavailable: the client resends
                logger.warning("rebasing op %s on %s from storage failed: %s", sub_.op_id,
                               self._doc, exc)
                await self._reject(sub_.author, Rejection(
                    ErrorCode.UNAVAILABLE, "storage is unavailable; resend later", sub_.op_id))
                return
            if isinstance(outcome, StoredOp):
                if outcome.author_id != sub_.user_id:
                    await self._reject(sub_.author, _ID_TAKEN.with_id(sub_.op_id))
                    return
                await self._ack_stored(sub_.author, sub_.op_id, outcome.revision)
                return
            if isinstance(outcome, Rejection):
                await self._reject(sub_.author, outcome.with_id(sub_.op_id))
                return
            if self.closed or self.draining:
                raise AuthorityClosed("the document's authority was closed")
            base, change = up_to, outcome
            if up_to >= self._window_start:
                break
        else:
            await self._reject(sub_.author, Rejection(
                ErrorCode.STALE, "the history moved on while this op was rebased; reload",
                sub_.op_id))
            return
        rebased = Submission(op_id=sub_.op_id, base_rev=base, change=change,
                             author=sub_.author, user_id=sub_.user_id)
        if self._rebasing:
            self._deferred.append(rebased)
            return
        result = self._accept(rebased)
        if isinstance(result, Rejection):
            await self._reject(sub_.author, result)

    def _accept(self, sub_: Submission) -> Entry | Rejection:
        """Transform a submission to the tip, apply it and queue it, or refuse it.

        All or nothing: everything that can fail (the base-revision check,
        transformation, serialisation, the document's own check) runs before
        any state moves, so a refusal leaves the tip, the revision sequence
        and the queue exactly as they were. Only the mutation of ``_text``
        comes after; should it fail (a bug), the tip is rebuilt from the
        committed text and the pending ops before the op is refused.
        """
        if not lease_accepting():
            # The ZooKeeper session is not proven alive (routing/lease.py):
            # another worker may own the document by now, so nothing is
            # accepted here, a rebase after a conflict included. The client
            # resends it here once the session is confirmed, or to the new owner.
            return Rejection(ErrorCode.UNAVAILABLE, "this server cannot reach ZooKeeper; "
                             "resend later", sub_.op_id, LEASE_RETRY_MS)
        base = sub_.base_rev
        if base > self.head:
            return Rejection(ErrorCode.BAD_MESSAGE,
                             f"rev {base} is ahead of the server ({self.head})", sub_.op_id)
        if base < self._window_start:
            return Rejection(ErrorCode.STALE,
                             f"rev {base} is older than the history held (from "
                             f"{self._window_start}); reload", sub_.op_id)
        later = self._deltas_after(base)
        work = transform_work(sub_.change, later)
        if work > MAX_TRANSFORM_WORK:
            # Large changes piled up since ``base``: transforming over them
            # would hold the loop; the client reloads and makes it again.
            return Rejection(ErrorCode.STALE,
                             f"rev {base} is too far behind for a change this large "
                             f"({work} steps to transform); reload", sub_.op_id)
        try:
            # The base-revision rule (protocol.md): reach is checked against
            # the document the client saw; surrogate pairs after transform.
            check_reach(sub_.change, self._length_at(base), rev=base)
            change = sub_.change
            for delta in later:
                change = delta.transform(change, True)
            delta_json = protocol.dumps(change.ops)
            self._text.check(change, max_length=self._max_length, max_runs=self._max_runs)
        except DocumentTooLarge as exc:
            return Rejection(ErrorCode.TOO_LARGE, str(exc) or "the document would be too large",
                             sub_.op_id)
        except InvalidDelta as exc:
            return Rejection(ErrorCode.BAD_OP, str(exc), sub_.op_id)
        except (RecursionError, ValueError, TypeError) as exc:
            # Accepted input that cannot be transformed or written as JSON:
            # refuse it here rather than store something unreadable.
            logger.warning("op %s on %s cannot be accepted: %r", sub_.op_id, self._doc, exc)
            return Rejection(ErrorCode.BAD_OP, "the change cannot be stored", sub_.op_id)
        except Exception:  # noqa: BLE001 - a bug: refuse this op alone
            logger.exception("accepting op %s on %s failed", sub_.op_id, self._doc)
            return Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later", sub_.op_id)
        try:
            self._text.apply_checked(change)
        except Exception:  # noqa: BLE001 - a bug after the check: the tip may be half-changed
            logger.exception("applying op %s on %s failed", sub_.op_id, self._doc)
            self._rebuild_tip()
            return Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later", sub_.op_id)
        # Nothing below can fail: the state moves from here on.
        self._tip += 1
        author = sub_.author
        entry = Entry(
            rev=self._tip,
            op_id=sub_.op_id,
            delta=change,
            delta_json=delta_json,
            user_id=sub_.user_id,
            session=author.session if author is not None else "",
            author=author,
            length=self._text.length,
            submission=sub_,
        )
        self._queue.append(entry)
        self._pending_ids[entry.op_id] = entry
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        if self._writer is None:
            self._writer = self._loop.create_task(self._write_loop())
        return entry

    def _deltas_after(self, base: int) -> list[Delta]:
        """Return the ops after revision ``base`` up to the tip: committed, then pending."""
        later = [entry.delta for entry in self._window[base - self._window_start:]]
        later.extend(entry.delta for entry in self._inflight)
        later.extend(entry.delta for entry in self._queue)
        return later

    def _rebuild_tip(self) -> None:
        """Make ``_text`` the committed text with every pending op applied again."""
        text = self._committed_text.copy()
        for entry in self._inflight + self._queue:
            text.apply_checked(entry.delta)
        self._text = text

    def _add_acker(self, entry: Entry, sub: Subscriber | None) -> None:
        if sub is None or entry.author is sub:
            return
        if entry.ackers is None:
            entry.ackers = []
        if sub not in entry.ackers:
            entry.ackers.append(sub)

    async def _ack_stored(self, sub: Subscriber | None, op_id: str, rev: int) -> None:
        """Ack a resent op that is stored already, after every op before it."""
        if sub is None or sub.closed:
            return
        frames = self._frames_for(sub) if sub.sent_rev < rev else []
        frames.append(protocol.ack_frame(op_id=op_id, rev=rev))
        await sub.send_frames(frames)

    async def _reject(self, sub: Subscriber | None, rejection: Rejection) -> None:
        if sub is not None and not sub.closed:
            await sub.send_frames([rejection.frame()])

    # -- the writer ------------------------------------------------------------

    async def _write_loop(self) -> None:
        """Store queued ops batch after batch, delivering what each commit owes."""
        try:
            while True:
                if self._queue and not self.closed:
                    await self._commit_next()
                elif self._owed and not self.closed:
                    await self._deliver(list(self._owed))
                else:
                    break
        except Exception:  # pragma: no cover - a bug; never leave ops hanging
            logger.exception("authority of %s failed", self._doc)
            await self._fail_pending("internal error; resend later")
        finally:
            self._writer = None

    async def _commit_next(self) -> None:
        if self._owed:
            # Acks first: their authors may be about to send again.
            await self._deliver(list(self._owed))
        await self._gather()
        batch = self._queue[:MAX_BATCH_OPS]
        del self._queue[:len(batch)]
        self._inflight = batch
        started = self._loop.time()
        try:
            await self._runner.run(self._store.append, document_pk=self.document_pk,
                                   ops=[entry.new_op() for entry in batch])
        except (RevisionConflict, DuplicateOpIds) as exc:
            await self._recover(exc)
            return
        except DocumentMissing:
            await self._fail_pending("the document no longer exists")
            await self._close_all(CloseCode.NOT_FOUND, "the document no longer exists")
            return
        except Exception as exc:  # StorageUnavailable, or anything unexpected
            logger.warning("storing ops of %s failed: %s", self._doc, exc)
            await self._fail_pending("storage is unavailable; resend later")
            return
        self._conflicts = 0
        now = self._loop.time()
        self._store_seconds = 0.8 * self._store_seconds + 0.2 * (now - started)
        self._last_commit_at = now
        self._commit(batch)

    async def _gather(self) -> None:
        """Hold the next commit briefly for the last commit's authors.

        Group commit alone splits closed-loop writers into two alternating
        halves: the authors of commit N send their next op while commit N+1
        (holding only the others' ops) is already in the database, so each
        op waits two commits. Waiting a fraction of a commit's duration for
        them (at most ``GATHER_MAX_SECONDS``) lets one commit carry
        everyone's op. A lone writer never waits: its op is already queued.
        """
        waiting = {sub for sub in self._last_authors if not sub.closed}
        self._last_authors = set()
        budget = min(GATHER_MAX_SECONDS, self._store_seconds / 2)
        now = self._loop.time()
        if not waiting or budget < 0.0002 or now - self._last_commit_at > 2 * budget:
            return
        deadline = now + budget
        while not waiting <= {entry.author for entry in self._queue}:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return
            self._arrival = self._loop.create_future()
            try:
                await asyncio.wait_for(self._arrival, remaining)
            except TimeoutError:
                return
            finally:
                self._arrival = None

    def _commit(self, batch: list[Entry]) -> None:
        """Make a stored batch the committed state and owe its authors frames."""
        self._inflight = []
        committed = self._committed_text
        if not self._queue and sum(len(entry.delta.ops) for entry in batch) > COPY_TIP_OPS:
            # Nothing is queued behind the batch, so the tip is exactly the
            # committed text with the batch applied: copying it costs a list
            # copy per block, applying a large batch a second time would
            # hold the loop as long as accepting it did.
            self._committed_text = self._text.copy()
            committed = None
        self._last_authors = {entry.author for entry in batch if entry.author is not None}
        for entry in batch:
            if committed is not None:
                committed.apply_checked(entry.delta)  # checked against the tip already
            entry.submission = None
            del self._pending_ids[entry.op_id]
            self._ids[entry.op_id] = entry.rev
            author = entry.author
            if author is not None and not author.closed:
                author.authored_rev = entry.rev
                self._owed[author] = None
            if entry.ackers:
                for sub in entry.ackers:
                    if not sub.closed:
                        sub.authored_rev = entry.rev
                        self._owed[sub] = None
        self._window.extend(batch)
        self._window_ops += sum(len(entry.delta.ops) for entry in batch)
        self.head = batch[-1].rev
        self._frame_cache = {}
        self._trim_window()
        if fanout_delay(len(self._subs)) == 0.0:
            for sub in self._subs:
                self._owed[sub] = None
        else:
            self._schedule_delivery()
        if self.on_commit is not None:
            try:
                self.on_commit(self)
            except Exception:  # noqa: BLE001 - a hook must not fail a commit
                logger.exception("on_commit hook of %s failed", self._doc)

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
        self._window_start += excess
        self._window_ops = held

    async def _fail_pending(self, message: str) -> None:
        """Refuse every pending op with ``unavailable`` and roll the tip back."""
        failed = self._inflight + self._queue
        self._inflight = []
        self._queue = []
        self._pending_ids = {}
        self._text = self._committed_text.copy()
        self._tip = self.head
        for entry in failed:
            frame = Rejection(ErrorCode.UNAVAILABLE, message, entry.op_id).frame()
            targets = [entry.author] if entry.author is not None else []
            targets.extend(entry.ackers or ())
            for sub in targets:
                if not sub.closed:
                    await sub.send_frames([frame])

    async def _recover(self, exc: Exception) -> None:
        """Reload after a fence refused a batch, then transform pending ops again."""
        self._conflicts += 1
        if isinstance(exc, DuplicateOpIds):
            self._stored_elsewhere.update(exc.existing)
        if self._conflicts > MAX_CONFLICT_RETRIES:
            logger.error("giving up on %s after %d conflicts", self._doc, self._conflicts - 1)
            self._conflicts = 0
            await self._fail_pending("storage conflict; resend later")
            return
        logger.warning("revision conflict on %s, reloading: %s", self._doc, exc)
        self._rebasing = True
        try:
            state = await self._runner.run(_load_state, store=self._store,
                                           public_id=self.public_id, window_size=self._window_size)
        except Exception as load_exc:  # noqa: BLE001 - storage trouble: as unavailable
            logger.warning("reloading %s failed: %s", self._doc, load_exc)
            self._rebasing = False
            deferred, self._deferred = self._deferred, []
            await self._fail_pending("storage is unavailable; resend later")
            for submission in deferred:
                await self._reject(submission.author, Rejection(
                    ErrorCode.UNAVAILABLE, "storage is unavailable; resend later",
                    submission.op_id))
            return
        pending = [entry.submission for entry in self._inflight + self._queue]
        pending.extend(self._deferred)
        self._deferred = []
        self._inflight = []
        self._queue = []
        self._pending_ids = {}
        if state.head < self.head:
            # Storage lost revisions this worker saw committed: nothing to
            # reconcile with. Make every client start over.
            logger.error("%s went back from %d to %d in storage", self._doc, self.head, state.head)
            self._rebasing = False
            await self._close_all(CloseCode.GOING_AWAY, "the document was reset; reconnect")
            return
        self._install(state)
        self._tip = self.head
        self._rebasing = False
        # Ops of ours that did get stored: ack them, not broadcast them.
        by_id = {entry.op_id: entry for entry in self._window}
        for submission in pending:
            if submission is None:
                continue
            stored = by_id.get(submission.op_id)
            if stored is not None and submission.author is not None:
                stored.author = submission.author
                stored.op_text = protocol.op_frame(
                    rev=stored.rev, op_id=stored.op_id, session=submission.author.session,
                    user_id=stored.user_id, delta_json=stored.delta_json)
        for sub in self._subs:
            if sub.sent_rev < self._window_start:
                await sub.close(CloseCode.GOING_AWAY, Rejection(
                    ErrorCode.STALE, "too far behind; reconnect").frame())
                continue
            sub.authored_rev = self.head
            self._owed[sub] = None
        for submission in pending:
            if submission is None:
                continue
            if submission.op_id in self._ids:
                continue  # acked by the delivery above
            if submission.op_id in self._stored_elsewhere:
                rev = self._stored_elsewhere[submission.op_id]
                await self._ack_stored(submission.author, submission.op_id, rev)
                continue
            if submission.op_id in self._pending_ids:
                self._add_acker(self._pending_ids[submission.op_id], submission.author)
                continue
            result = self._accept(submission)
            if isinstance(result, Rejection):
                await self._reject(submission.author, result)
        self._stored_elsewhere = {}

    # -- delivery --------------------------------------------------------------

    def _frames_for(self, sub: Subscriber) -> list[str]:
        """Return (and mark as sent) what ``sub`` is owed: ops, then its outbox."""
        frames: list[str] = []
        head = self.head
        since = sub.sent_rev
        if since < head:
            first = since - self._window_start
            if first < 0:
                # Cannot happen while deliveries keep up; recover by closing.
                self._spawn(sub.close(CloseCode.GOING_AWAY, Rejection(
                    ErrorCode.STALE, "too far behind; reconnect").frame()))
                return []
            if sub.authored_rev <= since:
                frame = self._frame_cache.get(since)
                if frame is None:
                    frame = protocol.batch_frame([e.op_text for e in self._window[first:]])
                    self._frame_cache[since] = frame
            else:
                frame = protocol.batch_frame(
                    [e.ack_text if e.acks(sub) else e.op_text for e in self._window[first:]]
                )
            frames.append(frame)
            sub.sent_rev = head
        if sub.outbox:
            frames.extend(sub.take_outbox())
        return frames

    async def _deliver(self, subs: Iterable[Subscriber]) -> None:
        for sub in subs:
            self._owed.pop(sub, None)
            if sub.closed:
                continue
            frames = self._frames_for(sub)
            if frames:
                await sub.send_frames(frames)

    def _schedule_delivery(self) -> None:
        if self._tick is not None or self.closed:
            return
        delay = fanout_delay(len(self._subs))
        self._tick = self._loop.call_later(delay, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        self._spawn(self._deliver(list(self._subs)))

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _content_json(self) -> str:
        cached = self._content_cache
        if cached is not None and cached[0] == self.head:
            return cached[1]
        text = protocol.dumps(self._committed_text.to_ops())
        self._content_cache = (self.head, text)
        return text

    # -- presence --------------------------------------------------------------

    def _length_at(self, rev: int) -> int:
        if rev == self.head:
            return self._committed_text.length
        if rev == self._window_start:
            return self._start_length
        return self._window[rev - self._window_start - 1].length

    def _presence_at_head(self, sub: Subscriber) -> tuple[int | None, int | None]:
        """Return ``sub``'s selection moved to ``head`` (and remember it)."""
        if sub.presence_index is None:
            return None, None
        if sub.presence_rev < self.head:
            if sub.presence_rev < self._window_start:
                sub.presence_index = sub.presence_length = None
                return None, None
            first = sub.presence_rev - self._window_start
            index, length = transform_range(
                sub.presence_index, sub.presence_length or 0,
                (entry.delta for entry in self._window[first:]),
            )
            sub.presence_rev, sub.presence_index, sub.presence_length = self.head, index, length
        return sub.presence_index, sub.presence_length

    async def presence(self, sub: Subscriber, msg: protocol.PresenceMessage) -> None:
        """Take a socket's selection, move it to ``head`` and broadcast it."""
        if msg.rev > self.head:
            await self._reject(sub, Rejection(
                ErrorCode.BAD_MESSAGE, f"presence rev {msg.rev} is ahead of the server ({self.head})"))
            return
        if msg.rev < self._window_start:
            return  # older than the history held: dropped silently
        if msg.index is not None:
            if msg.index + (msg.length or 0) > self._length_at(msg.rev):
                await self._reject(sub, Rejection(
                    ErrorCode.BAD_MESSAGE, "the presence range does not fit its revision"))
                return
        sub.presence_rev, sub.presence_index, sub.presence_length = msg.rev, msg.index, msg.length
        index, length = self._presence_at_head(sub)
        frame = protocol.presence_frame(session=sub.session, user_json=sub.user_json,
                                        rev=self.head, index=index, length=length)
        for other in self._subs:
            if other is not sub:
                other.post(frame, slot=sub.session)
        self._schedule_delivery()

    # -- access and shutdown -----------------------------------------------------

    def set_can_edit(self, sub: Subscriber, can_edit: bool) -> None:
        """Record a socket's new edit right."""
        sub.can_edit = can_edit

    async def _close_all(self, code: int, message: str) -> None:
        frame = Rejection(ErrorCode.DENIED, message).frame()
        for sub in list(self._subs):
            await sub.close(code, frame)
            self.detach(sub)
        self.closed = True

    async def drain(self, code: int, message: str) -> None:
        """Stop taking ops, store the pending ones, then close every socket.

        For a hand-over to another worker, or a shutdown: an op that arrives
        from now on is refused (its socket is closed, and the client resends
        the op to the new owner); the ops accepted already are stored and
        acked first, so nothing accepted is dropped.
        """
        self.draining = True
        await self.wait_idle()
        await self._close_all(code, message)

    async def wait_idle(self) -> None:
        """Return once nothing is pending or being stored."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    def close(self) -> None:
        """Stop timers; the authority must not be used afterwards."""
        self.closed = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None


def _rebase_from_storage(  # type: ignore[no-untyped-def]
    *, store, document_pk: int, op_id: str | None, base: int, up_to: int, length_at_up_to: int,
    change: Delta,
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
    ops = store.history(document_pk=document_pk, after=base, up_to=up_to,
                        max_ops=MAX_STORED_CATCHUP_OPS, max_bytes=MAX_STORED_CATCHUP_BYTES)
    if ops is None:
        return Rejection(ErrorCode.STALE, f"rev {base} is older than the history kept; reload")
    deltas = [Delta(op.delta) for op in ops]
    work = transform_work(change, deltas)
    if work > MAX_TRANSFORM_WORK:
        return Rejection(ErrorCode.STALE, f"rev {base} is too far behind for a change this "
                                          f"large ({work} steps to transform); reload")
    length = length_at_up_to - sum(d.change_length() for d in deltas)
    try:
        check_reach(change, length, rev=base)
        for delta in deltas:
            change = delta.transform(change, True)
    except InvalidDelta as exc:
        return Rejection(ErrorCode.BAD_OP, str(exc))
    return change


def _load_state(*, store, public_id: uuid.UUID, window_size: int) -> LoadedState:  # type: ignore[no-untyped-def]
    loaded = store.load(public_id=public_id, earlier=window_size)
    return build_state(loaded, window_size=window_size)
