"""Server edits on review marks (decide, uncomment) on a live document.

Through the real ASGI application with sockets open, the way the review
API applies them (:func:`realtime.restore.apply_edit` on the process
registry): a decision is ONE op, stored at the next revision, broadcast to
every socket as a server op (``session: ""``) authored by the person who
decided, and the content converges. Failure modes covered: nothing
selected changes nothing (no op, no revision); a decision by author leaves
other people's suggestions alone; a malformed edit is refused before the
document is touched; text typed concurrently into a suggestion being
accepted is kept (transformed, not lost); accepting 500 suggestions in a
document with 200 comment threads is one change in under a second; a
decision is undone by its maker only (``revert``), with the suggestions
back and later typing kept.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from documents.live import (
    InvalidEdit,
    ServerChangeFailed,
    decide_edit,
    revert_edit,
    uncomment_edit,
)
from realtime.ot import Delta
from realtime.registry import process_registry
from realtime.restore import apply_edit

from .conftest import db, stored_content

pytestmark = pytest.mark.django_db(transaction=True)


def op(who: str, n: int, rev: int, delta: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "op", "id": f"{who * 16}:{n}", "rev": rev, "delta": delta}


async def _edit(doc_id: str, edit: dict[str, Any], user_id: int) -> Any:
    return await apply_edit(
        public_id=uuid.UUID(doc_id),
        edit=edit,
        user_id=user_id,
        user_name="decider",
        registry=process_registry(),
        timeout=10,
    )


async def _open(people: dict[str, Any], ws_connect: Any) -> tuple[Any, Any, str, str]:
    """Open the owner's and the editor's sockets; return them and two marks."""
    owner = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    editor = await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"])
    await owner.recv_type("join")
    mine = f"{people['users']['owner'].pk}:lx3k9a1:own1"
    theirs = f"{people['users']['editor'].pk}:lx3k9a1:edt1"
    return owner, editor, mine, theirs


async def test_accepting_all_is_one_op_broadcast_and_acked(people, ws_connect) -> None:
    owner, editor, mine, theirs = await _open(people, ws_connect)
    await owner.send(op("o", 1, 0, [{"insert": "keep gone"}]))
    await owner.recv_type("ack")
    await editor.recv_type("op")
    await editor.send(
        op(
            "e",
            1,
            1,
            [
                {"retain": 4},
                {"insert": " new", "attributes": {"suggest-insert": theirs}},
                {"retain": 5, "attributes": {"suggest-delete": theirs}},
            ],
        )
    )
    assert (await editor.recv_type("ack"))["rev"] == 2
    await owner.recv_type("op")
    applied = await _edit(people["doc_id"], decide_edit(accept=True), people["users"]["owner"].pk)
    assert applied is not None and applied.revision == 3
    assert {(d["id"], d["kind"], d["author"]) for d in applied.decided} == {
        (theirs, "insert", people["users"]["editor"].pk),
        (theirs, "delete", people["users"]["editor"].pk),
    }
    for sock in (owner, editor):
        frame = await sock.recv_type("op")
        assert (frame["rev"], frame["id"], frame["session"]) == (3, applied.op_id, "")
        assert frame["user"] == people["users"]["owner"].pk
        assert frame["delta"] == applied.delta
        assert await sock.nothing(0.2)  # one op, nothing else
    assert await db(stored_content, people["doc_id"]) == (3, [{"insert": "keep new\n"}])
    # Deciding again finds nothing: no op, no revision.
    again = await _edit(people["doc_id"], decide_edit(accept=False), people["users"]["owner"].pk)
    assert again is None
    assert await db(stored_content, people["doc_id"]) == (3, [{"insert": "keep new\n"}])
    assert mine  # the owner made no suggestion here


async def test_rejecting_by_author_leaves_others_suggestions(people, ws_connect) -> None:
    owner, editor, mine, theirs = await _open(people, ws_connect)
    await owner.send(op("o", 1, 0, [{"insert": "A", "attributes": {"suggest-insert": mine}}]))
    await owner.recv_type("ack")
    await editor.send(op("e", 1, 1, [{"insert": "B", "attributes": {"suggest-insert": theirs}}]))
    await editor.recv_type("ack")
    editor_id = people["users"]["editor"].pk
    applied = await _edit(people["doc_id"], decide_edit(accept=False, author=editor_id), editor_id)
    assert applied is not None and [d["id"] for d in applied.decided] == [theirs]
    assert await db(stored_content, people["doc_id"]) == (
        3,
        [{"insert": "A", "attributes": {"suggest-insert": mine}}, {"insert": "\n"}],
    )
    # By ids among an author's: the owner's mark is not the editor's.
    none = await _edit(
        people["doc_id"], decide_edit(accept=True, ids=[mine], author=editor_id), editor_id
    )
    assert none is None


async def test_uncomment_removes_a_threads_anchors_live(people, ws_connect) -> None:
    owner, editor, _, _ = await _open(people, ws_connect)
    anchored = [{"insert": "note", "attributes": {"comment": "abcdefghij0123 zz00zz00zz00zz00"}}]
    await owner.send(op("o", 1, 0, anchored))
    await owner.recv_type("ack")
    await editor.recv_type("op")
    applied = await _edit(
        people["doc_id"], uncomment_edit(["abcdefghij0123"]), people["users"]["owner"].pk
    )
    assert applied is not None and applied.decided == []
    for sock in (owner, editor):
        assert (await sock.recv_type("op"))["rev"] == 2
    assert await db(stored_content, people["doc_id"]) == (
        2,
        [{"insert": "note", "attributes": {"comment": "zz00zz00zz00zz00"}}, {"insert": "\n"}],
    )


async def test_a_malformed_edit_touches_nothing(people, ws_connect) -> None:
    owner, _, _, _ = await _open(people, ws_connect)
    with pytest.raises(InvalidEdit):
        await _edit(people["doc_id"], {"kind": "decide", "accept": 1}, 1)
    assert await owner.nothing(0.2)
    assert await db(stored_content, people["doc_id"]) == (0, [{"insert": "\n"}])


async def test_text_typed_into_a_suggestion_while_it_is_accepted_is_kept(
    people, ws_connect
) -> None:
    owner, editor, _, theirs = await _open(people, ws_connect)
    await editor.send(op("e", 1, 0, [{"insert": "abcd", "attributes": {"suggest-insert": theirs}}]))
    await editor.recv_type("ack")
    await owner.recv_type("op")
    # The owner types inside it (based on r1) just as the rejection is made.
    await owner.send(op("o", 1, 1, [{"retain": 2}, {"insert": "XY"}]))
    applied = await _edit(people["doc_id"], decide_edit(accept=False), people["users"]["owner"].pk)
    assert applied is not None
    head, content = await db(stored_content, people["doc_id"])
    assert head == 3
    assert content == [{"insert": "XY\n"}]  # the suggestion went, the typing stayed
    # Either may have come first; every socket reaches revision 3.
    for sock in (owner, editor):
        seen = 0
        while seen < 3:
            frame = await sock.recv()
            for msg in frame["messages"] if frame["type"] == "batch" else [frame]:
                if msg["type"] in ("op", "ack"):
                    seen = max(seen, msg["rev"])


async def test_accepting_500_suggestions_among_200_threads_takes_under_a_second(
    people, ws_connect
) -> None:
    owner, editor, _, _ = await _open(people, ws_connect)
    editor_id = people["users"]["editor"].pk
    delta: list[dict[str, Any]] = []
    for n in range(500):
        thread = f"{n % 200:014d}"
        delta.append({"insert": f"word{n} ", "attributes": {"comment": thread}})
        kind = ("suggest-insert", "suggest-delete")[n % 2]
        delta.append({"insert": f"s{n} ", "attributes": {kind: f"{editor_id}:m0:{n:06d}"}})
    delta_ops = delta
    await editor.send(op("e", 1, 0, delta_ops))
    assert (await editor.recv_type("ack", timeout=20))["rev"] == 1
    await owner.recv_type("op", timeout=20)
    started = time.perf_counter()
    applied = await _edit(people["doc_id"], decide_edit(accept=True), people["users"]["owner"].pk)
    elapsed = time.perf_counter() - started
    print(f"accepting 500 suggestions (200 threads open): {elapsed * 1000:.0f} ms, one op")
    assert applied is not None and applied.revision == 2
    assert len({d["id"] for d in applied.decided}) == 500
    assert elapsed < 1.0
    frame = await owner.recv_type("op", timeout=10)
    assert frame["rev"] == 2
    _, content = await db(stored_content, people["doc_id"])
    text = "".join(o["insert"] for o in content)
    assert "s1 " not in text and "s0 " in text and "s498 " in text
    assert not any(
        "suggest-insert" in (o.get("attributes") or {})
        or "suggest-delete" in (o.get("attributes") or {})
        for o in content
    )


async def test_undoing_a_decision_brings_the_suggestions_back_live(people, ws_connect) -> None:
    owner, editor, _, theirs = await _open(people, ws_connect)
    suggested = [
        {"insert": "keep "},
        {"insert": "new ", "attributes": {"suggest-insert": theirs}},
        {"insert": "old", "attributes": {"suggest-delete": theirs}},
    ]
    await editor.send(op("e", 1, 0, suggested))
    await editor.recv_type("ack")
    await owner.recv_type("op")
    _, before = await db(stored_content, people["doc_id"])
    owner_id = people["users"]["owner"].pk
    decision = await _edit(people["doc_id"], decide_edit(accept=True), owner_id)
    assert decision is not None and decision.revision == 2
    # Someone types at the start after the decision, before the undo.
    await editor.send(op("e", 2, 1, [{"insert": "> "}]))
    assert (await editor.recv_type("ack"))["rev"] == 3
    # Only the person who decided may undo it.
    with pytest.raises(ServerChangeFailed, match="only the person who made that change"):
        await _edit(people["doc_id"], revert_edit(2), people["users"]["editor"].pk)
    undone = await _edit(people["doc_id"], revert_edit(2), owner_id)
    assert undone is not None and undone.revision == 4
    head, content = await db(stored_content, people["doc_id"])
    assert head == 4
    assert content == Delta([{"insert": "> "}, *before]).ops  # marks back, typing kept
    for sock in (owner, editor):
        while (frame := await sock.recv_type("op"))["rev"] < 4:
            pass
        assert frame["session"] == "" and frame["user"] == owner_id
    # A change no longer stored (or never made) cannot be undone.
    with pytest.raises(ServerChangeFailed, match="can no longer be undone"):
        await _edit(people["doc_id"], revert_edit(99), owner_id)
