"""Socket slots: how many sockets each user holds open on this worker.

``SOCKETS_PER_USER`` is a per-worker limit, like the authorities
themselves: the registry holds one :class:`SocketSlots` (``Registry.sockets``)
and the consumer takes a slot after the permission check and gives it back
on every way out (disconnect, exception, cancellation).
"""

from __future__ import annotations

import weakref


class SocketSlots:
    """The sockets each user holds open on this worker, as live holders.

    A slot is the holder object itself (the consumer), kept in a weak set:
    the count is the number of holders that took a slot and have not
    released it, and a holder that is garbage collected without releasing
    (a path nobody thought of) gives its slot back. The consumer releases
    explicitly on every exit (disconnect, exception, cancellation), so the
    weak reference is a safety net, not the mechanism.
    """

    def __init__(self) -> None:
        self._held: dict[int, weakref.WeakSet[object]] = {}

    def take(self, user_id: int, holder: object, limit: int) -> bool:
        """Give ``holder`` a slot of ``user_id`` unless ``limit`` are held."""
        held = self._held.setdefault(user_id, weakref.WeakSet())
        if holder in held:
            return True
        if len(held) >= limit:
            return False
        held.add(holder)
        return True

    def release(self, user_id: int, holder: object) -> None:
        """Give back ``holder``'s slot; safe to call twice."""
        held = self._held.get(user_id)
        if held is None:
            return
        held.discard(holder)
        if not held:
            del self._held[user_id]

    def count(self, user_id: int) -> int:
        """Return how many slots ``user_id`` holds."""
        held = self._held.get(user_id)
        return len(held) if held is not None else 0

    def total(self) -> int:
        """Return how many slots are held altogether."""
        return sum(len(held) for held in self._held.values())
