"""The acceptance lease: how long this worker may still accept ops.

:Maintainer: the routing app
:Status: used by ``runworker`` in cluster mode: the worker hands
    :meth:`Lease.valid` to its registry as the authorities' ``accepting``

ZooKeeper expires a session once it has heard nothing from its client for
the session timeout. So if a request this worker sent at monotonic time
``t`` was answered, the session cannot expire before ``t + timeout`` (the
server heard from it at or after ``t``), and no other worker can own this
worker's documents before then: their locks are this session's ephemeral
nodes. The lease runs out at ``t + timeout - margin`` of the newest such
``t``, measured on this process's own monotonic clock, which keeps running
while the process is frozen (SIGSTOP, a long GC, a paused VM). Past it the
authority refuses ops with ``unavailable`` until a heartbeat succeeds again
(the session was alive after all) or the worker is fenced.

The margin covers the two clocks running at slightly different rates and
the moment between the check and the commit. Pure: no kazoo, no Django.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Smallest safety margin, seconds.
MIN_MARGIN = 0.5
#: Share of the session timeout kept as the safety margin.
MARGIN_SHARE = 0.25


def lease_seconds(session_timeout: float) -> float:
    """Return the lease for ``session_timeout``: shorter by the safety margin."""
    if session_timeout <= 0:
        raise ValueError("the session timeout must be positive")
    margin = max(MIN_MARGIN, session_timeout * MARGIN_SHARE)
    return max(0.0, session_timeout - margin)


class Lease:
    """Acceptance bounded by the last confirmed-alive moment of the session.

    Thread-safe: heartbeats are confirmed on kazoo's threads, checked on the
    event loop.
    """

    def __init__(self, duration: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if duration < 0:
            raise ValueError("the lease cannot be negative")
        self.duration = duration
        self._clock = clock
        self._lock = threading.Lock()
        #: Monotonic send time of the newest answered request; None: never.
        self._alive_at: float | None = None

    def renew(self, sent_at: float) -> None:
        """Take a request sent at ``sent_at`` that the session answered.

        Answers may come out of order: only a newer send time extends it.
        """
        with self._lock:
            if self._alive_at is None or sent_at > self._alive_at:
                self._alive_at = sent_at

    def expire(self) -> None:
        """End the lease now (the session is known to be lost)."""
        with self._lock:
            self._alive_at = None

    def now(self) -> float:
        """Return the lease's clock reading."""
        return self._clock()

    def remaining(self) -> float:
        """Return the seconds the lease still runs (0 when it ran out)."""
        with self._lock:
            alive_at = self._alive_at
        if alive_at is None:
            return 0.0
        return max(0.0, alive_at + self.duration - self._clock())

    def valid(self) -> bool:
        """Return whether ops may be accepted right now."""
        return self.remaining() > 0
