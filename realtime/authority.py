"""The per-document authority: the one writer of an open document.

One :class:`Authority` per open document per worker. It is the async shell
around two parts that do not wait: the :class:`~realtime.sequencer.Sequencer`
(committed and pending state, OT) and the :class:`~realtime.fanout.Fanout`
(the attached sockets and the frames each is owed). The shell takes ops,
stores them and recovers::

    socket op (submit) or server change (submit_change)
        |  dedupe, parse_change, the ``accepting`` check
        v
    sequencer.accept: transform to the tip, check, apply (all or nothing)
        |  queued with revision tip + 1
        v
    group commit: the writer stores the next batch in ONE transaction
        |
        v
    only then: sequencer.commit moves the committed state; fan-out owes
    acks and broadcasts, one frame per socket per delivery (``batch``)

A socket's refusals are sent to it at once, its ack comes with the
delivery after the commit. A socket's op is held to the review policy (a
socket that may not edit may only suggest and comment:
:func:`realtime.ot.review.policy_problem`). A change the server makes (a
restore, a repair, a decision on suggestions) has no socket and is
trusted: :meth:`Authority.submit_change` returns its stored revision or
why it was refused, and its op goes out with ``session: ""``.

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
* Storage went back behind ``head`` (a restored backup): every socket is
  closed with 4503 and reconnects to start over.
* The document is gone: every socket is closed with 4404.
* ``accepting()`` says no (in a cluster: the ZooKeeper lease ran out, and
  another worker may own the document by now): ops are refused with
  ``unavailable`` and a retry hint; a rebase after a conflict included.

The writer (:mod:`realtime.writer`) stores the queue batch after batch, one
transaction each, waiting a little for the last commit's authors so that
closed-loop writers share one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings

from documents.store import (
    DocumentMissing,
    DocumentStore,
    DuplicateOpIds,
    RevisionConflict,
    StoredOp,
)
from realtime import protocol
from realtime.catchup import RebaseRate, read_stored, rebase_submission
from realtime.content_policy import content_policy
from realtime.exceptions import AuthorityClosed
from realtime.fanout import Fanout, reject
from realtime.metrics import op_refused
from realtime.oplog import Entry, LoadedState, Submission, load_state
from realtime.ot import InvalidDelta, parse_change
from realtime.ot.authorship import Runs
from realtime.protocol import CloseCode, ErrorCode, Rejection
from realtime.runner import StoreRunner
from realtime.sequencer import Sequencer
from realtime.subscriber import Subscriber
from realtime.writer import Writer

logger = logging.getLogger(__name__)

#: Consecutive revision conflicts before pending ops get ``unavailable``.
MAX_CONFLICT_RETRIES = 5
#: Most stored ops (older than the window) a catch-up ``hello`` or a resend's
#: rebase reads from storage; more, or more bytes, and the client reloads.
MAX_STORED_CATCHUP_OPS = 20_000
MAX_STORED_CATCHUP_BYTES = 8 * 1024 * 1024
#: The retry hint (ms) on an op refused because ``accepting()`` said no.
NOT_ACCEPTING_RETRY_MS = 500

#: The refusal while ``accepting()`` says no. In a cluster that is the
#: ZooKeeper lease (routing/lease.py), whence the wording clients show.
_NOT_ACCEPTING = Rejection(
    ErrorCode.UNAVAILABLE,
    "this server cannot reach ZooKeeper; resend later",
    None,
    NOT_ACCEPTING_RETRY_MS,
)
_UNAVAILABLE = "storage is unavailable; resend later"
_RANGE_DOES_NOT_FIT = Rejection(
    ErrorCode.BAD_MESSAGE, "the presence range does not fit its revision"
)

Answer = int | Rejection


def _always() -> bool:
    return True


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
        accepting: Callable[[], bool] = _always,
    ) -> None:
        self.public_id = public_id
        self._doc = str(public_id)
        self._runner = runner
        self._store: DocumentStore = runner.store
        self._window_size = window_size
        #: Whether ops may be accepted now (in a cluster: the lease holds).
        self._accepting = accepting
        if max_runs is None:
            max_runs = settings.COLLABDOCS.get("MAX_CHANGE_RUNS")
        self._loop = asyncio.get_running_loop()
        self._seq: Sequencer[Subscriber] = Sequencer(
            state, window_size=window_size, max_length=max_length, max_runs=max_runs
        )
        self._fanout = Fanout(self._seq, doc=self._doc, loop=self._loop)
        #: The revision of the stored snapshot (compaction moves it forward).
        self.snapshot_revision = state.snapshot_revision
        self._writer = Writer(
            seq=self._seq,
            fanout=self._fanout,
            runner=runner,
            loop=self._loop,
            closed=lambda: self.closed,
            on_stored=self._commit,
            on_error=self._store_failed,
            on_bug=lambda: self._fail_pending("internal error; resend later"),
            name=self._doc,
        )
        self._rebasing = False
        self._deferred: list[Submission[Subscriber]] = []
        self._stored_elsewhere: dict[str, int] = {}
        self._rebase_rate = RebaseRate()
        self._conflicts = 0
        #: Server-made changes waiting for their answer, by op id.
        self._changes: dict[str, asyncio.Future[Answer]] = {}
        #: Called with the authority after every commit (the registry's
        #: compaction trigger); must not block.
        self.on_commit: Callable[[Authority], None] | None = None
        self.closed = False
        #: Handing over (scale-out): no new ops; pending ones still commit.
        self.draining = False

    @classmethod
    async def load(
        cls,
        *,
        public_id: uuid.UUID,
        runner: StoreRunner,
        window_size: int,
        max_length: int,
        accepting: Callable[[], bool] = _always,
    ) -> Authority:
        """Load a document (snapshot + later ops) and return its authority."""
        state = await runner.run(
            load_state, store=runner.store, public_id=public_id, window_size=window_size
        )
        return cls(
            public_id=public_id,
            state=state,
            runner=runner,
            window_size=window_size,
            max_length=max_length,
            accepting=accepting,
        )

    # -- introspection -------------------------------------------------------

    @property
    def head(self) -> int:
        """Return the last committed revision."""
        return self._seq.head

    @property
    def window_start(self) -> int:
        """Return the oldest revision an op or ``?rev=`` may be based on."""
        return self._seq.window_start

    @property
    def document_pk(self) -> int:
        """Return the document's primary key."""
        return self._seq.document_pk

    @property
    def subscribers(self) -> list[Subscriber]:
        """Return the attached sockets."""
        return list(self._fanout.subs)

    @property
    def busy(self) -> bool:
        """Return whether ops are pending or being stored."""
        return self._writer.running or self._seq.pending

    def content(self) -> list[dict[str, Any]]:
        """Return the committed content (at ``head``)."""
        return self._seq.content()

    @property
    def runs(self) -> Runs:
        """Return who wrote each character of the committed content (read only)."""
        return self._seq.runs

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
        if since_rev is None or not 0 <= since_rev < self.window_start:
            return self.attach(sub, since_rev=since_rev)
        up_to = self.window_start
        stored = await read_stored(
            self._runner,
            document_pk=self.document_pk,
            after=since_rev,
            up_to=up_to,
            max_ops=MAX_STORED_CATCHUP_OPS,
            max_bytes=MAX_STORED_CATCHUP_BYTES,
            name=self._doc,
        )
        if self.closed or self.draining:
            raise AuthorityClosed("the document's authority was closed")
        if stored is None or up_to < self.window_start:
            return self.attach(sub, since_rev=None)
        return self.attach(sub, since_rev=up_to, stored=stored)

    def attach(
        self, sub: Subscriber, *, since_rev: int | None = None, stored: list[StoredOp] | None = None
    ) -> str:
        """Attach ``sub`` and return its ``hello`` frame (send it first).

        With ``since_rev`` inside the window, ``hello`` carries the ops
        after it (after ``stored``, ops read from storage that end at
        ``since_rev``); otherwise the full content.
        """
        return self._fanout.attach(sub, since_rev=since_rev, stored=stored)

    def detach(self, sub: Subscriber) -> None:
        """Detach ``sub``: tell the others it left; its pending ops still commit."""
        if self._fanout.detach(sub):
            self._rebase_rate.forget(sub)

    # -- ops -----------------------------------------------------------------

    async def submit(self, sub: Subscriber | None, msg: protocol.OpMessage) -> None:
        """Take a socket's op; its ack, broadcast or error follows later.

        A rejection is sent to ``sub`` right away; an accepted op is queued
        for the next commit. ``sub`` None: nobody hears the answers.

        :raises AuthorityClosed: the authority is closed or handing over.
        """
        if self.closed or self.draining:
            raise AuthorityClosed("the document's authority was closed")
        if sub is None:
            await self._take(None, None, msg, may_edit=None)
        else:
            # A socket that may not edit may only suggest and comment (the
            # consumer refuses viewers before this).
            await self._take(sub, sub.user_id, msg, may_edit=sub.can_edit)

    async def submit_change(
        self, msg: protocol.OpMessage, *, user_id: int | None, attribution: Runs | None = None
    ) -> Answer:
        """Take a change the server makes, as ``user_id``; return once it is answered.

        ``attribution``: who wrote its inserts, when not ``user_id`` (a
        restore keeps the restored text's authors; realtime.oplog.Submission).

        The same path as a socket's op, with no socket: the answer is the
        revision it was stored at (a resend of a stored op: that revision)
        or the :class:`Rejection` a socket would have got.

        :raises AuthorityClosed: the authority is closed or handing over,
            or closed before the change was stored.
        """
        if self.closed or self.draining:
            raise AuthorityClosed("the document's authority was closed")
        answer: asyncio.Future[Answer] = self._loop.create_future()
        self._changes[msg.op_id] = answer
        try:
            await self._take(None, user_id, msg, may_edit=None, attribution=attribution)
            return await answer
        finally:
            if self._changes.get(msg.op_id) is answer:
                del self._changes[msg.op_id]

    async def _take(
        self,
        author: Subscriber | None,
        user_id: int | None,
        msg: protocol.OpMessage,
        *,
        may_edit: bool | None,
        attribution: Runs | None = None,
    ) -> None:
        op_id = msg.op_id
        seen = self._seq.seen(op_id, user_id, author)
        if seen is not None:
            if type(seen) is int:
                await self._ack_stored(author, op_id, seen)
            elif isinstance(seen, Rejection):
                await self._refuse(author, seen)
            return  # pending: acked with its commit
        try:
            change = parse_change(msg.delta, content_policy())
        except InvalidDelta as exc:
            await self._refuse(author, Rejection(ErrorCode.BAD_OP, str(exc), op_id))
            return
        except RecursionError:
            await self._refuse(
                author, Rejection(ErrorCode.BAD_OP, "the change is nested too deeply", op_id)
            )
            return
        except Exception:
            logger.exception("parsing op %s on %s failed", op_id, self._doc)
            await self._refuse(
                author, Rejection(ErrorCode.UNAVAILABLE, "internal error; resend later", op_id)
            )
            return
        submission = Submission(
            op_id=op_id,
            base_rev=msg.rev,
            change=change,
            author=author,
            user_id=user_id,
            may_edit=may_edit,
            attribution=attribution,
        )
        if 0 <= msg.rev < self.window_start:
            await self._submit_from_storage(submission)
        elif self._rebasing:
            self._deferred.append(submission)
        else:
            await self._accept(submission)

    async def _accept(self, submission: Submission[Subscriber]) -> None:
        """Queue a submission through the sequencer, or refuse it."""
        if not self._accepting():
            # Another worker may own the document by now: nothing is
            # accepted here. The client resends it here once acceptance is
            # back, or to the new owner.
            await self._refuse(submission.author, _NOT_ACCEPTING.with_id(submission.op_id))
            return
        result = self._seq.accept(submission)
        if isinstance(result, Rejection):
            await self._refuse(submission.author, result)
            return
        self._writer.kick()

    async def _submit_from_storage(self, submission: Submission[Subscriber]) -> None:
        """Take an op based on a revision older than the window (realtime.catchup)."""
        author = submission.author
        if author is not None:
            limited = self._rebase_rate.check(author, self._loop.time(), submission.op_id)
            if limited is not None:
                await self._refuse(author, limited)
                return
        outcome = await rebase_submission(
            submission,
            runner=self._runner,
            seq=self._seq,
            still_open=lambda: not (self.closed or self.draining),
            max_ops=MAX_STORED_CATCHUP_OPS,
            max_bytes=MAX_STORED_CATCHUP_BYTES,
        )
        if isinstance(outcome, int):
            await self._ack_stored(author, submission.op_id, outcome)
            return
        if isinstance(outcome, Rejection):
            await self._refuse(author, outcome)
            return
        # The rebased submission is new: it keeps the author's rights, and
        # its inserts their authors (rebasing never splits an insert).
        outcome.may_edit = submission.may_edit
        outcome.attribution = submission.attribution
        if self._rebasing:
            self._deferred.append(outcome)
        else:
            await self._accept(outcome)

    # -- answers -----------------------------------------------------------------

    def _settle(self, op_id: str, answer: Answer) -> None:
        """Answer a server-made change (if anyone still waits for it)."""
        future = self._changes.pop(op_id, None)
        if future is not None and not future.done():
            future.set_result(answer)

    async def _refuse(self, author: Subscriber | None, rejection: Rejection) -> None:
        if author is None:
            op_refused(rejection.code)  # a socket's refusal is counted by reject()
            if rejection.op_id is not None:
                self._settle(rejection.op_id, rejection)
            return
        await reject(author, rejection)

    async def _ack_stored(self, author: Subscriber | None, op_id: str, rev: int) -> None:
        """Ack a resent op that is stored already, after every op before it."""
        if author is None:
            self._settle(op_id, rev)
            return
        await self._fanout.ack_stored(author, op_id, rev)

    # -- after the store answered ------------------------------------------------

    def _commit(self, batch: list[Entry[Subscriber]]) -> None:
        """Make a stored batch the committed state and owe its authors frames."""
        self._conflicts = 0
        self._seq.commit(batch)
        self._fanout.committed(batch)
        if self._changes:
            for entry in batch:
                self._settle(entry.op_id, entry.rev)
        if self.on_commit is not None:
            try:
                self.on_commit(self)
            except Exception:
                logger.exception("on_commit hook of %s failed", self._doc)

    async def _store_failed(self, exc: Exception) -> None:
        """Answer a batch the store refused: recover, or roll back and refuse."""
        if isinstance(exc, RevisionConflict | DuplicateOpIds):
            await self._recover(exc)
        elif isinstance(exc, DocumentMissing):
            await self._fail_pending("the document no longer exists")
            await self._close_all(CloseCode.NOT_FOUND, "the document no longer exists")
        else:  # StorageUnavailable, or anything unexpected
            logger.warning("storing ops of %s failed: %s", self._doc, exc)
            await self._fail_pending(_UNAVAILABLE)

    async def _fail_pending(self, message: str) -> None:
        """Refuse every pending op with ``unavailable`` and roll the tip back."""
        for entry in self._seq.rollback():
            rejection = Rejection(ErrorCode.UNAVAILABLE, message, entry.op_id)
            await self._refuse(entry.author, rejection)
            for sub in entry.ackers or ():
                await reject(sub, rejection)

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
            state = await self._runner.run(
                load_state,
                store=self._store,
                public_id=self.public_id,
                window_size=self._window_size,
            )
        except Exception as load_exc:  # noqa: BLE001 - storage trouble: as unavailable
            logger.warning("reloading %s failed: %s", self._doc, load_exc)
            self._rebasing = False
            deferred, self._deferred = self._deferred, []
            await self._fail_pending(_UNAVAILABLE)
            for submission in deferred:
                await self._refuse(
                    submission.author,
                    Rejection(ErrorCode.UNAVAILABLE, _UNAVAILABLE, submission.op_id),
                )
            return
        if state.head < self.head:
            # Storage lost revisions this worker saw committed: nothing to
            # reconcile with. Make every client start over.
            logger.error("%s went back from %d to %d in storage", self._doc, self.head, state.head)
            self._rebasing = False
            self._seq.rollback()
            await self._close_all(CloseCode.GOING_AWAY, "the document was reset; reconnect")
            return
        deferred, self._deferred = self._deferred, []
        answers = self._seq.rebase(
            state,
            deferred=deferred,
            stored_elsewhere=self._stored_elsewhere,
            refusal=None if self._accepting() else _NOT_ACCEPTING,
        )
        self._stored_elsewhere = {}
        self.snapshot_revision = max(self.snapshot_revision, state.snapshot_revision)
        self._rebasing = False
        await self._fanout.rebased()
        for submission, answer in answers:
            if isinstance(answer, Rejection):
                await self._refuse(submission.author, answer)
            else:
                await self._ack_stored(submission.author, submission.op_id, answer)

    # -- authorship ------------------------------------------------------------

    async def authors(self, sub: Subscriber) -> None:
        """Send ``sub`` who wrote each character at ``head``, in order with the ops."""
        await self._fanout.send_authors(sub)

    # -- presence --------------------------------------------------------------

    async def presence(self, sub: Subscriber, msg: protocol.PresenceMessage) -> None:
        """Take a socket's selection, move it to ``head`` and broadcast it."""
        if msg.rev > self.head:
            await reject(
                sub,
                Rejection(
                    ErrorCode.BAD_MESSAGE,
                    f"presence rev {msg.rev} is ahead of the server ({self.head})",
                ),
            )
            return
        if msg.rev < self.window_start:
            return  # older than the history held: dropped silently
        if msg.index is not None and msg.index + (msg.length or 0) > self._seq.length_at(msg.rev):
            await reject(sub, _RANGE_DOES_NOT_FIT)
            return
        sub.presence_rev, sub.presence_index, sub.presence_length = msg.rev, msg.index, msg.length
        self._fanout.presence(sub)

    # -- shutdown --------------------------------------------------------------

    async def _close_all(self, code: int, message: str) -> None:
        await self._fanout.close_all(code, message)
        self._rebase_rate.clear()
        self._close()

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
        await self._writer.wait_idle()

    def _close(self) -> None:
        self.closed = True
        self._fanout.close()
        changes, self._changes = self._changes, {}
        for future in changes.values():
            if not future.done():
                future.set_exception(AuthorityClosed("the document's authority was closed"))

    def close(self) -> None:
        """Stop timers; the authority must not be used afterwards."""
        self._close()
