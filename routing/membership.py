"""Worker membership: this worker's ephemeral znode and the live workers.

:Maintainer: the routing app
:Status: used by ``runworker`` in cluster mode

A :class:`Membership` keeps two things in ZooKeeper, in kazoo's recipe
shape (one class, public methods that run their ``_inner_*`` under a
:class:`~kazoo.retry.KazooRetry` made from :mod:`routing.zk`'s policies):

* this worker's ephemeral znode ``<root>/workers/<id>``, holding JSON
  ``{"url", "started", "pid", "host"}`` plus whatever :meth:`publish` adds
  (the open documents and socket counts the admin page shows);
* a :class:`~kazoo.recipe.watchers.ChildrenWatch` on ``<root>/workers``.
  On every change the members' znodes are read with kazoo's asynchronous
  API and the listener gets ``{worker id: base URL}``.

Threads
-------

kazoo calls watch callbacks and state listeners on its own threads. They
never block: each hands its work to the worker's asyncio loop with
``loop.call_soon_threadsafe`` and returns. Every
:class:`MembershipListener` method runs on that loop, and so does the
reading of the members (it awaits kazoo's async results). Blocking calls
(:meth:`register`, :meth:`deregister`) run at start-up or in an executor.

Error handling
--------------

``SUSPENDED``
    The connection to ZooKeeper dropped; the session may still be alive,
    and with it this worker's znode and locks. The listener hears
    ``"suspended"`` and the worker keeps serving (it stops if this lasts
    longer than a session timeout: by then the session has surely expired
    and others own its documents).

``CONNECTED`` on the same session
    The listener hears ``"connected"``. The ChildrenWatch re-arms itself:
    kazoo's ``_session_watcher`` reads the children again on reconnection,
    and a change missed meanwhile is delivered then.

``LOST``
    The session expired: ZooKeeper deleted this worker's znode and its
    document locks, and the other workers own its documents. The listener
    hears ``"lost"`` (the worker stops serving every document at once).
    kazoo then connects with a new session; the znode is created again and
    the listener hears ``"registered"``. A stale znode of this worker's own
    (same id and URL, from a previous session or process) is replaced; one
    with the same id and another URL is another live worker:
    :class:`~routing.exceptions.WorkerIdTaken`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError
from kazoo.protocol.states import KazooState
from kazoo.recipe.watchers import ChildrenWatch
from kazoo.retry import ForceRetryError, RetryFailedError

from routing import zk
from routing.exceptions import WorkerIdTaken
from routing.paths import check_worker_id, normalize_base_url, worker_path, workers_path

logger = logging.getLogger(__name__)


class MembershipListener(Protocol):
    """What a :class:`Membership` tells; every method runs on the loop."""

    def members_changed(self, members: dict[str, str]) -> None:
        """Take the live workers: ``{worker id: base URL}``."""

    def state_changed(self, state: str) -> None:
        """Take ``"suspended"``, ``"connected"``, ``"lost"`` or ``"registered"``."""


def parse_worker_data(raw: bytes | None) -> dict[str, Any]:
    """Return a worker znode's JSON as a dict ({} when unreadable)."""
    try:
        data = json.loads((raw or b"{}").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Membership:
    """This worker's registration and the live view of all workers."""

    def __init__(
        self,
        client: KazooClient,
        *,
        root: str,
        worker_id: str,
        url: str,
        loop: asyncio.AbstractEventLoop,
        listener: MembershipListener,
    ) -> None:
        self.client = client
        self.root = root
        self.worker_id = check_worker_id(worker_id)
        self.url = normalize_base_url(url)
        self.path = worker_path(root, worker_id)
        self.loop = loop
        self.listener = listener
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._data: dict[str, Any] = {
            "url": self.url,
            "started": self.started_at,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        self._retry = zk.REGISTER.kazoo_retry(client)
        #: For leaving: a stopping worker must not wait for ZooKeeper long.
        self._quick_retry = zk.LEAVE.kazoo_retry(client)
        self._generation = 0
        self._registered = False
        self._want_registered = False
        self._stopped = False
        self._pending: list[str] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._reregister: asyncio.Task[None] | None = None
        self._last_published: bytes | None = None
        self.client.add_listener(self._session_listener)

    # -- public ------------------------------------------------------------

    def watch(self) -> None:
        """Start watching the workers (blocks: call at start-up or off the loop)."""
        self._retry(self.client.ensure_path, workers_path(self.root))
        self._generation += 1
        generation = self._generation
        ChildrenWatch(
            self.client, workers_path(self.root), partial(self._children_callback, generation)
        )

    def register(self) -> None:
        """Create this worker's ephemeral znode (blocks).

        :raises WorkerIdTaken: a live worker with another URL has this id.
        :raises kazoo.exceptions.KazooException: ZooKeeper stayed unreachable.
        """
        self._want_registered = True
        try:
            self._retry(self._inner_register)
        except RetryFailedError as exc:
            raise KazooException(f"could not register {self.worker_id}: {exc}") from exc
        self._registered = True
        logger.info("registered %s as %s", self.url, self.path)

    def deregister(self) -> None:
        """Delete this worker's znode (blocks); never re-register afterwards."""
        self._want_registered = False
        self._registered = False
        if not self.client.connected:
            logger.warning("ZooKeeper is away: %s goes when its session expires", self.path)
            return
        try:
            self._quick_retry(self._inner_deregister)
        except (KazooException, RetryFailedError) as exc:
            # The session's end removes it anyway.
            logger.warning("could not delete %s: %s", self.path, exc)

    def publish(self, extra: Mapping[str, Any]) -> None:
        """Merge ``extra`` into this worker's znode data (does not block).

        Called on the loop; a failure is logged and the next call tries
        again.
        """
        data = {**self._data, **extra}
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        if not self._registered or raw == self._last_published:
            return
        self._last_published = raw
        try:
            self.client.set_async(self.path, raw).rawlink(self._published)
        except Exception as exc:  # noqa: BLE001 - closed client: nothing to publish to
            logger.debug("publishing to %s: %s", self.path, exc)

    def stop(self) -> None:
        """Stop reacting to ZooKeeper (the caller then stops the client)."""
        self._stopped = True
        self._generation += 1
        self.client.remove_listener(self._session_listener)
        for task in (self._refresher, self._reregister):
            if task is not None and not task.done():
                self.loop.call_soon_threadsafe(task.cancel)

    # -- registration ------------------------------------------------------

    def _encoded(self) -> bytes:
        return json.dumps(self._data, separators=(",", ":"), sort_keys=True).encode()

    def _inner_register(self) -> None:
        try:
            self.client.create(self.path, self._encoded(), ephemeral=True, makepath=True)
            return
        except NodeExistsError:
            pass
        try:
            raw, stat = self.client.get(self.path)
        except NoNodeError:
            raise ForceRetryError() from None
        if stat.ephemeralOwner == self.client.client_id[0]:
            return  # an earlier try of this very call created it
        if parse_worker_data(raw).get("url") != self.url:
            raise WorkerIdTaken(
                f"worker id {self.worker_id!r} is registered by "
                f"{parse_worker_data(raw).get('url')!r}; start this one with another --id"
            )
        # Our own id and address from an earlier session or process: that
        # process is gone (this one holds its port) and its session will
        # expire; do not wait for it.
        with contextlib.suppress(NoNodeError):
            self.client.delete(self.path, version=stat.version)
        raise ForceRetryError()

    def _inner_deregister(self) -> None:
        try:
            _, stat = self.client.get(self.path)
        except NoNodeError:
            return
        if stat.ephemeralOwner == self.client.client_id[0]:
            with contextlib.suppress(NoNodeError):
                self.client.delete(self.path, version=stat.version)

    def _published(self, result: Any) -> None:  # kazoo thread
        if not result.successful():
            self._last_published = None
            logger.debug("publishing to %s failed: %s", self.path, result.exception)

    # -- kazoo threads: hand over, never block --------------------------------

    def _children_callback(self, generation: int, children: list[str]) -> bool | None:
        if self._stopped or generation != self._generation:
            return False  # a newer watch took over
        self._call_soon(self._children_changed, list(children))
        return None

    def _session_listener(self, state: str) -> None:
        self._call_soon(self._state_changed, state)

    def _call_soon(self, fn: Any, *args: Any) -> None:
        # RuntimeError: the loop is closed, the worker is exiting.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(fn, *args)

    # -- the loop ----------------------------------------------------------

    def _state_changed(self, state: str) -> None:
        if self._stopped:
            return
        if state == KazooState.LOST:
            self._registered = False
            logger.warning("ZooKeeper session lost: %s no longer registered", self.worker_id)
            self.listener.state_changed("lost")
        elif state == KazooState.SUSPENDED:
            logger.warning("ZooKeeper connection suspended; serving on")
            self.listener.state_changed("suspended")
        elif state == KazooState.CONNECTED:
            if self._want_registered and not self._registered:
                self._start_reregister()
            else:
                logger.info("ZooKeeper connection back on the same session")
                self.listener.state_changed("connected")

    def _start_reregister(self) -> None:
        if self._reregister is None or self._reregister.done():
            self._reregister = self.loop.create_task(self._reregister_loop())

    async def _reregister_loop(self) -> None:
        failures = 0
        while self._want_registered and not self._registered and not self._stopped:
            try:
                await self.loop.run_in_executor(None, self._rewatch_and_register)
            except WorkerIdTaken:
                logger.exception("cannot register again")
                return
            except Exception as exc:  # noqa: BLE001 - ZooKeeper still away: again
                logger.warning("registering again failed: %s", exc)
                failures += 1
                await asyncio.sleep(zk.CONNECTION.pause(failures))
                continue
            self._last_published = None
            self.listener.state_changed("registered")

    def _rewatch_and_register(self) -> None:
        # A new watch, in case the old one stopped (its path was deleted,
        # e.g. by a ZooKeeper that came back without its data).
        self.watch()
        self.register()

    def _children_changed(self, children: list[str]) -> None:
        self._pending = children
        if self._refresher is None or self._refresher.done():
            self._refresher = self.loop.create_task(self._refresh())

    async def _refresh(self) -> None:
        """Read the members' znodes; deliver only the newest complete view."""
        failures = 0
        while self._pending is not None and not self._stopped:
            children, self._pending = self._pending, None
            try:
                members = await self._read_members(children)
            except Exception as exc:  # noqa: BLE001 - ConnectionLoss and such: again
                logger.debug("reading the workers failed: %s", exc)
                if self._pending is None:
                    self._pending = children
                failures += 1
                await asyncio.sleep(zk.CONNECTION.pause(failures))
                continue
            failures = 0
            if self._pending is None and not self._stopped:
                self.listener.members_changed(members)

    async def _read_members(self, children: list[str]) -> dict[str, str]:
        started = time.monotonic()
        futures = {}
        for child in children:
            future = self.loop.create_future()
            self.client.get_async(worker_path(self.root, child)).rawlink(
                partial(self._settle, future)
            )
            futures[child] = future
        members: dict[str, str] = {}
        timeout = max(1.0, self.client._session_timeout / 1000)
        for child, future in futures.items():
            remaining = max(0.05, timeout - (time.monotonic() - started))
            try:
                raw, _ = await asyncio.wait_for(future, remaining)
            except NoNodeError:
                continue  # gone already; a later event says so
            url = parse_worker_data(raw).get("url")
            if isinstance(url, str) and url:
                members[child] = url
        return members

    def _settle(self, future: asyncio.Future, result: Any) -> None:  # kazoo thread
        def settle() -> None:
            if future.done():
                return
            if result.successful():
                future.set_result(result.value)
            else:
                future.set_exception(result.exception)

        self._call_soon(settle)
