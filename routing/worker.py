"""A ``runworker`` process at run time: membership, ownership, locks, hand-overs.

:Maintainer: the routing app
:Status: used by ``manage.py runworker``

::

    connect()   ZooKeeper session (start-up fails here when it is away)
    install()   compose the process: the ownership, the document locks, the
                lease and its heartbeat, the registry built with them
                (gate, accepting, placement) and installed for the
                consumers, the routing state for the views; the watch
    join()      once daphne listens: register, serve, publish stats, take
                forwarded changes on the registry
    drain()     SIGTERM: deregister, stop serving, hand every document over
    readiness() the phase ``/readyz`` answers (:mod:`routing.readiness`):
                starting, ready, draining (from the signal on), fenced, lost

The worker holds its registry and hands it what it needs by constructor;
it never looks realtime's state up. Views reach the worker's ownership
and ZooKeeper session through the one holder, :mod:`routing.state`.

Serving here means: registered in ZooKeeper, not fenced, not draining. When
that changes, or the ring does, every open document this worker no longer
owns is evicted: it refuses new ops, stores the pending ones (and acks
them), closes its sockets with 4503 and unloads; then its lock is let go and
the new owner, waiting for that lock, loads it from PostgreSQL.

Fencing: while the connection is SUSPENDED the worker serves on, since the
session may be alive. Once it has been suspended for a whole session
timeout the session has surely expired and the other workers own its
documents, so it stops serving without waiting to hear LOST (which only
comes when ZooKeeper is reachable again). If the session turns out to be
alive after all (a ZooKeeper restart keeps sessions), it serves again.

Single node (no ZooKeeper): the registry has no gate and accepts always;
only :meth:`drain` matters; the ownership is this process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from django.conf import settings
from kazoo.client import KazooClient

from documents import logcontext
from realtime.protocol import CloseCode
from realtime.registry import Registry, install_registry
from routing import forward, zk
from routing.heartbeat import Heartbeat, heartbeat_interval
from routing.lease import Lease, lease_seconds
from routing.locks import DocumentLocks
from routing.membership import Membership
from routing.metrics import Summary, fencing_event, handed_over
from routing.ownership import Ownership
from routing.readiness import DRAINING, FENCED, LOST, READY, STARTING, Readiness, install_readiness
from routing.state import RoutingState, install_routing_state

logger = logging.getLogger(__name__)

#: Most documents listed in a worker's published stats.
STATS_MAX_DOCS = 200

HANDOVER_MESSAGE = "this document moved to another server; reconnecting"
SHUTDOWN_MESSAGE = "this server is shutting down; reconnecting"


class Worker:
    """One worker process (see the module docstring)."""

    def __init__(self, *, worker_id: str, url: str, cluster: bool) -> None:
        self.worker_id = worker_id
        logcontext.set_worker(worker_id)
        self.url = url
        self.cluster = cluster
        self.client: KazooClient | None = None
        self.membership: Membership | None = None
        self.locks: DocumentLocks | None = None
        self.ownership: Ownership | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lease: Lease | None = None
        self.heartbeat: Heartbeat | None = None
        self.registry: Registry | None = None
        self._registered = False
        self._ever_registered = False
        self._fenced = False
        self._draining = False
        self._suspended = False
        self._fence_timer: asyncio.TimerHandle | None = None
        self._stats_timer: asyncio.TimerHandle | None = None
        self._evicting: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._requests: asyncio.Task[None] | None = None
        self._summary = Summary()

    # -- start-up -------------------------------------------------------------

    def connect(self) -> None:
        """Open the ZooKeeper session (blocks).

        :raises routing.exceptions.ZooKeeperUnavailable: with a message that
            says where and for how long it tried.
        """
        if self.cluster:
            self.client = zk.start_client()

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Compose the process (module docstring) and start watching (blocks).

        Call before ``loop`` runs: the registry is built for it.
        """
        self.loop = loop
        install_readiness(self.readiness)
        if not self.cluster:
            self.ownership = Ownership.single_node(self_url=self.url)
            self._install_registry(Registry(loop=loop, placement=self.ownership))
            install_routing_state(RoutingState(ownership=self.ownership))
            return
        assert self.client is not None
        self.ownership = Ownership(self_id=self.worker_id, self_url=self.url, cluster=True)
        self.ownership.add_listener(self._ring_changed)
        self.locks = DocumentLocks(
            self.client,
            root=zk.zk_root(),
            identifier=self.worker_id,
            ownership=self.ownership,
            wait_seconds=float(settings.COLLABDOCS["LOCK_WAIT_SECONDS"]),
        )
        # Ops are accepted only while the session is proven alive (lease.py).
        self.lease = Lease(lease_seconds(zk.session_timeout()))
        self._install_registry(
            Registry(
                loop=loop, gate=self.locks, accepting=self.lease.valid, placement=self.ownership
            )
        )
        install_routing_state(RoutingState(ownership=self.ownership, client=self.client))
        self.membership = Membership(
            self.client,
            root=zk.zk_root(),
            worker_id=self.worker_id,
            url=self.url,
            loop=loop,
            listener=self,
        )
        self.membership.watch()
        self.heartbeat = Heartbeat(
            self.client,
            self.lease,
            path=self.membership.path,
            interval=heartbeat_interval(zk.session_timeout()),
            loop=loop,
        )
        self.heartbeat.start()

    def _install_registry(self, registry: Registry) -> None:
        self.registry = registry
        install_registry(registry)

    async def join(self) -> None:
        """Register this worker and start serving (call once daphne listens)."""
        if not self.cluster:
            return
        assert self.membership is not None and self.loop is not None
        await self.loop.run_in_executor(None, self.membership.register)
        self._registered = self._ever_registered = True
        self._update_serving()
        self._schedule_stats(0)
        # Restores of the documents it owns, asked for elsewhere.
        assert self.registry is not None
        self._requests = self.loop.create_task(
            forward.serve_requests(self.worker_id, self.registry)
        )

    def readiness(self) -> Readiness:
        """Return this worker's phase for ``/readyz`` (any thread)."""
        if self._draining:
            phase = DRAINING
        elif not self.cluster:
            phase = READY
        elif self._fenced:
            phase = FENCED
        elif not self._registered:
            phase = LOST if self._ever_registered else STARTING
        else:
            phase = READY
        return Readiness(phase=phase, worker_id=self.worker_id, cluster=self.cluster)

    # -- MembershipListener (on the loop) ----------------------------------------

    def members_changed(self, members: dict[str, str]) -> None:
        """Take the live workers from the watch."""
        if self.ownership is not None:
            self.ownership.set_members(members)

    def state_changed(self, state: str) -> None:
        """Follow the ZooKeeper session (module docstring: fencing)."""
        if state == "suspended":
            self._suspended = True
            if self._fence_timer is None and self.loop is not None:
                self._fence_timer = self.loop.call_later(zk.session_timeout(), self._fence)
            return
        self._suspended = False
        if self._fence_timer is not None:
            self._fence_timer.cancel()
            self._fence_timer = None
        if state == "connected":
            if self._fenced:
                logger.warning("the ZooKeeper session survived; serving again")
                fencing_event("resumed")
            self._fenced = False
            if self.locks is not None and self.loop is not None:
                self.loop.run_in_executor(None, self.locks.retry_releases)
        elif state == "lost":
            fencing_event("lost")
            self._registered = False
            self._fenced = False
            if self.lease is not None:
                self.lease.expire()
            if self.locks is not None:
                self.locks.forget_all()
        elif state == "registered":
            self._registered = self._ever_registered = True
            self._fenced = False
            self._schedule_stats(0)
        self._update_serving()

    def _fence(self) -> None:
        self._fence_timer = None
        if self._suspended and not self._fenced:
            logger.error("no ZooKeeper for a whole session timeout: stop serving")
            fencing_event("fenced")
            self._fenced = True
            self._update_serving()

    def _update_serving(self) -> None:
        if self.ownership is not None and self.cluster:
            # Fenced, this worker cannot know who owns anything (ZooKeeper
            # is away): it answers 4503 with a retry hint, never a redirect.
            self.ownership.set_fenced(self._fenced)
            self.ownership.set_serving(self._registered and not self._fenced and not self._draining)

    # -- hand-overs ------------------------------------------------------------

    def _ring_changed(self, ownership: Ownership) -> None:
        """Evict every open document this worker no longer owns."""
        if self.locks is not None:
            self.locks.cancel_not_local()
        registry = self.registry
        if registry is None:
            return
        message = SHUTDOWN_MESSAGE if self._draining else HANDOVER_MESSAGE
        for public_id in registry.open_documents():
            if not ownership.is_local(public_id):
                self._evict(public_id, message)

    def _evict(self, public_id: uuid.UUID, message: str) -> asyncio.Task[None]:
        task = self._evicting.get(public_id)
        if task is not None and not task.done():
            return task
        assert self.loop is not None
        task = self.loop.create_task(self._evict_one(public_id, message))
        self._evicting[public_id] = task
        task.add_done_callback(lambda _: self._evicting.pop(public_id, None))
        return task

    async def _evict_one(self, public_id: uuid.UUID, message: str) -> None:
        registry = self.registry
        if registry is None:
            return
        try:
            await registry.evict(public_id, code=CloseCode.GOING_AWAY, message=message)
        except Exception:
            logger.exception("handing %s over failed", public_id)
            return
        handed_over("shutdown" if message == SHUTDOWN_MESSAGE else "ring")

    # -- stats for the admin page ------------------------------------------------

    def stats(self) -> dict[str, object]:
        """Return what this worker publishes for the staff page.

        Its open documents with their sockets (``docs``) and distinct
        people (``people``), the busiest first, and its metrics at a glance
        (``metrics``: :class:`routing.metrics.Summary`, rates and 95th
        percentiles over the last stats period). Published in its znode,
        so any worker's staff page shows every worker without asking each
        one over HTTP.
        """
        registry = self.registry
        audience = registry.document_audience() if registry is not None else {}
        top = sorted(audience.items(), key=lambda item: (-item[1][0], str(item[0])))
        top = top[:STATS_MAX_DOCS]
        return {
            "documents": len(audience),
            "sockets": sum(sockets for sockets, _ in audience.values()),
            "docs": {str(public_id): sockets for public_id, (sockets, _) in top},
            "people": {str(public_id): people for public_id, (_, people) in top},
            "serving": bool(self.ownership and self.ownership.serving),
            "metrics": self._summary.take(),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _schedule_stats(self, delay: float | None = None) -> None:
        if self.loop is None or self.membership is None or self._draining:
            return
        if self._stats_timer is not None:
            self._stats_timer.cancel()
        seconds = settings.COLLABDOCS["WORKER_STATS_SECONDS"] if delay is None else delay
        self._stats_timer = self.loop.call_later(seconds, self._publish_stats)

    def _publish_stats(self) -> None:
        self._stats_timer = None
        if self.membership is not None:
            self.membership.publish(self.stats())
        self._schedule_stats()

    # -- shutting down -----------------------------------------------------------

    async def drain(self) -> None:
        """Leave the ring, hand every open document over, then let go of ZooKeeper.

        Deregistering first makes the other workers take the documents
        over; each waits for its lock, which is let go here once the
        document's pending ops are stored and its sockets closed (4503).
        """
        self._draining = True
        if self._stats_timer is not None:
            self._stats_timer.cancel()
        if self._requests is not None:
            self._requests.cancel()
        assert self.loop is not None
        if self.membership is not None:
            await self.loop.run_in_executor(None, self.membership.deregister)
        self._update_serving()  # cluster: the ring listener evicts everything
        registry = self.registry
        if registry is not None:
            for public_id in registry.open_documents():
                self._evict(public_id, SHUTDOWN_MESSAGE)
        pending = [task for task in self._evicting.values() if not task.done()]
        if pending:
            await asyncio.wait(pending)
        if registry is not None:
            await registry.close()
        await self.loop.run_in_executor(None, self._close_zookeeper)

    def close_now(self) -> None:
        """Let go of ZooKeeper at once (start-up failed, or draining took too long).

        Closing the session deletes this worker's znode and lock nodes, so the
        other workers take over without waiting for it to expire.
        """
        self._close_zookeeper(wait=False)

    def _close_zookeeper(self, *, wait: bool = True) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.membership is not None:
            self.membership.stop()
        if self.locks is not None:
            self.locks.close(wait=wait)
        if self.client is not None:
            zk.stop_client(self.client)
            self.client = None
