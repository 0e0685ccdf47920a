"""Per-document ZooKeeper locks: the owner holds one while it serves a document.

:Maintainer: the routing app
:Status: used by ``runworker`` (cluster mode) and ``compact_docs``

Each document has a lock directory ``<root>/locks/<doc id>`` used with
kazoo's :class:`~kazoo.recipe.lock.Lock` recipe (identifier: the holder's
worker id, or ``compactor:<host>:<pid>``).

* :class:`DocumentLocks` is the realtime registry's gate on a worker: it
  takes a document's lock before the document is loaded and lets go after
  it is unloaded (its pending ops stored, its sockets closed). A new owner
  therefore waits until the old owner has let go, or until the old owner's
  session expired (its ephemeral lock node goes with it). The wait is
  bounded by ``COLLABDOCS["LOCK_WAIT_SECONDS"]``.
* :class:`ZooKeeperGuard` is ``compact_docs``' guard in cluster mode
  (``COLLABDOCS["DOCUMENT_GUARD"]``, see :mod:`documents.compaction`): it
  tries the same lock without waiting, so a document its owner serves is
  skipped. In a worker it uses the worker's ZooKeeper session
  (:mod:`routing.state`).

The locks are not the only fence: ``UNIQUE(document, revision)`` in the
database still refuses the second writer if two ever overlap (a worker
paused longer than its session, say).

Error handling
--------------

* Blocking kazoo calls run in a small thread pool, never on the loop.
* ``SUSPENDED`` while releasing: the release is kept and tried again when
  the session is back (:meth:`DocumentLocks.retry_releases`); if instead the
  session is ``LOST``, ZooKeeper deleted the nodes already
  (:meth:`DocumentLocks.forget_all`).
* A pending acquisition for a document this worker no longer owns is
  cancelled (:meth:`DocumentLocks.cancel_not_local`) and the socket is
  redirected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from kazoo.client import KazooClient
from kazoo.exceptions import CancelledError as LockCancelled
from kazoo.exceptions import KazooException, LockTimeout, NoNodeError
from kazoo.recipe.lock import Lock

from documents.compaction import DocumentGuard
from realtime.exceptions import NotOwner
from routing import zk
from routing.exceptions import ZooKeeperUnavailable
from routing.ownership import Ownership
from routing.paths import lock_path
from routing.state import routing_state

logger = logging.getLogger(__name__)

#: Threads for lock calls per worker (each waiting acquisition holds one).
LOCK_THREADS = 32


class DocumentLocks:
    """The documents' locks held by this worker (the registry's gate)."""

    def __init__(
        self,
        client: KazooClient,
        *,
        root: str,
        identifier: str,
        ownership: Ownership,
        wait_seconds: float,
    ) -> None:
        self.client = client
        self.root = root
        self.identifier = identifier
        self.ownership = ownership
        self.wait_seconds = wait_seconds
        self._pool = ThreadPoolExecutor(max_workers=LOCK_THREADS, thread_name_prefix="doclock")
        self._mutex = threading.Lock()
        #: Held locks and how many loads hold each, by document.
        self._held: dict[uuid.UUID, list] = {}
        #: Acquisitions under way, by document.
        self._pending: dict[uuid.UUID, Lock] = {}
        #: Releases that failed while ZooKeeper was away.
        self._unreleased: list[Lock] = []

    # -- the registry's gate (on the loop) -------------------------------------

    async def enter(self, public_id: uuid.UUID) -> None:
        """Take the document's lock before it is loaded here.

        :raises NotOwner: this worker does not own the document, or no longer
            does once the lock is held (the lock is let go again).
        :raises ZooKeeperUnavailable: the lock was not free within
            ``wait_seconds`` or ZooKeeper could not be reached.
        """
        if not self.ownership.is_local(public_id):
            raise NotOwner(str(public_id))
        loop = asyncio.get_running_loop()
        acquiring = loop.run_in_executor(self._pool, self._acquire, public_id)
        try:
            await asyncio.shield(acquiring)
        except asyncio.CancelledError:
            # Nobody waits for it any more (the socket went away): let go
            # of the lock if the thread still gets it.
            def let_go(future: asyncio.Future[None]) -> None:
                if not future.cancelled() and future.exception() is None:
                    loop.create_task(self.leave(public_id))

            acquiring.add_done_callback(let_go)
            raise
        if not self.ownership.is_local(public_id):
            await self.leave(public_id)
            raise NotOwner(str(public_id))

    async def leave(self, public_id: uuid.UUID) -> None:
        """Let go of the document's lock after it was unloaded."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._release, public_id)

    def held(self) -> set[uuid.UUID]:
        """Return the documents whose lock this worker holds."""
        with self._mutex:
            return set(self._held)

    def cancel_not_local(self) -> None:
        """Give up waiting for the locks of documents owned elsewhere now."""
        with self._mutex:
            pending = list(self._pending.items())
        for public_id, lock in pending:
            if not self.ownership.is_local(public_id):
                lock.cancel()

    def retry_releases(self) -> None:
        """Release what could not be released while ZooKeeper was away (blocks)."""
        with self._mutex:
            locks, self._unreleased = self._unreleased, []
        for lock in locks:
            self._release_lock(lock)

    def forget_all(self) -> None:
        """Drop every lock: the session expired and ZooKeeper deleted their nodes."""
        with self._mutex:
            self._held.clear()
            self._unreleased.clear()
            pending = list(self._pending.values())
        for lock in pending:
            lock.cancel()

    def close(self, *, wait: bool = True) -> None:
        """Stop the lock threads (after every document was let go)."""
        with self._mutex:
            pending = list(self._pending.values())
        for lock in pending:
            lock.cancel()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # -- blocking halves (lock threads) ------------------------------------------

    def _acquire(self, public_id: uuid.UUID) -> None:
        lock = self.client.Lock(lock_path(self.root, public_id), self.identifier)
        with self._mutex:
            held = self._held.get(public_id)
            if held is not None:
                # Held already (a load racing the end of an unload): the
                # recipe is not re-entrant; count the holders instead.
                held[1] += 1
                return
            self._pending[public_id] = lock
        try:
            gotten = lock.acquire(timeout=self.wait_seconds)
        except LockTimeout:
            raise ZooKeeperUnavailable(
                f"the lock of {public_id} was not free within {self.wait_seconds:g} s"
            ) from None
        except LockCancelled:
            raise NotOwner(str(public_id)) from None
        except KazooException as exc:
            raise ZooKeeperUnavailable(f"could not take the lock of {public_id}: {exc}") from exc
        finally:
            with self._mutex:
                if self._pending.get(public_id) is lock:
                    del self._pending[public_id]
        if not gotten:
            raise ZooKeeperUnavailable(f"could not take the lock of {public_id}")
        with self._mutex:
            self._held[public_id] = [lock, 1]

    def _release(self, public_id: uuid.UUID) -> None:
        with self._mutex:
            held = self._held.get(public_id)
            if held is None:
                return
            held[1] -= 1
            if held[1] > 0:
                return
            del self._held[public_id]
        self._release_lock(held[0])

    def _release_lock(self, lock: Lock) -> None:
        try:
            lock.release()
        except NoNodeError:
            pass
        except KazooException as exc:
            logger.warning(
                "releasing %s failed (%s); trying again when reconnected", lock.path, exc
            )
            with self._mutex:
                self._unreleased.append(lock)


class ZooKeeperGuard(DocumentGuard):
    """``compact_docs``' guard in cluster mode: the document's ZooKeeper lock.

    Uses ``client`` when given, else the running worker's ZooKeeper client
    when there is one (the admin compacting from a worker), else a client
    of its own, started on first use and stopped by :meth:`close`.
    """

    def __init__(self, client: KazooClient | None = None) -> None:
        self._client = client
        self._own = False
        self.identifier = f"compactor:{socket.gethostname()}:{os.getpid()}"

    def _get_client(self) -> KazooClient:
        if self._client is None:
            self._client = routing_state().client
        if self._client is None:
            self._client = zk.start_client()
            self._own = True
        return self._client

    @contextmanager
    def hold(self, public_id: uuid.UUID) -> Iterator[bool]:
        """Yield whether the document's lock was free (and is now held)."""
        client = self._get_client()
        lock = client.Lock(lock_path(zk.zk_root(), public_id), self.identifier)
        try:
            gotten = lock.acquire(blocking=False)
        except KazooException as exc:
            raise ZooKeeperUnavailable(f"could not try the lock of {public_id}: {exc}") from exc
        try:
            yield gotten
        finally:
            if gotten:
                try:
                    lock.release()
                except KazooException as exc:  # the session's end releases it
                    logger.warning("releasing the lock of %s failed: %s", public_id, exc)

    def close(self) -> None:
        """Stop the guard's own client, if it made one."""
        if self._own and self._client is not None:
            zk.stop_client(self._client)
        self._client = None
        self._own = False
