"""The document authority on the in-memory store: ordering, group commit, failures."""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from collabdocs.devclient import OTClient, random_change
from documents.store import MemoryDocumentStore, NewOp, RevisionConflict, StoredOp
from realtime.authority import Authority
from realtime.exceptions import AuthorityClosed
from realtime.ot import Delta, DocumentText
from realtime.protocol import OpMessage, PresenceMessage, Rejection, user_json
from realtime.runner import StoreRunner
from realtime.subscriber import Subscriber
from tests.documents.faulty_store import FaultyStore

CLIENT = "c" * 20


def op_id(n: int, client: str = CLIENT) -> str:
    return f"{client}:{n}"


class FakeSocket:
    """A subscriber whose frames land in a list."""

    def __init__(self, name: str, user_id: int = 1, can_edit: bool = True) -> None:
        self.frames: list[dict] = []
        self.closed_with: int | None = None
        #: The hello this socket got from ``attach`` (the helper below).
        self.hello: dict[str, Any] = {}
        self.sub = Subscriber(
            session=name,
            user_id=user_id,
            user_json=user_json(user_id=user_id, name=name, color="#000000"),
            can_edit=can_edit,
            send=self._send,
            close=self._close,
        )

    async def _send(self, text: str) -> None:
        self.frames.append(json.loads(text))

    async def _close(self, code: int) -> None:
        self.closed_with = code

    def messages(self) -> list[dict]:
        out = []
        for frame in self.frames:
            out.extend(frame["messages"] if frame["type"] == "batch" else [frame])
        return out

    def take(self) -> list[dict]:
        msgs = self.messages()
        self.frames.clear()
        return msgs


class GatedStore(FaultyStore):
    """A faulty memory store that also tells when an append starts."""

    def __init__(self) -> None:
        super().__init__(MemoryDocumentStore())
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        self.entered.set()
        super().append(document_pk=document_pk, ops=ops)


@pytest.fixture(name="env")
async def env_fixture():
    store = GatedStore()
    runner = StoreRunner(store, max_workers=2)
    made: list[Authority] = []

    async def make(
        content=None,
        window: int = 1000,
        max_length: int = 1_000_000,
        public_id: uuid.UUID | None = None,
    ) -> Authority:
        doc = public_id or store.add_document(content=content)
        authority = await Authority.load(
            public_id=doc, runner=runner, window_size=window, max_length=max_length
        )
        made.append(authority)
        return authority

    yield store, make
    for authority in made:
        authority.close()
    store.gate.set()
    runner.shutdown()


async def settle(authority: Authority) -> None:
    """Wait until nothing is pending and every scheduled delivery ran."""
    for _ in range(5):
        await authority.wait_idle()
        await asyncio.sleep(0.005)


def attach(authority: Authority, name: str, **kwargs: Any) -> FakeSocket:
    sock = FakeSocket(name, **kwargs)
    sock.hello = json.loads(authority.attach(sock.sub))
    return sock


def op(n: int, rev: int, delta: list, client: str = CLIENT) -> OpMessage:
    return OpMessage(op_id=op_id(n, client), rev=rev, delta=delta)


async def wait_entered(store: GatedStore) -> None:
    for _ in range(500):
        if store.entered.is_set():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the store was never called")


async def test_ack_and_broadcast_come_only_after_the_store(env):
    store, make = env
    authority = await make()
    a, b = attach(authority, "a"), attach(authority, "b")
    await settle(authority)
    a.take(), b.take()
    store.gate.clear()
    await authority.submit(a.sub, op(1, 0, [{"insert": "hi"}]))
    await wait_entered(store)
    await asyncio.sleep(0.02)
    assert a.take() == [] and b.take() == []
    assert authority.head == 0
    store.gate.set()
    await settle(authority)
    assert a.take() == [{"type": "ack", "id": op_id(1), "rev": 1}]
    assert b.take() == [
        {
            "type": "op",
            "rev": 1,
            "id": op_id(1),
            "session": "a",
            "user": 1,
            "delta": [{"insert": "hi"}],
        }
    ]
    row = store.document_row(authority.public_id)
    assert row.head_revision == 1 and row.last_edited_by_id == 1 and row.updated_at
    assert authority.content() == [{"insert": "hi\n"}]


async def test_ops_queued_behind_a_commit_are_stored_in_one_transaction(env):
    store, make = env
    authority = await make()
    a, b, c = attach(authority, "a"), attach(authority, "b"), attach(authority, "c")
    await settle(authority)
    for sock in (a, b, c):
        sock.take()
    store.gate.clear()
    await authority.submit(a.sub, op(1, 0, [{"insert": "A"}]))
    await wait_entered(store)
    # Nine more ops arrive while the first commit is in flight.
    for n in range(2, 11):
        author = b if n % 2 else a
        await authority.submit(
            author.sub, op(n, 0, [{"insert": str(n % 10)}], client="x" * 16 + str(n))
        )
    store.gate.set()
    await settle(authority)
    # The first op is stored alone; the nine queued behind it share one
    # more transaction (at most two in all), and each socket gets at most
    # one frame per commit.
    assert store.appends[0] == 1 and sum(store.appends) == 10 and len(store.appends) <= 2
    assert authority.head == 10
    assert 1 <= len(c.frames) <= len(store.appends)
    assert [m["rev"] for m in c.messages()] == list(range(1, 11))
    # Each author gets its acks in place of its own ops, in revision order.
    b_msgs = b.messages()
    assert [m["rev"] for m in b_msgs] == list(range(1, 11))
    assert {m["type"] for m in b_msgs if m["rev"] % 2 and m["rev"] > 1} == {"ack"}
    assert c.messages()[-1]["rev"] == 10
    # Ties: each op inserted at 0 against rev 0 lands after the earlier ones.
    assert authority.content() == [{"insert": "A234567890\n"}]


async def test_resend_of_a_stored_op_is_acked_with_its_revision_not_applied(env):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await settle(authority)
    a.take()
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await settle(authority)
    assert a.take() == [{"type": "ack", "id": op_id(1), "rev": 1}]
    assert authority.content() == [{"insert": "x\n"}]
    assert store.appends == [1]


async def test_resend_from_a_new_socket_while_pending_is_acked_there(env):
    store, make = env
    authority = await make()
    old, new = attach(authority, "old"), attach(authority, "new")
    await settle(authority)
    old.take(), new.take()
    store.gate.clear()
    await authority.submit(old.sub, op(1, 0, [{"insert": "x"}]))
    await wait_entered(store)
    await authority.submit(new.sub, op(1, 0, [{"insert": "x"}]))
    store.gate.set()
    await settle(authority)
    assert new.take() == [{"type": "ack", "id": op_id(1), "rev": 1}]
    assert old.take() == [{"type": "ack", "id": op_id(1), "rev": 1}]
    assert store.appends == [1]


async def test_storage_failure_refuses_every_pending_op_and_rolls_back(env):
    store, make = env
    authority = await make(content=[{"insert": "base\n"}])
    a, b = attach(authority, "a"), attach(authority, "b")
    await settle(authority)
    a.take(), b.take()
    store.gate.clear()
    store.fail_appends = 1
    await authority.submit(a.sub, op(1, 0, [{"insert": "1"}]))
    await wait_entered(store)
    await authority.submit(b.sub, op(2, 0, [{"delete": 2}]))
    await authority.submit(a.sub, op(3, 0, [{"retain": 4, "attributes": {"bold": True}}]))
    store.gate.set()
    await settle(authority)
    errors = a.take() + b.take()
    assert sorted((m["code"], m["id"]) for m in errors) == [
        ("unavailable", op_id(1)),
        ("unavailable", op_id(2)),
        ("unavailable", op_id(3)),
    ]
    assert authority.head == 0
    assert authority.content() == [{"insert": "base\n"}]
    assert store.appends == []
    # Storage is back: the same ops, resent with the same ids, succeed.
    await authority.submit(a.sub, op(1, 0, [{"insert": "1"}]))
    await authority.submit(b.sub, op(2, 0, [{"delete": 2}]))
    await authority.submit(a.sub, op(3, 0, [{"retain": 4, "attributes": {"bold": True}}]))
    await settle(authority)
    assert authority.head == 3
    assert authority.content() == [
        {"insert": "1"},
        {"insert": "se", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


async def test_a_revision_conflict_reloads_and_transforms_again(env):
    store, make = env
    authority = await make()
    a, b = attach(authority, "a"), attach(authority, "b")
    await settle(authority)
    a.take(), b.take()
    # A second writer stores revision 1 behind this authority's back.
    store.insert_foreign(
        authority.public_id,
        StoredOp(revision=1, op_id=op_id(1, "f" * 16), delta=[{"insert": "X"}], author_id=9),
    )
    await authority.submit(a.sub, op(1, 0, [{"insert": "A"}]))
    await settle(authority)
    assert authority.head == 2
    assert authority.content() == [{"insert": "XA\n"}]
    assert [(m["type"], m["rev"]) for m in a.take()] == [("op", 1), ("ack", 2)]
    assert [(m["type"], m["rev"]) for m in b.take()] == [("op", 1), ("op", 2)]
    assert store.loads == 2


async def test_an_op_whose_commit_answer_was_lost_is_acked_after_reload(env):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    await settle(authority)
    a.take()
    store.insert_foreign(
        authority.public_id,
        StoredOp(revision=1, op_id=op_id(1), delta=[{"insert": "A"}], author_id=1),
    )
    await authority.submit(a.sub, op(1, 0, [{"insert": "A"}]))
    await settle(authority)
    assert a.take() == [{"type": "ack", "id": op_id(1), "rev": 1}]
    assert authority.content() == [{"insert": "A\n"}]


async def test_endless_conflicts_end_in_unavailable(env, monkeypatch):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    await settle(authority)
    a.take()

    def conflict(**kwargs: Any) -> None:
        raise RevisionConflict("always")

    monkeypatch.setattr(store, "append", conflict)
    await authority.submit(a.sub, op(1, 0, [{"insert": "A"}]))
    await settle(authority)
    assert [(m["code"], m["id"]) for m in a.take()] == [("unavailable", op_id(1))]
    assert authority.head == 0 and authority.content() == [{"insert": "\n"}]


async def test_stale_ahead_bad_and_too_large_ops_are_refused(env):
    store, make = env
    authority = await make(window=10, max_length=40)
    a = attach(authority, "a")
    for n in range(1, 31):
        await authority.submit(a.sub, op(n, n - 1, [{"insert": "x"}]))
        await settle(authority)
    assert authority.window_start > 0
    a.take()
    # Older than the window AND than what storage kept: stale (an op older
    # than the window but still stored is rebased: test_offline_retention.py).
    store.compact(authority.public_id, revision=30, content=authority.content(), keep_ops=5)
    await authority.submit(a.sub, op(100, 0, [{"insert": "y"}]))
    await authority.submit(a.sub, op(101, 31, [{"insert": "y"}]))
    await authority.submit(a.sub, op(102, 30, [{"retain": 99}]))
    await authority.submit(a.sub, op(103, 30, [{"insert": "y" * 20}]))
    await authority.submit(a.sub, op(104, 30, [{"bogus": 1}]))
    await settle(authority)
    codes = [(m["code"], m["id"]) for m in a.take()]
    assert codes == [
        ("stale", op_id(100)),
        ("bad_message", op_id(101)),
        ("bad_op", op_id(102)),
        ("too_large", op_id(103)),
        ("bad_op", op_id(104)),
    ]
    assert authority.head == 30


async def test_presence_is_moved_through_ops_and_sent_after_them(env):
    store, make = env
    authority = await make(window=10)
    a, b = attach(authority, "a", user_id=1), attach(authority, "b", user_id=2)
    await settle(authority)
    a.take(), b.take()
    await authority.submit(b.sub, op(1, 0, [{"insert": "abc"}], client="b" * 16))
    await settle(authority)
    # a's selection was made at revision 0, before b's insert at 0.
    await authority.presence(a.sub, PresenceMessage(rev=0, index=0, length=1))
    await settle(authority)
    msgs = b.take()
    assert msgs[-1] == {
        "type": "presence",
        "session": "a",
        "rev": 1,
        "user": {"id": 1, "name": "a", "color": "#000000"},
        "range": {"index": 3, "length": 1},
    }
    assert [m["type"] for m in msgs] == ["ack", "presence"]
    # Does not fit at its revision: bad_message, nothing broadcast.
    await authority.presence(a.sub, PresenceMessage(rev=0, index=1, length=1))
    await authority.presence(a.sub, PresenceMessage(rev=5, index=0, length=0))
    await settle(authority)
    assert [m["code"] for m in a.take() if m["type"] == "error"] == ["bad_message", "bad_message"]
    assert b.take() == []
    # A later joiner sees a's range at the current revision.
    c = attach(authority, "c")
    assert c.hello["peers"][0]["range"] == {"index": 3, "length": 1}
    # Presence older than the window is dropped silently.
    for n in range(2, 40):
        await authority.submit(b.sub, op(n, n - 1, [{"insert": "z"}], client="b" * 16))
        await settle(authority)
    b.take()
    await authority.presence(a.sub, PresenceMessage(rev=0, index=0, length=0))
    await settle(authority)
    assert [m for m in a.take() + b.take() if m["type"] in ("presence", "error")] == []


async def test_join_leave_and_hello_catch_up(env):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    b = attach(authority, "b", user_id=2)
    await settle(authority)
    assert a.take() == [
        {"type": "join", "session": "b", "user": {"id": 2, "name": "b", "color": "#000000"}}
    ]
    assert b.hello["peers"] == [
        {"session": "a", "user": {"id": 1, "name": "a", "color": "#000000"}, "range": None}
    ]
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await authority.submit(a.sub, op(2, 0, [{"insert": "y"}]))
    await settle(authority)
    late = FakeSocket("late")
    hello = json.loads(authority.attach(late.sub, since_rev=1))
    assert "content" not in hello and hello["rev"] == 2
    assert [item["id"] for item in hello["ops"]] == [op_id(2)]
    assert "type" not in hello["ops"][0]
    fresh = json.loads(authority.attach(FakeSocket("fresh").sub, since_rev=7))
    assert fresh["content"] == [{"insert": "xy\n"}] and "ops" not in fresh
    authority.detach(b.sub)
    await settle(authority)
    assert {"type": "leave", "session": "b"} in a.take()


async def test_a_deleted_document_closes_every_socket(env):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    store.remove_document(authority.public_id)
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await settle(authority)
    assert a.closed_with == 4404
    assert authority.closed


async def test_random_concurrent_clients_converge(env):
    """Simulate clients with random edits and random delivery order."""
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"seed={seed}")
    rng = random.Random(seed)
    store, make = env
    authority = await make(window=50)
    clients: list[tuple[OTClient, FakeSocket]] = []
    for i in range(4):
        sock = FakeSocket(f"s{i}", user_id=i + 1)
        client = OTClient(client_id=f"client{i:02d}" + "x" * 10)
        outgoing = client.on_hello(json.loads(authority.attach(sock.sub)))
        assert outgoing == []
        clients.append((client, sock))
    outboxes: list[list[str]] = [[] for _ in clients]

    async def deliver(i: int) -> None:
        client, sock = clients[i]
        frames, sock.frames = sock.frames, []
        for frame in frames:
            outboxes[i].extend(client.on_message(frame))

    async def flush(i: int) -> None:
        client, sock = clients[i]
        for text in outboxes[i]:
            msg = json.loads(text)
            if msg["type"] == "op":
                await authority.submit(
                    sock.sub, OpMessage(op_id=msg["id"], rev=msg["rev"], delta=msg["delta"])
                )
        outboxes[i].clear()

    for _ in range(300):
        i = rng.randrange(len(clients))
        action = rng.random()
        client = clients[i][0]
        if action < 0.5:
            outboxes[i].extend(client.edit(random_change(client.doc, rng)))
        elif action < 0.8:
            await deliver(i)
        else:
            await flush(i)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    for _ in range(50):
        await settle(authority)
        for i in range(len(clients)):
            await deliver(i)
            await flush(i)
        if all(c.synchronized for c, _ in clients) and not authority.busy:
            await settle(authority)
            for i in range(len(clients)):
                await deliver(i)
            break
    server = authority.content()
    for client, _ in clients:
        assert client.synchronized
        assert client.rev == authority.head
        assert client.content() == server, f"seed={seed}"
    loaded = store.load(public_id=authority.public_id)
    doc = DocumentText.from_ops(loaded.snapshot_content)
    for stored in loaded.ops:
        doc.apply(Delta(stored.delta))
    assert doc.to_ops() == server
    assert {i for c, _ in clients for i in c.acked} == {s.op_id for s in loaded.ops}


async def test_ops_kept_before_a_compacted_snapshot_still_serve_catch_up(env):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    for n, char in enumerate("abcd", start=1):
        await authority.submit(
            a.sub,
            op(n, n - 1, [{"retain": n - 1}, {"insert": char}] if n > 1 else [{"insert": char}]),
        )
        await settle(authority)
    # Compaction folds revisions 1-3 into a snapshot and keeps two of them.
    store.compact(authority.public_id, revision=3, content=[{"insert": "abc\n"}], keep_ops=2)
    authority.close()
    reloaded = await make(public_id=authority.public_id)
    assert reloaded.window_start == 1 and reloaded.head == 4
    assert reloaded.snapshot_revision == 3
    assert reloaded.content() == [{"insert": "abcd\n"}]
    hello = json.loads(reloaded.attach(FakeSocket("late").sub, since_rev=1))
    assert [item["rev"] for item in hello["ops"]] == [2, 3, 4]
    # Lengths worked out backwards: a presence at revision 1 must fit "a\n".
    b = attach(reloaded, "b")
    await reloaded.presence(b.sub, PresenceMessage(rev=1, index=2, length=1))
    await reloaded.presence(b.sub, PresenceMessage(rev=1, index=1, length=0))
    await settle(reloaded)
    assert [m["code"] for m in b.take() if m["type"] == "error"] == ["bad_message"]


async def test_a_socket_that_fails_to_send_does_not_fail_the_others(env):
    store, make = env
    authority = await make()
    a, b = attach(authority, "a"), attach(authority, "b")
    await settle(authority)

    async def broken(text: str) -> None:
        raise ConnectionResetError("gone")

    b.sub._send = broken
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await settle(authority)
    # b's failed send makes it gone: a hears its leave at once (docs/presence.md).
    assert [m["type"] for m in a.take()] == ["join", "ack", "leave"]
    assert b.sub.closed
    await authority.submit(a.sub, op(2, 1, [{"insert": "y"}]))
    await settle(authority)
    assert a.take() == [{"type": "ack", "id": op_id(2), "rev": 2}]


async def test_another_users_op_id_is_refused_not_acked(env):
    store, make = env
    authority = await make()
    alice, mallory = attach(authority, "alice", user_id=1), attach(authority, "mallory", user_id=2)
    await settle(authority)
    alice.take(), mallory.take()
    store.gate.clear()
    await authority.submit(alice.sub, op(1, 0, [{"insert": "a"}]))
    await wait_entered(store)
    # Pending, then stored: either way the id is alice's.
    await authority.submit(mallory.sub, op(1, 0, [{"insert": "junk"}]))
    store.gate.set()
    await settle(authority)
    await authority.submit(mallory.sub, op(1, 0, [{"insert": "junk"}]))
    await settle(authority)
    errors = [m for m in mallory.take() if m["type"] == "error"]
    assert [(m["code"], m["id"]) for m in errors] == [("bad_message", op_id(1))] * 2
    assert authority.content() == [{"insert": "a\n"}]


# -- changes the server makes (no socket) ------------------------------------------


async def test_a_server_change_returns_its_revision_and_reaches_everyone_as_an_op(env):
    store, make = env
    authority = await make(content=[{"insert": "old\n"}])
    a = attach(authority, "a")
    await settle(authority)
    a.take()
    answer = await authority.submit_change(
        OpMessage(op_id="s" * 24 + ":1", rev=0, delta=[{"delete": 3}, {"insert": "new"}]),
        user_id=7,
    )
    assert answer == 1
    await settle(authority)
    assert a.take() == [
        {
            "type": "op",
            "rev": 1,
            "id": "s" * 24 + ":1",
            "session": "",
            "user": 7,
            "delta": [{"insert": "new"}, {"delete": 3}],
        }
    ]
    assert authority.content() == [{"insert": "new\n"}]
    # Sent again (its answer lost): the same revision, nothing applied twice.
    again = await authority.submit_change(
        OpMessage(op_id="s" * 24 + ":1", rev=0, delta=[{"delete": 3}, {"insert": "new"}]),
        user_id=7,
    )
    assert again == 1 and store.appends == [1]


async def test_a_refused_server_change_returns_the_rejection(env):
    store, make = env
    authority = await make()
    refused = await authority.submit_change(
        OpMessage(op_id="s" * 24 + ":1", rev=0, delta=[{"retain": 5}]), user_id=None
    )
    assert isinstance(refused, Rejection) and refused.code == "bad_op"
    store.fail_appends = 1
    unavailable = await authority.submit_change(
        OpMessage(op_id="s" * 24 + ":2", rev=0, delta=[{"insert": "x"}]), user_id=None
    )
    assert isinstance(unavailable, Rejection) and unavailable.code == "unavailable"
    assert authority.head == 0


async def test_a_server_change_pending_when_the_authority_closes_raises(env):
    store, make = env
    authority = await make()
    store.gate.clear()
    change = asyncio.ensure_future(
        authority.submit_change(
            OpMessage(op_id="s" * 24 + ":1", rev=0, delta=[{"insert": "x"}]), user_id=None
        )
    )
    await wait_entered(store)
    authority.close()
    with pytest.raises(AuthorityClosed):
        await change
    store.gate.set()
    with pytest.raises(AuthorityClosed):
        await authority.submit_change(
            OpMessage(op_id="s" * 24 + ":2", rev=0, delta=[{"insert": "y"}]), user_id=None
        )


async def test_ops_are_refused_while_accepting_says_no(env):
    store, make = env
    open_ = [False]
    authority = await Authority.load(
        public_id=store.add_document(),
        runner=StoreRunner(store, max_workers=1),
        window_size=100,
        max_length=1000,
        accepting=lambda: open_[0],
    )
    a = attach(authority, "a")
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    errors = [m for m in a.take() if m["type"] == "error"]
    assert [(m["code"], m["id"], m["retry_after"]) for m in errors] == [
        ("unavailable", op_id(1), 500)
    ]
    open_[0] = True
    await authority.submit(a.sub, op(1, 0, [{"insert": "x"}]))
    await settle(authority)
    assert authority.head == 1
    authority.close()
