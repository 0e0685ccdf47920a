"""Differential testing of realtime.ot against the real npm quill-delta.

Each case is a set of named deltas and a list of tasks (compose, transform
with both priorities, transform_position, invert, diff, and applying a change
to a :class:`DocumentText`). Python answers every task; node answers the same
tasks with quill-delta through ``quill_oracle.js``, one process per batch.
Answers are compared byte for byte after JSON normalisation (sorted keys,
ASCII escapes, integral floats as integers). A mismatch is shrunk greedily
(drop ops, shorten strings and counts, drop attributes) and reported as a
minimal JSON reproduction.

Run a million cases on demand::

    .venv/bin/python -m tests.realtime.ot_differential --cases 1000000 [--seed N]

Case ``i`` of seed ``s`` depends only on ``(s, i)``, so ``--seed s --first i
--cases 1`` reproduces it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime.ot import Delta, DocumentText, InvalidDelta, fastdiff
from realtime.ot.utf16 import from_units, to_units

from . import ot_gen

ORACLE = Path(__file__).with_name("quill_oracle.js")
REPO = Path(__file__).resolve().parents[2]

Case = dict[str, Any]
Task = list[Any]


def node_available() -> bool:
    """Return whether node and the installed quill-delta can be used."""
    return (
        shutil.which("node") is not None
        and (REPO / "node_modules" / "quill-delta" / "package.json").exists()
    )


# Cases ----------------------------------------------------------------------


def make_case(seed: int, index: int) -> Case:
    """Return case ``index`` of ``seed``: named deltas and the tasks on them."""
    rng = random.Random(f"{seed}:{index}")
    roll = rng.random()
    if roll < 0.2:
        return _general_case(rng, index)
    if roll < 0.3:
        return _prose_case(rng, index)
    doc = ot_gen.document(rng)
    a = ot_gen.valid_change(rng, doc)
    b = ot_gen.valid_change(rng, doc)
    doc_a = doc.compose(a)
    c = ot_gen.valid_change(rng, doc_a)
    if rng.random() < 0.5:
        doc2 = ot_gen.document(rng)
    else:
        doc2 = doc.compose(ot_gen.valid_change(rng, doc))
    length = doc.length()
    positions = sorted({rng.randint(0, length), rng.randint(0, length)})
    deltas = {
        "doc": doc.ops,
        "a": a.ops,
        "b": b.ops,
        "c": c.ops,
        "docA": doc_a.ops,
        "doc2": doc2.ops,
    }
    tasks: list[Task] = [
        ["apply", "doc", "a"],
        ["apply", "docA", "c"],
        ["compose", "a", "c"],
        ["compose", "a", "b"],
        ["transform", "a", "b", True],
        ["transform", "a", "b", False],
        ["transform", "b", "a", True],
        ["transform", "b", "a", False],
        ["invert", "a", "doc"],
        ["invert", "c", "docA"],
        ["diff", "doc", "docA"],
        ["diff", "doc", "doc2"],
        ["length", "a"],
    ]
    for pos in positions:
        tasks.append(["tpos", "a", pos, False])
        tasks.append(["tpos", "a", pos, True])
    return {"id": index, "deltas": deltas, "tasks": tasks}


def _general_case(rng: random.Random, index: int) -> Case:
    """Return a case of arbitrary deltas, outside the document rules."""
    x = ot_gen.any_delta(rng)
    y = ot_gen.any_delta(rng)
    doc = ot_gen.document(rng)
    doc2 = doc.compose(ot_gen.any_delta(rng)) if rng.random() < 0.5 else ot_gen.document(rng)
    deltas = {"x": x.ops, "y": y.ops, "doc": doc.ops, "doc2": doc2.ops}
    tasks: list[Task] = [
        ["compose", "x", "y"],
        ["compose", "doc", "x"],
        ["transform", "x", "y", True],
        ["transform", "x", "y", False],
        ["invert", "x", "doc"],
        ["slice", "x", rng.randint(0, 4), rng.choice([None, rng.randint(0, 9)])],
        ["tpos", "x", rng.randint(0, 12), rng.random() < 0.5],
        ["length", "x"],
    ]
    if doc2.is_document():
        tasks.append(["diff", "doc", "doc2"])
    else:
        tasks.append(["diff", "doc", "x"])  # Refused by both: non-document.
    return {"id": index, "deltas": deltas, "tasks": tasks}


def _prose_case(rng: random.Random, index: int) -> Case:
    """Return a case of longer, repetitive documents, mostly for diff."""
    doc = ot_gen.prose(rng)
    doc2 = ot_gen.edit_prose(rng, doc) if rng.random() < 0.8 else ot_gen.prose(rng)
    a = ot_gen.valid_change(rng, doc)
    deltas = {"doc": doc.ops, "doc2": doc2.ops, "a": a.ops}
    tasks: list[Task] = [
        ["diff", "doc", "doc2"],
        ["diff", "doc2", "doc"],
        ["apply", "doc", "a"],
        ["invert", "a", "doc"],
    ]
    return {"id": index, "deltas": deltas, "tasks": tasks}


DIFF_ALPHABET = ["a", "b", "c", " ", "\n", "\r", ".", "ab", "😀", "👍", "\ud83d", "é", "X"]


def fastdiff_cases(seed: int, count: int) -> list[Case]:
    """Return cases diffing raw strings (lone surrogates included) with
    fast-diff itself, to reach the rare paths of the port."""
    rng = random.Random(f"fastdiff:{seed}")
    cases = []
    for index in range(count):
        s = "".join(rng.choice(DIFF_ALPHABET) for _ in range(rng.randint(0, 24)))
        if rng.random() < 0.6:
            chars = list(s)
            for _ in range(rng.randint(1, 4)):
                at = rng.randint(0, len(chars))
                if rng.random() < 0.5 and chars[at:]:
                    del chars[at : at + rng.randint(1, 3)]
                else:
                    chars[at:at] = rng.choice(DIFF_ALPHABET)
            t = "".join(chars)
        else:
            t = "".join(rng.choice(DIFF_ALPHABET) for _ in range(rng.randint(0, 24)))
        cases.append({"id": index, "deltas": {"s": s, "t": t}, "tasks": [["fastdiff", "s", "t"]]})
    return cases


# Answers --------------------------------------------------------------------


def python_answer(
    task: Task, deltas: dict[str, list[dict[str, Any]]], cache: dict[str, Delta] | None = None
) -> Any:
    """Return the Python answer to one task, or ``{"error": message}``.

    ``cache`` may hold the :class:`Delta` already built for each name.
    """
    if cache is None:
        cache = {}

    def delta(name: str) -> Delta:
        """Return the Delta named ``name``, built once."""
        if name not in cache:
            cache[name] = Delta(deltas[name])
        return cache[name]

    name, x = task[0], task[1]
    try:
        if name == "fastdiff":
            return [
                [kind, from_units(text)]
                for kind, text in fastdiff.diff(
                    to_units(deltas[x]),
                    to_units(deltas[task[2]]),
                )
            ]
        a = delta(x)
        if name == "compose":
            return a.compose(delta(task[2])).ops
        if name == "apply":
            doc = DocumentText.from_ops(a.ops)
            doc.apply(delta(task[2]))
            return doc.to_ops()
        if name == "transform":
            return a.transform(delta(task[2]), task[3]).ops
        if name == "tpos":
            return a.transform_position(task[2], task[3])
        if name == "invert":
            return a.invert(delta(task[2])).ops
        if name == "diff":
            return a.diff(delta(task[2])).ops
        if name == "length":
            return [a.length(), a.change_length()]
        if name == "slice":
            return a.slice(task[2], task[3]).ops
        raise ValueError(f"unknown task {name}")
    except InvalidDelta as exc:
        return {"error": f"InvalidDelta: {exc}"}
    except ValueError as exc:
        # Compare messages without the explanation Python adds in brackets.
        return {"error": str(exc).split(" (")[0]}


def _node_task(task: Task) -> Task:
    """Return the task as the oracle knows it (apply is compose there)."""
    return ["compose", *task[1:]] if task[0] == "apply" else task


def _integral(value: Any) -> Any:
    """Return ``value`` with integral floats as ints, as JSON.stringify spells them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def canonical(value: Any) -> str:
    """Return the normalised JSON text answers are compared by."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    if ".0" in text or "e" in text:  # Maybe an integral float: spell it as node does.
        text = json.dumps(
            _integral(value), sort_keys=True, ensure_ascii=True, separators=(",", ":")
        )
    return text


def _wire(cases: Iterable[Case]) -> str:
    """Return the oracle's JSONL input for ``cases``."""
    lines = []
    for case in cases:
        wire = dict(case)
        wire["tasks"] = [_node_task(task) for task in case["tasks"]]
        lines.append(json.dumps(wire, ensure_ascii=True))
    return "\n".join(lines) + "\n"


def _parse(stdout: str) -> list[list[Any]]:
    """Return the results of each line the oracle printed."""
    return [json.loads(line)["results"] for line in stdout.splitlines() if line]


def node_answers(cases: Iterable[Case]) -> list[list[Any]]:
    """Return quill-delta's answers for every case, running node once."""
    proc = subprocess.run(
        ["node", str(ORACLE)],
        input=_wire(cases),
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"quill_oracle.js failed: {proc.stderr[-2000:]}")
    return _parse(proc.stdout)


class _NodeRun:
    """quill-delta answering a batch in the background while Python works."""

    def __init__(self, cases: list[Case]) -> None:
        """Start node on ``cases``."""
        self._proc = subprocess.Popen(
            ["node", str(ORACLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        self._result: tuple[str, str] = ("", "")
        self._thread = threading.Thread(target=self._talk, args=(_wire(cases),), daemon=True)
        self._thread.start()

    def _talk(self, text: str) -> None:
        """Feed node its input and collect its output."""
        self._result = self._proc.communicate(text)

    def answers(self) -> list[list[Any]]:
        """Wait for node and return its answers."""
        self._thread.join()
        stdout, stderr = self._result
        if self._proc.returncode != 0:
            raise RuntimeError(f"quill_oracle.js failed: {stderr[-2000:]}")
        return _parse(stdout)


# Checking and shrinking -------------------------------------------------------


@dataclass
class Mismatch:
    """One task on which Python and quill-delta disagree."""

    seed: int
    case_id: int
    task: Task
    deltas: dict[str, Any]
    python: Any
    quill: Any
    shrunk: dict[str, Any] = field(default_factory=dict)

    def report(self) -> str:
        """Return the minimal JSON reproduction, one fact per line."""
        minimal = self.shrunk or {
            "task": self.task,
            "deltas": self.deltas,
            "python": self.python,
            "quill": self.quill,
        }

        def dump(value: Any) -> str:
            """Return compact JSON."""
            return json.dumps(value, ensure_ascii=False)

        return "\n".join(
            [
                f"MISMATCH seed={self.seed} case={self.case_id} "
                f"(rerun: python -m tests.realtime.ot_differential "
                f"--seed {self.seed} --first {self.case_id} --cases 1)",
                f"  minimal task:   {dump(minimal['task'])}",
                f"  minimal deltas: {dump(minimal['deltas'])}",
                f"  python says:    {dump(minimal['python'])}",
                f"  quill says:     {dump(minimal['quill'])}",
                f"  original task:  {dump(self.task)}",
                f"  original deltas: {dump(self.deltas)}",
            ]
        )


def _valid_apply(task: Task, deltas: dict[str, Any]) -> bool:
    """Return whether an apply task still has a document and a valid change."""
    if task[0] != "apply":
        return True
    try:
        DocumentText.from_ops(deltas[task[1]]).check(Delta(deltas[task[2]]))
    except (InvalidDelta, ValueError):
        return False
    return True


def _op_variants(op: dict[str, Any]) -> list[dict[str, Any]]:
    """Return smaller versions of one op."""
    out: list[dict[str, Any]] = []
    if "attributes" in op:
        out.append({k: v for k, v in op.items() if k != "attributes"})
        for key in op["attributes"]:
            attrs = {k: v for k, v in op["attributes"].items() if k != key}
            smaller = dict(op)
            smaller["attributes"] = attrs
            out.append(smaller)
    for action in ("retain", "delete"):
        if action in op and op[action] > 1:
            for count in {1, op[action] // 2, op[action] - 1}:
                smaller = dict(op)
                smaller[action] = count
                out.append(smaller)
    value = op.get("insert")
    if isinstance(value, str) and len(value) > 1:
        for text in {value[: len(value) // 2], value[len(value) // 2 :], value[1:], value[:-1]}:
            if text:
                smaller = dict(op)
                smaller["insert"] = text
                out.append(smaller)
    return out


def _candidates(task: Task, deltas: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Yield deltas one greedy step smaller than ``deltas``."""
    for name in sorted(deltas):
        ops = deltas[name]
        for index in range(len(ops)):
            yield {**deltas, name: Delta(ops[:index] + ops[index + 1 :]).ops}
        for index, op in enumerate(ops):
            for smaller in _op_variants(op):
                yield {**deltas, name: Delta([*ops[:index], smaller, *ops[index + 1 :]]).ops}


def shrink(task: Task, deltas: dict[str, Any], rounds: int = 200) -> dict[str, Any]:
    """Return the smallest deltas found on which ``task`` still mismatches."""
    used = {name: deltas[name] for name in task[1:] if isinstance(name, str) and name in deltas}
    for _ in range(rounds):
        candidates = [c for c in _candidates(task, used) if _valid_apply(task, c)]
        if not candidates:
            break
        quill = node_answers(
            {"id": i, "deltas": c, "tasks": [task]} for i, c in enumerate(candidates)
        )
        for candidate, answer in zip(candidates, quill, strict=True):
            if canonical(python_answer(task, candidate)) != canonical(answer[0]):
                used = candidate
                break
        else:
            break
    py = python_answer(task, used)
    quill_answer = node_answers([{"id": 0, "deltas": used, "tasks": [task]}])[0][0]
    return {"task": task, "deltas": used, "python": py, "quill": quill_answer}


def check_cases(
    seed: int, first: int, count: int, *, shrink_failures: bool = True, max_failures: int = 5
) -> tuple[int, list[Mismatch]]:
    """Run cases ``first .. first + count - 1``; return (tasks checked, mismatches)."""
    cases = [make_case(seed, index) for index in range(first, first + count)]
    node = _NodeRun(cases)
    mine = []
    for case in cases:
        cache: dict[str, Delta] = {}
        mine.append(
            [canonical(python_answer(task, case["deltas"], cache)) for task in case["tasks"]]
        )
    answers = node.answers()
    if len(answers) != len(cases):
        raise RuntimeError(f"oracle answered {len(answers)} of {len(cases)} cases")
    checked = 0
    failures: list[Mismatch] = []
    for case, got_all, quill in zip(cases, mine, answers, strict=True):
        for task, got, expected in zip(case["tasks"], got_all, quill, strict=True):
            checked += 1
            if got != canonical(expected):
                failure = Mismatch(
                    seed,
                    case["id"],
                    task,
                    case["deltas"],
                    python_answer(task, case["deltas"]),
                    expected,
                )
                if shrink_failures and len(failures) < max_failures:
                    failure.shrunk = shrink(task, case["deltas"])
                failures.append(failure)
    return checked, failures


def _worker(args: tuple[int, int, int]) -> tuple[int, list[str]]:
    """Check one batch in a pool process; return tasks checked and reports."""
    seed, first, count = args
    checked, failures = check_cases(seed, first, count, max_failures=2)
    return checked, [f.report() for f in failures]


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Run the differential suite from the command line; return an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--first", type=int, default=0, help="index of the first case")
    parser.add_argument("--batch", type=int, default=5_000, help="cases per node process")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    out(f"seed={seed} cases={args.cases} first={args.first} jobs={args.jobs}")
    chunks = [
        (seed, start, min(args.batch, args.first + args.cases - start))
        for start in range(args.first, args.first + args.cases, args.batch)
    ]
    started = time.monotonic()
    checked = 0
    reports: list[str] = []
    done = 0
    with multiprocessing.Pool(args.jobs) as pool:
        for n, failures in pool.imap(_worker, chunks):
            checked += n
            reports.extend(failures)
            done += 1
            if done % 10 == 0 or done == len(chunks):
                rate = checked / (time.monotonic() - started)
                out(
                    f"  {done}/{len(chunks)} batches, {checked} tasks, {rate:,.0f} tasks/s, "
                    f"{len(reports)} mismatches"
                )
            if len(reports) >= 10:
                pool.terminate()
                break
    for report in reports:
        out(report)
    elapsed = time.monotonic() - started
    out(f"seed={seed}: {checked} tasks in {elapsed:.1f}s, {len(reports)} mismatches")
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())
