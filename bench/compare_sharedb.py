#!/usr/bin/env python
"""Run CollabDocs and ShareDB under the same workload in one sitting.

The machines here are shared and noisy, so absolute figures drift; what
holds is the ratio within one run. This runs, for each scenario of issue 4,
``bench/load.py`` against our daphne and ``shared/peer-bench/sharedb_bench.sh``
against ShareDB on PostgreSQL (both with fsync on), alternating, and prints a
Markdown table of both and their ratio. Each run is bounded in time by the
tools themselves; this script adds a hard timeout per run.

    .venv/bin/python bench/compare_sharedb.py [--seconds 10] [--peer ../shared/peer-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: (label, clients per doc, docs, extra load.py args)
SCENARIOS = [
    ("1 x 1", 1, 1),
    ("10 x 1", 10, 1),
    ("50 x 1", 50, 1),
    ("5 x 10", 5, 10),
]


def run_json(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Run ``cmd`` and return the last JSON line it printed (or an error record)."""
    try:
        done = subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (done.stderr or done.stdout)[-500:]}


def fmt_lat(lat: dict | None) -> str:
    """Format p50/p95/p99 milliseconds."""
    if not lat or lat.get("p50") is None:
        return "-"
    return f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f}"


def main() -> int:
    """Run every scenario on both servers and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--peer", default=str(REPO.parent / "shared" / "peer-bench"))
    args = parser.parse_args()
    peer = Path(args.peer) / "sharedb_bench.sh"
    if not peer.exists():
        print(f"ShareDB peer bench not found at {peer}", file=sys.stderr)
        return 2
    rows = []
    for label, clients, docs in SCENARIOS:
        ours = run_json(
            [
                sys.executable,
                "bench/load.py",
                "--clients",
                str(clients),
                "--docs",
                str(docs),
                "--seconds",
                str(args.seconds),
                "--label",
                label,
            ]
        )
        env = dict(os.environ, DOCS=str(docs), LITE="1")
        theirs = run_json(["bash", str(peer), str(clients), str(args.seconds), "postgres"], env=env)
        rows.append((label, ours, theirs))
        print(
            f"{label}: ours {ours.get('ops_per_s')} ops/s, ShareDB {theirs.get('ops_per_s')} ops/s",
            file=sys.stderr,
        )
    print(
        "| clients x docs | CollabDocs ops/s | p50 / p95 / p99 ms "
        "| ShareDB ops/s | p50 / p95 / p99 ms | ops/s ratio | converged |"
    )
    print("|---|---:|---|---:|---|---:|---|")
    for label, ours, theirs in rows:
        a, b = ours.get("ops_per_s"), theirs.get("ops_per_s")
        ratio = f"{a / b:.1f}x" if a and b else "-"
        print(
            f"| {label} | {a} | {fmt_lat(ours.get('lat_ms'))} "
            f"| {b} | {fmt_lat(theirs.get('lat_ms'))} "
            f"| {ratio} | {ours.get('converged')} / {theirs.get('converged')} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
