"""The open documents of this worker: one authority each, loaded on demand.

:func:`get_registry` returns the process's registry (one per event loop).
``acquire`` loads a document once even when many sockets open it at the
same moment; ``release`` starts the idle timer when the last holder lets go,
and the authority leaves memory ``IDLE_UNLOAD_SECONDS`` later (after its
pending ops are stored) unless someone acquires it again.

The socket count per user (``SOCKETS_PER_USER``) is kept here too: it is a
per-worker limit, like the authorities themselves.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter

from django.conf import settings

from documents.store import DjangoDocumentStore, DocumentStore
from realtime.authority import Authority
from realtime.runner import StoreRunner

logger = logging.getLogger(__name__)

#: Threads (and so database connections) for storage calls per worker.
STORE_THREADS = 8


class Registry:
    """The authorities open on this worker."""

    def __init__(self, *, store: DocumentStore | None = None, threads: int = STORE_THREADS) -> None:
        self.loop = asyncio.get_running_loop()
        self.runner = StoreRunner(store or DjangoDocumentStore(), max_workers=threads)
        self._authorities: dict[uuid.UUID, Authority] = {}
        self._holds: Counter[uuid.UUID] = Counter()
        self._loading: dict[uuid.UUID, asyncio.Future[Authority]] = {}
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._unloading: set[asyncio.Task[None]] = set()
        self.sockets_per_user: Counter[int] = Counter()

    def get(self, public_id: uuid.UUID) -> Authority | None:
        """Return the loaded authority of a document, if any."""
        return self._authorities.get(public_id)

    def __len__(self) -> int:
        return len(self._authorities)

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
            loading = self._loading.get(public_id)
            if loading is None:
                loading = self.loop.create_future()
                self._loading[public_id] = loading
                try:
                    authority = await Authority.load(
                        public_id=public_id,
                        runner=self.runner,
                        window_size=settings.COLLABDOCS["OP_WINDOW"],
                        max_length=settings.COLLABDOCS["MAX_DOC_LENGTH"],
                    )
                except asyncio.CancelledError:
                    del self._loading[public_id]
                    loading.cancel()
                    raise
                except Exception as exc:
                    del self._loading[public_id]
                    loading.set_exception(exc)
                    loading.exception()  # retrieved: no "never retrieved" warning
                    raise
                del self._loading[public_id]
                self._authorities[public_id] = authority
                loading.set_result(authority)
                self._hold(public_id)
                return authority
            try:
                await asyncio.shield(loading)  # then loop: it may be closed already
            except asyncio.CancelledError:
                if not loading.cancelled():
                    raise
                # The loader was cancelled: try loading again ourselves.

    def _hold(self, public_id: uuid.UUID) -> None:
        self._holds[public_id] += 1
        timer = self._timers.pop(public_id, None)
        if timer is not None:
            timer.cancel()

    def release(self, authority: Authority) -> None:
        """Let go of an authority; unload it once idle for long enough."""
        public_id = authority.public_id
        self._holds[public_id] -= 1
        if self._holds[public_id] > 0:
            return
        del self._holds[public_id]
        if self._authorities.get(public_id) is not authority:
            return
        delay = settings.COLLABDOCS["IDLE_UNLOAD_SECONDS"]
        self._timers[public_id] = self.loop.call_later(delay, self._start_unload, authority)

    def _start_unload(self, authority: Authority) -> None:
        self._timers.pop(authority.public_id, None)
        task = self.loop.create_task(self._unload(authority))
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def _unload(self, authority: Authority) -> None:
        public_id = authority.public_id
        await authority.wait_idle()
        if self._holds.get(public_id) or self._authorities.get(public_id) is not authority:
            return
        del self._authorities[public_id]
        authority.close()
        logger.debug("unloaded %s", public_id)

    async def close(self) -> None:
        """Store what is pending, unload everything and close connections."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for authority in list(self._authorities.values()):
            try:
                await asyncio.wait_for(authority.wait_idle(), timeout=10)
            except TimeoutError:
                logger.warning("ops of %s still pending at shutdown", authority.public_id)
            authority.close()
        self._authorities.clear()
        await asyncio.get_running_loop().run_in_executor(None, self.runner.shutdown)


_registry: Registry | None = None


def get_registry() -> Registry:
    """Return this worker's registry, made on first use in the running loop."""
    global _registry
    loop = asyncio.get_running_loop()
    if _registry is None or _registry.loop is not loop:
        if _registry is not None:
            # A new event loop (tests run one per test): the old registry's
            # timers and futures belong to a loop that is gone.
            _registry.runner.shutdown()
        _registry = Registry()
    return _registry


def set_registry(registry: Registry | None) -> Registry | None:
    """Install ``registry`` as the worker's registry; return the previous one."""
    global _registry
    previous, _registry = _registry, registry
    return previous
