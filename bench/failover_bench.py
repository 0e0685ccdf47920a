#!/usr/bin/env python
"""Failover: from ``kill -9`` of a document's owner to every client editing again.

For each run: a fresh 3-worker cluster (PostgreSQL, Redis, ZooKeeper,
``runworker``), ``--docs`` documents owned by one worker with ``--clients``
editors each, all entering through the other workers and editing (one op
every ~50 ms each). The owner is killed with SIGKILL; the clock stops when
every client has had an op acked after the kill. The same with SIGTERM (a
clean hand-over) for comparison. Afterwards every client must have
converged on the stored content with every acked op stored.

    .venv/bin/python bench/failover_bench.py                      # 4 s sessions, 5 runs
    .venv/bin/python bench/failover_bench.py --session-timeout 10 --runs 1

Reports kill -9 to every client editing again as p50/p95 over the runs
(nearest rank: with 5 runs the p95 is the slowest) and the first client
editing again (the first commit elsewhere); then one SIGTERM hand-over.
Prints a table (stderr) and one JSON line. Exit 0: ran and verified; 1:
verification failed; 2: could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.routing_bench import Stack, make_people


async def one_run(stack: Stack, *, how: str, docs: int, clients: int, seed: int) -> dict:
    """Kill (``how``: kill or term) the owner of ``docs`` documents; time the recovery."""
    from collabdocs.devediting import Editor, all_editing_again, converge_and_check
    from routing.ring import HashRing

    cluster = stack.cluster(3)
    rng = random.Random(seed)
    try:
        victim = cluster.live()[0]
        ring = HashRing([w.worker_id for w in cluster.live()])
        cookie, candidates = await asyncio.to_thread(make_people, docs * 12)
        mine = [d for d in candidates if ring.owner(d) == victim.worker_id][:docs]
        survivors = cluster.others(victim)
        groups = []
        for doc in mine:
            group = []
            for i in range(clients):
                editor = Editor(
                    survivors[i % 2].ws_url, doc, cookie=cookie, rng=random.Random(rng.random())
                )
                group.append(await editor.start())
            groups.append((doc, group))
        everyone = [e for _, group in groups for e in group]
        await asyncio.sleep(2)
        started = time.monotonic()
        if how == "kill":
            victim.kill()
        else:
            await asyncio.to_thread(victim.terminate, 30)
        took = await all_editing_again(everyone, started, timeout=stack.session_timeout + 30)
        firsts = sorted(min(t for t in e.ack_times if t >= started) - started for e in everyone)
        await asyncio.sleep(1)
        verified = True
        acked = 0
        for doc, group in groups:
            try:
                acked += (await converge_and_check(group, doc))["acked"]
            except AssertionError as exc:
                print(f"verification failed on {doc}: {exc}", file=sys.stderr)
                verified = False
        return {
            "how": how,
            "documents": len(mine),
            "clients": len(everyone),
            "all_editing_again_s": round(took, 2),
            "first_client_s": round(firsts[0], 2),
            "median_client_s": round(statistics.median(firsts), 2),
            "acked": acked,
            "acked_lost": 0 if verified else None,
            "verified": verified,
        }
    finally:
        cluster.stop()


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


async def run_all(stack: Stack, args: argparse.Namespace) -> list[dict]:
    runs = []
    for i in range(args.runs):
        runs.append(
            await one_run(
                stack, how="kill", docs=args.docs, clients=args.clients, seed=args.seed + i
            )
        )
        print(f"kill -9 run {i + 1}: {runs[-1]}", file=sys.stderr)
    runs.append(
        await one_run(stack, how="term", docs=args.docs, clients=args.clients, seed=args.seed + 100)
    )
    print(f"SIGTERM run: {runs[-1]}", file=sys.stderr)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--session-timeout", type=int, default=4, help="seconds (ZooKeeper)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docs", type=int, default=4, help="documents on the killed worker")
    parser.add_argument("--clients", type=int, default=3, help="clients per document")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    if not (
        2 <= args.session_timeout <= 30
        and 1 <= args.runs <= 10
        and 1 <= args.docs <= 50
        and 1 <= args.clients <= 20
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-failover-bench-"))
    try:
        stack = Stack(workdir, session_timeout=args.session_timeout)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        runs = asyncio.run(run_all(stack, args))
    finally:
        stack.stop()
    kills = [r["all_editing_again_s"] for r in runs if r["how"] == "kill"]
    firsts = [r["first_client_s"] for r in runs if r["how"] == "kill"]
    p50, p95 = percentile(kills, 0.5), percentile(kills, 0.95)
    result = {
        "tool": "collabdocs-failover-bench",
        "ok": all(r["verified"] for r in runs),
        "seed": args.seed,
        "session_timeout_s": args.session_timeout,
        "kill9_all_editing_again_s": {"min": min(kills), "p50": p50, "p95": p95, "max": max(kills)},
        "kill9_first_client_s": {
            "min": min(firsts),
            "p50": percentile(firsts, 0.5),
            "max": max(firsts),
        },
        "sigterm_all_editing_again_s": runs[-1]["all_editing_again_s"],
        "runs": runs,
    }
    print(
        f"session timeout {args.session_timeout} s, {len(kills)} runs: kill -9 -> first client "
        f"editing again {min(firsts)}-{max(firsts)} s, all clients p50 {p50} s, p95 {p95} s "
        f"({min(kills)}-{max(kills)}); SIGTERM -> {runs[-1]['all_editing_again_s']} s",
        file=sys.stderr,
    )
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
