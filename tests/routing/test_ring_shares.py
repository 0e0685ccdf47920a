"""HashRing.shares: each member's part of the key space (the admin page shows it)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from routing.ring import HashRing


def test_no_members_no_shares() -> None:
    assert HashRing().shares() == {}


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shares_add_up_and_match_where_keys_land(n: int) -> None:
    ring = HashRing([f"w{i}" for i in range(n)])
    shares = ring.shares()
    assert set(shares) == set(ring.members)
    assert sum(shares.values()) == pytest.approx(1.0)
    keys = [str(uuid.UUID(int=i * 2654435761 + 1)) for i in range(20_000)]
    counts = Counter(ring.owner(key) for key in keys)
    for member, share in shares.items():
        assert counts[member] / len(keys) == pytest.approx(share, abs=0.02)
