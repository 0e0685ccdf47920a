#!/usr/bin/env python
"""Measure what the Prometheus metrics cost the server: throughput with them on and off.

Runs ``bench/load.py`` (the server side of ``bench/compare_sharedb.py``, same
scenarios) alternately with the metrics on and off, in one sitting, and
prints each scenario's median ops/s both ways, and the server's CPU time
per acked op (its CPU seconds in the measured window over the ops acked
in it), with the differences. On a shared machine the throughput swings
by tens of percent between identical runs; CPU per op is what the
instrumentation actually adds to, and is far steadier. "Off"
replaces the counting functions of :mod:`realtime.metrics` and
:mod:`documents.metrics` with no-ops in the server process (through a
``sitecustomize`` module on ``PYTHONPATH``, imported before anything else,
so every call site binds the no-op), which leaves exactly the cost of the
instrumentation to measure. Alternating on/off rounds spreads the noise of
a shared machine over both.

    .venv/bin/python bench/metrics_overhead.py [--seconds 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_sharedb import REPO, SCENARIOS, run_json

#: Makes every counting function a no-op in the process that imports it.
METRICS_OFF = """\
import documents.metrics, realtime.metrics

def _off(*args, **kwargs):
    return None

for _module in (documents.metrics, realtime.metrics):
    for _name in ("db_error", "compaction_run", "op_refused", "rate_limited",
                  "committed", "broadcast", "channel_layer_error"):
        if hasattr(_module, _name):
            setattr(_module, _name, _off)
"""


def run(
    label: str, clients: int, docs: int, seconds: float, off_dir: str | None
) -> tuple[float, float | None] | None:
    """Run one load.py scenario; return (ops/s, server CPU µs per op), None on failure."""
    env = dict(os.environ)
    if off_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [off_dir, str(REPO)]))
    result = run_json(
        [
            sys.executable,
            "bench/load.py",
            "--clients",
            str(clients),
            "--docs",
            str(docs),
            "--seconds",
            str(seconds),
            "--label",
            label,
        ],
        env=env,
    )
    if "error" in result:
        print(f"{label}: {result['error']}", file=sys.stderr)
        return None
    ops = float(result["ops_per_s"])
    cpu_pct = (result.get("cpu_pct_in_window") or {}).get("server")
    per_op = cpu_pct / 100 * 1e6 / ops if cpu_pct is not None and ops else None
    return ops, per_op


def main() -> int:
    """Alternate on/off runs of every scenario; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabdocs-metrics-off-") as off_dir:
        (Path(off_dir) / "sitecustomize.py").write_text(METRICS_OFF)
        results: dict[str, dict[str, list[float]]] = {}
        cpu: dict[str, dict[str, list[float]]] = {}
        for round_no in range(args.rounds):
            for label, clients, docs in SCENARIOS:
                # Swap the order every round: neither mode always runs first.
                modes = ("on", "off") if round_no % 2 == 0 else ("off", "on")
                for mode in modes:
                    got = run(
                        label, clients, docs, args.seconds, off_dir if mode == "off" else None
                    )
                    print(f"round {round_no + 1} {label} metrics {mode}: {got}", file=sys.stderr)
                    if got is not None:
                        results.setdefault(label, {}).setdefault(mode, []).append(got[0])
                        if got[1] is not None:
                            cpu.setdefault(label, {}).setdefault(mode, []).append(got[1])
    print(
        "| clients x docs | ops/s off | ops/s on | difference "
        "| server CPU µs/op off | on | difference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in SCENARIOS:
        print(f"| {label} | {_compare(results.get(label, {}))} | {_compare(cpu.get(label, {}))} |")
    return 0


def _compare(runs: dict[str, list[float]]) -> str:
    """Return "off | on | difference" of the medians (dashes when a mode failed)."""
    if not runs.get("on") or not runs.get("off"):
        return "- | - | -"
    off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
    return f"{off:.0f} | {on:.0f} | {100 * (on - off) / off:+.1f} %"


if __name__ == "__main__":
    sys.exit(main())
