"""The front door: HAProxy in front of three real ``runworker`` processes.

Real PostgreSQL, Redis, ZooKeeper and Debian's HAProxy; the clients know
only the front door's address. Checked, as an operator relies on it:

* pages, the API and the route endpoint answer through the front door
  from any worker, and the socket URLs they hand out name the owner, which
  the balancer reaches without a redirect;
* ``kill -9`` of an owner: the health checks take it out of the pool
  within two check intervals, and its clients, reconnecting through the
  front door, reach the new owner and lose nothing;
* a rolling restart of all three workers (SIGTERM, hand-over, start again,
  one at a time) while four clients type: nothing lost, no client sees an
  error frame that is not a hand-over notice;
* a hung worker (SIGSTOP) leaves the pool and HAProxy closes its sockets,
  so its clients move without waiting for their own timeouts.

Timings are printed (``-s``) for docs/scaleout.md.
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import time

import pytest

from collabdocs import devclient
from collabdocs.devcluster import SESSION_TIMEOUT, Cluster, FrontDoor
from collabdocs.devediting import (
    Editor,
    all_editing_again,
    converge_and_check,
    get_json,
    get_text,
    wait_until,
)
from routing.frontdoor import server_name
from tests.realtime.conftest import db
from tests.routing.test_cluster import documents_by_owner, seed_for

pytestmark = [pytest.mark.zookeeper, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: The check interval the cluster tests run HAProxy with (ms), as make cluster does.
INTER_MS = 1000


def fronted(cluster_factory, workers: int = 3) -> tuple[Cluster, FrontDoor]:
    cluster: Cluster = cluster_factory(0)
    cluster.use_front_door(inter_ms=INTER_MS)
    cluster.add(workers)
    return cluster, cluster.open_front_door()


def hint(worker_url: str) -> str:
    return f"/w/{server_name(worker_url)}"


async def editors_through(
    front: FrontDoor, doc_id: str, cookies: list[str], rng: random.Random, count: int
) -> list[Editor]:
    """Start editors as a page opened through the front door does.

    Each opens the socket URL the route endpoint answers (the owner's hint)
    and asks the route endpoint on the front door when it must.
    """
    status, body = await asyncio.to_thread(
        get_json, f"{front.url}/api/docs/{doc_id}/route", cookies[0]
    )
    assert status == 200, body
    editors = []
    for i in range(count):
        editor = Editor(
            body["url"].split("/ws/docs/")[0],
            doc_id,
            cookie=cookies[i % len(cookies)],
            rng=random.Random(rng.random()),
        )
        editor.client.home = front.ws_url
        editors.append(editor)
    for editor in editors:
        await editor.start()
        assert editor.client.redirects == 0
    return editors


def handover_notices_only(editors: list[Editor]) -> None:
    """Fail on any error frame but the reason that precedes a hand-over's close 4503.

    A worker handing a document over closes its sockets with 4503 after a
    ``denied`` frame saying why (protocol.md: every close carries its
    reason); clients treat it as part of the close and reconnect. Anything
    else (a refused op, a divergence, a 4503 without a hand-over) fails.
    """
    for editor in editors:
        errors = editor.client.ot.errors
        unexpected = [e for e in errors if e.get("code") != "denied"]
        assert unexpected == [], unexpected
        closes_4503 = editor.client.close_codes.count(4503)
        assert len(errors) <= closes_4503, (errors, editor.client.close_codes)


async def test_pages_and_the_route_endpoint_come_through_and_sockets_reach_owners(
    cluster_factory, people
):
    cluster, front = fronted(cluster_factory)
    docs = await db(documents_by_owner, people, cluster.live(), 1)
    cookie = people["cookies"]["editor"]
    assert await asyncio.to_thread(front.get, "/readyz") == 200
    assert await asyncio.to_thread(front.get, "/metrics") == 404, "metrics are not public"
    for owner_id, (doc_id,) in docs.items():
        owner = cluster.by_id(owner_id)
        expected = f"{front.ws_url}{hint(owner.url)}/ws/docs/{doc_id}/"
        # Round robin: three asks reach three workers; all answer the owner on the front door.
        for _ in range(3):
            status, body = await asyncio.to_thread(
                get_json, f"{front.url}/api/docs/{doc_id}/route", cookie
            )
            assert status == 200 and body == {"url": expected}
        # Every page names the owner too, whichever worker served it.
        for _ in range(3):
            page = await asyncio.to_thread(get_text, f"{front.url}/d/{doc_id}/", cookie)
            path = re.search(r'data-ws-path="([^"]+)"', page)
            assert path is not None and path.group(1) == "http" + expected[2:]
        # The hinted URL reaches the owner at once: only the owner says hello.
        client = devclient.WSClient(expected.split("/ws/docs/")[0], doc_id, cookie=cookie)
        await client.connect()
        assert client.redirects == 0
        await client.close()
        # A bare socket on the front door lands anywhere; a non-owner redirects it
        # to the hinted URL, which the balancer sends to the owner.
        for _ in range(3):
            bare = devclient.WSClient(front.ws_url, doc_id, cookie=cookie)
            await bare.connect()
            assert (bare.redirects, bare.base) in (
                (0, front.ws_url),
                (1, expected.split("/ws/docs/")[0]),
            )
            await bare.close()
    # Anonymous and strangers learn nothing through the front door either.
    doc_id = next(iter(docs.values()))[0]
    status, _ = await asyncio.to_thread(get_json, f"{front.url}/api/docs/{doc_id}/route", "")
    assert status == 401


async def test_kill_9_leaves_the_pool_and_clients_reach_the_new_owner_through_it(
    cluster_factory, people
):
    rng = random.Random(seed_for("frontdoor-kill"))
    cluster, front = fronted(cluster_factory)
    docs = await db(documents_by_owner, people, cluster.live(), 1)
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    cookies = [people["cookies"]["owner"], people["cookies"]["editor"]]
    editors = await editors_through(front, doc_id, cookies, rng, count=4)
    assert all(e.base == front.ws_url + hint(owner.url) for e in editors)
    await asyncio.sleep(1.5)
    killed_at = time.monotonic()
    owner.kill()
    name = server_name(owner.url)
    dropped = await wait_until(lambda: front.server_states().get(name) == "DOWN", 10, step=0.02)
    took = await all_editing_again(editors, killed_at, timeout=SESSION_TIMEOUT + 15)
    print(
        f"front door: kill -9 -> out of the pool in {dropped:.2f} s "
        f"(inter {INTER_MS} ms, fall 2); every client editing again {took:.2f} s after"
    )
    assert dropped <= 2 * INTER_MS / 1000 + 1.0
    new_owner = cluster.owner(doc_id)
    # Through the new owner's hint, or the dead one's, which the balancer
    # sends to a live worker now (the new owner served it without a redirect).
    bases = {front.ws_url + hint(new_owner.url), front.ws_url + hint(owner.url)}
    assert {e.base for e in editors} <= bases
    # Pages and the API keep answering through the front door meanwhile.
    for _ in range(3):
        status, body = await asyncio.to_thread(
            get_json, f"{front.url}/api/docs/{doc_id}/route", cookies[1]
        )
        assert status == 200 and hint(new_owner.url) in body["url"]
    await asyncio.sleep(1)
    summary = await converge_and_check(editors, doc_id)
    print(f"front door: kill -9: {summary['acked']} ops acked, all stored once")


async def test_a_rolling_restart_while_four_clients_type_loses_nothing(cluster_factory, people):
    rng = random.Random(seed_for("frontdoor-rolling"))
    cluster, front = fronted(cluster_factory)
    docs = await db(documents_by_owner, people, cluster.live(), 1)
    doc_ids = [ids[0] for ids in list(docs.values())[:2]]
    cookies = [people["cookies"]["owner"], people["cookies"]["editor"]]
    groups = {d: await editors_through(front, d, cookies, rng, count=2) for d in doc_ids}
    everyone = [e for group in groups.values() for e in group]
    await asyncio.sleep(1)
    timings = []
    for worker in list(cluster.workers):
        started = time.monotonic()
        status = await asyncio.to_thread(worker.terminate)
        assert status == 0, worker.log()[-2000:]
        stopped = time.monotonic() - started
        name = server_name(worker.url)
        await wait_until(
            lambda n=name: front.server_states().get(n) == "DOWN", 2 * INTER_MS / 1000 + 1
        )
        worker.start()
        await asyncio.to_thread(worker.wait_ready)
        await asyncio.to_thread(front.wait_until_up, [server_name(worker.url)])
        back = time.monotonic() - started
        await all_editing_again(everyone, time.monotonic(), timeout=20)
        timings.append((stopped, back))
    print(
        "front door: rolling restart, per worker (SIGTERM to exit, to back in the pool "
        "after it left it): " + ", ".join(f"{s:.1f} s / {b:.1f} s" for s, b in timings)
    )
    await asyncio.sleep(1)
    acked = 0
    for doc_id, group in groups.items():
        handover_notices_only(group)
        acked += (await converge_and_check(group, doc_id))["acked"]
    closes = [c for e in everyone for c in e.client.close_codes]
    codes = sorted(set(closes), key=str)
    notices = [e["code"] for ed in everyone for e in ed.client.ot.errors]
    print(
        f"front door: rolling restart: {acked} ops acked, 0 lost; close codes {codes}; "
        f"hand-over notices {dict((c, notices.count(c)) for c in set(notices))}"
    )


async def test_a_hung_worker_leaves_the_pool_and_the_balancer_closes_its_sockets(
    cluster_factory, people
):
    """SIGSTOP: the process is there but answers nothing (a hung event loop, a VM pause)."""
    rng = random.Random(seed_for("frontdoor-hung"))
    cluster, front = fronted(cluster_factory)
    docs = await db(documents_by_owner, people, cluster.live(), 1)
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    cookies = [people["cookies"]["owner"], people["cookies"]["editor"]]
    editors = await editors_through(front, doc_id, cookies, rng, count=2)
    await asyncio.sleep(1)
    closes_before = [len(e.client.close_codes) for e in editors]
    stopped_at = time.monotonic()
    owner.signal(signal.SIGSTOP)
    try:
        name = server_name(owner.url)
        # Each check times out after 2 s (timeout check): two of them.
        dropped = await wait_until(lambda: front.server_states().get(name) == "DOWN", 10)
        # on-marked-down shutdown-sessions: the balancer closes the frozen
        # worker's sockets, so its clients do not wait for their own timeouts.
        closed = await wait_until(
            lambda: all(
                len(e.client.close_codes) > n for e, n in zip(editors, closes_before, strict=True)
            ),
            3,
        )
        took = await all_editing_again(editors, stopped_at, timeout=SESSION_TIMEOUT + 15)
        print(
            f"front door: SIGSTOP -> out of the pool in {dropped:.2f} s, its sockets closed "
            f"{closed:.2f} s later; every client editing again {took:.2f} s after the stop"
        )
    finally:
        owner.signal(signal.SIGCONT)
    # Back: it learns its session expired, registers again and gets its share back.
    await asyncio.to_thread(front.wait_until_up, [server_name(owner.url)], 30)
    await asyncio.sleep(2)
    await converge_and_check(editors, doc_id)
