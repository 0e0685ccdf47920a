#!/usr/bin/env python
"""Stall benchmark: other documents' ack latency while one editor attacks.

Issue 9: about 200 frames of ~490 KB, each formatting 12,000 one-character
runs, once stalled the whole worker. This bench starts its own throwaway
PostgreSQL and one daphne (``bench/load.py``'s ``start_stack``, loopback
only), then:

1. ``--victims`` clients, each alone on its own document and each its own
   user, type in open loop (one 1-3 character insert every ``1/--rate``
   seconds, one op in flight) for ``--seconds``: the quiet figures.
2. The same again while an attacker (one user, ``--attacker-sockets``
   sockets, each on its own prepared document) sends heavy frames as fast
   as the server allows: ``--burst`` frames back to back, the next burst as
   soon as they are answered, or after ``retry_after`` when refused with
   ``rate_limited``.

Attacks (``--attack``):

* ``runs12k``: the issue's frame, 12,000 one-character formats
  (``{"retain":1,"attributes":{"bold":true}}``, then italic, ...; ~490 KB),
  setting and removing them in turn, on a 24,001-character document;
* ``maxops``: the same shape at ``--max-ops`` ops (the largest change the
  server's MAX_CHANGE_OPS allows), on the same document;
* ``wide``: one retain that reformats a document of ``--runs`` runs
  (toggling italic), the ``MAX_CHANGE_RUNS`` worst case.

Prints one JSON line: victims' ack latency p50/p95/p99/max with and without
the attacker, and the attacker's accepted and refused counts by code.
``--repo`` runs the server from another checkout (a ``git worktree`` of an
older commit) to measure the behaviour before a change. Every loop is
bounded in count and time.

    .venv/bin/python bench/stall_bench.py --attack runs12k --seconds 10
    .venv/bin/python bench/stall_bench.py --repo /tmp/before --attack runs12k
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import load

ALPHA = "abcdefghijklmnopqrstuvwxyz"
#: Most frames one attacker socket sends in a run, whatever the time.
MAX_ATTACK_FRAMES = 5000


def one_char_formats(count: int, on: bool) -> list[dict]:
    """Return ``count`` one-character formats, bold and italic alternating.

    The issue's frame: 12,000 of them are ~490 KB and make 12,000 runs;
    ``on`` False removes what ``on`` True set, so every frame does work.
    """
    value = True if on else None
    bold, italic = {"bold": value}, {"italic": value}
    return [{"retain": 1, "attributes": bold if i % 2 else italic} for i in range(count)]


class Victim:
    """A client typing in open loop on its own document; records ack latency."""

    def __init__(self, index: int, doc: str, cookie: str) -> None:
        self.index = index
        self.doc = doc
        self.cookie = cookie
        self.ws: Any = None
        self.rev = 0
        self.length = 1
        self.seq = 0
        self.inflight: tuple[str, float, int] | None = None
        self.errors: Counter[str] = Counter()


class Run:
    """One bench run against a started server."""

    def __init__(
        self, args: argparse.Namespace, ws_base: str, origin: str, *, server_pid: int
    ) -> None:
        self.args = args
        self.server_pid = server_pid
        self.ws_base = ws_base
        self.origin = origin
        self.rng = random.Random(args.seed)
        self.recording: list[float] | None = None
        self.attack_counts: Counter[str] = Counter()
        self.attack_answer_ms: list[float] = []
        self.stop = False

    async def open(self, doc: str, cookie: str) -> tuple[Any, dict]:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        ws = await asyncio.wait_for(
            connect(
                f"{self.ws_base}/ws/docs/{doc}/",
                origin=Origin(self.origin),
                additional_headers={"Cookie": cookie},
                max_size=None,
                compression=None,
                open_timeout=30,
            ),
            timeout=60,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        return ws, hello

    # -- victims ---------------------------------------------------------------

    async def victim_reader(self, v: Victim) -> None:
        async for raw in v.ws:
            msg = json.loads(raw)
            for m in msg["messages"] if msg.get("type") == "batch" else [msg]:
                if m.get("type") == "ack" and v.inflight and m["id"] == v.inflight[0]:
                    _, sent, n = v.inflight
                    if self.recording is not None:
                        self.recording.append(time.perf_counter() - sent)
                    v.rev, v.length, v.inflight = m["rev"], v.length + n, None
                elif m.get("type") == "error":
                    v.errors[m.get("code", "?")] += 1
                    if v.inflight and m.get("id") == v.inflight[0]:
                        v.inflight = None  # dropped; the next tick sends a new op

    async def victim_loop(self, v: Victim, until: float) -> None:
        period = 1.0 / self.args.rate
        await asyncio.sleep(self.rng.random() * period)
        tick = time.perf_counter()
        while time.perf_counter() < until and not self.stop:
            if v.inflight is None:
                text = "".join(self.rng.choice(ALPHA) for _ in range(self.rng.randint(1, 3)))
                pos = self.rng.randrange(v.length)
                delta = ([{"retain": pos}] if pos else []) + [{"insert": text}]
                v.seq += 1
                op_id = f"stallvictim{v.index:05d}x:{v.seq}"
                v.inflight = (op_id, time.perf_counter(), len(text))
                await v.ws.send(
                    json.dumps({"type": "op", "id": op_id, "rev": v.rev, "delta": delta})
                )
            tick += period
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))

    # -- the attacker -----------------------------------------------------------

    async def prepare(self, ws: Any, hello: dict, index: int) -> int:
        """Fill an attacker document for its attack; return its revision."""
        rev = hello["rev"]
        if self.args.attack == "wide":
            # --runs runs of 2 characters, alternately bold, in chunks that
            # fit any frame and op limit.
            runs, chunk = self.args.runs, 500
            for n, start in enumerate(range(0, runs, chunk)):
                ops: list[dict[str, Any]] = [{"retain": 2 * start}] if start else []
                for i in range(start, min(runs, start + chunk)):
                    ops.append(
                        {"insert": "ab", "attributes": {"bold": True}}
                        if i % 2
                        else {"insert": "ab"}
                    )
                rev = await self.prep_op(ws, rev, ops, f"stallprep{index:05d}xxxxx:{n + 1}")
        else:
            text = "x" * 24_000
            rev = await self.prep_op(ws, rev, [{"insert": text}], f"stallprep{index:05d}xxxxx:1")
        return rev

    async def prep_op(self, ws: Any, rev: int, delta: list, op_id: str) -> int:
        await ws.send(json.dumps({"type": "op", "id": op_id, "rev": rev, "delta": delta}))
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            for m in msg["messages"] if msg.get("type") == "batch" else [msg]:
                if m.get("id") == op_id and m.get("type") == "ack":
                    return m["rev"]
                if m.get("id") == op_id and m.get("type") == "error":
                    if m.get("code") == "rate_limited":
                        await asyncio.sleep(m.get("retry_after", 100) / 1000)
                        await ws.send(
                            json.dumps({"type": "op", "id": op_id, "rev": rev, "delta": delta})
                        )
                        continue
                    raise RuntimeError(f"preparing the attack failed: {m}")
        raise RuntimeError("preparing the attack timed out")

    def attack_delta(self, n: int) -> list[dict]:
        if self.args.attack == "runs12k":
            return one_char_formats(12_000, bool(n % 2))
        if self.args.attack == "maxops":
            return one_char_formats(self.args.max_ops, bool(n % 2))
        return [{"retain": 2 * self.args.runs, "attributes": {"italic": True if n % 2 else None}}]

    def attack_frame(self, n: int, op_id: str, rev: int) -> str:
        """Return attack frame ``n``, its delta encoded once per parity.

        Encoding a 490 KB frame takes this process ~10 ms, which would hold
        the victims' readers (same loop) and show up as server latency.
        """
        cache = self.__dict__.setdefault("_delta_json", {})
        key = n % 2
        if key not in cache:
            cache[key] = json.dumps(self.attack_delta(n), separators=(",", ":"))
        return f'{{"type":"op","id":"{op_id}","rev":{rev},"delta":{cache[key]}}}'

    async def attacker(self, ws: Any, rev: int, index: int, until: float) -> None:
        """Send ``--burst`` frames back to back, wait for their answers, repeat.

        Frames of a burst share a base revision (the server transforms them
        over each other, as it would a client's ops sent without waiting).
        After a ``rate_limited`` answer, wait its ``retry_after``.
        """
        n = 0
        while time.perf_counter() < until and not self.stop and n < MAX_ATTACK_FRAMES:
            ids = {}
            for _ in range(self.args.burst):
                n += 1
                op_id = f"stallattack{index:05d}xxxxx:{n}"
                frame = self.attack_frame(n, op_id, rev)
                ids[op_id] = time.perf_counter()
                await ws.send(frame)
            pause = 0.0
            while ids:
                remaining = until + 30 - time.perf_counter()
                if remaining <= 0:
                    self.attack_counts["unanswered"] += len(ids)
                    return
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=remaining))
                for m in msg["messages"] if msg.get("type") == "batch" else [msg]:
                    sent = ids.pop(m.get("id"), None) if m.get("type") in ("ack", "error") else None
                    if sent is None:
                        continue
                    self.attack_answer_ms.append((time.perf_counter() - sent) * 1000)
                    if m["type"] == "ack":
                        rev = max(rev, m["rev"])
                        self.attack_counts["accepted"] += 1
                    else:
                        self.attack_counts[m.get("code", "?")] += 1
                        if m.get("code") == "rate_limited":
                            pause = max(pause, m.get("retry_after", 100) / 1000)
            if pause:
                await asyncio.sleep(min(5.0, pause))

    # -- phases ----------------------------------------------------------------

    async def phase(self, victims: list[Victim], attackers: list[tuple[Any, int]] | None) -> dict:
        self.recording = []
        until = time.perf_counter() + self.args.seconds
        cpu0 = load.proc_cpu_seconds(self.server_pid)
        tasks = [asyncio.create_task(self.victim_loop(v, until)) for v in victims]
        if attackers:
            tasks += [
                asyncio.create_task(self.attacker(ws, rev, i, until))
                for i, (ws, rev) in enumerate(attackers)
            ]
        done, pending = await asyncio.wait(tasks, timeout=self.args.seconds + 60)
        for task in pending:
            task.cancel()
        for task in done:
            failure = task.exception()
            if failure is not None:
                raise failure
        cpu1 = load.proc_cpu_seconds(self.server_pid)
        # Let the last acks land before the figures are taken.
        for _ in range(200):
            if all(v.inflight is None for v in victims):
                break
            await asyncio.sleep(0.05)
        lat, self.recording = self.recording, None
        return {
            "acks": len(lat),
            "lat_ms": load.lat_summary(lat),
            "server_cpu_pct": round((cpu1 - cpu0) / self.args.seconds * 100, 1)
            if cpu0 is not None and cpu1 is not None
            else None,
        }


async def run(
    args: argparse.Namespace,
    ws_base: str,
    origin: str,
    cookies: list[str],
    docs: list[str],
    server_pid: int,
) -> dict:
    bench = Run(args, ws_base, origin, server_pid=server_pid)
    victims = [Victim(i, docs[i], cookies[i + 1]) for i in range(args.victims)]
    for v in victims:
        v.ws, hello = await bench.open(v.doc, v.cookie)
        v.rev = hello["rev"]
    readers = [asyncio.create_task(bench.victim_reader(v)) for v in victims]
    attackers = []
    for i in range(args.attacker_sockets):
        ws, hello = await bench.open(docs[args.victims + i], cookies[0])
        attackers.append((ws, await bench.prepare(ws, hello, i)))
    await asyncio.sleep(2)  # let the preparation's cost drain from the budget
    quiet = await bench.phase(victims, None)
    attacked = await bench.phase(victims, attackers)
    bench.stop = True
    for v in victims:
        await v.ws.close()
    for ws, _ in attackers:
        await ws.close()
    for task in readers:
        task.cancel()
    answers = sorted(bench.attack_answer_ms)
    return {
        "quiet": quiet,
        "attacked": attacked,
        "attacker": dict(bench.attack_counts),
        "attacker_answer_ms": {
            "p50": answers[len(answers) // 2] if answers else None,
            "max": answers[-1] if answers else None,
        },
        "victim_errors": dict(sum((v.errors for v in victims), Counter())),
    }


def main() -> int:
    """Parse arguments, run both phases, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attack", choices=["runs12k", "maxops", "wide"], default="runs12k")
    parser.add_argument("--attacker-sockets", type=int, default=1)
    parser.add_argument(
        "--burst",
        type=int,
        default=1,
        help="frames each attacker socket sends before awaiting answers",
    )
    parser.add_argument("--victims", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20.0, help="victim ops/s each")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--max-ops", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repo", default="", help="serve from this checkout instead")
    parser.add_argument(
        "--server-rate-limit",
        type=int,
        default=50,
        help="COLLABDOCS_OPS_PER_SECOND for the server (default: the default)",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    args.seed = random.randrange(1_000_000) if args.seed is None else args.seed
    if not (
        1 <= args.victims <= 50
        and 1 <= args.attacker_sockets <= 20
        and 1 <= args.burst <= 50
        and 0 < args.seconds <= 60
        and 0 < args.rate <= 100
        and 2 <= args.max_ops <= 50_000
        and 1 <= args.runs <= 100_000
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    if args.repo:
        load.REPO = Path(args.repo).resolve()
    # start_stack reads these.
    args.database_url, args.no_fsync = "", True
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-stall-"))
    try:
        stoppers, host, proc = load.start_stack(args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        import django

        django.setup()
        cookies, docs = load.setup_fixtures(args.victims + 1, args.victims + args.attacker_sockets)
        limit = 2 * args.seconds + 300
        result = asyncio.run(
            asyncio.wait_for(
                run(args, f"ws://{host}", f"http://{host}", cookies, docs, proc.pid), timeout=limit
            )
        )
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(
            json.dumps(
                {
                    "ok": False,
                    "error": repr(exc),
                    "server_log": (workdir / "daphne.log").read_text(errors="replace")[-2000:],
                }
            )
        )
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    print(
        json.dumps(
            {
                "tool": "collabdocs-stall",
                "label": args.label,
                "attack": args.attack,
                "repo": str(load.REPO),
                "attacker_sockets": args.attacker_sockets,
                "burst": args.burst,
                "victims": args.victims,
                "victim_rate": args.rate,
                "seconds": args.seconds,
                "seed": args.seed,
                **result,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
