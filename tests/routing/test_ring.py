"""The hash ring: stable owners, balance, and minimal movement."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest

from routing.ring import EmptyRingError, HashRing, stable_hash

KEYS = [str(uuid.UUID(int=random.Random(7).getrandbits(128) + i)) for i in range(20_000)]


def workers(n: int) -> list[str]:
    return [f"worker-{i}" for i in range(1, n + 1)]


def test_stable_hash_is_fixed_across_processes() -> None:
    # A literal value: a change of hash function would silently remap every
    # document while old and new workers disagree.
    assert stable_hash("doc") == 0xF824BD8D9CB2A038
    assert 0 <= stable_hash("x") < 2**64


def test_empty_ring_has_no_owner() -> None:
    with pytest.raises(EmptyRingError):
        HashRing().owner("anything")


def test_owner_does_not_depend_on_member_order() -> None:
    a = HashRing(["w1", "w2", "w3"])
    b = HashRing(["w3", "w1", "w2"])
    assert all(a.owner(k) == b.owner(k) for k in KEYS[:2000])


@pytest.mark.parametrize("n", range(1, 11))
def test_balance(n: int) -> None:
    ring = HashRing(workers(n))
    counts = Counter(ring.owner(k) for k in KEYS)
    assert set(counts) == set(workers(n))
    fair = len(KEYS) / n
    # 160 virtual nodes keep every worker within +-35 % of its fair share.
    assert max(counts.values()) <= fair * 1.35, counts
    assert min(counts.values()) >= fair * 0.65, counts


@pytest.mark.parametrize("n", range(1, 10))
def test_adding_a_worker_moves_about_one_in_n_plus_one(n: int) -> None:
    before = HashRing(workers(n))
    after = before.with_member(f"worker-{n + 1}")
    moved = [k for k in KEYS if before.owner(k) != after.owner(k)]
    # Every moved key moves to the newcomer, never between old workers.
    assert all(after.owner(k) == f"worker-{n + 1}" for k in moved)
    share = len(moved) / len(KEYS)
    assert share == pytest.approx(1 / (n + 1), abs=0.35 / (n + 1))


@pytest.mark.parametrize("n", range(2, 11))
def test_removing_a_worker_moves_only_its_keys(n: int) -> None:
    before = HashRing(workers(n))
    gone = "worker-2"
    after = before.without_member(gone)
    for k in KEYS:
        if before.owner(k) != gone:
            assert after.owner(k) == before.owner(k)
        else:
            assert after.owner(k) != gone


def test_weight_gives_proportionally_more_keys() -> None:
    ring = HashRing({"big": 2, "small": 1})
    counts = Counter(ring.owner(k) for k in KEYS)
    assert counts["big"] / counts["small"] == pytest.approx(2, rel=0.3)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        HashRing(["a"], vnodes=0)
    with pytest.raises(ValueError):
        HashRing({"a": 0})
