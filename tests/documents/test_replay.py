"""documents.replay: a snapshot plus its later ops, the one replay.

Pure: runs without a database. Covers the failure modes the module
docstring names: an op that does not fit, a snapshot that is not a
document.
"""

from __future__ import annotations

import os
import random

import pytest

from documents.replay import replay
from realtime.ot import Delta, InvalidDelta
from tests.realtime.ot_gen import document, valid_change


def test_snapshot_plus_ops_equals_their_composition() -> None:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    for round_ in range(200):
        snapshot = document(rng)
        composed = snapshot
        ops = []
        for _ in range(rng.randint(0, 12)):
            change = valid_change(rng, composed)
            composed = composed.compose(change)
            ops.append(change.ops if rng.random() < 0.5 else change)
        assert replay(snapshot.ops, ops).to_ops() == composed.ops, f"seed={seed} round={round_}"


def test_on_op_sees_each_op_in_order_with_the_length_after_it() -> None:
    seen: list[tuple[int, list[dict], int]] = []
    text = replay(
        [{"insert": "ab\n"}],
        [[{"insert": "😀"}], [{"retain": 2}, {"delete": 1}]],
        on_op=lambda i, delta, length: seen.append((i, delta.ops, length)),
    )
    assert seen == [
        (0, [{"insert": "😀"}], 5),  # The emoji counts two UTF-16 units.
        (1, [{"retain": 2}, {"delete": 1}], 4),
    ]
    assert text.to_ops() == [{"insert": "😀b\n"}]


def test_no_ops_give_the_snapshot_back() -> None:
    assert replay(Delta([{"insert": "x\n"}]), []).to_ops() == [{"insert": "x\n"}]


def test_an_op_that_reaches_past_the_content_is_refused() -> None:
    with pytest.raises(InvalidDelta):
        replay([{"insert": "ab\n"}], [[{"retain": 3}, {"insert": "x"}], [{"retain": 10}]])


def test_a_snapshot_that_is_not_a_document_is_refused() -> None:
    with pytest.raises(InvalidDelta):
        replay([{"insert": "no newline"}], [])
