#!/usr/bin/env python
"""The front door: redirects saved by routing sockets to their owner in HAProxy.

A 3-worker cluster (PostgreSQL, Redis, ZooKeeper, ``runworker``) behind
Debian's HAProxy (:mod:`collabdocs.haproxy`). ``--docs`` documents are
opened once (so every owner has them loaded), then each document's socket
is opened ``--rounds`` times through the front door in three ways, in
rotating order:

* ``round robin``: ``ws://front/ws/docs/<id>/``, what a balancer that does
  not know the ring does: the socket lands on any worker, and a non-owner
  answers ``redirect`` (a second handshake);
* ``page``: the socket URL the document page carries (``data-ws-path``,
  fetched through the front door, as a browser opens it);
* ``owner hint``: the URL the route endpoint answers,
  ``ws://front/w/<owner>/ws/docs/<id>/``, which HAProxy sends to the owner.

Prints redirects per 100 sockets and the time to ``hello`` (p50/p95) for
each, then one JSON line. Exit 0: ran; 2: could not start.

    .venv/bin/python bench/frontdoor_bench.py              # 30 documents x 5 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.routing_bench import Stack, make_people, time_hello
from collabdocs.devcluster import Cluster, FrontDoor


def _get(url: str, cookie: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def base_of(url: str) -> str:
    """Return what precedes ``/ws/docs/``: the client's socket base, hint included."""
    return url.split("/ws/docs/", 1)[0]


def page_base(front: FrontDoor, doc: str, cookie: str) -> str:
    """Return the socket base a browser takes from the page's ``data-ws-path``."""
    page = _get(f"{front.url}/d/{doc}/", cookie)
    path = re.search(r'data-ws-path="([^"]+)"', page)
    assert path is not None, "the page has no data-ws-path"
    target = path.group(1)
    if target.startswith("/"):
        return front.ws_url + base_of(target)
    return "ws" + base_of(target)[4:] if target.startswith("http") else base_of(target)


def route_base(front: FrontDoor, doc: str, cookie: str) -> str:
    """Return the socket base the route endpoint answers through the front door."""
    return base_of(json.loads(_get(f"{front.url}/api/docs/{doc}/route", cookie))["url"])


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run(stack: Stack, *, docs: int, rounds: int) -> dict:
    """Open every document's socket ``rounds`` times in each way; return the summary."""
    cluster = Cluster(
        database_url=stack.database_url,
        zk_hosts=stack.zk.extra["hosts"],
        redis_url=stack.redis.extra["url"],
        log_dir=stack.workdir,
        session_timeout=stack.session_timeout,
        COLLABDOCS_SOCKETS_PER_USER="100000",
        LOG_LEVEL="WARNING",
    )
    try:
        cluster.use_front_door()
        cluster.add(3)
        front = cluster.open_front_door()
        cookie, ids = await asyncio.to_thread(make_people, docs)
        bases = {}
        for doc in ids:
            bases[doc] = {
                "round robin": front.ws_url,
                "page": await asyncio.to_thread(page_base, front, doc, cookie),
                "owner hint": await asyncio.to_thread(route_base, front, doc, cookie),
            }
            await time_hello(bases[doc]["owner hint"], doc, cookie)  # load it on its owner
        modes = ["round robin", "page", "owner hint"]
        seconds_of: dict[str, list[float]] = {m: [] for m in modes}
        redirects_of: dict[str, list[int]] = {m: [] for m in modes}
        for r in range(rounds):
            for i, doc in enumerate(ids):
                shift = (r + i) % len(modes)
                for mode in modes[shift:] + modes[:shift]:
                    seconds, redirects = await time_hello(bases[doc][mode], doc, cookie)
                    seconds_of[mode].append(seconds)
                    redirects_of[mode].append(redirects)
        summary = {}
        for mode in modes:
            times, hops = seconds_of[mode], redirects_of[mode]
            summary[mode] = {
                "sockets": len(times),
                "redirects_per_100": round(100 * sum(hops) / len(hops), 1),
                "hello_p50_ms": round(1000 * statistics.median(times), 1),
                "hello_p95_ms": round(1000 * percentile(times, 0.95), 1),
            }
        return summary
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    try:
        stack = Stack(Path(tempfile.mkdtemp(prefix="frontdoor-bench-")))
    except Exception as exc:  # noqa: BLE001 - any start-up failure: say which and exit 2
        print(f"could not start the servers: {exc}", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(run(stack, docs=options.docs, rounds=options.rounds))
    finally:
        stack.stop()
    print(f"{'socket URL':<14} {'sockets':>8} {'redirects/100':>14} {'hello p50':>10} {'p95':>8}")
    for mode, row in summary.items():
        print(
            f"{mode:<14} {row['sockets']:>8} {row['redirects_per_100']:>14} "
            f"{row['hello_p50_ms']:>8} ms {row['hello_p95_ms']:>5} ms"
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
