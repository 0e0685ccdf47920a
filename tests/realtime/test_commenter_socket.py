"""The socket permission matrix for the commenter role (the HTTP matrix is B2's
tests/documents/test_permission_matrix.py).

Through the real ASGI application: a commenter's ``hello`` says they may
comment but not edit; a suggestion is acked and broadcast; typing directly,
deleting others' text and forging marks are refused with ``forbidden``
naming why, and nothing is stored; a viewer still may not submit at all;
losing or gaining a right mid-session sends ``access`` with both rights; an
op older than the window, rebased from storage, keeps its author's rights
(a commenter's plain typing is still refused, an editor's still taken).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from documents import events

from .conftest import create_user, db, session_cookie, stored_content

pytestmark = pytest.mark.django_db(transaction=True)


def op(n: int, rev: int, delta: list[dict[str, Any]], who: str = "k") -> dict[str, Any]:
    """Return an op frame; ``who`` makes each socket's op ids its own."""
    return {"type": "op", "id": f"{who * 16}:{n}", "rev": rev, "delta": delta}


@pytest.fixture
def room(people: dict[str, Any]) -> dict[str, Any]:
    """Add a commenter (view + comment_document) to the ``people`` document."""
    commenter = create_user("commenter")
    assign_perm("documents.view_document", commenter, people["doc"])
    assign_perm("documents.comment_document", commenter, people["doc"])
    people["users"]["commenter"] = commenter
    people["cookies"]["commenter"] = session_cookie(commenter)
    return people


async def rights(sock: Any) -> tuple[bool, bool]:
    """Return (can_edit, can_comment) as the socket's ``hello`` said them."""
    return sock.hello["can_edit"], sock.hello["can_comment"]


async def test_hello_tells_each_role_what_it_may_do(room, ws_connect) -> None:
    expected = {
        "owner": (True, True),
        "editor": (True, True),
        "commenter": (False, True),
        "viewer": (False, False),
    }
    for name, rights_expected in expected.items():
        sock = await ws_connect(room["doc_id"], cookie=room["cookies"][name])
        assert await rights(sock) == rights_expected, name


async def test_a_commenters_suggestion_is_acked_and_broadcast(room, ws_connect) -> None:
    mark = f"{room['users']['commenter'].pk}:lx3k9a1:ab12"
    editor = await ws_connect(room["doc_id"], cookie=room["cookies"]["editor"])
    commenter = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    await rights(commenter)
    await editor.recv_type("join")
    suggestion = [{"insert": "Hi", "attributes": {"suggest-insert": mark}}]
    await commenter.send(op(1, 0, suggestion))
    ack = await commenter.recv_type("ack")
    assert ack["rev"] == 1
    seen = await editor.recv_type("op")
    assert seen["delta"] == suggestion and seen["rev"] == 1
    assert await db(stored_content, room["doc_id"]) == (
        1,
        [{"insert": "Hi", "attributes": {"suggest-insert": mark}}, {"insert": "\n"}],
    )
    # Then a comment anchor on it and a withdrawal of part of it.
    await commenter.send(op(2, 1, [{"retain": 1, "attributes": {"comment": "abcdefghij0123"}}]))
    assert (await commenter.recv_type("ack"))["rev"] == 2
    await commenter.send(op(3, 2, [{"retain": 1}, {"delete": 1}]))
    assert (await commenter.recv_type("ack"))["rev"] == 3


@pytest.mark.parametrize(
    ("delta", "reason"),
    [
        ([{"insert": "typed"}], "commenters may only insert text marked as their own suggestion"),
        ([{"delete": 3}], "commenters may only delete text they suggested"),
        ([{"retain": 2, "attributes": {"bold": True}}], "commenters may only format text"),
        (
            [{"insert": "x", "attributes": {"suggest-insert": "1:lx3k9a1:ab12"}}],
            "suggestion marks must be your own",
        ),
    ],
    ids=["typing", "deleting", "formatting", "forging"],
)
async def test_a_commenters_direct_edit_is_forbidden_and_not_stored(
    room, ws_connect, delta, reason
) -> None:
    editor = await ws_connect(room["doc_id"], cookie=room["cookies"]["editor"])
    await editor.send(op(1, 0, [{"insert": "abcdef"}], who="e"))
    await editor.recv_type("ack")
    commenter = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    await rights(commenter)
    await editor.recv_type("join")
    await commenter.send(op(1, 1, delta))
    error = await commenter.recv_type("error")
    assert (error["code"], error["id"], error["message"][: len(reason)]) == (
        "forbidden",
        f"{'k' * 16}:1",
        reason,
    )
    assert await db(stored_content, room["doc_id"]) == (1, [{"insert": "abcdef\n"}])
    assert await editor.nothing(0.3)  # nothing was broadcast
    # The socket stays usable: a suggestion after the refusal is acked.
    mark = f"{room['users']['commenter'].pk}:m0:zzzz"
    await commenter.send(op(2, 1, [{"insert": "s", "attributes": {"suggest-insert": mark}}]))
    assert (await commenter.recv_type("ack"))["rev"] == 2


async def test_an_editors_forged_mark_is_forbidden(room, ws_connect) -> None:
    editor = await ws_connect(room["doc_id"], cookie=room["cookies"]["editor"])
    commenter_id = room["users"]["commenter"].pk
    forged = [{"insert": "x", "attributes": {"suggest-insert": f"{commenter_id}:m0:abcd"}}]
    await editor.send(op(1, 0, forged, who="e"))
    error = await editor.recv_type("error")
    assert (error["code"], error["message"]) == ("forbidden", "suggestion marks must be your own")
    assert await db(stored_content, room["doc_id"]) == (0, [{"insert": "\n"}])


async def test_a_viewer_still_may_not_submit(room, ws_connect) -> None:
    viewer = await ws_connect(room["doc_id"], cookie=room["cookies"]["viewer"])
    mark = f"{room['users']['viewer'].pk}:m0:abcd"
    await viewer.send(op(1, 0, [{"insert": "x", "attributes": {"suggest-insert": mark}}]))
    error = await viewer.recv()
    assert (error["code"], error["message"]) == ("forbidden", "you may only view this document")


async def test_rights_changing_mid_session_send_access(room, ws_connect) -> None:
    user, doc = room["users"]["commenter"], room["doc"]
    commenter = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    await rights(commenter)
    await db(assign_perm, "documents.change_document", user, doc)
    await db(events.access_changed, public_id=room["doc_id"])
    frame = await commenter.recv()
    assert (frame["type"], frame["can_edit"], frame["can_comment"], frame["role"]) == (
        "access",
        True,
        True,
        "editor",
    )
    await commenter.send(op(1, 0, [{"insert": "typed"}]))
    assert (await commenter.recv_type("ack"))["rev"] == 1

    @transaction.atomic  # one commit: no re-check may see only half of it
    def make_viewer() -> None:
        remove_perm("documents.change_document", user, doc)
        remove_perm("documents.comment_document", user, doc)
        events.access_changed(public_id=room["doc_id"])

    await db(make_viewer)
    frame = await commenter.recv()
    assert (frame["type"], frame["can_edit"], frame["can_comment"], frame["role"]) == (
        "access",
        False,
        False,
        "viewer",
    )
    mark = f"{user.pk}:m0:abcd"
    await commenter.send(op(2, 1, [{"insert": "x", "attributes": {"suggest-insert": mark}}]))
    assert (await commenter.recv())["code"] == "forbidden"


async def test_ops_older_than_the_window_keep_their_authors_rights(
    room, ws_connect, settings
) -> None:
    # Rebased from storage (realtime.catchup): the rebased op is a new
    # submission, and must be held to the same rules as the original.
    settings.COLLABDOCS = {**settings.COLLABDOCS, "OP_WINDOW": 10}
    editor = await ws_connect(room["doc_id"], cookie=room["cookies"]["editor"])
    commenter = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    await editor.recv_type("join")
    for n in range(1, 31):
        await editor.send(op(n, n - 1, [{"insert": "x"}], who="e"))
        assert (await editor.recv_type("ack"))["rev"] == n
    await commenter.send(op(1, 1, [{"insert": "typed"}]))
    error = await commenter.recv_type("error")
    assert (error["code"], error["id"]) == ("forbidden", f"{'k' * 16}:1")
    mark = f"{room['users']['commenter'].pk}:m0:abcd"
    suggestion = op(2, 1, [{"insert": "s", "attributes": {"suggest-insert": mark}}])
    await commenter.send(suggestion)
    answer = await commenter.recv()
    if answer.get("code") == "rate_limited":  # one rebase from storage per second
        await asyncio.sleep(answer["retry_after"] / 1000)
        await commenter.send(suggestion)
        answer = await commenter.recv_type("ack")
    assert (answer["type"], answer["rev"]) == ("ack", 31), answer
    await editor.send(op(31, 1, [{"insert": "E"}], who="e"))
    assert (await editor.recv_type("ack"))["rev"] == 32
