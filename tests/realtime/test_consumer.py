"""The WebSocket consumer through the real ASGI app (origin check, session auth)."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import pytest

from documents import events
from documents.models import Document, LinkMode, Operation
from documents.store import DjangoDocumentStore, StorageUnavailable
from realtime.consumers import DocumentConsumer
from realtime.registry import Registry, install_registry, process_registry
from tests.realtime.conftest import create_document, create_user, db, session_cookie, stored_content

pytestmark = pytest.mark.django_db(transaction=True)

ID = "t" * 20


def op(n: int, rev: int, delta: list, client: str = ID) -> dict:
    return {"type": "op", "id": f"{client}:{n}", "rev": rev, "delta": delta}


class ControlledStore(DjangoDocumentStore):
    """The real store, with switches to fail or to hold a commit."""

    def __init__(self) -> None:
        self.fail_appends = False
        self.fail_loads = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.batches: list[int] = []

    def load(self, *, public_id, earlier=0):
        if self.fail_loads:
            raise StorageUnavailable("down")
        return super().load(public_id=public_id, earlier=earlier)

    def append(self, *, document_pk, ops):
        self.entered.set()
        self.gate.wait(10)
        if self.fail_appends:
            raise StorageUnavailable("down")
        super().append(document_pk=document_pk, ops=ops)
        self.batches.append(len(ops))


@pytest.fixture
async def controlled() -> ControlledStore:
    store = ControlledStore()
    install_registry(Registry(store=store))
    return store


# -- hello -------------------------------------------------------------------


async def test_hello_describes_the_document_and_the_user(people, ws_connect):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    hello = sock.hello
    owner = people["users"]["owner"]
    assert hello["protocol"] == 1 and hello["doc"] == people["doc_id"]
    assert hello["rev"] == 0 and hello["content"] == [{"insert": "\n"}]
    assert hello["user"]["id"] == owner.pk and hello["user"]["name"] == "Olive Owner"
    assert hello["user"]["color"].startswith("#") and len(hello["user"]["color"]) == 7
    assert hello["can_edit"] is True and hello["peers"] == []
    assert len(hello["session"]) >= 16


async def test_colour_is_the_same_on_every_connection(people, ws_connect):
    one = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    two = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    assert one.hello["user"] == two.hello["user"]
    assert one.hello["session"] != two.hello["session"]


async def test_a_viewer_is_read_only_and_its_ops_are_forbidden(people, ws_connect):
    viewer = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    assert viewer.hello["can_edit"] is False
    await viewer.send(op(1, 0, [{"insert": "x"}]))
    error = await viewer.recv()
    assert error["type"] == "error" and error["code"] == "forbidden" and error["id"] == f"{ID}:1"
    # Viewers send presence too.
    editor = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await viewer.send({"type": "presence", "rev": 0, "range": {"index": 0, "length": 0}})
    presence = await editor.recv_type("presence")
    assert presence["session"] == viewer.hello["session"]
    assert await db(stored_content, people["doc_id"]) == (0, [{"insert": "\n"}])


# -- ops ---------------------------------------------------------------------


async def test_an_op_is_stored_then_acked_and_broadcast(people, ws_connect):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    b = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    assert (await a.recv())["type"] == "join"
    await a.send(op(1, 0, [{"insert": "Hi 😀", "attributes": {"bold": True}}]))
    assert await a.recv() == {"type": "ack", "id": f"{ID}:1", "rev": 1}
    broadcast = await b.recv()
    assert broadcast == {
        "type": "op",
        "rev": 1,
        "id": f"{ID}:1",
        "session": a.hello["session"],
        "user": people["users"]["owner"].pk,
        "delta": [{"insert": "Hi 😀", "attributes": {"bold": True}}],
    }
    rev, content = await db(stored_content, people["doc_id"])
    assert rev == 1
    assert content == [{"insert": "Hi 😀", "attributes": {"bold": True}}, {"insert": "\n"}]
    doc = await db(lambda: type(people["doc"]).objects.get(pk=people["doc"].pk))
    assert doc.last_edited_by_id == people["users"]["owner"].pk
    assert doc.updated_at > people["doc"].updated_at


async def test_concurrent_ops_transform_and_commit_together_as_one_batch(
    people, ws_connect, controlled
):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    b = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    watcher = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    await a.recv_flat(2), await b.recv_flat(1)
    controlled.gate.clear()
    await a.send(op(1, 0, [{"insert": "a"}], client="a" * 16))
    await asyncio.to_thread(controlled.entered.wait, 5)
    await a.send(op(2, 0, [{"insert": "A"}], client="a" * 16))
    await b.send(op(1, 0, [{"insert": "b"}], client="b" * 16))
    await asyncio.sleep(0.1)
    controlled.gate.set()
    b_msgs = await b.recv_flat(3)
    assert [(m["type"], m["rev"]) for m in b_msgs] == [("op", 1), ("op", 2), ("ack", 3)]
    # The contract: ops queued behind a commit commit together (at most two
    # transactions for the three), and a socket gets one frame per commit.
    assert sum(controlled.batches) == 3 and len(controlled.batches) <= 2
    frames = [await watcher.recv() for _ in controlled.batches]
    seen = [m for f in frames for m in (f["messages"] if f["type"] == "batch" else [f])]
    assert [(m["type"], m["rev"]) for m in seen] == [("op", 1), ("op", 2), ("op", 3)]
    assert await watcher.nothing()
    rev, content = await db(stored_content, people["doc_id"])
    # Ties: ops already sequenced come first.
    assert (rev, content) == (3, [{"insert": "aAb\n"}])


async def test_a_resent_op_is_acked_once_and_applied_once(people, ws_connect):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await a.send(op(1, 0, [{"insert": "once"}]))
    assert (await a.recv())["rev"] == 1
    again = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"], rev=0)
    assert [item["id"] for item in again.hello["ops"]] == [f"{ID}:1"]
    await again.send(op(1, 0, [{"insert": "once"}]))
    assert await again.recv() == {"type": "ack", "id": f"{ID}:1", "rev": 1}
    assert await db(stored_content, people["doc_id"]) == (1, [{"insert": "once\n"}])


async def test_hello_catches_up_from_rev_or_sends_content(people, ws_connect):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    for n in range(1, 4):
        await a.send(op(n, n - 1, [{"insert": str(n)}]))
        assert (await a.recv())["rev"] == n
    late = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"], rev=1)
    assert late.hello["rev"] == 3 and "content" not in late.hello
    assert [(i["rev"], i["delta"]) for i in late.hello["ops"]] == [
        (2, [{"insert": "2"}]),
        (3, [{"insert": "3"}]),
    ]
    current = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"], rev=3)
    assert current.hello["ops"] == []
    ahead = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"], rev=99)
    assert ahead.hello["content"] == [{"insert": "321\n"}] and "ops" not in ahead.hello
    junk = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"], rev="x")
    assert junk.hello["content"] == [{"insert": "321\n"}]


async def test_catch_up_older_than_what_is_stored_sends_content(people, ws_connect, settings):
    # Older than the window but stored is caught up from storage
    # (test_offline_retention.py); here the ops are gone as past the horizon.

    settings.COLLABDOCS = {**settings.COLLABDOCS, "OP_WINDOW": 10}
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    for n in range(1, 31):
        await a.send(op(n, n - 1, [{"insert": "x"}]))
        assert (await a.recv())["rev"] == n
    await db(
        lambda: Operation.objects.filter(
            document__public_id=people["doc_id"], revision__lte=5
        ).delete()
    )
    old = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"], rev=1)
    assert old.hello["rev"] == 30 and old.hello["content"] == [{"insert": "x" * 30 + "\n"}]
    await a.send(op(99, 1, [{"insert": "y"}]))
    error = await a.recv_type("error")
    assert (error["code"], error["id"]) == ("stale", f"{ID}:99")


# -- presence ----------------------------------------------------------------


async def test_presence_join_and_leave(people, ws_connect):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    b = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    join = await a.recv()
    assert join == {"type": "join", "session": b.hello["session"], "user": b.hello["user"]}
    assert b.hello["peers"] == [
        {"session": a.hello["session"], "user": a.hello["user"], "range": None}
    ]
    await a.send(op(1, 0, [{"insert": "abc"}]))
    await a.recv()
    await b.recv()
    # b's selection made at revision 0 moves past a's insert.
    await b.send({"type": "presence", "rev": 0, "range": {"index": 0, "length": 0}})
    presence = await a.recv()
    assert presence == {
        "type": "presence",
        "session": b.hello["session"],
        "user": b.hello["user"],
        "rev": 1,
        "range": {"index": 3, "length": 0},
    }
    assert await b.nothing()
    await b.send({"type": "presence", "rev": 1, "range": None})
    assert (await a.recv())["range"] is None
    await b.close()
    assert await a.recv() == {"type": "leave", "session": b.hello["session"]}


# -- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame, has_id",
    [
        ("not json", False),
        ("[1, 2]", False),
        ('{"type": "bogus"}', False),
        ('{"rev": 0}', False),
        ('{"type": "op", "id": "short:1", "rev": 0, "delta": []}', False),
        ('{"type": "op", "id": "' + ID + ':0", "rev": 0, "delta": []}', False),
        ('{"type": "op", "id": "' + ID + ':1", "rev": 0}', True),
        ('{"type": "op", "id": "' + ID + ':1", "rev": 1.0, "delta": []}', True),
        ('{"type": "op", "id": "' + ID + ':1", "rev": -1, "delta": []}', True),
        ('{"type": "op", "id": "' + ID + ':1", "rev": 5, "delta": []}', True),
        ('{"type": "op", "id": "' + ID + ':1", "rev": NaN, "delta": []}', False),
        ('{"type": "presence", "rev": 0, "range": {"index": 1, "length": 1}}', False),
        ('{"type": "presence", "rev": 0, "range": {"index": -1, "length": 0}}', False),
        ('{"type": "presence", "rev": 3, "range": null}', False),
        ('{"type": "presence", "rev": 0}', False),
    ],
)
async def test_bad_messages(people, ws_connect, frame, has_id):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await sock.send(frame)
    error = await sock.recv()
    assert error["type"] == "error" and error["code"] == "bad_message", error
    assert error["message"]
    assert ("id" in error) == has_id
    # The socket stays usable.
    await sock.send(op(7, 0, [{"insert": "ok"}]))
    assert (await sock.recv())["type"] == "ack"


async def test_binary_frames_are_bad_messages(people, ws_connect):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await sock.comm.send_to(bytes_data=b"\x00\x01")
    assert (await sock.recv())["code"] == "bad_message"


@pytest.mark.parametrize(
    "delta",
    [
        {"insert": "x"},
        [{"insert": ""}],
        [{"retain": 1.0}],
        [{"retain": 5}],
        [{"delete": 1}],
        [{"insert": "x", "attributes": None}],
        [{"insert": "\ud83d"}],
        [{"insert": "a\u0000"}],
        [{"retain": 1}, {"insert": "after the final newline"}],
    ],
)
async def test_invalid_deltas_are_bad_ops(people, ws_connect, delta):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await sock.send(json.dumps({"type": "op", "id": f"{ID}:1", "rev": 0, "delta": delta}))
    error = await sock.recv()
    assert (error["code"], error["id"]) == ("bad_op", f"{ID}:1")
    assert await db(stored_content, people["doc_id"]) == (0, [{"insert": "\n"}])


async def test_surrogate_pairs_are_never_split(people, ws_connect):
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await sock.send(op(1, 0, [{"insert": "😀"}]))
    assert (await sock.recv())["rev"] == 1
    await sock.send(op(2, 1, [{"retain": 1}, {"insert": "x"}]))
    assert (await sock.recv())["code"] == "bad_op"
    await sock.send(op(3, 1, [{"retain": 2}, {"insert": "x"}]))
    assert (await sock.recv())["type"] == "ack"


async def test_too_large_frames_and_documents(people, ws_connect, settings):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "MAX_FRAME_BYTES": 1024, "MAX_DOC_LENGTH": 16}
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    await sock.send(op(1, 0, [{"insert": "é" * 600}]))  # 1,200 bytes, 600 characters
    error = await sock.recv()
    assert error["code"] == "too_large" and "id" not in error
    await sock.send(op(2, 0, [{"insert": "x" * 16}]))
    error = await sock.recv()
    assert (error["code"], error["id"]) == ("too_large", f"{ID}:2")
    await sock.send(op(3, 0, [{"insert": "x" * 15}]))
    assert (await sock.recv())["type"] == "ack"


async def test_too_many_ops_are_rate_limited_with_retry_after(people, ws_connect, settings):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "OPS_PER_SECOND": 2}
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    for n in (1, 2):
        await sock.send(op(n, n - 1, [{"insert": "x"}]))
        assert (await sock.recv())["type"] == "ack"
    await sock.send(op(3, 2, [{"insert": "x"}]))
    error = await sock.recv()
    assert (error["code"], error["id"]) == ("rate_limited", f"{ID}:3")
    assert 0 < error["retry_after"] <= 500
    await asyncio.sleep(error["retry_after"] / 1000)
    await sock.send(op(3, 2, [{"insert": "x"}]))
    assert (await sock.recv())["type"] == "ack"


async def test_storage_failure_is_unavailable_and_the_socket_survives(
    people, ws_connect, controlled
):
    a = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    b = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await a.recv()
    controlled.fail_appends = True
    await a.send(op(1, 0, [{"insert": "lost?"}]))
    error = await a.recv()
    assert (error["code"], error["id"]) == ("unavailable", f"{ID}:1")
    assert await b.nothing()
    controlled.fail_appends = False
    await a.send(op(1, 0, [{"insert": "lost?"}]))
    assert await a.recv() == {"type": "ack", "id": f"{ID}:1", "rev": 1}
    assert (await b.recv())["rev"] == 1
    assert await db(stored_content, people["doc_id"]) == (1, [{"insert": "lost?\n"}])


# -- who may connect -----------------------------------------------------------


async def test_a_foreign_origin_is_refused_at_the_handshake(people, ws_connect):
    sock = await ws_connect(
        people["doc_id"], cookie=people["cookies"]["owner"], origin=b"http://evil.example"
    )
    assert sock.connected is False


async def denied(sock) -> int:
    error = await sock.recv_type("error")
    assert (error["type"], error["code"]) == ("error", "denied"), error
    return await sock.closed()


async def test_anonymous_sockets_are_closed_4401(people, ws_connect):
    sock = await ws_connect(people["doc_id"], expect_hello=False)
    assert await denied(sock) == 4401


async def test_documents_one_may_not_see_are_closed_4404(people, ws_connect):
    stranger = await ws_connect(
        people["doc_id"], cookie=people["cookies"]["stranger"], expect_hello=False
    )
    assert await denied(stranger) == 4404
    missing = await ws_connect(uuid.uuid4(), cookie=people["cookies"]["owner"], expect_hello=False)
    assert await denied(missing) == 4404


async def test_a_share_link_in_the_session_opens_the_document(people, ws_connect):
    from django.contrib.sessions.backends.db import SessionStore

    doc = people["doc"]
    await db(Document.objects.filter(pk=doc.pk).update, link_mode=LinkMode.EDIT)
    cookie = people["cookies"]["stranger"]

    def remember() -> None:
        session = SessionStore(session_key=cookie.split("=", 1)[1])
        session["doc_links"] = {str(doc.public_id): doc.link_token}
        session.save()

    await db(remember)
    sock = await ws_connect(people["doc_id"], cookie=cookie)
    assert sock.hello["can_edit"] is True


async def test_too_many_sockets_per_user_are_closed_4429(people, ws_connect, settings):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "SOCKETS_PER_USER": 2}
    cookie = people["cookies"]["editor"]
    first = await ws_connect(people["doc_id"], cookie=cookie)
    await ws_connect(people["doc_id"], cookie=cookie)
    third = await ws_connect(people["doc_id"], cookie=cookie, expect_hello=False)
    error = await third.recv()
    assert error["code"] == "denied" and "too many" in error["message"]
    assert await third.closed() == 4429
    await first.close()
    await asyncio.sleep(0.05)
    await ws_connect(people["doc_id"], cookie=cookie)  # room again


async def test_storage_down_at_load_closes_4503(people, ws_connect, controlled):
    controlled.fail_loads = True
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"], expect_hello=False)
    error = await sock.recv()
    assert error["code"] == "unavailable"
    assert await sock.closed() == 4503


# -- documents.events ------------------------------------------------------------


async def test_revoking_a_share_closes_the_socket_4403(people, ws_connect):
    from guardian.shortcuts import remove_perm

    viewer = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    editor = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await db(remove_perm, "documents.view_document", people["users"]["viewer"], people["doc"])
    await db(events.access_changed, public_id=people["doc_id"])
    assert await denied(viewer) == 4403
    assert await editor.recv() == {"type": "leave", "session": viewer.hello["session"]}


async def test_losing_and_regaining_edit_rights_switches_read_only(people, ws_connect):
    from guardian.shortcuts import assign_perm, remove_perm

    editor = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    user, doc = people["users"]["editor"], people["doc"]
    await db(remove_perm, "documents.change_document", user, doc)
    await db(events.access_changed, public_id=people["doc_id"])
    owner = {"id": people["users"]["owner"].pk, "name": "Olive Owner"}
    assert await editor.recv() == {
        "type": "access",
        "can_edit": False,
        "can_comment": False,
        "role": "viewer",
        "role_label": "Viewer",
        "is_owner": False,
        "owner": owner,
    }
    await editor.send(op(1, 0, [{"insert": "x"}]))
    assert (await editor.recv())["code"] == "forbidden"
    await db(assign_perm, "documents.change_document", user, doc)
    await db(events.access_changed, public_id=people["doc_id"])
    assert await editor.recv() == {
        "type": "access",
        "can_edit": True,
        "can_comment": True,
        "role": "editor",
        "role_label": "Editor",
        "is_owner": False,
        "owner": owner,
    }
    await editor.send(op(1, 0, [{"insert": "x"}]))
    assert (await editor.recv())["type"] == "ack"


async def test_a_removed_document_closes_4404_and_renames_reach_everyone(people, ws_connect):

    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await db(events.title_changed, public_id=people["doc_id"], title="Plans ✓")
    assert await sock.recv() == {"type": "title", "title": "Plans ✓"}
    await db(events.document_removed, public_id=people["doc_id"])
    assert await denied(sock) == 4404


async def test_idle_documents_leave_memory(people, ws_connect, settings):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IDLE_UNLOAD_SECONDS": 0}
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    registry = process_registry()
    assert registry.get(uuid.UUID(people["doc_id"])) is not None
    await sock.close()
    for _ in range(100):
        if registry.get(uuid.UUID(people["doc_id"])) is None:
            break
        await asyncio.sleep(0.01)
    assert registry.get(uuid.UUID(people["doc_id"])) is None


async def test_a_second_user_logged_in_elsewhere(transactional_db, ws_connect):
    """Sessions of other users never see documents they were not given."""
    alice = await db(create_user, "alice")
    bob = await db(create_user, "bob")
    doc = await db(create_document, alice)
    sock = await ws_connect(doc.public_id, cookie=await db(session_cookie, bob), expect_hello=False)
    assert await denied(sock) == 4404


@pytest.mark.parametrize("kind", ["_send_text", "._send_text", "_deny"])
async def test_a_group_message_naming_a_private_method_calls_nothing(kind, monkeypatch):
    """Channels' rule: a type with a leading underscore is refused (ValueError)."""
    called: list[object] = []

    async def spy(self, *args):
        called.append(args)

    monkeypatch.setattr(DocumentConsumer, "_send_text", spy)
    monkeypatch.setattr(DocumentConsumer, "_deny", spy)
    consumer = DocumentConsumer()
    with pytest.raises(ValueError, match="leading underscore"):
        await consumer.dispatch({"type": kind, "text": "x"})
    assert called == []
