#!/usr/bin/env python
"""Routing costs: ring lookups, connecting through a redirect, documents moved per ring change.

Three measurements, printed as a table and one JSON line:

* ``lookup``: ``HashRing.owner`` and ``Ownership.route`` per call (pure, in
  process), for 3 and 10 workers.
* ``connect``: time from opening a socket to ``hello``, against a real
  3-worker cluster (PostgreSQL, Redis, ZooKeeper, ``runworker``), straight to
  the owner and through a non-owner (``redirect``, close 4301, connect
  again), plus the route endpoint's latency.
* ``moves``: the share of documents whose owner changes when a worker joins
  or leaves a ring of N (pure, 100,000 ids), against the ideal 1/N; and
  live, how many open documents a joining 4th worker takes over and how
  long until all their clients edit again.

    .venv/bin/python bench/routing_bench.py               # everything
    .venv/bin/python bench/routing_bench.py --only lookup moves   # no servers

Exit 0: ran; 2: could not start. Servers are throwaway (free loopback ports).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collabdocs.devcluster import Cluster, WorkerProcess
from collabdocs.devservers import Server, start_postgres, start_redis, start_zookeeper
from routing.ownership import Ownership
from routing.ring import HashRing


def percentile(values: list[float], q: float) -> float:
    """Return the nearest-rank percentile ``q`` (0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# -- pure ------------------------------------------------------------------------


def bench_lookup() -> dict:
    """Return ns per ``HashRing.owner`` and ``Ownership.route`` call."""
    keys = [str(uuid.UUID(int=random.getrandbits(128))) for _ in range(50_000)]
    out = {}
    for n in (3, 10):
        members = {f"w{i}": f"http://127.0.0.1:{8001 + i}" for i in range(n)}
        ring = HashRing(list(members))
        ownership = Ownership(self_id="w0", self_url=members["w0"], cluster=True)
        ownership.set_members(members)
        ownership.set_serving(True)
        best_ring = best_route = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for key in keys:
                ring.owner(key)
            best_ring = min(best_ring, (time.perf_counter() - started) / len(keys))
            started = time.perf_counter()
            for key in keys:
                ownership.route(key)
            best_route = min(best_route, (time.perf_counter() - started) / len(keys))
        started = time.perf_counter()
        HashRing(list(members))
        build = time.perf_counter() - started
        out[f"{n}_workers"] = {
            "ring_owner_ns": round(best_ring * 1e9),
            "ownership_route_ns": round(best_route * 1e9),
            "ring_build_ms": round(build * 1000, 2),
        }
    return out


def bench_moves_pure() -> dict:
    """Return the share of 100,000 documents that move when one worker joins or leaves."""
    keys = [str(uuid.UUID(int=random.getrandbits(128))) for _ in range(100_000)]
    rows = {}
    for n in range(1, 11):
        before = HashRing([f"w{i}" for i in range(n)])
        joined = before.with_member(f"w{n}")
        moved_join = sum(before.owner(k) != joined.owner(k) for k in keys) / len(keys)
        row = {"join_moved": round(moved_join, 4), "join_ideal": round(1 / (n + 1), 4)}
        if n > 1:
            left = before.without_member("w0")
            row["leave_moved"] = round(
                sum(before.owner(k) != left.owner(k) for k in keys) / len(keys), 4
            )
            row["leave_ideal"] = round(1 / n, 4)
        rows[n] = row
    return rows


# -- against real processes ----------------------------------------------------------


class Stack:
    """PostgreSQL, Redis and ZooKeeper, migrated, with Django set up in this process."""

    def __init__(self, workdir: Path, *, session_timeout: int = 4) -> None:
        self.workdir = workdir
        self.servers: list[Server] = []
        self.pg = start_postgres(durable=True)
        self.servers.append(self.pg)
        self.pg.create_database("collabdocs_bench")
        self.redis = start_redis()
        self.servers.append(self.redis)
        self.zk = start_zookeeper()
        self.servers.append(self.zk)
        self.database_url = self.pg.url("collabdocs_bench")
        self.session_timeout = session_timeout
        env = dict(os.environ, DATABASE_URL=self.database_url, LOG_LEVEL="WARNING")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env=env,
            check=True,
            timeout=300,
            capture_output=True,
        )
        os.environ.update(
            DATABASE_URL=self.database_url,
            DJANGO_SETTINGS_MODULE="collabdocs.settings",
            LOG_LEVEL="WARNING",
        )
        import django

        django.setup()

    def cluster(self, workers: int = 3, **env: str) -> Cluster:
        """Start a cluster of ``workers`` runworker processes."""
        cluster = Cluster(
            database_url=self.database_url,
            zk_hosts=self.zk.extra["hosts"],
            redis_url=self.redis.extra["url"],
            log_dir=self.workdir,
            session_timeout=self.session_timeout,
            COLLABDOCS_SOCKETS_PER_USER="100000",
            LOG_LEVEL="WARNING",
            **env,
        )
        cluster.add(workers)
        return cluster

    def stop(self) -> None:
        for server in reversed(self.servers):
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                server.stop()


def make_people(n_docs: int) -> tuple[str, list[str]]:
    """Create a user with a session and ``n_docs`` documents; return (cookie, ids)."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from documents.services import document_create

    user = get_user_model().objects.create_user(f"bench{uuid.uuid4().hex[:10]}", password=None)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    docs = [str(document_create(owner=user, title=f"bench {i}").public_id) for i in range(n_docs)]
    return f"sessionid={session.session_key}", docs


async def time_hello(base: str, doc: str, cookie: str) -> tuple[float, int]:
    """Connect (following redirects) until ``hello``; return (seconds, redirects)."""
    from collabdocs.devclient import WSClient

    client = WSClient(base, doc, cookie=cookie, reconnect=False)
    started = time.perf_counter()
    await client.connect()
    took = time.perf_counter() - started
    await client.close()
    return took, client.redirects


async def bench_connect(stack: Stack, rounds: int) -> dict:
    """Return hello latencies straight to the owner and through a redirect."""
    cluster = stack.cluster(3)
    try:
        cookie, docs = await asyncio.to_thread(make_people, rounds)
        cold, direct, redirected, route = [], [], [], []
        for doc in docs:
            owner = cluster.owner(doc)
            other = cluster.others(owner)[0]
            # The first socket loads the document (its lock, lease and rows);
            # the next ones find it open, as most sockets do.
            took, hops = await time_hello(owner.ws_url, doc, cookie)
            cold.append(took)
            took, hops = await time_hello(owner.ws_url, doc, cookie)
            assert hops == 0
            direct.append(took)
            took, hops = await time_hello(other.ws_url, doc, cookie)
            assert hops == 1
            redirected.append(took)
            started = time.perf_counter()
            await asyncio.to_thread(_get, f"{other.url}/api/docs/{doc}/route", cookie)
            route.append(time.perf_counter() - started)

        def summary(values: list[float]) -> dict:
            return {
                "median_ms": round(statistics.median(values) * 1000, 2),
                "p95_ms": round(percentile(values, 0.95) * 1000, 2),
            }

        return {
            "rounds": rounds,
            "first_load": summary(cold),
            "direct": summary(direct),
            "via_redirect": summary(redirected),
            "route_endpoint": summary(route),
            "redirect_cost_ms": round(
                (statistics.median(redirected) - statistics.median(direct)) * 1000, 2
            ),
        }
    finally:
        cluster.stop()


def _get(url: str, cookie: str) -> bytes:
    import urllib.request

    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


async def bench_moves_live(stack: Stack, n_docs: int) -> dict:
    """Open ``n_docs`` documents on 3 workers (an editor each), add a 4th; count what moves."""
    from collabdocs.devediting import Editor, all_editing_again, wait_until

    cluster = stack.cluster(3)
    try:
        cookie, docs = await asyncio.to_thread(make_people, n_docs)
        rng = random.Random(7)
        editors: list[Editor] = []
        for doc in docs:
            entry = cluster.live()[len(editors) % 3]
            editors.append(
                await Editor(
                    entry.ws_url, doc, cookie=cookie, rng=random.Random(rng.random()), pause=0.5
                ).start()
            )
        newcomer = WorkerProcess(env=cluster.env, log_dir=cluster.log_dir)
        after = HashRing([w.worker_id for w in [*cluster.live(), newcomer]])
        moving = [
            e
            for e, doc in zip(editors, docs, strict=True)
            if after.owner(doc) == newcomer.worker_id
        ]
        await asyncio.sleep(1)
        cluster.workers.append(newcomer)
        started = time.monotonic()
        await asyncio.to_thread(lambda: newcomer.start().wait_ready())
        ready = time.monotonic() - started
        await wait_until(lambda: all(e.base == newcomer.ws_url for e in moving), 30)
        took = await all_editing_again(moving, started, timeout=30)
        closed = sum(4503 in e.client.close_codes for e in editors)
        for editor in editors:
            await editor.stop_editing()
            await editor.client.close()
        return {
            "open_documents": n_docs,
            "moved": len(moving),
            "sockets_told_4503": closed,
            "moved_share": round(len(moving) / n_docs, 3),
            "ideal_share": 0.25,
            "newcomer_ready_s": round(ready, 2),
            "moved_clients_editing_again_s": round(took, 2),
        }
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["lookup", "connect", "moves"],
        default=["lookup", "connect", "moves"],
    )
    parser.add_argument("--rounds", type=int, default=60, help="documents connected to (connect)")
    parser.add_argument("--open-docs", type=int, default=60, help="open documents (moves, live)")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 1000 and 4 <= args.open_docs <= 500):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    random.seed(1)
    result: dict = {"tool": "collabdocs-routing-bench", "ok": True}
    if "lookup" in args.only:
        result["lookup"] = bench_lookup()
    if "moves" in args.only:
        result["moves_pure"] = bench_moves_pure()
    if {"connect", "moves"} & set(args.only):
        workdir = Path(tempfile.mkdtemp(prefix="collabdocs-routing-bench-"))
        try:
            stack = Stack(workdir)
        except Exception as exc:  # noqa: BLE001 - reported as JSON
            print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
            return 2
        try:
            if "connect" in args.only:
                result["connect"] = asyncio.run(bench_connect(stack, args.rounds))
            if "moves" in args.only:
                result["moves_live"] = asyncio.run(bench_moves_live(stack, args.open_docs))
        finally:
            stack.stop()
    print_table(result)
    print(json.dumps(result))
    return 0


def print_table(result: dict) -> None:
    """Print the figures for people (stderr; stdout's last line is the JSON)."""
    out = sys.stderr
    for name, row in result.get("lookup", {}).items():
        print(
            f"lookup {name}: ring.owner {row['ring_owner_ns']} ns, ownership.route "
            f"{row['ownership_route_ns']} ns, ring build {row['ring_build_ms']} ms",
            file=out,
        )
    if "connect" in result:
        c = result["connect"]
        print(
            f"connect ({c['rounds']} docs): first socket (loads the document) "
            f"{c['first_load']['median_ms']} ms; then direct hello {c['direct']['median_ms']} ms "
            f"(p95 {c['direct']['p95_ms']}), via redirect {c['via_redirect']['median_ms']} ms "
            f"(p95 {c['via_redirect']['p95_ms']}); route endpoint "
            f"{c['route_endpoint']['median_ms']} ms",
            file=out,
        )
    for n, row in result.get("moves_pure", {}).items():
        leave = (
            f", leave {row['leave_moved']:.1%} (ideal {row['leave_ideal']:.1%})"
            if "leave_moved" in row
            else ""
        )
        print(
            f"moves with {n} workers: join {row['join_moved']:.1%} (ideal {row['join_ideal']:.1%})"
            f"{leave}",
            file=out,
        )
    if "moves_live" in result:
        m = result["moves_live"]
        print(
            f"live join: {m['moved']} of {m['open_documents']} open documents moved "
            f"({m['sockets_told_4503']} sockets told 4503); newcomer ready in "
            f"{m['newcomer_ready_s']} s, moved clients editing again "
            f"{m['moved_clients_editing_again_s']} s after its start",
            file=out,
        )


if __name__ == "__main__":
    sys.exit(main())
