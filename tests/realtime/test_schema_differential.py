"""No accepted change makes node's quill-delta and the server disagree.

Random changes that ``parse_change`` accepts, over every format name of the
schema with edge values (counts up to 2^52 and changes adding up to just
under 2^52, so two together stay under 2^53; 2,000-character links,
astral text, data: images, nulls on retains), are composed, transformed
both ways with both priorities, inverted against documents, and positions
moved through them, in Python and in node with the real quill-delta
(``quill_oracle.js``); every answer must be the same JSON. Seeded: the
seed is printed and ``OT_SEED`` replays it.

The general differential suite (``test_ot_differential.py``) runs the same
comparison on documents and document-bound changes, which its generators
now draw from the schema too.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from realtime.ot import Delta, parse_change

from . import ot_differential, ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

CASES = int(os.environ.get("SCHEMA_DIFF_CASES", "4000"))
HALF = 2**52 - 10_000


def edge_case(rng: random.Random, index: int) -> dict[str, Any]:
    """Return one case of accepted changes with edge values, and its tasks."""
    # Each change's counts add up to under 2^52, so any two together stay
    # under 2^53: the server only ever combines changes with documents and
    # with each other within a document's length (far below either bound).
    a = ot_gen.schema_change(rng, budget=HALF)
    b = ot_gen.schema_change(rng, budget=HALF)
    c = ot_gen.schema_change(rng, max_ops=4, budget=HALF)
    for change in (a, b, c):
        assert parse_change(change.ops) == change
    doc = ot_gen.document(rng)
    # A document-bound change with attributes on every name, to invert.
    local = ot_gen.valid_change(rng, doc)
    local = Delta(ot_gen.schema_change(rng, max_ops=3, budget=0).ops) if not local.ops else local
    reach = max(1, min(a.length(), HALF))
    deltas = {"a": a.ops, "b": b.ops, "c": c.ops, "doc": doc.ops, "local": local.ops}
    tasks: list[list[Any]] = [
        ["compose", "a", "b"],
        ["compose", "b", "a"],
        ["compose", "a", "c"],
        ["transform", "a", "b", True],
        ["transform", "a", "b", False],
        ["transform", "b", "a", True],
        ["transform", "c", "a", False],
        ["tpos", "a", rng.randint(0, reach), rng.random() < 0.5],
        ["tpos", "b", rng.choice([0, 1, 2**31, 2**52]), True],
        ["length", "a"],
        ["invert", "local", "doc"],
        ["compose", "doc", "local"],
    ]
    return {"id": index, "deltas": deltas, "tasks": tasks}


def test_quill_delta_agrees_on_every_accepted_edge_change() -> None:
    if not ot_differential.node_available():
        pytest.fail("node and node_modules/quill-delta are needed: run `npm ci`")
    seed = int(os.environ.get("OT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed={seed} cases={CASES}")
    rng = random.Random(seed)
    cases = [edge_case(rng, index) for index in range(CASES)]
    node = ot_differential._NodeRun(cases)
    mine = []
    for case in cases:
        cache: dict[str, Delta] = {}
        answer = ot_differential.python_answer
        mine.append(
            [
                ot_differential.canonical(answer(task, case["deltas"], cache))
                for task in case["tasks"]
            ]
        )
    answers = node.answers()
    assert len(answers) == len(cases)
    checked = 0
    bad = []
    for case, got_all, quill in zip(cases, mine, answers, strict=True):
        for task, got, expected in zip(case["tasks"], got_all, quill, strict=True):
            checked += 1
            if got != ot_differential.canonical(expected):
                bad.append(
                    {
                        "case": case["id"],
                        "task": task,
                        "python": got,
                        "quill": ot_differential.canonical(expected),
                    }
                )
    print(f"seed={seed}: {checked} tasks, {len(bad)} mismatches")
    assert not bad, f"seed={seed}: {len(bad)} mismatches, first: {bad[:2]!r}"
    assert checked == CASES * 12


def test_counts_beyond_the_bound_would_disagree() -> None:
    """Show why 2^53 bounds counts: past it node's arithmetic rounds."""
    big = 2**53 - 1
    deltas = {"a": [{"delete": big}], "b": [{"delete": 2}]}
    task = ["compose", "a", "b"]  # deletes 2^53 + 1: not a double
    [[quill]] = ot_differential.node_answers([{"id": 0, "deltas": deltas, "tasks": [task]}])
    python = ot_differential.python_answer(task, deltas)
    assert python == [{"delete": 2**53 + 1}]
    assert ot_differential.canonical(python) != ot_differential.canonical(quill)
