"""Atomic acceptance and the base-revision rule (issue 9).

A failure anywhere between parsing a change and queueing it (transform,
serialisation, the document's check, even the mutation of the tip) refuses
that op alone: the revision sequence, acks, ``?rev=`` catch-up and storage
stay exact. Failures are injected by patching one step to raise for the op
whose text holds a marker, over the real ASGI application and PostgreSQL,
and for the conflict-recovery path on the authority itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from documents.store import StoredOp
from realtime import authority as authority_module
from realtime import protocol
from realtime.ot import Delta, DocumentText
from tests.realtime.conftest import Socket, db, stored_content
from tests.realtime.test_authority import (  # noqa: F401 - env_fixture: the `env` fixture
    attach,
    env_fixture,
    op,
    op_id,
    settle,
)

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "BOOM"
CLIENT = "atomicclient0000"


def _has_mark(ops: object) -> bool:
    return isinstance(ops, list) and any(
        isinstance(o, dict) and isinstance(o.get("insert"), str) and MARK in o["insert"]
        for o in ops
    )


def frame(n: int, rev: int, delta: list, client: str = CLIENT) -> dict:
    return {"type": "op", "id": f"{client}:{n}", "rev": rev, "delta": delta}


async def send_and_answer(sock: Socket, message: dict[str, Any]) -> dict[str, Any]:
    """Send an op and return its ack or error (skipping other messages)."""
    await sock.send(message)
    while True:
        msg = await sock.recv_type_any(("ack", "error"))
        if msg.get("id") == message["id"]:
            return msg


async def _recv_type_any(
    self: Socket, kinds: tuple[str, ...], timeout: float = 5
) -> dict[str, Any]:
    while True:
        frame_ = await self.recv(timeout)
        for msg in frame_["messages"] if frame_["type"] == "batch" else [frame_]:
            if msg["type"] in kinds:
                return msg


async def assert_exact(
    ws_connect: Any, people: dict[str, Any], expected_head: int, expected_text: str
) -> None:
    """Storage, a fresh ``hello`` and ``?rev=0`` catch-up all agree, contiguously."""
    head, content = await db(stored_content, people["doc_id"])  # asserts contiguity
    assert head == expected_head
    assert content == [{"insert": expected_text}]
    fresh = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert fresh.hello["rev"] == head and fresh.hello["content"] == content
    catch_up = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"], rev=0)
    revs = [item["rev"] for item in catch_up.hello["ops"]]
    assert revs == list(range(1, head + 1))
    doc = DocumentText()
    for item in catch_up.hello["ops"]:
        doc.apply(Delta(item["delta"]))
    assert doc.to_ops() == content


@pytest.fixture(autouse=True)
def _socket_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Socket, "recv_type_any", _recv_type_any, raising=False)


async def test_a_serialisation_failure_refuses_that_op_alone(ws_connect, people, monkeypatch):
    real_dumps = protocol.dumps

    def dumps(value: Any, *args: Any, **kwargs: Any) -> str:
        if _has_mark(value):
            raise RecursionError("maximum recursion depth exceeded")
        return real_dumps(value, *args, **kwargs)

    # The sequencer serialises an accepted change with protocol.dumps.
    monkeypatch.setattr(protocol, "dumps", dumps)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert (await send_and_answer(sock, frame(1, 0, [{"insert": "a"}])))["rev"] == 1
    refused = await send_and_answer(sock, frame(2, 1, [{"insert": MARK}]))
    assert refused["code"] == "bad_op", refused
    ack = await send_and_answer(sock, frame(3, 1, [{"insert": "b"}]))
    assert (ack["type"], ack["rev"]) == ("ack", 2)
    ack = await send_and_answer(sock, frame(4, 2, [{"retain": 2}, {"insert": "c"}]))
    assert (ack["type"], ack["rev"]) == ("ack", 3)
    await assert_exact(ws_connect, people, 3, "bac\n")


async def test_a_transform_failure_refuses_that_op_alone(ws_connect, people, monkeypatch):
    real_transform = Delta.transform

    def transform(self: Delta, other: Delta, priority: bool = False) -> Delta:
        if _has_mark(other.ops):
            raise RuntimeError("injected transform failure")
        return real_transform(self, other, priority)

    monkeypatch.setattr(Delta, "transform", transform)
    cookies = people["cookies"]
    alice = await ws_connect(people["doc_id"], cookie=cookies["owner"])
    bob = await ws_connect(people["doc_id"], cookie=cookies["editor"])
    assert (await send_and_answer(alice, frame(1, 0, [{"insert": "a"}])))["rev"] == 1
    # Bob's op is made at revision 0: it must be transformed over Alice's.
    refused = await send_and_answer(bob, frame(1, 0, [{"insert": MARK}], client="bobclient0000000"))
    assert refused["code"] == "unavailable", refused
    ack = await send_and_answer(bob, frame(2, 0, [{"insert": "b"}], client="bobclient0000000"))
    assert (ack["type"], ack["rev"]) == ("ack", 2)
    await assert_exact(ws_connect, people, 2, "ab\n")


async def test_a_failure_inside_apply_rebuilds_the_tip(ws_connect, people, monkeypatch):
    real_apply = DocumentText.apply_checked
    failed = []

    def apply_checked(self: DocumentText, change: Delta) -> None:
        real_apply(self, change)  # the tip is changed, then it fails
        if _has_mark(change.ops) and not failed:
            failed.append(True)
            raise MemoryError("injected failure after mutation")

    monkeypatch.setattr(DocumentText, "apply_checked", apply_checked)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert (await send_and_answer(sock, frame(1, 0, [{"insert": "a"}])))["rev"] == 1
    refused = await send_and_answer(sock, frame(2, 1, [{"insert": MARK}]))
    assert refused["code"] == "unavailable", refused
    # The half-applied change left no trace: the next op fits the old length.
    ack = await send_and_answer(sock, frame(3, 1, [{"retain": 1}, {"insert": "b"}]))
    assert (ack["type"], ack["rev"]) == ("ack", 2)
    assert failed
    await assert_exact(ws_connect, people, 2, "ab\n")


async def test_a_failure_while_recovering_from_a_conflict_refuses_that_op_alone(env, monkeypatch):
    store, make = env
    authority = await make()
    a = attach(authority, "a")
    await settle(authority)
    a.take()
    real_transform = Delta.transform

    def transform(self: Delta, other: Delta, priority: bool = False) -> Delta:
        if _has_mark(other.ops):
            raise RuntimeError("injected transform failure")
        return real_transform(self, other, priority)

    monkeypatch.setattr(Delta, "transform", transform)
    # Another writer stored revision 1: the commit of op 1 conflicts, the
    # authority reloads and must transform op 1 (which fails) over it.
    store.insert_foreign(
        authority.public_id,
        StoredOp(revision=1, op_id=op_id(1, "f" * 16), delta=[{"insert": "X"}], author_id=9),
    )
    await authority.submit(a.sub, op(1, 0, [{"insert": MARK}]))
    await settle(authority)
    codes = [(m["type"], m.get("code"), m.get("id")) for m in a.take()]
    assert ("error", "unavailable", op_id(1)) in codes, codes
    assert authority.head == 1
    await authority.submit(a.sub, op(2, 1, [{"insert": "A"}]))
    await settle(authority)
    assert [(m["type"], m["rev"]) for m in a.take()] == [("ack", 2)]
    loaded = store.load(public_id=authority.public_id)
    assert [s.revision for s in loaded.ops] == [1, 2]
    assert authority.content() == [{"insert": "AX\n"}]


# -- the base-revision rule ---------------------------------------------------


async def test_reach_is_checked_at_the_base_revision(ws_connect, people):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert (await send_and_answer(sock, frame(1, 0, [{"insert": "hello"}])))["rev"] == 1
    assert (await send_and_answer(sock, frame(2, 1, [{"insert": "abc"}])))["rev"] == 2
    # Revision 1 is "hello\n" (6 units). Each of these fits the tip ("abchello\n",
    # 9 units) but not revision 1, so it is refused and nothing moves.
    for n, delta in (
        (3, [{"retain": 7}]),
        (4, [{"retain": 6}, {"insert": "x"}]),
        (5, [{"retain": 5}, {"delete": 1}]),
        (6, [{"retain": 8, "attributes": {"bold": True}}]),
    ):
        refused = await send_and_answer(sock, frame(n, 1, delta))
        assert refused["code"] == "bad_op", (delta, refused)
        assert "revision 1" in refused["message"], refused
    ack = await send_and_answer(sock, frame(7, 1, [{"retain": 5, "attributes": {"bold": True}}]))
    assert (ack["type"], ack["rev"]) == ("ack", 3)
    head, content = await db(stored_content, people["doc_id"])
    assert head == 3
    assert content == [
        {"insert": "abc"},
        {"insert": "hello", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


async def test_a_surrogate_pair_split_at_the_base_is_checked_after_transform(ws_connect, people):
    """The documented exception (protocol.md, Differences 2)."""
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert (await send_and_answer(sock, frame(1, 0, [{"insert": "a😀b"}])))["rev"] == 1
    # At the tip, a boundary inside the pair is refused.
    refused = await send_and_answer(sock, frame(2, 1, [{"retain": 2}, {"insert": "x"}]))
    assert refused["code"] == "bad_op" and "surrogate" in refused["message"], refused
    # Someone deletes the emoji; a change made at revision 1 with a boundary
    # inside the (now deleted) pair no longer splits anything: accepted.
    assert (await send_and_answer(sock, frame(3, 1, [{"retain": 1}, {"delete": 2}])))["rev"] == 2
    ack = await send_and_answer(sock, frame(4, 1, [{"retain": 2}, {"insert": "x"}]))
    assert (ack["type"], ack["rev"]) == ("ack", 3), ack
    head, content = await db(stored_content, people["doc_id"])
    assert head == 3 and content == [{"insert": "axb\n"}]


async def test_a_failure_inside_parsing_refuses_that_op_alone(ws_connect, people, monkeypatch):
    real_parse = authority_module.parse_change

    def parse_change(raw: Any, *args: Any, **kwargs: Any) -> Delta:
        if _has_mark(raw):
            raise KeyError("injected parser bug")
        return real_parse(raw, *args, **kwargs)

    monkeypatch.setattr(authority_module, "parse_change", parse_change)
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    refused = await send_and_answer(sock, frame(1, 0, [{"insert": MARK}]))
    assert refused["code"] == "unavailable", refused
    ack = await send_and_answer(sock, frame(2, 0, [{"insert": "a"}]))
    assert (ack["type"], ack["rev"]) == ("ack", 1)
    await assert_exact(ws_connect, people, 1, "a\n")
