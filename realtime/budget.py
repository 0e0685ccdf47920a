"""The CPU budget of sockets and users: one editor cannot take a worker.

Every client frame is timed (``time.thread_time``, the worker thread's
CPU time, around decoding, checking, transforming, applying and
serialising it) and the time is
charged to two buckets of CPU seconds: the socket's and its user's on this
worker (the sum of that user's sockets, since one person may open many).

A bucket refills at ``rate`` seconds per second up to ``burst`` and may go
into debt: a frame is handled only while both buckets are at zero or above,
and its measured cost is taken afterwards (the cost is only known then). So
a socket or user spends at most ``burst + rate * t`` plus one frame's cost
in any ``t`` seconds, and a frame's cost is itself bounded by the frame
limits (bytes, ops per change, runs touched). While in debt, frames are
refused with ``rate_limited`` before they are even decoded; ``retry_after``
is the time until the debt is paid.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable

__all__ = ["CpuBudget", "UserBudgets", "freeze_startup_heap", "sniff_op_id"]

Clock = Callable[[], float]


class CpuBudget:
    """A token bucket of CPU seconds that a frame may overdraw once."""

    __slots__ = ("rate", "burst", "_balance", "_stamp", "_clock")

    def __init__(self, rate: float, burst: float, *, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = float(rate)
        self.burst = float(burst)
        self._balance = self.burst
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._balance = min(self.burst, self._balance + (now - self._stamp) * self.rate)
        self._stamp = now
        return self._balance

    def wait(self) -> float:
        """Return 0 if a frame may be handled now, else the seconds until it may."""
        balance = self._refill()
        return 0.0 if balance >= 0.0 else -balance / self.rate

    def charge(self, seconds: float) -> None:
        """Take ``seconds`` of CPU from the bucket (it may go into debt)."""
        self._refill()
        self._balance -= max(0.0, seconds)

    @property
    def balance(self) -> float:
        """Return the seconds left (negative: in debt)."""
        return self._refill()


class UserBudgets:
    """The shared :class:`CpuBudget` of each user with sockets open here.

    One per worker: the registry holds it (``Registry.budgets``).
    """

    def __init__(self) -> None:
        self._budgets: dict[int, CpuBudget] = {}
        self._refs: dict[int, int] = {}

    def acquire(self, user_id: int, *, rate: float, burst: float) -> CpuBudget:
        """Return ``user_id``'s budget, created on its first socket."""
        budget = self._budgets.get(user_id)
        if budget is None:
            budget = self._budgets[user_id] = CpuBudget(rate, burst)
        self._refs[user_id] = self._refs.get(user_id, 0) + 1
        return budget

    def release(self, user_id: int) -> None:
        """Forget ``user_id``'s budget once its last socket is gone.

        A user who closes every socket to shed a debt gets a fresh bucket,
        but opening sockets is bounded (SOCKETS_PER_USER) and each new one
        costs a permission check, so that buys nothing worth having.
        """
        refs = self._refs.get(user_id, 0) - 1
        if refs > 0:
            self._refs[user_id] = refs
            return
        self._refs.pop(user_id, None)
        self._budgets.pop(user_id, None)

    def users(self) -> int:
        """Return how many users hold a budget."""
        return len(self._budgets)


# An op frame's id, found without decoding the frame: inside a JSON string
# every quote is escaped, so an unescaped ``"id":"`` is a key. Only the
# head is searched (clients put ``id`` first); an id not found there just
# leaves the refusal without one.
_ID_RE = re.compile(r'"id"\s*:\s*"([A-Za-z0-9_-]{16,64}:[1-9][0-9]{0,29})"')
_SNIFF_CHARS = 256


def sniff_op_id(text: str) -> str | None:
    """Return the op id near the start of a frame, or None."""
    match = _ID_RE.search(text, 0, _SNIFF_CHARS)
    return match.group(1) if match else None


_heap_frozen = False


def freeze_startup_heap() -> None:
    """Take the objects alive after startup out of the collector's passes (once).

    A full (generation 2) collection walks every tracked object: after
    startup, Django's ~90,000, which took 30-100 ms here. The allocations
    of large frames trigger one every few dozen frames, and it holds the
    loop for every document. ``gc.freeze`` moves what exists now (the
    application, settings, modules: alive for the process's life) to a
    generation that is never walked; later objects are collected as usual.
    Called on the first socket, when the application is fully loaded.
    """
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()
    gc.freeze()
