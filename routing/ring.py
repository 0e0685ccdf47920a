"""A consistent-hash ring: which worker owns a document.

Pure: no Django, no ZooKeeper, no I/O. ``routing.membership`` feeds it the
live workers; everything else asks ``owner(doc_id)``.

Each member is placed on a 64-bit circle at ``vnodes`` points (its virtual
nodes); a key belongs to the first point clockwise from the key's hash. With
N members, adding or removing one moves about 1/N of the keys, and only
between that member and the others: keys never move between two members
that both stay.

The hash is the first 8 bytes of BLAKE2b, stable across processes, Python
versions and machines (unlike ``hash()``), so every worker computes the same
owner from the same member set.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Mapping

DEFAULT_VNODES = 160


def stable_hash(key: str) -> int:
    """Return a 64-bit hash of ``key`` that is the same on every machine."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


class EmptyRingError(LookupError):
    """The ring has no members, so nothing owns anything."""


class HashRing:
    """An immutable ring over a set of member ids.

    ``members`` maps each member id to an optional weight (default 1): a
    member with weight 2 gets twice the virtual nodes and so about twice the
    keys.
    """

    __slots__ = ("_members", "_points", "_owners", "vnodes")

    def __init__(
        self, members: Iterable[str] | Mapping[str, int] = (), *, vnodes: int = DEFAULT_VNODES
    ) -> None:
        if vnodes < 1:
            raise ValueError("vnodes must be at least 1")
        weights = dict(members) if isinstance(members, Mapping) else dict.fromkeys(members, 1)
        self.vnodes = vnodes
        self._members: dict[str, int] = weights
        points: list[tuple[int, str]] = []
        for member, weight in weights.items():
            if weight < 1:
                raise ValueError(f"weight of {member!r} must be at least 1")
            for replica in range(vnodes * weight):
                points.append((stable_hash(f"{member}#{replica}"), member))
        # Ties between two members' points (astronomically rare with 64 bits)
        # are broken by member id so every process agrees.
        points.sort()
        self._points = [point for point, _ in points]
        self._owners = [member for _, member in points]

    @property
    def members(self) -> frozenset[str]:
        """Return the member ids on the ring."""
        return frozenset(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def owner(self, key: str) -> str:
        """Return the member that owns ``key``.

        :raises EmptyRingError: the ring has no members.
        """
        if not self._points:
            raise EmptyRingError("no workers on the ring")
        i = bisect.bisect_right(self._points, stable_hash(key))
        return self._owners[i % len(self._owners)]

    def with_member(self, member: str, weight: int = 1) -> HashRing:
        """Return a new ring that also has ``member``."""
        return HashRing({**self._members, member: weight}, vnodes=self.vnodes)

    def without_member(self, member: str) -> HashRing:
        """Return a new ring without ``member``."""
        return HashRing({m: w for m, w in self._members.items() if m != member}, vnodes=self.vnodes)

    def shares(self) -> dict[str, float]:
        """Return each member's share of the key space, from 0 to 1.

        The arc from one point (included) to the next (excluded) belongs to
        the next point's member; the arc across zero to the first point's.
        """
        if not self._points:
            return {}
        shares = dict.fromkeys(self._members, 0)
        previous = self._points[-1] - 2**64
        for point, member in zip(self._points, self._owners, strict=True):
            shares[member] += point - previous
            previous = point
        return {member: arc / 2**64 for member, arc in shares.items()}
