"""A token bucket: how many ops per second one socket may send."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allow ``rate`` events per second with bursts of up to ``burst``.

    The bucket starts full. :meth:`take` spends one token or, when none is
    left, spends nothing and returns how long to wait for the next one.
    """

    __slots__ = ("rate", "burst", "_tokens", "_stamp", "_clock")

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1))
        self._tokens = self.burst
        self._clock = clock
        self._stamp = clock()

    def take(self) -> float:
        """Spend a token and return 0, or return the seconds until one is due."""
        now = self._clock()
        tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self.rate
