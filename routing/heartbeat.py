"""Renew the acceptance lease with cheap ZooKeeper round trips.

:Maintainer: the routing app
:Status: used by ``runworker`` in cluster mode

kazoo pings only when the connection is idle, every third of the session
timeout, and does not tell when a ping was answered. The lease needs a
fresher and explicit proof that the session is alive, so a
:class:`Heartbeat` sends ``exists(<this worker's znode>)`` every
``interval`` seconds from the event loop and, when the answer comes (on a
kazoo thread), renews the lease with the time the request was *sent*: the
server heard from this session at or after that moment. A request that
fails (connection loss, an expired session) renews nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kazoo.client import KazooClient

from routing.lease import Lease

logger = logging.getLogger(__name__)

#: Longest time between two heartbeats, seconds.
MAX_INTERVAL = 0.5


def heartbeat_interval(session_timeout: float) -> float:
    """Return how often to prove the session alive: an eighth of it, at most 0.5 s."""
    return min(MAX_INTERVAL, session_timeout / 8)


class Heartbeat:
    """Periodic ``exists`` calls that renew a :class:`~routing.lease.Lease`."""

    def __init__(
        self,
        client: KazooClient,
        lease: Lease,
        *,
        path: str,
        interval: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.client = client
        self.lease = lease
        self.path = path
        self.interval = interval
        self.loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False

    def start(self) -> None:
        """Beat now and every ``interval`` (call on the loop)."""
        self._stopped = False
        self._beat()

    def stop(self) -> None:
        """Stop beating (any thread; the lease keeps its last renewal).

        The pending timer fires once more and does nothing.
        """
        self._stopped = True

    def _beat(self) -> None:
        self._timer = None
        if self._stopped:
            return
        sent_at = self.lease.now()
        session = self.client.client_id
        try:
            if self.client.connected:
                self.client.exists_async(self.path).rawlink(
                    lambda result: self._answered(sent_at, session, result)
                )
        except Exception as exc:  # noqa: BLE001 - a closed client: the next beat tries
            logger.debug("heartbeat: %s", exc)
        self._timer = self.loop.call_later(self.interval, self._beat)

    def _answered(self, sent_at: float, session: Any, result: Any) -> None:  # kazoo thread
        # Any answer (the znode's stat or None) proves the session alive; an
        # error (ConnectionLoss, SessionExpired) proves nothing, and neither
        # does an answer on a newer session than the one the request was
        # sent on (kazoo resends queued requests after reconnecting).
        if (
            result.successful()
            and not self._stopped
            and session is not None
            and self.client.client_id == session
        ):
            self.lease.renew(sent_at)
