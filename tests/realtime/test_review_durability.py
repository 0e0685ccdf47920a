"""Comment anchors and suggestions after concurrent edits, compaction and restore.

Through the real ASGI application and the real services: a commenter
anchors a comment and suggests text while an editor edits the same words
concurrently (from an older revision); the marks move with the text. Then
the document is unloaded (its last snapshot), or its worker dies and the
log is compacted by ``compact_docs`` once its lease ran out, and it is
opened again: the marks are still there, exactly. Then a named version
is restored live after the anchored text was deleted and the suggestion
accepted: the anchor and the suggestion come back with the version's
text, for everyone connected, as one op. (Worker
failover: tests/routing/test_review_failover.py.)
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from django.core.management import call_command
from guardian.shortcuts import assign_perm

from documents.history import version_name, version_restore
from documents.models import Document, DocumentVersion
from realtime.ot.review import suggestions
from realtime.registry import uninstall_registry

from .conftest import create_user, db, session_cookie, stored_content

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "abcdefghij0123"


def op(who: str, n: int, rev: int, delta: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "op", "id": f"{who * 16}:{n}", "rev": rev, "delta": delta}


@pytest.fixture
def room(people: dict[str, Any]) -> dict[str, Any]:
    commenter = create_user("commenter")
    assign_perm("documents.view_document", commenter, people["doc"])
    assign_perm("documents.comment_document", commenter, people["doc"])
    people["users"]["commenter"] = commenter
    people["cookies"]["commenter"] = session_cookie(commenter)
    return people


def anchored_text(content: list[dict[str, Any]], thread: str) -> str:
    """Return the text that carries ``thread``'s anchor, in order."""
    return "".join(
        o["insert"]
        for o in content
        if thread in ((o.get("attributes") or {}).get("comment") or "").split(" ")
    )


async def _write_review(room: dict[str, Any], ws_connect: Any) -> tuple[Any, Any, str]:
    """Make "Say hello world" with an anchor and a suggestion edited concurrently."""
    editor = await ws_connect(room["doc_id"], cookie=room["cookies"]["editor"])
    commenter = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    mark = f"{room['users']['commenter'].pk}:lx3k9a1:sug1"
    await editor.send(op("e", 1, 0, [{"insert": "hello world"}]))
    assert (await editor.recv_type("ack"))["rev"] == 1
    await commenter.recv_type("op")
    # Both from revision 1: the commenter anchors "world" and suggests
    # "big " before it; the editor prepends "Say " and types "-" in "world".
    await commenter.send(
        op(
            "c",
            1,
            1,
            [
                {"retain": 6},
                {"insert": "big ", "attributes": {"suggest-insert": mark}},
                {"retain": 5, "attributes": {"comment": THREAD}},
            ],
        )
    )
    await editor.send(op("e", 2, 1, [{"insert": "Say "}, {"retain": 9}, {"insert": "-"}]))
    await commenter.recv_type("ack")
    await editor.recv_type("ack")
    head, content = await db(stored_content, room["doc_id"])
    assert head == 3
    text = "".join(o["insert"] for o in content)
    assert text == "Say hello big wor-ld\n"
    # The anchor moved with "world"; the editor's "-" inside is not anchored.
    assert anchored_text(content, THREAD) == "world"
    (suggestion,) = suggestions(content)
    assert (suggestion.id, suggestion.kind, suggestion.text) == (mark, "insert", "big ")
    assert suggestion.index == len("Say hello ")
    return editor, commenter, mark


async def _reopened(room: dict[str, Any], ws_connect: Any, before: list, mark: str) -> None:
    """Open the document again and check its marks are exactly as before."""
    head, after = await db(stored_content, room["doc_id"])
    assert after == before
    again = await ws_connect(room["doc_id"], cookie=room["cookies"]["commenter"])
    assert again.hello["rev"] == head
    assert again.hello["content"] == before
    assert anchored_text(again.hello["content"], THREAD) == "world"
    assert [s.id for s in suggestions(again.hello["content"])] == [mark]


async def test_marks_survive_the_unload_snapshot(room, ws_connect) -> None:
    editor, commenter, mark = await _write_review(room, ws_connect)
    _, before = await db(stored_content, room["doc_id"])
    await editor.close()
    await commenter.close()
    registry = uninstall_registry()
    assert registry is not None
    await registry.close()  # stores a snapshot and lets go, as an idle unload
    await _reopened(room, ws_connect, before, mark)


async def test_marks_survive_compact_docs_after_a_crash(room, ws_connect, settings) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "LEASE_SECONDS": 1}
    editor, commenter, mark = await _write_review(room, ws_connect)
    _, before = await db(stored_content, room["doc_id"])
    await editor.close()
    await commenter.close()
    # The worker goes away without its last snapshot (a crash): the ops are
    # in the log, and compact_docs folds them once the lease has run out.
    registry = uninstall_registry()
    assert registry is not None
    registry.runner.shutdown()
    await asyncio.sleep(1.5)
    out = io.StringIO()
    await db(
        call_command,
        "compact_docs",
        "--doc",
        room["doc_id"],
        "--idle-minutes",
        "0",
        "--keep-ops",
        "0",
        stdout=out,
    )
    assert "compacted 1 of 1 documents" in out.getvalue(), out.getvalue()

    def folded() -> int:
        document = Document.objects.get(public_id=room["doc_id"])
        return DocumentVersion.objects.get(pk=document.snapshot_id).revision

    assert await db(folded) == 3
    await _reopened(room, ws_connect, before, mark)


async def test_restoring_a_version_brings_its_marks_back_live(room, ws_connect) -> None:
    editor, commenter, mark = await _write_review(room, ws_connect)
    _, named_content = await db(stored_content, room["doc_id"])
    document = room["doc"]
    owner = room["users"]["owner"]
    version = await db(version_name, document=document, actor=owner, name="Reviewed")
    # The anchored text goes, and the suggestion is accepted by hand.
    await editor.send(
        op(
            "e",
            3,
            3,
            [{"retain": 10}, {"retain": 4, "attributes": {"suggest-insert": None}}, {"delete": 6}],
        )
    )
    assert (await editor.recv_type("ack"))["rev"] == 4
    await commenter.recv_type("op")
    _, changed = await db(stored_content, room["doc_id"])
    assert anchored_text(changed, THREAD) == "" and suggestions(changed) == []

    restore = await db(version_restore, document=document, actor=owner, version_id=version.pk)
    assert restore.revision == 5
    for sock in (editor, commenter):
        frame = await sock.recv_type("op")
        assert (frame["rev"], frame["session"]) == (5, "")
    head, content = await db(stored_content, room["doc_id"])
    assert (head, content) == (5, named_content)
    assert anchored_text(content, THREAD) == "world"
    assert [s.id for s in suggestions(content)] == [mark]
