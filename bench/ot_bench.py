#!/usr/bin/env python
"""Benchmark the OT core beside node's quill-delta doing the same work.

Python builds one deterministic workload, writes it to a temporary JSON file,
measures ``realtime.ot`` on it, and runs ``bench/ot_bench.js`` on the same
file in the same run. Measured:

* ``keystroke transform``: ``a.transform(b, True)`` for keystroke-sized
  ``a`` and ``b`` (a retain then an insert, delete or format), per second;
* ``compose into 1 MB doc``: a keystroke composed into a document of
  1,048,576 UTF-16 code units in 10,000 formatting runs, per second and per
  op, with ``Delta.compose`` (a new document each time, as quill-delta) and
  ``DocumentText.apply`` (in place);
* ``transform over 1,000``: one change transformed over a history of 1,000
  keystrokes, as the server does for a client 1,000 revisions behind.

Each measurement runs ``--repeat`` times (default 3) for about ``--seconds``
(default 0.5) and the best rate counts, on both sides, which damps the noise
of a shared machine; the whole run is bounded. The table's ratio is Python's
rate over node's (1.00 = as fast).

    .venv/bin/python bench/ot_bench.py [--seconds 0.5] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from realtime.ot import Delta, DocumentText

DOC_UNITS = 1_048_576
RUNS = 10_000
FORMATS: list[dict[str, Any] | None] = [
    None,
    {"bold": True},
    None,
    {"italic": True},
    None,
    {"color": "#e6194b"},
    None,
    {"bold": True, "italic": True},
    None,
    {"link": "https://example.com/"},
]
WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
]


def big_document(rng: random.Random) -> Delta:
    """Return a 1 MB document of exactly ``RUNS`` differently formatted runs."""
    run = DOC_UNITS // RUNS
    ops: list[dict[str, Any]] = []
    total = 0
    for index in range(RUNS):
        size = run if index < RUNS - 1 else DOC_UNITS - total
        words: list[str] = []
        while sum(map(len, words)) + len(words) < size:
            words.append(rng.choice(WORDS))
        text = " ".join(words)[: size - 1]
        text += "\n" if index % 8 == 7 or index == RUNS - 1 else " "
        op: dict[str, Any] = {"insert": text}
        if FORMATS[index % len(FORMATS)]:
            op["attributes"] = FORMATS[index % len(FORMATS)]
        ops.append(op)
        total += len(text)
    doc = Delta(ops)
    assert doc.length() == DOC_UNITS and len(doc.ops) == RUNS, (doc.length(), len(doc.ops))
    return doc


def keystroke(rng: random.Random, length: int) -> Delta:
    """Return a keystroke on a document of ``length``: type, delete or format."""
    pos = rng.randrange(0, length - 2)
    roll = rng.random()
    if roll < 0.7:
        return Delta().retain(pos).insert(rng.choice("abcde \n"))
    if roll < 0.9:
        return Delta().retain(pos).delete(1)
    return Delta().retain(pos).retain(1, {"bold": True})


def workload(seed: int) -> dict[str, Any]:
    """Return the inputs both languages measure."""
    rng = random.Random(seed)
    pairs = [(keystroke(rng, 2000).ops, keystroke(rng, 2000).ops) for _ in range(1000)]
    doc = big_document(rng)
    # Keystrokes far enough from the end to stay valid applied in sequence.
    strokes = [keystroke(rng, DOC_UNITS - 20_000).ops for _ in range(5000)]
    history = []
    length = 5000
    for _ in range(1000):
        stroke = keystroke(rng, length)
        history.append(stroke.ops)
        length += stroke.change_length()
    late = keystroke(rng, 5000).ops
    return {"pairs": pairs, "doc": doc.ops, "strokes": strokes, "history": history, "late": late}


def rate(work: Callable[[int], int], seconds: float, repeat: int) -> float:
    """Run ``work(i)`` (returning units done) for about ``seconds``,
    ``repeat`` times; return the best rate in units per second."""
    best = 0.0
    calls = 0
    for _ in range(repeat):
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            done += work(calls)
            calls += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, done / (now - start))
    return best


def measure_python(data: dict[str, Any], seconds: float, repeat: int) -> dict[str, float]:
    """Return the Python figures."""
    pairs = [(Delta(a), Delta(b)) for a, b in data["pairs"]]

    def transforms(_: int) -> int:
        """Transform every keystroke pair once."""
        for a, b in pairs:
            a.transform(b, True)
        return len(pairs)

    doc = Delta(data["doc"])
    strokes = [Delta(ops) for ops in data["strokes"]]

    def compose(i: int) -> int:
        """Compose one keystroke into the 1 MB document."""
        doc.compose(strokes[i % len(strokes)])
        return 1

    text = DocumentText.from_ops(data["doc"])

    def apply(i: int) -> int:
        """Apply 100 keystrokes to the 1 MB DocumentText."""
        for stroke in strokes[(i * 100) % len(strokes) :][:100]:
            text.apply(stroke)
        return 100

    history = [Delta(ops) for ops in data["history"]]
    late = Delta(data["late"])

    def over_history(_: int) -> int:
        """Transform one change over the 1,000-op history."""
        change = late
        for earlier in history:
            change = earlier.transform(change, True)
        return 1

    transform_rate = rate(transforms, seconds, repeat)
    compose_rate = rate(compose, seconds, repeat)
    apply_rate = rate(apply, seconds, repeat)
    history_rate = rate(over_history, seconds, repeat)
    return {
        "keystroke_transforms_per_s": transform_rate,
        "compose_1mb_per_s": compose_rate,
        "apply_1mb_per_s": apply_rate,
        "history_1000_per_s": history_rate,
    }


def measure_node(path: Path, seconds: float, repeat: int) -> dict[str, float]:
    """Return node's figures for the same workload."""
    proc = subprocess.run(
        ["node", str(REPO / "bench" / "ot_bench.js"), str(path), str(seconds), str(repeat)],
        capture_output=True,
        text=True,
        timeout=120 + 10 * seconds * repeat,
        check=True,
        cwd=REPO,
    )
    return json.loads(proc.stdout)


def table(py: dict[str, float], node: dict[str, float]) -> str:
    """Return the figures as a plain-text table."""
    rows = [
        (
            "keystroke transform (ops/s)",
            py["keystroke_transforms_per_s"],
            node["keystroke_transforms_per_s"],
            None,
        ),
        (
            "compose into 1 MB doc, Delta.compose (ops/s)",
            py["compose_1mb_per_s"],
            node["compose_1mb_per_s"],
            "ms",
        ),
        (
            "compose into 1 MB doc, DocumentText.apply (ops/s)",
            py["apply_1mb_per_s"],
            node["compose_1mb_per_s"],
            "us",
        ),
        (
            "transform over 1,000 keystrokes (changes/s)",
            py["history_1000_per_s"],
            node["history_1000_per_s"],
            "ms",
        ),
    ]
    lines = [f"{'measure':52} {'Python':>12} {'node':>12} {'py/node':>8}   per op (py / node)"]
    for name, mine, theirs, unit in rows:
        per = ""
        if unit == "ms":
            per = f"{1e3 / mine:.3f} ms / {1e3 / theirs:.3f} ms"
        elif unit == "us":
            per = f"{1e6 / mine:.1f} us / {1e3 / theirs:.3f} ms"
        lines.append(f"{name:52} {mine:12,.0f} {theirs:12,.0f} {mine / theirs:8.2f}   {per}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description="OT core benchmark beside quill-delta")
    parser.add_argument("--seconds", type=float, default=0.5, help="time per repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, best counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    seconds = min(max(args.seconds, 0.05), 30.0)
    repeat = min(max(args.repeat, 1), 20)
    data = workload(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workload.json"
        path.write_text(json.dumps(data))
        node = measure_node(path, seconds, repeat)
    py = measure_python(data, seconds, repeat)
    if args.json:
        print(json.dumps({"python": py, "node": node}))
    else:
        print(
            f"OT benchmark, seed {args.seed}, best of {repeat} x {seconds:g} s, "
            f"python {sys.version.split()[0]}, node {node.pop('version', '?')}"
        )
        print(table(py, node))
    return 0


if __name__ == "__main__":
    sys.exit(main())
