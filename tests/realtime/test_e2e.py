"""End to end: real daphne processes, real sockets (the ``websockets`` client).

Randomized tests print their seed; set ``SEED`` to replay one.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from collabdocs.devclient import OTClient, WSClient, random_change
from collabdocs.devservers import start_postgres
from documents import events
from documents.models import Operation
from realtime.ot import Delta, DocumentText
from tests.conftest import REPO, DaphneProcess
from tests.realtime.conftest import db, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORIGIN = None  # no Origin header: a non-browser client (collabdocs/origin.py)


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


async def edit_randomly(
    client: WSClient, rng: random.Random, count: int, pause: float = 0.02
) -> None:
    for _ in range(count):
        await client.edit(random_change(client.ot.doc, rng))
        await asyncio.sleep(rng.random() * pause)


async def converge(clients: list[WSClient], head: int, timeout: float = 30) -> None:
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.synchronized and c.ot.rev == head, timeout)


async def acked_ids_in_store(doc_id: str) -> set[str]:
    return set(
        await db(
            lambda: list(
                Operation.objects.filter(document__public_id=doc_id).values_list("op_id", flat=True)
            )
        )
    )


async def test_random_concurrent_edits_converge_and_every_ack_is_stored(live_daphne, people):
    seed = seed_for("converge")
    rng = random.Random(seed)
    cookies = people["cookies"]
    clients = [
        WSClient(
            live_daphne.ws_url, people["doc_id"], cookie=cookies[name], rng=random.Random(seed + i)
        )
        for i, name in enumerate(["owner", "editor", "owner", "editor"])
    ]
    for client in clients:
        await client.connect()
    await asyncio.gather(
        *(edit_randomly(client, random.Random(rng.random()), 40) for client in clients)
    )
    for client in clients:
        await client.wait_synchronized()
    head, content = await db(stored_content, people["doc_id"])
    await converge(clients, head)
    for client in clients:
        assert client.ot.content() == content, f"seed={seed}"
        assert client.ot.errors == [], client.ot.errors
    acked = {op_id for client in clients for op_id in client.ot.acked}
    assert len(acked) == head  # every op acked exactly once, each a revision
    assert acked == await acked_ids_in_store(people["doc_id"])
    for client in clients:
        await client.close()


async def test_a_resend_after_a_dropped_socket_applies_once(live_daphne, people):
    cookie = people["cookies"]["owner"]
    url = f"{live_daphne.ws_url}/ws/docs/{people['doc_id']}/"
    ot = OTClient()
    ws = await connect(url, origin=ORIGIN, additional_headers={"Cookie": cookie})
    ot.on_hello(json.loads(await ws.recv()))
    (frame,) = ot.edit(Delta().insert("typed once"))
    await ws.send(frame)
    await asyncio.sleep(0.5)  # stored and acked, but the ack is never read
    ws.transport.abort()
    # Reconnect with ?rev=: the missed op is ours, so it counts as the ack.
    ws = await connect(url + f"?rev={ot.rev}", origin=ORIGIN, additional_headers={"Cookie": cookie})
    hello = json.loads(await ws.recv())
    assert [item["id"] for item in hello["ops"]] == [json.loads(frame)["id"]]
    assert ot.on_hello(hello) == [] and ot.synchronized
    # A client that resends anyway (it did not see the op) is acked, not applied.
    await ws.send(frame)
    assert json.loads(await ws.recv()) == {"type": "ack", "id": json.loads(frame)["id"], "rev": 1}
    await ws.close()
    # The same through WSClient: drop right after sending, let it reconnect and resend.
    client = WSClient(live_daphne.ws_url, people["doc_id"], cookie=cookie)
    await client.connect()
    await client.edit(Delta().retain(10).insert(" and again"))
    await client.drop()
    await client.wait_synchronized()
    assert client.connects == 2
    assert await db(stored_content, people["doc_id"]) == (2, [{"insert": "typed once and again\n"}])
    await client.close()


async def test_catch_up_after_a_reconnect(live_daphne, people):
    seed = seed_for("catch-up")
    rng = random.Random(seed)
    cookies = people["cookies"]
    a = WSClient(live_daphne.ws_url, people["doc_id"], cookie=cookies["owner"], reconnect=False)
    b = WSClient(live_daphne.ws_url, people["doc_id"], cookie=cookies["editor"])
    await a.connect()
    await b.connect()
    await edit_randomly(a, rng, 5)
    await a.wait_synchronized()
    await a.close()
    seen = a.ot.rev
    await edit_randomly(b, rng, 10)
    await b.wait_synchronized()
    hello = await a.connect()
    assert "content" not in hello and len(hello["ops"]) == b.ot.rev - seen
    await converge([a, b], b.ot.rev)
    assert a.ot.content() == b.ot.content()
    await a.close()
    await b.close()


async def test_error_codes_and_limits_over_real_sockets(daphne_factory, people):
    server = daphne_factory(
        COLLABDOCS_MAX_FRAME_BYTES="2048", COLLABDOCS_OPS_PER_SECOND="3", COLLABDOCS_OP_WINDOW="10"
    )
    url = f"{server.ws_url}/ws/docs/{people['doc_id']}/"
    cookies = people["cookies"]

    async def open_(cookie: str | None, origin: str = ORIGIN):
        headers = {"Cookie": cookie} if cookie else {}
        return await connect(url, origin=origin, additional_headers=headers, max_size=None)

    async def error_of(ws, frame) -> dict:
        await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == "error":
                return msg

    # Refused handshake: foreign origin.
    with pytest.raises(InvalidStatus) as refused:
        await open_(cookies["owner"], origin="http://evil.example")
    assert refused.value.response.status_code == 403

    # denied + close codes.
    for cookie, code in ((None, 4401), (cookies["stranger"], 4404)):
        ws = await open_(cookie)
        msg = json.loads(await ws.recv())
        assert (msg["type"], msg["code"]) == ("error", "denied")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == code

    owner = await open_(cookies["owner"])
    assert json.loads(await owner.recv())["type"] == "hello"
    op_id = "e" * 20
    assert (await error_of(owner, "{oops"))["code"] == "bad_message"
    bad = await error_of(
        owner, {"type": "op", "id": f"{op_id}:1", "rev": 0, "delta": [{"delete": 1}]}
    )
    assert (bad["code"], bad["id"]) == ("bad_op", f"{op_id}:1")
    large = await error_of(
        owner, {"type": "op", "id": f"{op_id}:2", "rev": 0, "delta": [{"insert": "x" * 3000}]}
    )
    assert large["code"] == "too_large"
    limited = None
    for n in range(3, 10):
        await owner.send(
            json.dumps(
                {"type": "op", "id": f"{op_id}:{n}", "rev": n - 3, "delta": [{"insert": "y"}]}
            )
        )
        msg = json.loads(await owner.recv())
        if msg["type"] == "error":
            limited = msg
            break
    assert limited is not None and limited["code"] == "rate_limited" and limited["retry_after"] > 0
    viewer = await open_(cookies["viewer"])
    hello = json.loads(await viewer.recv())
    assert hello["can_edit"] is False
    forbidden = await error_of(
        viewer,
        {"type": "op", "id": f"{'v' * 20}:1", "rev": hello["rev"], "delta": [{"insert": "no"}]},
    )
    assert forbidden["code"] == "forbidden"
    # A frame beyond the WebSocket layer's own limit (1 MiB) ends the
    # connection: autobahn fails it with 1009 and drops TCP at once, so the
    # client may see 1006 before the close frame arrives.
    await owner.send("x" * (1024 * 1024 + 10))
    with pytest.raises(ConnectionClosed):
        while True:
            await owner.recv()
    assert owner.close_code in (1009, 1006)
    await viewer.close()


async def test_revoking_a_share_closes_the_socket_across_processes(
    daphne_factory, redis_server, people, settings
):
    """The daphne worker and this process share Redis, as two workers would."""
    from channels.layers import channel_layers, get_channel_layer
    from guardian.shortcuts import remove_perm

    redis_url = redis_server.extra["url"]
    server = daphne_factory(REDIS_URL=redis_url)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    channel_layers.backends = {}
    viewer = WSClient(server.ws_url, people["doc_id"], cookie=people["cookies"]["viewer"])
    editor = WSClient(server.ws_url, people["doc_id"], cookie=people["cookies"]["editor"])
    await viewer.connect()
    await editor.connect()
    await editor.edit(Delta().insert("secret"))
    await editor.wait_synchronized()
    # A viewer cannot edit.
    await viewer.edit(Delta().insert("nope"))
    await viewer.wait_for(lambda: any(e["code"] == "forbidden" for e in viewer.ot.errors))
    await db(remove_perm, "documents.view_document", people["users"]["viewer"], people["doc"])
    await db(events.access_changed, public_id=people["doc_id"])
    assert await viewer.wait_closed() == 4403
    assert viewer.stopped
    assert any(e["code"] == "denied" for e in viewer.ot.errors)
    # The editor is still allowed and stays connected.
    await editor.edit(Delta().insert("more "))
    await editor.wait_synchronized()
    await db(events.document_removed, public_id=people["doc_id"])
    assert await editor.wait_closed() == 4404
    await get_channel_layer().close_pools()


async def test_an_idle_socket_on_a_redis_worker_stays_open(daphne_factory, redis_server, people):
    """A quiet socket is not dropped by the channel layer's blocking receive.

    channels_redis waits on Redis with a 5 s blocking pop; a Redis client
    whose socket timeout is shorter (redis-py 8's default) raised in every
    consumer after 5 s of quiet and closed its socket.
    """
    server = daphne_factory(REDIS_URL=redis_server.extra["url"])
    url = f"{server.ws_url}/ws/docs/{people['doc_id']}/"
    ot = OTClient()
    ws = await connect(
        url, origin=ORIGIN, additional_headers={"Cookie": people["cookies"]["owner"]}
    )
    ot.on_hello(json.loads(await ws.recv()))
    await asyncio.sleep(7)  # longer than the channel layer's blocking receive
    (frame,) = ot.edit(Delta().insert("still here"))
    await ws.send(frame)
    assert json.loads(await asyncio.wait_for(ws.recv(), timeout=10))["type"] == "ack"
    await ws.close()
    assert "TimeoutError" not in server.log(), server.log()[-2000:]


# -- PostgreSQL stopped mid-edit -------------------------------------------------

_FIXTURES_SCRIPT = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from tests.realtime.conftest import create_document, session_cookie, share
User = get_user_model()
owner = User.objects.create_user("pgowner", password=None)
editor = User.objects.create_user("pgeditor", password=None)
doc = create_document(owner)
share(doc, editor, edit=True)
print(json.dumps({"doc": str(doc.public_id),
                  "cookies": [session_cookie(owner), session_cookie(editor)]}))
"""


def _run_django(database_url: str, *args: str) -> str:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="collabdocs.settings",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _stored(database_url: str, doc_id: str) -> tuple[list[str], list[dict]]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        (snapshot,) = conn.execute(
            "SELECT v.content FROM documents_document d JOIN documents_documentversion v "
            "ON v.id = d.snapshot_id WHERE d.public_id = %s",
            [doc_id],
        ).fetchone()
        rows = conn.execute(
            "SELECT o.op_id, o.delta FROM documents_operation o JOIN documents_document d "
            "ON d.id = o.document_id WHERE d.public_id = %s ORDER BY o.revision",
            [doc_id],
        ).fetchall()
    doc = DocumentText.from_ops(snapshot)
    for _, delta in rows:
        doc.apply(Delta(delta))
    return [op_id for op_id, _ in rows], doc.to_ops()


@pytest.fixture
def throwaway_postgres():
    """A PostgreSQL cluster of its own: stopping it never touches the suite's."""
    server = start_postgres()
    yield server
    server.stop()


async def test_postgres_stopped_mid_edit_loses_nothing_acked(throwaway_postgres, tmp_path: Path):
    import psycopg

    seed = seed_for("postgres-outage")
    rng = random.Random(seed)
    pg = throwaway_postgres
    with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE outage")
    database_url = pg.url("outage")
    await asyncio.to_thread(_run_django, database_url, "manage.py", "migrate", "--noinput")
    made = json.loads(await asyncio.to_thread(_run_django, database_url, "-c", _FIXTURES_SCRIPT))
    server = await asyncio.to_thread(DaphneProcess, database_url, None, tmp_path)
    try:
        clients = [
            WSClient(server.ws_url, made["doc"], cookie=cookie, rng=random.Random(seed + i))
            for i, cookie in enumerate(made["cookies"] * 2)
        ]
        for client in clients:
            await client.connect()
        stop = asyncio.Event()

        async def keep_typing(client: WSClient, local: random.Random) -> None:
            while not stop.is_set():
                await client.edit(random_change(client.ot.doc, local))
                await asyncio.sleep(0.01 + local.random() * 0.03)

        typing = [asyncio.create_task(keep_typing(c, random.Random(rng.random()))) for c in clients]
        await asyncio.sleep(1.0)
        acked_before = sum(len(c.ot.acked) for c in clients)
        await asyncio.to_thread(pg.stop_cluster)
        t_down = time.monotonic()
        await asyncio.sleep(1.5)
        await asyncio.to_thread(pg.start_cluster)
        print(f"PostgreSQL was down {time.monotonic() - t_down:.1f}s")
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*typing)
        for client in clients:
            await client.wait_synchronized(timeout=60)
        stored_ids, content = await asyncio.to_thread(_stored, database_url, made["doc"])
        await converge(clients, len(stored_ids), timeout=30)
        acked = {op_id for c in clients for op_id in c.ot.acked}
        assert acked_before > 0
        assert any(e["code"] == "unavailable" for c in clients for e in c.ot.errors), (
            "the outage was not noticed"
        )
        assert acked == set(stored_ids), f"seed={seed}"
        for client in clients:
            assert client.ot.content() == content, f"seed={seed}"
            await client.close()
    finally:
        server.stop()
