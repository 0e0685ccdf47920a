"""Three real ``runworker`` processes: redirects, route agreement, failover, hand-overs.

Real PostgreSQL (the test database), Redis and ZooKeeper; a ZooKeeper
session timeout of ``SESSION_TIMEOUT`` seconds. Randomized edits print their
seed; set ``SEED`` to replay one. Timings are printed (``-s``) for
docs/scaleout.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import time
import uuid

import pytest
from websockets.asyncio.client import connect

from collabdocs.devcluster import SESSION_TIMEOUT, Cluster, WorkerProcess
from collabdocs.devediting import (
    Editor,
    all_editing_again,
    converge_and_check,
    get_json,
    get_text,
    wait_until,
)
from collabdocs.devservers import start_zookeeper
from realtime.ot import Delta
from routing.ring import HashRing
from tests.realtime.conftest import create_document, create_user, db, share

pytestmark = [pytest.mark.zookeeper, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: Reconnecting after a failure: backoff (up to 2 s) plus a route lookup.
SLACK = 6


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


def documents_by_owner(people, workers: list[WorkerProcess], per_worker: int = 1) -> dict:
    """Create documents (shared with editor and viewer) until each worker owns some."""
    ring = HashRing([w.worker_id for w in workers])
    found: dict[str, list[str]] = {w.worker_id: [] for w in workers}
    for _ in range(500):
        if all(len(docs) >= per_worker for docs in found.values()):
            return found
        document = create_document(people["users"]["owner"])
        share(document, people["users"]["editor"], edit=True)
        share(document, people["users"]["viewer"])
        doc_id = str(document.public_id)
        owner = ring.owner(doc_id)
        if len(found[owner]) < per_worker:
            found[owner].append(doc_id)
    raise AssertionError("the ring never gave every worker a document")


async def editors_on(
    cluster: Cluster,
    doc_id: str,
    people,
    entries: list[WorkerProcess],
    rng: random.Random,
    count: int = 3,
) -> list[Editor]:
    cookies = [people["cookies"]["owner"], people["cookies"]["editor"]]
    editors = [
        Editor(
            entries[i % len(entries)].ws_url,
            doc_id,
            cookie=cookies[i % 2],
            rng=random.Random(rng.random()),
        )
        for i in range(count)
    ]
    for editor in editors:
        await editor.start()
    return editors


# -- routing ------------------------------------------------------------------------
#
# One cluster for both checks: a worker process outlives a test's database
# flush, which makes new content types that its caches (guardian's) do not
# know, so clusters are made inside the test that uses them.


async def test_every_worker_agrees_and_a_non_owner_redirects_to_the_owner(cluster_factory, people):
    cluster = cluster_factory(3)
    await check_routes_agree(cluster, people)
    await check_redirect_and_editing(cluster, people)


async def check_routes_agree(shared_cluster: Cluster, people) -> None:
    workers = shared_cluster.live()
    docs = await db(documents_by_owner, people, workers, 2)
    cookie = people["cookies"]["viewer"]
    for owner_id, doc_ids in docs.items():
        owner = shared_cluster.by_id(owner_id)
        for doc_id in doc_ids:
            for worker in workers:
                status, body = await asyncio.to_thread(
                    get_json, f"{worker.url}/api/docs/{doc_id}/route", cookie
                )
                assert status == 200 and body == {"url": f"{owner.ws_url}/ws/docs/{doc_id}/"}
                page = await asyncio.to_thread(get_text, f"{worker.url}/d/{doc_id}/", cookie)
                path = re.search(r'data-ws-path="([^"]+)"', page).group(1)
                expected = (
                    f"/ws/docs/{doc_id}/" if worker is owner else f"{owner.url}/ws/docs/{doc_id}/"
                )
                assert path == expected
    # Anonymous and strangers learn nothing, on any worker.
    some_doc = next(iter(docs.values()))[0]
    for worker in workers:
        status, _ = await asyncio.to_thread(get_json, f"{worker.url}/api/docs/{some_doc}/route", "")
        assert status == 401
        status, _ = await asyncio.to_thread(
            get_json, f"{worker.url}/api/docs/{some_doc}/route", people["cookies"]["stranger"]
        )
        assert status == 404


async def check_redirect_and_editing(shared_cluster: Cluster, people) -> None:
    seed = seed_for("redirect")
    rng = random.Random(seed)
    workers = shared_cluster.live()
    docs = await db(documents_by_owner, people, workers)
    owner = workers[0]
    doc_id = docs[owner.worker_id][0]
    stranger = workers[1]
    ws = await connect(
        f"{stranger.ws_url}/ws/docs/{doc_id}/",
        origin=stranger.url,
        additional_headers={"Cookie": people["cookies"]["editor"]},
    )
    frame = json.loads(await ws.recv())
    await ws.wait_closed()
    assert frame == {"type": "redirect", "url": f"{owner.ws_url}/ws/docs/{doc_id}/"}
    assert ws.close_code == 4301
    # Editors entering through every worker end up on the owner and converge.
    editors = await editors_on(shared_cluster, doc_id, people, workers, rng, count=3)
    assert [e.client.redirects for e in editors] == [0, 1, 1]
    assert all(e.base == owner.ws_url for e in editors)
    # The staff page, on any worker, shows where the document is open.
    staff = await db(staff_cookie)

    def page_lists_the_sockets() -> bool:
        page = get_text(f"{stranger.url}/admin/cluster/?doc={doc_id}", staff)
        return f"{owner.worker_id} (3 sockets)" in page and page.count("<strong>127.0.0.1:") >= 3

    await wait_until(page_lists_the_sockets, 10, step=0.3)
    await asyncio.sleep(1)
    summary = await converge_and_check(editors, doc_id)
    assert summary["head"] > 10, f"seed={seed}"


# -- failover ---------------------------------------------------------------------


async def test_kill_9_of_the_owner_fails_over_within_the_session_timeout(cluster_factory, people):
    seed = seed_for("failover")
    rng = random.Random(seed)
    cluster = cluster_factory(3)
    docs = await db(documents_by_owner, people, cluster.live())
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    survivors = cluster.others(owner)
    editors = await editors_on(cluster, doc_id, people, survivors, rng, count=4)
    assert all(e.base == owner.ws_url for e in editors)
    await asyncio.sleep(1.5)
    killed_at = time.monotonic()
    owner.kill()
    took = await all_editing_again(editors, killed_at, timeout=SESSION_TIMEOUT + 15)
    print(
        f"failover: every client editing again {took:.2f} s after kill -9 "
        f"(session timeout {SESSION_TIMEOUT} s)"
    )
    assert took <= SESSION_TIMEOUT + SLACK
    new_owner = cluster.owner(doc_id)
    assert new_owner is not owner and all(e.base == new_owner.ws_url for e in editors)
    await asyncio.sleep(1)
    await converge_and_check(editors, doc_id)


async def test_a_joining_worker_takes_its_documents_without_losing_an_op(cluster_factory, people):
    seed = seed_for("join")
    rng = random.Random(seed)
    cluster = cluster_factory(2)
    newcomer = WorkerProcess(env=cluster.env, log_dir=cluster.log_dir)
    after = [*cluster.live(), newcomer]
    before_ring = HashRing([w.worker_id for w in cluster.live()])
    moving: list[str] = []
    staying: list[str] = []

    def pick() -> None:
        docs = documents_by_owner(people, after, per_worker=2)
        moving.extend(docs[newcomer.worker_id])
        staying.append(next(d for w, ds in docs.items() if w != newcomer.worker_id for d in ds))

    await db(pick)
    editors = {}
    for doc_id in [*moving, *staying]:
        editors[doc_id] = await editors_on(cluster, doc_id, people, cluster.live(), rng, count=2)
        assert all(
            e.base == cluster.by_id(before_ring.owner(doc_id)).ws_url for e in editors[doc_id]
        )
    await asyncio.sleep(1)
    cluster.workers.append(newcomer)
    joined_at = time.monotonic()
    newcomer.start().wait_ready()
    moved = [e for doc_id in moving for e in editors[doc_id]]
    await wait_until(lambda: all(e.base == newcomer.ws_url for e in moved), 20)
    took = await all_editing_again(moved, joined_at, timeout=20)
    print(
        f"join: {len(moving)} documents moved to the newcomer; their clients editing "
        f"again {took:.2f} s after it started"
    )
    for doc_id in staying:
        assert all(4503 not in e.client.close_codes for e in editors[doc_id])
    await asyncio.sleep(1)
    for doc_id, group in editors.items():
        await converge_and_check(group, doc_id)


async def test_an_expired_session_stops_serving_and_recovers(cluster_factory, people):
    seed = seed_for("expiry")
    rng = random.Random(seed)
    cluster = cluster_factory(3)
    docs = await db(documents_by_owner, people, cluster.live())
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    entries = cluster.others(owner)
    editors = await editors_on(cluster, doc_id, people, entries, rng, count=2)
    await asyncio.sleep(1)
    # A process frozen for longer than its session (a long GC pause, a
    # suspended VM): ZooKeeper expires the session and the others take over.
    owner.signal(signal.SIGSTOP)
    paused_at = time.monotonic()
    heir = cluster.owner(doc_id, entries)
    late = Editor(
        entries[1].ws_url,
        doc_id,
        cookie=people["cookies"]["editor"],
        rng=random.Random(rng.random()),
    )
    takeover = await wait_until(
        lambda: _route_of(entries[0], doc_id, people) == heir.ws_url, SESSION_TIMEOUT + 10
    )
    await late.start()
    assert late.base == heir.ws_url
    await wait_until(lambda: late.acked_since(paused_at), 10)
    owner.signal(signal.SIGCONT)
    resumed_at = time.monotonic()
    # It learns its session is gone, stops serving, registers again and gets
    # its documents back; every client follows.
    await wait_until(lambda: "ZooKeeper session lost" in owner.log(), 15)
    await wait_until(lambda: owner.log().count("registered http") >= 2, 15)
    everyone = [*editors, late]
    await wait_until(lambda: all(e.base == owner.ws_url for e in everyone), 20)
    back_at = time.monotonic()
    await all_editing_again(everyone, back_at, timeout=20)
    print(
        f"expiry: others took over {takeover:.2f} s after the owner froze; once it resumed, "
        f"every client was back on it and editing after {time.monotonic() - resumed_at:.2f} s"
    )
    await asyncio.sleep(0.5)
    await converge_and_check(everyone, doc_id)


def staff_cookie() -> str:
    from tests.realtime.conftest import session_cookie

    return session_cookie(create_user("operator", is_staff=True))


def _route_of(worker: WorkerProcess, doc_id: str, people) -> str | None:
    status, body = get_json(f"{worker.url}/api/docs/{doc_id}/route", people["cookies"]["owner"])
    if status != 200:
        return None
    return body["url"].split("/ws/")[0]


async def test_sigterm_hands_documents_over_cleanly(cluster_factory, people):
    seed = seed_for("sigterm")
    rng = random.Random(seed)
    cluster = cluster_factory(3)
    docs = await db(documents_by_owner, people, cluster.live())
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    editors = await editors_on(cluster, doc_id, people, cluster.others(owner), rng, count=3)
    await asyncio.sleep(1.5)
    stopped_at = time.monotonic()
    status = await asyncio.to_thread(owner.terminate, 30)
    drained = time.monotonic() - stopped_at
    assert status == 0, owner.log()[-3000:]
    took = await all_editing_again(editors, stopped_at, timeout=10)
    print(
        f"sigterm: owner exited 0 after {drained:.2f} s; clients editing again "
        f"{took:.2f} s after the signal"
    )
    for editor in editors:
        assert 4503 in editor.client.close_codes  # told, not dropped
    assert "handed" in owner.log() and "Traceback" not in owner.log()
    await asyncio.sleep(0.5)
    await converge_and_check(editors, doc_id)


async def test_zookeeper_stopped_and_restarted_during_editing(cluster_factory, people):
    seed = seed_for("zk-restart")
    rng = random.Random(seed)
    zk = start_zookeeper()
    try:
        cluster = cluster_factory(3, zk_hosts=zk.extra["hosts"])
        docs = await db(documents_by_owner, people, cluster.live())
        owner = cluster.live()[0]
        doc_id = docs[owner.worker_id][0]
        editors = await editors_on(cluster, doc_id, people, cluster.live(), rng, count=3)
        await asyncio.sleep(1)
        # A short outage: sessions survive, editing never stops.
        zk.stop_process(kill=True)
        down_at = time.monotonic()
        await asyncio.sleep(SESSION_TIMEOUT / 2)
        assert all(e.acked_since(down_at + 0.2) for e in editors), "editing stopped"
        await asyncio.to_thread(zk.start_process)
        await asyncio.sleep(1)
        # A long one: past a session timeout the workers stop serving (they
        # cannot know they still own anything); once ZooKeeper is back with
        # their sessions they serve again and the clients return. Count the
        # fencings from here: on a loaded machine ZooKeeper may take longer
        # than a session to restart, so the short outage can fence too.
        fenced_before = {w.worker_id: w.log().count("stop serving") for w in cluster.live()}
        zk.stop_process(kill=True)
        await wait_until(
            lambda: all(
                w.log().count("stop serving") > fenced_before[w.worker_id] for w in cluster.live()
            ),
            SESSION_TIMEOUT + 5,
        )
        closes_before = [len(e.client.close_codes) for e in editors]
        quiet_from = time.monotonic() + 0.5
        await asyncio.sleep(1.5)
        assert not any(e.acked_since(quiet_from) for e in editors), "served without ZooKeeper"
        restart_at = time.monotonic()
        await asyncio.to_thread(zk.start_process)
        up = time.monotonic() - restart_at
        took = await all_editing_again(editors, restart_at, timeout=20)
        # Fenced workers answer 4503 with a retry hint, never a redirect to
        # each other; once they serve again, at most one redirect per client
        # (from the worker it entered through to the owner).
        redirects = sum(
            e.client.close_codes[n:].count(4301)
            for e, n in zip(editors, closes_before, strict=True)
        )
        print(
            f"zookeeper restart: ZooKeeper took {up:.2f} s to start; clients editing again "
            f"{took:.2f} s after it was started; {redirects} redirects while fenced and after"
        )
        assert redirects <= len(editors)
        assert all(e.base == owner.ws_url for e in editors)
        await asyncio.sleep(0.5)
        await converge_and_check(editors, doc_id)
        stopping_at = time.monotonic()
        cluster.stop()
        assert time.monotonic() - stopping_at < 10
    finally:
        zk.stop()


# -- server-made changes -----------------------------------------------------------


async def test_a_restore_asked_of_any_worker_goes_through_the_owner(
    cluster_factory, people, settings, redis_server
):
    seed = seed_for("restore")
    rng = random.Random(seed)
    cluster = cluster_factory(3)
    docs = await db(documents_by_owner, people, cluster.live())
    owner = cluster.live()[0]
    doc_id = docs[owner.worker_id][0]
    editors = await editors_on(cluster, doc_id, people, cluster.others(owner), rng, count=2)
    await asyncio.sleep(1)
    for editor in editors:
        await editor.stop_editing()
        await editor.client.wait_synchronized()
    # Random edits may have deleted all they typed (seed 846363512 does):
    # give the restore something to undo.
    await editors[0].client.edit(Delta([{"insert": "Typed before the restore"}]))
    for editor in editors:
        await editor.client.wait_for(
            lambda c=editor.client: "Typed before the restore" in c.ot.doc.text()
        )
    # Through the HTTP endpoint of a worker that does not own the document.
    first_version = await db(_first_version, doc_id)
    entry = cluster.others(owner)[0]
    cookie = people["cookies"]["owner"]
    status, body = await asyncio.to_thread(
        _post_with_csrf,
        f"{entry.url}/api/docs/{doc_id}/history/{first_version}/restore",
        f"{entry.url}/d/{doc_id}/",
        cookie,
    )
    assert status == 200, body
    for editor in editors:
        await editor.client.wait_for(lambda c=editor.client: c.ot.content() == [{"insert": "\n"}])
    # From a process that is no worker at all (a shell, a command).
    from channels.layers import channel_layers

    from documents.live import live_documents

    settings.ZOOKEEPER_HOSTS = cluster.zk_hosts
    settings.ZOOKEEPER_ROOT = cluster.root
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.extra["url"]]},
        }
    }
    channel_layers.backends = {}
    target = [{"insert": "Restored from the shell\n"}]
    applied = await asyncio.to_thread(
        live_documents().apply_edit,
        public_id=uuid.UUID(doc_id),
        edit={"kind": "content", "target": target},
        user_id=None,
        user_name="operator",
    )
    assert applied is not None and applied.revision > 0
    for editor in editors:
        await editor.client.wait_for(lambda c=editor.client: c.ot.content() == target)
    await converge_and_check(editors, doc_id, server_ops=2)


def _first_version(doc_id: str) -> int:
    from documents.models import DocumentVersion

    return DocumentVersion.objects.filter(document__public_id=doc_id).order_by("pk")[0].pk


def _post_with_csrf(url: str, page: str, cookie: str) -> tuple[int, dict]:
    import http.cookiejar
    import urllib.error
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(urllib.request.Request(page, headers={"Cookie": cookie}), timeout=10).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={
            "Cookie": f"{cookie}; csrftoken={token}",
            "X-CSRFToken": token,
            "Content-Type": "application/json",
            "Referer": page,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"body": exc.read().decode(errors="replace")[:500]}
