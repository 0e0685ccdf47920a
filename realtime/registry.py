"""The open documents of this worker: one authority each, loaded on demand.

``acquire`` loads a document once even when many sockets open it at the
same moment; ``release`` starts the idle timer when the last holder lets go,
and the authority leaves memory ``IDLE_UNLOAD_SECONDS`` later (after its
pending ops are stored) unless someone acquires it again. The registry also
holds what is counted per worker: the socket slots per user
(:class:`realtime.slots.SocketSlots`) and the users' CPU budgets
(:class:`realtime.budget.UserBudgets`).

Collaborators (constructor parameters, single-node defaults, nothing read
from module globals):

* ``store``: the document store (default
  :class:`documents.store.DjangoDocumentStore`): the op log, and also the
  leases and owner snapshots (:mod:`realtime.keeper`), so whatever store
  is passed, leases and compaction stay on;
* ``compact_after`` and ``renew_every``: when the keeper stores a snapshot
  and renews the leases (default: the settings);
* ``gate``: entered before a load, left after an unload (default: none;
  in a cluster, routing's document locks);
* ``accepting``: whether ops may be accepted right now, handed to every
  authority (default: always; in a cluster, the ZooKeeper lease);
* ``placement``: where documents are served (default
  :data:`realtime.placement.SINGLE_NODE`), which the consumer asks.

Leases and compaction go through the :class:`realtime.keeper.Keeper`: the
lease is taken before a load (after any unload of the same document still
storing its last snapshot), renewed while the document is open, and
released with a last snapshot on unload; a snapshot follows every
``compact_after`` ops. Their errors are logged and never reach a socket.

Scale-out (docs/scaleout.md): the :class:`DocumentGate` is entered before a
document is loaded and left once it is unloaded, after its last snapshot
and lease release; a gate may refuse with
:class:`realtime.exceptions.NotOwner`. :meth:`Registry.evict` hands a
document over to another worker: it refuses new ops, stores the pending
ones, closes the sockets (4503) and unloads it.

The process's registry: whoever composes the process builds it with its
collaborators and installs it once with :func:`install_registry` (routing's
worker under ``runworker``); consumers and server-made changes take it from
:func:`process_registry`, which under plain ``daphne`` (``make run``, tests)
makes a single-node one in the running loop on first use.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from django.conf import settings

from documents import logcontext
from documents.store import DjangoDocumentStore, DocumentStore
from realtime.authority import Authority
from realtime.budget import UserBudgets
from realtime.content_policy import content_policy
from realtime.keeper import Keeper
from realtime.placement import SINGLE_NODE, Placement
from realtime.repair import repair_loaded
from realtime.runner import StoreRunner
from realtime.slots import SocketSlots

logger = logging.getLogger(__name__)

#: Threads (and so database connections) for storage calls per worker.
STORE_THREADS = 8


class DocumentGate(Protocol):
    """What a worker holds per open document besides the lease (scale-out)."""

    async def enter(self, public_id: uuid.UUID) -> None:
        """Take the document before it is loaded; may wait, may refuse (NotOwner)."""

    async def leave(self, public_id: uuid.UUID) -> None:
        """Let the document go after it was unloaded."""


def always_accepting() -> bool:
    """Return True: without a cluster lease, ops may always be accepted."""
    return True


class Registry:
    """The authorities open on this worker."""

    def __init__(
        self,
        *,
        store: DocumentStore | None = None,
        gate: DocumentGate | None = None,
        accepting: Callable[[], bool] = always_accepting,
        placement: Placement = SINGLE_NODE,
        compact_after: int | None = None,
        renew_every: float | None = None,
        threads: int = STORE_THREADS,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Make a registry; see the module docstring for the collaborators.

        ``loop``: the event loop it serves (default: the running one); the
        process's composer may build it before the loop runs.
        """
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        #: The op log, the leases and the owner snapshots.
        self.store = store if store is not None else DjangoDocumentStore()
        #: Entered before a load, left after an unload; None: single node.
        self.gate = gate
        #: Whether ops may be accepted now; every authority asks it.
        self.accepting = accepting
        #: Where documents are served; the consumer asks it.
        self.placement = placement
        self.runner = StoreRunner(self.store, max_workers=threads)
        self._authorities: dict[uuid.UUID, Authority] = {}
        self._holds: Counter[uuid.UUID] = Counter()
        self._loading: dict[uuid.UUID, asyncio.Future[Authority]] = {}
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        #: Unloads, lease renewals and other tasks kept alive until they end.
        self._tasks: set[asyncio.Task[None]] = set()
        #: Unloads still storing their last snapshot, by document.
        self._closing: dict[uuid.UUID, asyncio.Future[None]] = {}
        #: Leases and owner snapshots of the documents held here.
        self.keeper = Keeper(
            self.runner,
            loop=self.loop,
            held=self._authorities.keys,
            spawn=self._spawn,
            compact_after=compact_after,
            renew_every=renew_every,
        )
        #: Socket slots per user, released on every exit path of a consumer.
        self.sockets = SocketSlots()
        #: The CPU budget each user shares between their sockets here.
        self.budgets = UserBudgets()

    def get(self, public_id: uuid.UUID) -> Authority | None:
        """Return the loaded authority of a document, if any."""
        return self._authorities.get(public_id)

    def open_documents(self) -> dict[uuid.UUID, int]:
        """Return the documents open or loading here, with their socket counts."""
        documents = {
            public_id: len(authority.subscribers)
            for public_id, authority in self._authorities.items()
            if not authority.closed
        }
        for public_id in self._loading:
            documents.setdefault(public_id, 0)
        return documents

    def document_audience(self) -> dict[uuid.UUID, tuple[int, int]]:
        """Return the documents open or loading here: (sockets, distinct people)."""
        audience = {
            public_id: (
                len(subs := authority.subscribers),
                len({sub.user_id for sub in subs}),
            )
            for public_id, authority in self._authorities.items()
            if not authority.closed
        }
        for public_id in self._loading:
            audience.setdefault(public_id, (0, 0))
        return audience

    async def acquire(self, public_id: uuid.UUID) -> Authority:
        """Return the document's authority, loading it if needed, and hold it.

        :raises documents.store.DocumentMissing: no such document.
        :raises documents.store.StorageUnavailable: storage is down.
        """
        while True:
            authority = self._authorities.get(public_id)
            if authority is not None and not authority.closed:
                self._hold(public_id)
                return authority
            if authority is not None:
                # It closed itself (document gone, storage reset): unload it
                # before loading again, so its lease and gate are let go.
                del self._authorities[public_id]
                self._holds.pop(public_id, None)
                await self._let_go(authority)
                continue
            loading = self._loading.get(public_id)
            closing = self._closing.get(public_id)
            if loading is None and closing is not None:
                # Its last snapshot and lease release must land first.
                await asyncio.shield(closing)
                continue
            if loading is None:
                loading = self.loop.create_future()
                self._loading[public_id] = loading
                entered = False
                try:
                    if self.gate is not None:
                        await self.gate.enter(public_id)
                        entered = True
                    await self.keeper.open(public_id)
                    authority = await Authority.load(
                        public_id=public_id,
                        runner=self.runner,
                        window_size=settings.COLLABDOCS["OP_WINDOW"],
                        max_length=settings.COLLABDOCS["MAX_DOC_LENGTH"],
                        accepting=self.accepting,
                    )
                except asyncio.CancelledError:
                    del self._loading[public_id]
                    loading.cancel()
                    if entered:
                        self._spawn(self._leave_gate(public_id), doc=public_id)
                    raise
                except Exception as exc:
                    del self._loading[public_id]
                    loading.set_exception(exc)
                    loading.exception()  # retrieved: no "never retrieved" warning
                    if entered:
                        await self._leave_gate(public_id)
                    raise
                del self._loading[public_id]
                self._authorities[public_id] = authority
                authority.on_commit = self.keeper.committed
                loading.set_result(authority)
                self._hold(public_id)
                try:
                    await self._repair(authority)
                except BaseException:
                    self.release(authority)
                    raise
                return authority
            try:
                await asyncio.shield(loading)  # then loop: it may be closed already
            except asyncio.CancelledError:
                if not loading.cancelled():
                    raise
                # The loader was cancelled: try loading again ourselves.

    async def _repair(self, authority: Authority) -> None:
        """Bring content stored before the schema inside it (realtime.repair).

        Best effort: a repair that fails is logged and the document opens
        as stored.
        """
        try:
            await repair_loaded(authority, content_policy())
        except Exception:
            logger.exception("repairing %s failed", authority.public_id)

    def _hold(self, public_id: uuid.UUID) -> None:
        self._holds[public_id] += 1
        timer = self._timers.pop(public_id, None)
        if timer is not None:
            timer.cancel()

    def release(self, authority: Authority) -> None:
        """Let go of an authority; unload it once idle for long enough."""
        public_id = authority.public_id
        if self._authorities.get(public_id) is not authority:
            return  # unloaded or handed over already
        self._holds[public_id] -= 1
        if self._holds[public_id] > 0:
            return
        del self._holds[public_id]
        delay = settings.COLLABDOCS["IDLE_UNLOAD_SECONDS"]
        self._timers[public_id] = self.loop.call_later(delay, self._start_unload, authority)

    def _start_unload(self, authority: Authority) -> None:
        self._timers.pop(authority.public_id, None)
        self._spawn(self._unload(authority), doc=authority.public_id)

    def _spawn(self, coro: Coroutine[Any, Any, None], *, doc: uuid.UUID | None = None) -> None:
        # Tasks of a document log for it, never for whoever's socket started them.
        task = self.loop.create_task(coro, context=logcontext.detached(doc=doc))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unload(self, authority: Authority) -> None:
        public_id = authority.public_id
        await authority.wait_idle()
        if self._holds.get(public_id) or self._authorities.get(public_id) is not authority:
            return
        del self._authorities[public_id]
        authority.close()
        await self._let_go(authority)
        logger.debug("unloaded %s", public_id)

    async def evict(self, public_id: uuid.UUID, *, code: int, message: str) -> None:
        """Hand a document over to another worker (scale-out).

        Its authority refuses new ops, stores and acks the pending ones and
        closes every socket with ``code`` (4503: the clients reconnect to the
        new owner); then it is unloaded like an idle one: last snapshot,
        lease, gate. A document still loading is evicted once loaded.
        """
        while (loading := self._loading.get(public_id)) is not None:
            await asyncio.wait([loading])
        authority = self._authorities.get(public_id)
        if authority is None or authority.closed or authority.draining:
            return
        timer = self._timers.pop(public_id, None)
        if timer is not None:
            timer.cancel()
        await authority.drain(code, message)
        if self._authorities.get(public_id) is not authority:
            return  # unloaded meanwhile; that unload lets it go
        del self._authorities[public_id]
        self._holds.pop(public_id, None)
        authority.close()
        await self._let_go(authority)
        logger.info("handed %s over at r%d", public_id, authority.head)

    async def close(self) -> None:
        """Store what is pending, unload everything and close connections."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.keeper.stop()
        for authority in list(self._authorities.values()):
            try:
                await asyncio.wait_for(authority.wait_idle(), timeout=10)
            except TimeoutError:
                logger.warning("ops of %s still pending at shutdown", authority.public_id)
            authority.close()
        authorities = list(self._authorities.values())
        self._authorities.clear()
        for authority in authorities:
            await self._let_go(authority)
        # Unloads already under way store their last snapshot first.
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=30)
        await asyncio.get_running_loop().run_in_executor(None, self.runner.shutdown)

    async def _let_go(self, authority: Authority) -> None:
        """Store a last snapshot of an unloaded authority, release its lease, leave the gate."""
        public_id = authority.public_id
        done: asyncio.Future[None] = self.loop.create_future()
        previous = self._closing.get(public_id)
        self._closing[public_id] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await self.keeper.close(authority)
        finally:
            # The gate last: the next owner may load as soon as it is left.
            await self._leave_gate(public_id)
            if self._closing.get(public_id) is done:
                del self._closing[public_id]
            done.set_result(None)

    async def _leave_gate(self, public_id: uuid.UUID) -> None:
        if self.gate is None:
            return
        try:
            await self.gate.leave(public_id)
        except Exception as exc:  # noqa: BLE001 - the gate's own session ends it
            logger.warning("leaving the gate of %s failed: %s", public_id, exc)


# -- the process's registry ---------------------------------------------------

#: The registry the process's composer installed; None: not installed.
_installed: Registry | None = None
#: The single-node registry made on first use while none is installed.
_default: Registry | None = None


def install_registry(registry: Registry) -> None:
    """Make ``registry`` the process's registry (once, at start-up).

    :raises RuntimeError: a registry is installed already (tests call
        :func:`uninstall_registry` first).
    """
    global _installed, _default
    if _installed is not None:
        raise RuntimeError("a registry is installed already; uninstall_registry() first")
    if _default is not None:
        # Made before the composer ran (nothing can have used it yet at start-up).
        _default.runner.shutdown()
        _default = None
    _installed = registry


def process_registry() -> Registry:
    """Return the process's registry.

    With none installed (plain ``daphne``, ``make run``, tests), make a
    single-node one in the running loop on first use, and a new one when
    the loop changed (tests run one loop per test: timers and futures of
    the old registry belong to a loop that is gone).
    """
    global _default
    if _installed is not None:
        return _installed
    loop = asyncio.get_running_loop()
    if _default is None or _default.loop is not loop:
        if _default is not None:
            _default.runner.shutdown()
        _default = Registry(loop=loop)
    return _default


def current_registry() -> Registry | None:
    """Return the process's registry if one is installed or made, without making one."""
    return _installed if _installed is not None else _default


def uninstall_registry() -> Registry | None:
    """Forget the process's registry (installed or made); return it for closing."""
    global _installed, _default
    registry = _installed if _installed is not None else _default
    if _installed is not None and _default is not None:
        _default.runner.shutdown()
    _installed = _default = None
    return registry
