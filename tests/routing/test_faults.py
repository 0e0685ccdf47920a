"""ZooKeeper faults on real workers: short outages, a frozen owner, the lease.

Real ``runworker`` processes, PostgreSQL, Redis and a ZooKeeper of the
test's own (it is stopped and started). Each test ends with the cluster
checks of :func:`~collabdocs.devediting.converge_and_check`: every client
on the stored content, every acked op stored exactly once, nothing dropped.
Figures are printed (``-s``) for docs/scaleout.md.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import time

import pytest

from collabdocs.devcluster import SESSION_TIMEOUT
from collabdocs.devediting import Editor, all_editing_again, converge_and_check, wait_until
from collabdocs.devservers import start_zookeeper
from tests.realtime.conftest import db
from tests.routing.test_cluster import _route_of, documents_by_owner, editors_on, seed_for

pytestmark = [pytest.mark.zookeeper, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: Session timeout of the outage test: long enough that ZooKeeper's own
#: restart (a JVM start, 1-3 s on 2 busy cores) fits well inside it.
OUTAGE_SESSION = 8
OUTAGES = 3


def _errors(editors: list[Editor], code: str) -> int:
    return sum(1 for e in editors for err in e.client.ot.errors if err.get("code") == code)


def _longest_gap(editor: Editor, since: float) -> float:
    times = [since, *(t for t in editor.ack_times if t >= since), time.monotonic()]
    return max(b - a for a, b in itertools.pairwise(times))


async def test_zookeeper_outages_shorter_than_the_session_never_stop_editing(
    cluster_factory, people
):
    seed = seed_for("zk-outages")
    rng = random.Random(seed)
    zk = start_zookeeper()
    try:
        cluster = cluster_factory(2, zk_hosts=zk.extra["hosts"], session_timeout=OUTAGE_SESSION)
        docs = await db(documents_by_owner, people, cluster.live())
        doc_id = docs[cluster.live()[0].worker_id][0]
        editors = await editors_on(cluster, doc_id, people, cluster.live(), rng, count=3)
        await asyncio.sleep(1)
        started = time.monotonic()
        downs = []
        for _ in range(OUTAGES):
            zk.stop_process(kill=True)
            down_at = time.monotonic()
            await asyncio.sleep(1.0)
            await asyncio.to_thread(zk.start_process)
            downs.append(time.monotonic() - down_at)
            assert downs[-1] < OUTAGE_SESSION - 1, "the outage was not shorter than the session"
            await asyncio.sleep(1.5)
            assert all(e.acked_since(down_at + downs[-1]) for e in editors), "editing stopped"
        gaps = [_longest_gap(e, started) for e in editors]
        print(
            f"zk outages ({seed=}): ZooKeeper down {', '.join(f'{d:.2f}' for d in downs)} s "
            f"(session {OUTAGE_SESSION} s); longest wait for an ack {max(gaps):.2f} s; "
            f"{_errors(editors, 'unavailable')} ops refused for a lapsed lease and resent"
        )
        for worker in cluster.live():
            assert "stop serving" not in worker.log(), "a worker fenced itself"
            assert "session lost" not in worker.log()
        for editor in editors:
            assert 4503 not in editor.client.close_codes, "a socket was moved"
        summary = await converge_and_check(editors, doc_id)
        print(f"zk outages: {summary['acked']} ops acked, all stored once, none lost")
    finally:
        zk.stop()


async def test_a_frozen_owner_accepts_nothing_once_another_has_taken_over(cluster_factory, people):
    from documents.models import Operation

    seed = seed_for("frozen")
    rng = random.Random(seed)
    cluster = cluster_factory(3)
    docs = await db(documents_by_owner, people, cluster.live())
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    entries = cluster.others(owner)
    editors = await editors_on(cluster, doc_id, people, entries, rng, count=3)
    await asyncio.sleep(1)
    # Frozen past its session (a long GC, a paused VM) with its clients'
    # ops piling up in its sockets' buffers.
    owner.signal(signal.SIGSTOP)
    paused_at = time.monotonic()
    heir = cluster.owner(doc_id, entries)
    late = Editor(
        entries[1].ws_url,
        doc_id,
        cookie=people["cookies"]["editor"],
        rng=random.Random(rng.random()),
    )
    await wait_until(
        lambda: _route_of(entries[0], doc_id, people) == heir.ws_url, SESSION_TIMEOUT + 10
    )
    await late.start()
    assert late.base == heir.ws_url
    await wait_until(lambda: late.acked_since(paused_at), 10)
    await asyncio.sleep(0.5)
    owner.signal(signal.SIGCONT)
    everyone = [*editors, late]
    await wait_until(lambda: owner.log().count("registered http") >= 2, 15)
    await wait_until(lambda: all(e.base == owner.ws_url for e in everyone), 20)
    await all_editing_again(everyone, time.monotonic(), timeout=20)
    await asyncio.sleep(0.5)
    ack_log = [entry for e in everyone for entry in e.ack_log]
    await converge_and_check(everyone, doc_id)

    def stored_at() -> dict[str, float]:
        rows = Operation.objects.filter(document__public_id=doc_id).values_list(
            "op_id", "created_at"
        )
        return {op_id: created.timestamp() for op_id, created in rows}

    stored = await db(stored_at)
    by_heir = sorted(stored[op_id] for _, base, op_id in ack_log if base == heir.ws_url)
    assert by_heir, "the heir committed nothing"
    took_over, gave_back = by_heir[0], by_heir[-1]
    # Every op the old owner acked was stored before the heir's first commit
    # or after the heir's last (once it had the document back): no overlap.
    overlapping = [
        op_id
        for _, base, op_id in ack_log
        if base == owner.ws_url and took_over <= stored[op_id] <= gave_back
    ]
    old = [
        stored[op_id]
        for _, base, op_id in ack_log
        if base == owner.ws_url and stored[op_id] < took_over
    ]
    print(
        f"frozen owner ({seed=}): its last commit {took_over - max(old):.2f} s before the "
        f"heir's first; heir served {gave_back - took_over:.2f} s; "
        f"{_errors(everyone, 'unavailable')} ops refused and resent; overlap {len(overlapping)}"
    )
    assert overlapping == [], f"the old owner stored ops while the heir owned it: {overlapping}"
