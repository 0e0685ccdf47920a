"""Group commit: the one task that stores an authority's accepted ops.

While ops are queued, the writer takes the next batch (at most
:data:`MAX_BATCH_OPS`), stores it in ONE transaction on the store runner and
hands the stored batch back (``on_stored``); between commits it sends what
fan-out owes at once (the last commit's acks first: their authors may be
about to send again). It stops when nothing is queued or owed, and the
authority starts it again with the next accepted op (:meth:`Writer.kick`).

Group commit alone splits closed-loop writers into two alternating halves:
the authors of commit N send their next op while commit N+1 (holding only
the others' ops) is already in the database, so each op waits two commits.
So before a commit the writer gives the last commit's authors a fraction of
a commit's duration (at most :data:`GATHER_MAX_SECONDS`) to send again, and
one commit carries everyone's op. A lone writer never waits: its op is
already queued.

Failure modes: a batch the store refuses (storage down, a revision
conflict, the document gone) goes to ``on_error`` with the exception, which
rolls back or recovers; a bug in the loop itself fails every pending op
(``on_bug``) rather than leaving them hanging.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from documents import logcontext
from documents.store import NewOp
from realtime import metrics, protocol
from realtime.fanout import Fanout
from realtime.oplog import Entry
from realtime.ot import authorship as ot_authorship
from realtime.runner import StoreRunner
from realtime.sequencer import Sequencer
from realtime.subscriber import Subscriber

logger = logging.getLogger(__name__)

#: Most ops stored by one transaction.
MAX_BATCH_OPS = 500
#: Longest a commit waits for the previous commit's authors to send again.
GATHER_MAX_SECONDS = 0.003

Batch = list[Entry[Subscriber]]


def _new_op(entry: Entry[Subscriber]) -> NewOp:
    return NewOp(
        revision=entry.rev,
        op_id=entry.op_id,
        delta=entry.delta.ops,
        delta_json=entry.delta_json,
        author_id=entry.user_id,
        attribution_json=(
            None
            if entry.attribution is None
            else protocol.dumps(ot_authorship.to_json(entry.attribution))
        ),
    )


class Writer:
    """Store a sequencer's queue batch after batch; deliver what each commit owes."""

    def __init__(
        self,
        *,
        seq: Sequencer[Subscriber],
        fanout: Fanout,
        runner: StoreRunner,
        loop: asyncio.AbstractEventLoop,
        closed: Callable[[], bool],
        on_stored: Callable[[Batch], None],
        on_error: Callable[[Exception], Awaitable[None]],
        on_bug: Callable[[], Awaitable[None]],
        name: str,
    ) -> None:
        self._seq = seq
        self._fanout = fanout
        self._runner = runner
        self._loop = loop
        self._closed = closed
        self._on_stored = on_stored
        self._on_error = on_error
        self._on_bug = on_bug
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._arrival: asyncio.Future[None] | None = None
        #: Authors of the last commit, when it was made, the mean store time.
        self._last_authors: set[Subscriber] = set()
        self._last_commit_at = 0.0
        self._store_seconds = 0.0
        #: When the oldest op not yet taken into a batch was queued (metrics).
        self._queued_since: float | None = None

    @property
    def running(self) -> bool:
        """Return whether the writer task is running."""
        return self._task is not None

    def kick(self) -> None:
        """Take note of a newly queued op: wake a gathering commit, start the task."""
        if self._queued_since is None:
            self._queued_since = self._loop.time()
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        if self._task is None:
            # The document's own task: it logs for the document, not for the
            # person whose op happened to start it.
            self._task = self._loop.create_task(
                self._run(), context=logcontext.detached(doc=self._name)
            )

    async def wait_idle(self) -> None:
        """Return once the writer has stopped (nothing queued or owed)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        try:
            while True:
                if self._seq.queued and not self._closed():
                    await self._commit_next()
                elif self._fanout.owed and not self._closed():
                    await self._fanout.deliver_owed()
                else:
                    break
        except Exception:  # pragma: no cover - a bug; never leave ops hanging
            logger.exception("the writer of %s failed", self._name)
            await self._on_bug()
        finally:
            self._task = None

    async def _commit_next(self) -> None:
        if self._fanout.owed:
            # Acks first: their authors may be about to send again.
            await self._fanout.deliver_owed()
        await self._gather()
        batch = self._seq.take_batch(MAX_BATCH_OPS)
        started = self._loop.time()
        queued_since = self._queued_since
        # Ops left for the next batch (over MAX_BATCH_OPS) count from now.
        self._queued_since = started if self._seq.queued else None
        store = self._runner.store
        try:
            await self._runner.run(
                store.append,
                document_pk=self._seq.document_pk,
                ops=[_new_op(entry) for entry in batch],
            )
        except Exception as exc:  # noqa: BLE001 - every store error has its answer in on_error
            await self._on_error(exc)
            return
        now = self._loop.time()
        self._store_seconds = 0.8 * self._store_seconds + 0.2 * (now - started)
        self._last_commit_at = now
        self._last_authors = {entry.author for entry in batch if entry.author is not None}
        self._on_stored(batch)
        metrics.committed(
            ops=len(batch),
            seconds=now - started,
            oldest_waited=None if queued_since is None else now - queued_since,
        )

    async def _gather(self) -> None:
        """Hold the next commit briefly for the last commit's authors (module docstring)."""
        waiting = {sub for sub in self._last_authors if not sub.closed}
        self._last_authors = set()
        budget = min(GATHER_MAX_SECONDS, self._store_seconds / 2)
        now = self._loop.time()
        if not waiting or budget < 0.0002 or now - self._last_commit_at > 2 * budget:
            return
        deadline = now + budget
        while not waiting <= {entry.author for entry in self._seq.queued}:
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
