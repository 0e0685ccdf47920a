"""Authorship runs against a per-character model (realtime.ot.authorship).

The model keeps one author per UTF-16 unit of the content and applies a
change the obvious way; the runs must always expand to it, stay merged and
cover exactly the content. Cases are seeded (hypothesis prints the seed of
a failing ``random.Random``; the plain loops print theirs).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.ot import Delta, authorship
from realtime.ot.authorship import (
    Runs,
    Tracker,
    apply,
    from_json,
    initial,
    inserted_runs,
    length,
    shares,
    slice_runs,
    to_json,
)
from realtime.ot.delta import op_length

from . import ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
rngs = st.randoms(use_true_random=False)
AUTHORS = [None, 1, 2, 3]


def expand(runs: Runs) -> list[int | None]:
    """Return one author per character."""
    return [author for count, author in runs for _ in range(count)]


def model_apply(
    chars: list[int | None], delta: Delta, author: int | None, attribution: Runs | None = None
) -> list[int | None]:
    """Apply ``delta`` to the per-character model."""
    out: list[int | None] = []
    pos = 0
    named = expand(attribution) if attribution is not None else None
    taken = 0
    for op in delta.ops:
        n = op_length(op)
        if "insert" in op:
            if named is None:
                out.extend([author] * n)
            else:
                out.extend(named[taken : taken + n])
                taken += n
        elif "retain" in op:
            out.extend(chars[pos : pos + n])
            pos += n
        else:
            pos += n
    out.extend(chars[pos:])
    return out


def assert_well_formed(runs: Runs, size: int) -> None:
    assert length(runs) == size
    assert all(count >= 1 for count, _ in runs), runs
    assert all(a[1] != b[1] for a, b in zip(runs, runs[1:], strict=False)), runs


def random_runs(rng: random.Random, size: int) -> Runs:
    """Return merged runs of ``size`` characters with random authors."""
    out: Runs = []
    left = size
    while left:
        count = rng.randint(1, min(left, 5))
        author = rng.choice(AUTHORS)
        if out and out[-1][1] == author:
            out[-1] = (out[-1][0] + count, author)
        else:
            out.append((count, author))
        left -= count
    return out


@SETTINGS
@given(rngs)
def test_a_sequence_of_changes_matches_the_per_character_model(rng: random.Random) -> None:
    doc = ot_gen.document(rng)
    runs = random_runs(rng, doc.length())
    chars = expand(runs)
    for _ in range(6):
        change = ot_gen.valid_change(rng, doc)
        author = rng.choice(AUTHORS)
        runs = apply(runs, change.ops, author)
        chars = model_apply(chars, change, author)
        doc = doc.compose(change)
        assert expand(runs) == chars
        assert_well_formed(runs, doc.length())


@SETTINGS
@given(rngs)
def test_an_attribution_names_who_wrote_the_inserts(rng: random.Random) -> None:
    doc = ot_gen.document(rng)
    runs = random_runs(rng, doc.length())
    change = ot_gen.valid_change(rng, doc)
    inserted = sum(op_length(op) for op in change.ops if "insert" in op)
    attribution = random_runs(rng, inserted)
    after = apply(runs, change.ops, 7, attribution)
    assert expand(after) == model_apply(expand(runs), change, 7, attribution)
    assert 7 not in expand(after) or 7 in expand(runs)


@SETTINGS
@given(rngs)
def test_inserted_runs_of_a_diff_restore_the_target_authors(rng: random.Random) -> None:
    """A restore's diff with inserted_runs reproduces the restored version's authors
    wherever the diff inserts, and keeps today's authors where it retains."""
    old = ot_gen.document(rng)
    new = ot_gen.document(rng)
    old_runs = random_runs(rng, old.length())
    new_runs = random_runs(rng, new.length())
    change = old.diff(new)
    attribution = inserted_runs(change.ops, new_runs)
    after = apply(old_runs, change.ops, 9, attribution)
    assert_well_formed(after, new.length())
    model = model_apply(expand(old_runs), change, 9, attribution)
    assert expand(after) == model
    pos = 0
    target = expand(new_runs)
    for op in change.ops:
        n = op_length(op)
        if "insert" in op:
            assert expand(after)[pos : pos + n] == target[pos : pos + n]
        if "delete" not in op:
            pos += n


@SETTINGS
@given(rngs)
def test_a_tracker_equals_apply_change_after_change(rng: random.Random) -> None:
    """Chunked runs (the authority's) give what apply gives, refusals included."""
    authorship.CHUNK_RUNS = rng.choice([1, 2, 3, 128])
    try:
        doc = ot_gen.document(rng)
        runs = random_runs(rng, doc.length())
        tracker = Tracker(runs)
        for _ in range(10):
            change = ot_gen.valid_change(rng, doc)
            author = rng.choice(AUTHORS)
            attribution = None
            if rng.random() < 0.3:
                size = sum(op_length(op) for op in change.ops if "insert" in op)
                attribution = random_runs(rng, size + (1 if rng.random() < 0.2 else 0))
            try:
                expected = apply(runs, change.ops, author, attribution)
            except ValueError:
                before = tracker.runs()
                with pytest.raises(ValueError):
                    tracker.apply(change.ops, author, attribution)
                assert tracker.runs() == before
                continue
            tracker.apply(change.ops, author, attribution)
            runs = expected
            doc = doc.compose(change)
            assert tracker.runs() == runs
            assert tracker.length == doc.length()
        with pytest.raises(ValueError):
            tracker.apply([{"retain": doc.length() + 1}], 1)
        assert tracker.runs() == runs
    finally:
        authorship.CHUNK_RUNS = 128


@pytest.mark.parametrize("chunk_runs", [4, 8, 128])
def test_a_tracker_takes_keystrokes_in_place_as_apply_would(chunk_runs: int) -> None:
    """Keystrokes (one insert, one delete, a format change) take the tracker's fast path.

    Inside runs and on run edges, by the run's author or another, deleting
    whole runs whose neighbours then merge, at chunk edges and at the end
    (where the fast path hands over): the runs are always apply's.
    """
    seed = random.randrange(1 << 30)
    print(f"keystroke seed {seed}")  # a failure names its seed
    rng = random.Random(seed)
    authorship.CHUNK_RUNS = chunk_runs
    try:
        length = rng.randint(1, 400)
        runs = random_runs(rng, length)
        tracker = Tracker(runs)
        for _ in range(2000):
            author = rng.choice(AUTHORS)
            at = rng.randint(0, length)
            kind = rng.random()
            if kind < 0.5 or length <= 1:
                text = rng.choice(["x", "xyz", "\U0001f600"])
                change: list[dict] = [{"insert": text}]
            elif kind < 0.9:
                at = min(at, length - 1)
                change = [{"delete": rng.randint(1, min(3, length - at))}]
            else:
                change = [{"retain": rng.randint(1, length), "attributes": {"bold": True}}]
                at = 0
            if at and "retain" not in change[0]:
                change.insert(0, {"retain": at})
            runs = apply(runs, change, author)
            tracker.apply(change, author)
            assert tracker.runs() == runs, change
            length = authorship.length(runs)
            assert tracker.length == length
        with pytest.raises(ValueError):
            tracker.apply([{"retain": length}, {"delete": 1}], 1)
        with pytest.raises(ValueError):
            tracker.apply([{"retain": length + 1}, {"insert": "x"}], 1)
        assert tracker.runs() == runs
    finally:
        authorship.CHUNK_RUNS = 128


def test_format_changes_keep_authors_and_deletes_drop_them() -> None:
    runs: Runs = [(3, 1), (3, 2), (1, None)]
    assert apply(runs, [{"retain": 5, "attributes": {"bold": True}}], 3) == runs
    assert apply(runs, [{"retain": 2}, {"delete": 2}], 3) == [(2, 1), (2, 2), (1, None)]
    assert apply(runs, [{"retain": 3}, {"delete": 3}], 3) == [(3, 1), (1, None)]
    assert apply(runs, [{"retain": 1}, {"insert": "ab"}], 1) == [(5, 1), (3, 2), (1, None)]
    assert apply(runs, [{"insert": {"image": "/media/i/x.png"}}], 4) == [(1, 4), *runs]
    assert apply(runs, [{"insert": "😀"}], 4) == [(2, 4), *runs]


def test_changes_that_do_not_fit_are_refused() -> None:
    runs: Runs = [(2, 1)]
    with pytest.raises(ValueError, match="past the end"):
        apply(runs, [{"retain": 3}], 1)
    with pytest.raises(ValueError, match="past the end"):
        apply(runs, [{"retain": 1}, {"delete": 2}], 1)
    with pytest.raises(ValueError, match="attribution"):
        apply(runs, [{"insert": "abc"}], 1, [(2, 5)])
    with pytest.raises(ValueError, match="attribution covers more"):
        apply(runs, [{"insert": "a"}], 1, [(2, 5)])
    with pytest.raises(ValueError):
        apply(runs, [{"retain": 0}], 1)


def test_helpers() -> None:
    runs: Runs = [(3, 1), (2, None), (4, 2)]
    assert initial(0) == []
    assert initial(4, 5) == [(4, 5)]
    assert length(runs) == 9
    assert shares(runs + [(1, 1)]) == {1: 4, None: 2, 2: 4}
    assert slice_runs(runs, 2, 7) == [(1, 1), (2, None), (2, 2)]
    assert slice_runs(runs, 0, 100) == runs
    assert slice_runs(runs, 5, 5) == []
    assert to_json(runs) == [[3, 1], [2, None], [4, 2]]
    assert from_json(to_json(runs)) == runs
    assert from_json([[1, 1], [2, 1]]) == [(3, 1)]


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {},
        "[[1, 1]]",
        [[0, 1]],
        [[-1, 1]],
        [[1.5, 1]],
        [[True, 1]],
        [[1, "x"]],
        [[1, True]],
        [[1, -2]],
        [[1]],
        [[1, 2, 3]],
        [5],
    ],
)
def test_from_json_refuses_malformed_runs(bad: object) -> None:
    with pytest.raises(ValueError):
        from_json(bad)
