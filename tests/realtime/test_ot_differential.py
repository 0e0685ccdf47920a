"""realtime.ot against the real npm quill-delta, through node.

``test_python_matches_quill_delta`` runs the seeded differential suite
(``tests/realtime/ot_differential.py``): at least 20,000 random cases, about
fifteen tasks each (compose, transform both ways with both priorities,
transform_position, invert, diff, DocumentText.apply), compared byte for byte
with quill-delta's answers. Set ``OT_SEED`` to replay a seed and
``OT_CASES`` to change the number of cases.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import Any

import pytest

from realtime.ot import Delta

from . import ot_differential
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

CASES = int(os.environ.get("OT_CASES", "20000"))


def test_node_and_quill_delta_are_installed() -> None:
    assert ot_differential.node_available(), (
        "node and node_modules/quill-delta are needed: run `npm ci` at the repo root"
    )


def test_oracle_answers_like_quill_delta() -> None:
    deltas = {"doc": [{"insert": "a😀\n"}], "a": [{"retain": 3}, {"insert": "x"}]}
    tasks = [
        ["compose", "doc", "a"],
        ["tpos", "a", 3, False],
        ["tpos", "a", 3, True],
        ["diff", "a", "doc"],
    ]
    [answers] = ot_differential.node_answers([{"id": 0, "deltas": deltas, "tasks": tasks}])
    assert answers == [[{"insert": "a😀x\n"}], 4, 3, {"error": "diff() called with non-document"}]
    for task, answer in zip(tasks, answers, strict=True):
        assert ot_differential.canonical(
            ot_differential.python_answer(task, deltas)
        ) == ot_differential.canonical(answer)


def test_canonical_json_ignores_key_order_and_integral_floats() -> None:
    canonical = ot_differential.canonical
    assert canonical({"b": 1, "a": [2.0]}) == canonical({"a": [2], "b": 1.0})
    assert canonical("😀") == canonical("\ud83d\ude00")


def test_shrinker_reduces_a_mismatch_to_a_minimal_case(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ot_differential.python_answer

    def buggy(task: list, deltas: dict) -> Any:
        """Pretend Python drops the attributes of composed ops."""
        answer = real(task, deltas)
        if task[0] == "compose" and isinstance(answer, list):
            return [{k: v for k, v in op.items() if k != "attributes"} for op in answer]
        return answer

    monkeypatch.setattr(ot_differential, "python_answer", buggy)
    deltas = {
        "x": Delta().insert("hello ").insert("world", {"bold": True}).retain(3).delete(2).ops,
        "y": Delta().retain(4).insert("abc", {"italic": True}).delete(3).retain(2).ops,
    }
    result = ot_differential.shrink(["compose", "x", "y"], deltas)
    sizes = sorted(len(ops) for ops in result["deltas"].values())
    assert sizes[0] == 0 and sizes[1] == 1, result
    assert result["python"] != result["quill"]


def test_python_matches_quill_delta() -> None:
    seed = int(os.environ.get("OT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed={seed}")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.realtime.ot_differential",
            "--cases",
            str(CASES),
            "--seed",
            str(seed),
            "--jobs",
            "2",
            "--batch",
            str(max(1, CASES // 4)),
        ],
        cwd=ot_differential.REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(proc.stdout)
    assert proc.returncode == 0, (
        f"seed={seed}: differential suite failed\n{proc.stdout}\n{proc.stderr[-3000:]}"
    )
    assert f"seed={seed}: " in proc.stdout and " 0 mismatches" in proc.stdout


def test_fastdiff_port_matches_fast_diff_on_raw_strings() -> None:
    seed = int(os.environ.get("OT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed={seed}")
    cases = ot_differential.fastdiff_cases(seed, 20_000)
    node = ot_differential._NodeRun(cases)
    mine = [ot_differential.python_answer(case["tasks"][0], case["deltas"]) for case in cases]
    answers = node.answers()
    assert len(answers) == len(cases)
    bad = []
    for case, got, [expected] in zip(cases, mine, answers, strict=True):
        if ot_differential.canonical(got) != ot_differential.canonical(expected):
            bad.append({"strings": case["deltas"], "python": got, "fast-diff": expected})
    assert not bad, f"seed={seed}: {len(bad)} mismatches, first: {bad[:3]!r}"
