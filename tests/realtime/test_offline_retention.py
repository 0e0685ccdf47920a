"""Unsaved edits survive an offline period up to the retention horizon.

Against a real daphne (a window of 10 ops, a snapshot every 50 ops keeping
5, unload after 1 s idle): a client goes offline with an edit of its own
pending, another client makes more than a thousand edits (the owner
compacts many times), the document is unloaded (a last snapshot), and
then the first client comes back with its old ``?rev=``. Compaction kept
the op log of ``RETENTION_DAYS``, so the catch-up ``hello`` brings those
ops from storage and the pending edit is rebased and stored exactly once.
Beyond the horizon (``RETENTION_DAYS=0``) the client gets the content, and
its pending text is handed back rather than applied blindly.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect

from collabdocs.devclient import OTClient, WSClient, random_change
from documents.models import Document, Operation
from documents.store import MemoryDocumentStore
from realtime import authority as authority_module
from realtime.authority import Authority
from realtime.ot import Delta, DocumentText
from realtime.protocol import OpMessage
from realtime.runner import StoreRunner
from tests.realtime.conftest import (
    create_document,
    create_user,
    db,
    session_cookie,
    share,
    stored_content,
)
from tests.realtime.test_authority import FakeSocket, settle

pytestmark = pytest.mark.django_db(transaction=True)

DAPHNE_ENV = {
    "COLLABDOCS_OP_WINDOW": "10",
    "COLLABDOCS_COMPACT_THRESHOLD_OPS": "50",
    "COLLABDOCS_COMPACT_KEEP_OPS": "5",
    "COLLABDOCS_IDLE_UNLOAD_SECONDS": "1",
    "COLLABDOCS_OPS_PER_SECOND": "100000",
    "COLLABDOCS_SOCKET_CPU_MS_PER_SECOND": "1000",
    "COLLABDOCS_USER_CPU_MS_PER_SECOND": "1000",
}
MINE = "[offline edit]"


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


async def _setup(daphne_factory: Any, **env: str) -> tuple[Any, str, str, str]:
    away, other = await db(create_user, "away"), await db(create_user, "other")
    document = await db(create_document, away)
    await db(share, document, other, edit=True)
    server = await asyncio.to_thread(daphne_factory, **{**DAPHNE_ENV, **env})
    return (
        server,
        str(document.public_id),
        await db(session_cookie, away),
        await db(session_cookie, other),
    )


def _op_rows(doc_id: str) -> list[tuple[int, str, Any]]:
    return list(
        Operation.objects.filter(document__public_id=doc_id)
        .order_by("revision")
        .values_list("revision", "op_id", "delta")
    )


def _state(doc_id: str) -> tuple[int, int, str]:
    row = Document.objects.select_related("snapshot").get(public_id=doc_id)
    return row.head_revision, row.snapshot.revision, row.lease_holder


async def _edit_many(client: WSClient, rng: random.Random, count: int) -> None:
    """Make ``count`` edits in a closed loop (each acked before the next)."""
    for _ in range(count):
        await client.edit(random_change(client.ot.doc, rng))
        await client.wait_synchronized(30)


async def _unloaded(doc_id: str, timeout: float = 30) -> tuple[int, int]:
    """Wait until the worker let the document go with a snapshot at its head."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head, snapshot, holder = await db(_state, doc_id)
        if snapshot == head and not holder:
            return head, snapshot
        await asyncio.sleep(0.2)
    raise AssertionError(f"not unloaded: {await db(_state, doc_id)}")


async def _go_offline_with_an_edit(client: WSClient) -> tuple[int, str]:
    """Close the socket, then edit: the edit stays pending in the client."""
    await client.close()
    rev = client.ot.rev
    client.ot.edit(Delta([{"insert": MINE}]))  # frames dropped: no socket
    assert client.ot.inflight is not None
    return rev, client.ot.inflight[0]


async def test_offline_past_compaction_and_unload_keeps_the_edit(daphne_factory: Any) -> None:
    seed = seed_for("offline-retention")
    rng = random.Random(seed)
    server, doc_id, away_cookie, other_cookie = await _setup(daphne_factory)
    away = WSClient(server.ws_url, doc_id, cookie=away_cookie, reconnect=False)
    other = WSClient(server.ws_url, doc_id, cookie=other_cookie, rng=random.Random(seed + 1))
    await away.connect()
    await other.connect()
    await _edit_many(away, rng, 5)
    left_at, my_id = await _go_offline_with_an_edit(away)

    started = time.monotonic()
    await _edit_many(other, rng, 1100)
    print(f"1100 edits by the other client in {time.monotonic() - started:.1f}s")
    await other.close()
    head, snapshot = await _unloaded(doc_id)
    assert head >= left_at + 1100 and snapshot == head
    kept = await db(_op_rows, doc_id)
    print(
        f"stored ops after compaction and unload: {len(kept)} (revisions "
        f"{kept[0][0]}..{kept[-1][0]}), the client left at r{left_at}"
    )
    assert kept[0][0] <= left_at + 1, "compaction deleted ops inside the retention horizon"

    away.stopped = False
    hello = await away.connect()
    assert "ops" in hello and "content" not in hello, f"seed={seed}"
    assert len(hello["ops"]) >= 1100
    await away.wait_synchronized(30)
    stored = await db(_op_rows, doc_id)
    assert [op_id for _, op_id, _ in stored].count(my_id) == 1, f"seed={seed}"
    _, content = await db(stored_content, doc_id)
    assert away.ot.content() == content, f"seed={seed}"
    text = "".join(op["insert"] for op in content if isinstance(op.get("insert"), str))
    assert text.count(MINE) == 1, f"seed={seed}"
    await away.close()


async def test_a_resend_stored_while_away_is_acked_at_its_revision(daphne_factory: Any) -> None:
    seed = seed_for("offline-resend")
    rng = random.Random(seed)
    server, doc_id, away_cookie, other_cookie = await _setup(daphne_factory)
    away = WSClient(server.ws_url, doc_id, cookie=away_cookie, reconnect=False)
    other = WSClient(server.ws_url, doc_id, cookie=other_cookie, rng=random.Random(seed + 1))
    await away.connect()
    await other.connect()
    await _edit_many(other, rng, 3)
    await away.wait_for(lambda: away.ot.rev == other.ot.rev)
    left_at, my_id = await _go_offline_with_an_edit(away)
    frame = json.dumps({"type": "op", "id": my_id, "rev": left_at, "delta": [{"insert": MINE}]})
    url = f"{server.ws_url}/ws/docs/{doc_id}/"
    headers = {"Cookie": away_cookie}

    async def send_once() -> dict:
        """Send the pending op on a socket of its own; return its ack (or error)."""
        async with connect(url, additional_headers=headers, max_size=None) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.send(frame)
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if msg.get("type") in ("ack", "error"):
                    return msg

    # The first send was stored but its ack lost (another socket got it).
    first = await send_once()
    assert first["type"] == "ack", first
    await _edit_many(other, rng, 120)  # the window (10) and two snapshots move on
    await other.close()
    await _unloaded(doc_id)
    # The same op again, based far before the window: acked at its stored revision.
    again = await send_once()
    assert again == {"type": "ack", "id": my_id, "rev": first["rev"]}, f"seed={seed}"
    # And the client itself comes back: the catch-up carries the op (its ack).
    away.stopped = False
    hello = await away.connect()
    assert "ops" in hello, f"seed={seed}"
    await away.wait_synchronized(20)
    assert away.ot.acked[my_id] == first["rev"]
    stored = await db(_op_rows, doc_id)
    assert [op_id for _, op_id, _ in stored].count(my_id) == 1, f"seed={seed}"
    _, content = await db(stored_content, doc_id)
    assert away.ot.content() == content
    await away.close()


async def test_beyond_the_horizon_the_text_is_handed_back(daphne_factory: Any) -> None:
    seed = seed_for("offline-horizon")
    rng = random.Random(seed)
    server, doc_id, away_cookie, other_cookie = await _setup(
        daphne_factory, COLLABDOCS_RETENTION_DAYS="0"
    )
    away = WSClient(server.ws_url, doc_id, cookie=away_cookie, reconnect=False)
    other = WSClient(server.ws_url, doc_id, cookie=other_cookie, rng=random.Random(seed + 1))
    await away.connect()
    await other.connect()
    left_at, my_id = await _go_offline_with_an_edit(away)
    await _edit_many(other, rng, 120)
    await other.close()
    await _unloaded(doc_id)
    assert (await db(_op_rows, doc_id))[0][0] > left_at + 1  # the ops it needs are gone

    # Its resend, based before what is kept: stale, nothing stored.
    async with connect(
        f"{server.ws_url}/ws/docs/{doc_id}/", additional_headers={"Cookie": away_cookie}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(
            json.dumps({"type": "op", "id": my_id, "rev": left_at, "delta": [{"insert": MINE}]})
        )
        error = json.loads(await asyncio.wait_for(ws.recv(), 20))
    assert error["type"] == "error" and error["code"] == "stale" and error["id"] == my_id, error
    # The client reconnecting gets the content; its pending text is handed back.
    away.stopped = False
    hello = await away.connect()
    assert "content" in hello and "ops" not in hello
    assert [d.ops for d in away.ot.lost] == [[{"insert": MINE}]]
    assert my_id not in [op_id for _, op_id, _ in await db(_op_rows, doc_id)]
    await away.close()


# -- the authority on its own (memory store) -----------------------------------------


@pytest.fixture
async def memory_env():
    store = MemoryDocumentStore()
    runner = StoreRunner(store, max_workers=2)
    made: list[Any] = []

    async def make(window: int = 10) -> Any:
        authority = await Authority.load(
            public_id=store.add_document(), runner=runner, window_size=window, max_length=1_000_000
        )
        made.append(authority)
        return authority

    yield store, make
    for authority in made:
        authority.close()
    runner.shutdown()


async def _type_as_other(authority: Any, rng: random.Random, count: int) -> None:
    """Commit ``count`` random changes of another user, one by one."""
    for _ in range(count):
        doc = DocumentText.from_ops(authority.content())
        await authority.submit(
            None,
            OpMessage(
                op_id=f"{'o' * 16}:{authority.head}",
                rev=authority.head,
                delta=random_change(doc, rng).ops,
            ),
        )
        await authority.wait_idle()


@pytest.mark.django_db(transaction=False)
async def test_a_resend_far_behind_lands_where_the_client_put_it(memory_env: Any) -> None:
    """The server's rebase over stored ops matches the client's own rebase."""
    seed = seed_for("offline-rebase")
    rng = random.Random(seed)
    store, make = memory_env
    for round_ in range(8):
        authority = await make()
        await _type_as_other(authority, rng, 5)
        client = OTClient()
        sock = FakeSocket(f"s{round_}")
        client.on_hello(json.loads(authority.attach(sock.sub)))
        [frame] = client.edit(random_change(client.doc, rng))
        await _type_as_other(authority, rng, 60)  # far past the window of 10
        assert authority.window_start > client.rev
        sent = json.loads(frame)
        await authority.submit(
            sock.sub, OpMessage(op_id=sent["id"], rev=sent["rev"], delta=sent["delta"])
        )
        await settle(authority)
        assert authority.head == 66, f"seed={seed} round={round_}"
        # The client catches up from storage and takes its op's ack.
        later = FakeSocket(f"t{round_}")
        client.on_hello(json.loads(await authority.attach_caught_up(later.sub, since_rev=5)))
        assert client.synchronized and client.rev == 66, f"seed={seed} round={round_}"
        assert client.content() == authority.content(), f"seed={seed} round={round_}"


@pytest.mark.django_db(transaction=False)
async def test_catch_up_from_storage_is_bounded(
    memory_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, make = memory_env
    authority = await make()
    await _type_as_other(authority, random.Random(seed_for("offline-bounds")), 100)
    monkeypatch.setattr(authority_module, "MAX_STORED_CATCHUP_OPS", 50)
    near = json.loads(await authority.attach_caught_up(FakeSocket("a").sub, since_rev=60))
    assert [item["rev"] for item in near["ops"]] == list(range(61, 101))
    far = json.loads(await authority.attach_caught_up(FakeSocket("b").sub, since_rev=10))
    assert "ops" not in far and far["rev"] == 100
    store.compact(authority.public_id, revision=100, content=authority.content(), keep_ops=45)
    gone = json.loads(await authority.attach_caught_up(FakeSocket("c").sub, since_rev=50))
    assert "ops" not in gone and "content" in gone


@pytest.mark.django_db(transaction=False)
async def test_ops_far_behind_are_rebased_once_a_second_per_socket(memory_env: Any) -> None:
    """Each costs a storage read: a burst of them is refused rate_limited."""
    store, make = memory_env
    authority = await make()
    await _type_as_other(authority, random.Random(seed_for("offline-rate")), 40)
    sock = FakeSocket("a")
    authority.attach(sock.sub)
    sock.take()
    for n in (1, 2):
        await authority.submit(
            sock.sub, OpMessage(op_id=f"{'a' * 16}:{n}", rev=3, delta=[{"insert": "y"}])
        )
        await settle(authority)
    answers = [(m["type"], m.get("code"), m.get("id")) for m in sock.take()]
    assert answers == [
        ("ack", None, f"{'a' * 16}:1"),
        ("error", "rate_limited", f"{'a' * 16}:2"),
    ], answers
    assert authority.head == 41
