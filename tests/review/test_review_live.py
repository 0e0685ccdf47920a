"""The review API against a real daphne with sockets attached.

Failure modes covered: a change that never reaches the people on the
document, a deleted thread whose anchors stay in the live content, a
decision that differs between the database and the open editors (or is
made of several ops), suggestions of the wrong person decided, the
authors of decided suggestions not told.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.request
from typing import Any

import pytest

from collabdocs.devclient import WSClient
from documents.roles import Role
from documents.services import share_grant
from notifications.models import Notification
from realtime.ot import Delta
from tests.realtime.conftest import create_document, create_user, db, session_cookie, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TID = "livethread000001"


def http(base: str, method: str, path: str, cookie: str, body: Any = None) -> tuple[int, dict]:
    """Send JSON as the session in ``cookie`` (with a CSRF token of our own)."""
    token = secrets.token_hex(16)  # a 32-character CSRF secret, sent twice
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{cookie}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": base,
            "Referer": base + "/",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def team(transactional_db: None) -> dict[str, Any]:
    """Return an owner, an editor, two commenters and a viewer of one document, with cookies."""
    owner = create_user("olivia")
    users = {
        "owner": owner,
        "editor": create_user("eddie"),
        "alice": create_user("alice"),
        "carol": create_user("carol"),
        "viewer": create_user("victor"),
    }
    document = create_document(owner)
    for name, role in (
        ("editor", Role.EDITOR),
        ("alice", Role.COMMENTER),
        ("carol", Role.COMMENTER),
        ("viewer", Role.VIEWER),
    ):
        share_grant(document=document, actor=owner, identifier=users[name].username, role=role)
    return {
        "users": users,
        "cookies": {name: session_cookie(user) for name, user in users.items()},
        "doc_id": str(document.public_id),
    }


def mark(user: Any, rand: str) -> str:
    """Return a suggestion mark by ``user`` (a fixed time, a given random part)."""
    return f"{user.pk}:lx3k9a1:{rand}"


class Listener:
    """A socket on the document that records the review frames it receives."""

    def __init__(self, server: Any, doc_id: str, cookie: str) -> None:
        self.frames: list[dict] = []
        self.client = WSClient(
            server.ws_url, doc_id, cookie=cookie, on_message=self._note, reconnect=False
        )

    def _note(self, msg: dict) -> None:
        messages = msg["messages"] if msg.get("type") == "batch" else [msg]
        self.frames.extend(m for m in messages if m.get("type") == "review")

    async def review(self, event: str, key: str, value: Any) -> dict:
        """Wait for a review frame with this event and ``frame[key]`` matching."""

        def found() -> dict | None:
            for frame in self.frames:
                item = frame.get(key)
                got = item.get("id") if isinstance(item, dict) else item
                if frame.get("event") == event and got == value:
                    return frame
            return None

        await self.client.wait_for(lambda: found() is not None, timeout=20)
        frame = found()
        assert frame is not None
        return frame


async def synced(clients: list[WSClient], doc_id: str) -> list[dict]:
    """Wait until every client has the stored head; return the stored content."""
    for client in clients:
        await client.wait_synchronized()
    head, content = await db(stored_content, doc_id)
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.rev == head)
        assert client.ot.content() == content
        assert client.ot.errors == []
    return content


def attribute_values(content: list[dict], name: str) -> list[Any]:
    """Return the values of attribute ``name`` across ``content``'s ops."""
    return [op["attributes"][name] for op in content if name in op.get("attributes", {})]


async def test_a_new_thread_reaches_every_socket_on_the_document(
    live_daphne: Any, team: dict
) -> None:
    doc_id, cookies = team["doc_id"], team["cookies"]
    listener = Listener(live_daphne, doc_id, cookies["viewer"])
    await listener.client.connect()
    status, thread = await asyncio.to_thread(
        http,
        live_daphne.url,
        "POST",
        f"/api/docs/{doc_id}/threads",
        cookies["alice"],
        {"id": TID, "quote": "", "body": "A question"},
    )
    assert status == 201, thread
    frame = await listener.review("thread", "thread", TID)
    assert frame["thread"] == thread
    status, _ = await asyncio.to_thread(
        http, live_daphne.url, "POST", f"/api/docs/{doc_id}/threads/{TID}/resolve", cookies["alice"]
    )
    assert status == 200
    await listener.client.wait_for(
        lambda: any(f["thread"]["resolved"] for f in listener.frames if "thread" in f)
    )
    await listener.client.close()


async def test_deleting_a_thread_removes_its_anchors_from_the_live_document(
    live_daphne: Any, team: dict
) -> None:
    doc_id, cookies = team["doc_id"], team["cookies"]
    editor = Listener(live_daphne, doc_id, cookies["editor"])
    alice = Listener(live_daphne, doc_id, cookies["alice"])
    await editor.client.connect()
    await alice.client.connect()
    await editor.client.edit(Delta().insert("Revenue grows fast."))
    await synced([editor.client, alice.client], doc_id)
    other = "keepthisthread01"
    # Two overlapping threads: alice's on "grows", another on "grows fast".
    await alice.client.edit(Delta().retain(8).retain(5, {"comment": f"{TID} {other}"}))
    await alice.client.edit(Delta().retain(13).retain(5, {"comment": other}))
    for tid in (TID, other):
        status, _ = await asyncio.to_thread(
            http,
            live_daphne.url,
            "POST",
            f"/api/docs/{doc_id}/threads",
            cookies["alice"],
            {"id": tid, "quote": "grows", "body": "why?"},
        )
        assert status == 201
    content = await synced([editor.client, alice.client], doc_id)
    assert attribute_values(content, "comment") == [f"{TID} {other}", other]

    # Carol did not start it and is no editor: refused, nothing changes.
    status, answer = await asyncio.to_thread(
        http, live_daphne.url, "DELETE", f"/api/docs/{doc_id}/threads/{TID}", cookies["carol"]
    )
    assert status == 403, answer
    status, answer = await asyncio.to_thread(
        http, live_daphne.url, "DELETE", f"/api/docs/{doc_id}/threads/{TID}", cookies["editor"]
    )
    assert status == 200 and answer == {"deleted": TID}
    await editor.review("thread_removed", "id", TID)
    content = await synced([editor.client, alice.client], doc_id)
    assert content == [
        {"insert": "Revenue "},
        {"insert": "grows fast", "attributes": {"comment": other}},
        {"insert": ".\n"},
    ]
    _, listing = await asyncio.to_thread(
        http, live_daphne.url, "GET", f"/api/docs/{doc_id}/threads", cookies["viewer"]
    )
    assert [t["id"] for t in listing["threads"]] == [other]
    for listener in (editor, alice):
        await listener.client.close()


async def test_deciding_suggestions_one_by_author_and_all_with_sockets_attached(
    live_daphne: Any, team: dict
) -> None:
    doc_id, cookies, users = team["doc_id"], team["cookies"], team["users"]
    editor = Listener(live_daphne, doc_id, cookies["editor"])
    alice = Listener(live_daphne, doc_id, cookies["alice"])
    carol = Listener(live_daphne, doc_id, cookies["carol"])
    for listener in (editor, alice, carol):
        await listener.client.connect()
    await editor.client.edit(Delta().insert("The plan is ready."))
    await synced([editor.client, alice.client, carol.client], doc_id)

    a1, a2, c1 = (
        mark(users["alice"], "aaaa"),
        mark(users["alice"], "bbbb"),
        mark(users["carol"], "cccc"),
    )
    # Alice suggests inserting "new " and deleting "is"; Carol suggests bold on "plan".
    await alice.client.edit(Delta().retain(4).insert("new ", {"suggest-insert": a1}))
    await alice.client.edit(Delta().retain(13).retain(2, {"suggest-delete": a2}))
    await synced([editor.client, alice.client, carol.client], doc_id)
    await carol.client.edit(Delta().retain(8).retain(4, {"suggest-format": c1 + '|{"bold":true}'}))
    content = await synced([editor.client, alice.client, carol.client], doc_id)
    assert "".join(op["insert"] for op in content) == "The new plan is ready.\n"

    async def decide(who: str, body: dict) -> tuple[int, dict]:
        return await asyncio.to_thread(
            http,
            live_daphne.url,
            "POST",
            f"/api/docs/{doc_id}/suggestions/decide",
            cookies[who],
            body,
        )

    # Carol withdraws nothing of alice's; she may reject her own only.
    status, _ = await decide("carol", {"accept": False, "ids": [a1]})
    assert status == 403
    head_before, _ = await db(stored_content, doc_id)

    # One: accept alice's insertion.
    status, answer = await decide("editor", {"accept": True, "ids": [a1]})
    assert status == 200, answer
    assert answer["revision"] == head_before + 1 and answer["decided"] == 1
    content = await synced([editor.client, alice.client, carol.client], doc_id)
    assert content == [
        {"insert": "The new "},
        {"insert": "plan", "attributes": {"suggest-format": c1 + '|{"bold":true}'}},
        {"insert": " "},
        {"insert": "is", "attributes": {"suggest-delete": a2}},
        {"insert": " ready.\n"},
    ]

    # By author: reject all of alice's (her deletion stays undone: "is" kept).
    status, answer = await decide("editor", {"accept": False, "author": users["alice"].pk})
    assert status == 200 and answer["decided"] == 1
    content = await synced([editor.client, alice.client, carol.client], doc_id)
    assert attribute_values(content, "suggest-delete") == []
    assert "".join(op["insert"] for op in content) == "The new plan is ready.\n"

    # Nothing of alice's left: 200 with no change.
    status, answer = await decide("editor", {"accept": True, "author": users["alice"].pk})
    assert status == 200 and answer == {"revision": None, "op_id": None, "delta": [], "decided": 0}

    # All: accept carol's bold.
    status, answer = await decide("editor", {"accept": True, "all": True})
    assert status == 200 and answer["decided"] == 1
    content = await synced([editor.client, alice.client, carol.client], doc_id)
    assert content == [
        {"insert": "The new "},
        {"insert": "plan", "attributes": {"bold": True}},
        {"insert": " is ready.\n"},
    ]

    kinds = await db(
        lambda: sorted(
            Notification.objects.filter(kind__startswith="suggestion").values_list(
                "recipient__username", "kind", "url"
            )
        )
    )
    assert kinds == [
        ("alice", "suggestion_accepted", f"/d/{doc_id}/#suggestion-{a1}"),
        ("alice", "suggestion_rejected", f"/d/{doc_id}/#suggestion-{a2}"),
        ("carol", "suggestion_accepted", f"/d/{doc_id}/#suggestion-{c1}"),
    ]
    for listener in (editor, alice, carol):
        await listener.client.close()


async def test_a_commenter_withdraws_her_own_suggestion(live_daphne: Any, team: dict) -> None:
    doc_id, cookies, users = team["doc_id"], team["cookies"], team["users"]
    alice = Listener(live_daphne, doc_id, cookies["alice"])
    await alice.client.connect()
    a1 = mark(users["alice"], "wxyz")
    await alice.client.edit(Delta().insert("maybe ", {"suggest-insert": a1}))
    await synced([alice.client], doc_id)
    status, answer = await asyncio.to_thread(
        http,
        live_daphne.url,
        "POST",
        f"/api/docs/{doc_id}/suggestions/decide",
        cookies["alice"],
        {"accept": False, "ids": [a1]},
    )
    assert status == 200 and answer["decided"] == 1, answer
    assert await synced([alice.client], doc_id) == [{"insert": "\n"}]
    # Her own decision notifies no one.
    decided = Notification.objects.filter(kind__startswith="suggestion")
    assert await db(decided.count) == 0
    await alice.client.close()


async def test_the_maker_of_a_decision_undoes_it_once(live_daphne: Any, team: dict) -> None:
    doc_id, cookies, users = team["doc_id"], team["cookies"], team["users"]
    editor = Listener(live_daphne, doc_id, cookies["editor"])
    alice = Listener(live_daphne, doc_id, cookies["alice"])
    await editor.client.connect()
    await alice.client.connect()
    await editor.client.edit(Delta().insert("Ship it."))
    await synced([editor.client, alice.client], doc_id)
    a1 = mark(users["alice"], "undo")
    await alice.client.edit(Delta().retain(5).insert("soon ", {"suggest-insert": a1}))
    suggested = await synced([editor.client, alice.client], doc_id)

    async def post(who: str, path: str, body: dict) -> tuple[int, dict]:
        return await asyncio.to_thread(
            http,
            live_daphne.url,
            "POST",
            f"/api/docs/{doc_id}/suggestions/{path}",
            cookies[who],
            body,
        )

    status, decided = await post("editor", "decide", {"accept": False, "ids": [a1]})
    assert status == 200 and decided["decided"] == 1
    assert await synced([editor.client, alice.client], doc_id) == [{"insert": "Ship it.\n"}]

    # Only its maker may undo it; a revision that holds no decision is unknown.
    status, answer = await post("alice", "undo", {"revision": decided["revision"]})
    assert status == 403 and "Only the person" in answer["error"]
    status, answer = await post("editor", "undo", {"revision": decided["revision"] - 1})
    assert status == 404
    status, answer = await post("editor", "undo", {"revision": "x"})
    assert status == 400

    # Typing after the decision is kept; the suggestion comes back, alice's again.
    await editor.client.edit(Delta().insert("Now: "))
    await synced([editor.client, alice.client], doc_id)
    status, undone = await post("editor", "undo", {"revision": decided["revision"]})
    assert status == 200, undone
    assert undone["decided"] == 1 and undone["revision"] > decided["revision"]
    content = await synced([editor.client, alice.client], doc_id)
    assert suggested[1] == {"insert": "soon ", "attributes": {"suggest-insert": a1}}
    assert content == [{"insert": "Now: Ship "}, suggested[1], {"insert": "it.\n"}]
    status, answer = await post("editor", "undo", {"revision": decided["revision"]})
    assert status == 400 and "undone already" in answer["error"]
    for listener in (editor, alice):
        await listener.client.close()


async def test_accepting_500_suggestions_over_http_is_one_change_under_a_second(
    live_daphne: Any, team: dict
) -> None:
    doc_id, cookies, users = team["doc_id"], team["cookies"], team["users"]
    authors = ["owner", "editor", "alice", "carol"]
    listeners = {who: Listener(live_daphne, doc_id, cookies[who]) for who in authors}
    for listener in listeners.values():
        await listener.client.connect()
    for number, who in enumerate(authors):
        # 125 suggested insertions by one person, in one op at the end.
        delta = Delta().retain(listeners[who].client.ot.doc.length - 1)
        for n in range(125):
            delta.insert(
                f"w{number}.{n} ", {"suggest-insert": mark(users[who], f"{number}{n:04d}")}
            )
        await listeners[who].client.edit(delta)
        await synced([listener.client for listener in listeners.values()], doc_id)
    head_before, _ = await db(stored_content, doc_id)

    started = asyncio.get_running_loop().time()
    status, answer = await asyncio.to_thread(
        http,
        live_daphne.url,
        "POST",
        f"/api/docs/{doc_id}/suggestions/decide",
        cookies["editor"],
        {"accept": True, "all": True},
    )
    elapsed = asyncio.get_running_loop().time() - started
    print(f"POST decide all (500 suggestions, 4 authors): {elapsed * 1000:.0f} ms")
    assert status == 200, answer
    assert answer["decided"] == 500 and answer["revision"] == head_before + 1
    assert elapsed < 1.0
    content = await synced([listener.client for listener in listeners.values()], doc_id)
    assert all("attributes" not in op for op in content)
    # One notice per author (the decider told nothing), not one per suggestion.
    told = await db(
        lambda: sorted(
            Notification.objects.filter(kind="suggestion_accepted").values_list(
                "recipient__username", "text"
            )
        )
    )
    assert [name for name, _ in told] == ["alice", "carol", "olivia"]
    assert all("125 of your suggestions" in text for _, text in told)
    for listener in listeners.values():
        await listener.client.close()
