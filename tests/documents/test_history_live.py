"""The history panel, alive: paging, events for named/saved/restored versions, undoing a restore."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import events as documents_events
from documents.content import document_content
from documents.models import Document, DocumentVersion, Operation, VersionKind
from tests.documents.conftest import World, client_as
from tests.realtime import conftest as realtime_fixtures
from tests.realtime.conftest import db

# The socket fixtures of tests/realtime (pytest finds fixtures by module attribute).
people = realtime_fixtures.people
ws_connect = realtime_fixtures.ws_connect
_fresh_realtime_state = realtime_fixtures._fresh_realtime_state


def _post(client: Client, url: str, body: dict | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _write(doc: Document, *changes: tuple[list[dict], Any]) -> None:
    doc.refresh_from_db()
    head = doc.head_revision
    for delta, author in changes:
        head += 1
        Operation.objects.create(
            document=doc, revision=head, op_id=f"{'l' * 16}:{head}", delta=delta, author=author
        )
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()


class _Layer:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def group_send(self, group: str, message: dict) -> None:
        if message.get("type") == "doc.history":
            self.sent.append({"group": group, **message["payload"]})


@pytest.fixture
def history_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """Record the history payloads that reach the channel layer (after commit)."""
    layer = _Layer()
    monkeypatch.setattr(documents_events, "get_channel_layer", lambda: layer)
    yield layer.sent


# --------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------


def test_the_list_pages_through_every_version_once(world: World) -> None:
    doc = world.doc
    _write(doc, *[([{"insert": "x"}], world.owner)] * 9)
    for revision in (2, 4, 4, 6, 8):  # two at revision 4: ties ordered by time, then id
        DocumentVersion.objects.create(
            document=doc, revision=revision, content=[{"insert": "x\n"}], kind=VersionKind.NAMED
        )
    client = client_as(world, "editor")
    url = reverse("documents:history", args=[doc.public_id])
    first = client.get(url, {"limit": 2}).json()
    assert first["versions"][0]["is_current"] and first["versions"][0]["id"] is None
    seen = [v["id"] for v in first["versions"][1:]]
    following = first["next"]
    pages = 1
    while following is not None:
        page = client.get(url, {"limit": 2, "before": following}).json()
        assert not any(v["is_current"] for v in page["versions"])
        seen += [v["id"] for v in page["versions"]]
        following = page["next"]
        pages += 1
    expected = list(
        DocumentVersion.objects.filter(document=doc)
        .order_by("-revision", "-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert seen == expected and pages == 3
    assert client.get(url).json()["next"] is None  # 6 versions fit the default page
    for params, needle in [
        ({"limit": 0}, "limit must be from 1 to 100"),
        ({"limit": 101}, "limit must be from 1 to 100"),
        ({"limit": "many"}, "whole number"),
        ({"before": 99999999}, "doesn’t exist"),
    ]:
        response = client.get(url, params)
        assert response.status_code == 400 and needle in response.json()["error"], params


# --------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------


def test_naming_and_autosaves_are_announced(
    world: World, history_events: list[dict], django_capture_on_commit_callbacks: Any
) -> None:
    doc = world.doc
    client = client_as(world, "editor")
    with django_capture_on_commit_callbacks(execute=True):
        named = _post(
            client, reverse("documents:history_name", args=[doc.public_id]), {"name": "Draft"}
        )
    [event] = history_events
    assert event["group"] == f"doc.{doc.public_id}" and event["event"] == "named"
    assert event["version"]["id"] == named.json()["id"] and event["version"]["label"] == "Draft"
    assert event["by"] == {"id": world.editor.pk, "name": "editor"}
    assert set(event["version"]) >= {"id", "revision", "kind", "label", "created_at", "export"}
    history_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = DocumentVersion.objects.create(
            document=doc, revision=0, content=[{"insert": "\n"}], kind=VersionKind.COMPACTION
        )
    assert [(e["event"], e["version"]["id"], e["by"]) for e in history_events] == [
        ("saved", saved.pk, None)
    ]
    # A rolled-back autosave is never announced.
    history_events.clear()
    with django_capture_on_commit_callbacks(execute=False):
        DocumentVersion.objects.create(
            document=doc, revision=0, content=[{"insert": "\n"}], kind=VersionKind.COMPACTION
        )
    assert history_events == []


async def test_a_named_version_reaches_an_open_socket(people: dict, ws_connect: Any) -> None:
    from documents import history

    socket = await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"])
    await db(
        history.version_name,
        document=people["doc"],
        actor=people["users"]["owner"],
        name="Before the trip",
    )
    frame = await socket.recv_type("history")
    assert frame["event"] == "named" and frame["version"]["label"] == "Before the trip"
    assert frame["by"]["id"] == people["users"]["owner"].pk


# --------------------------------------------------------------------------
# Restore and undo (committed for real: the authority stores on its own connections)
# --------------------------------------------------------------------------

live = pytest.mark.django_db(transaction=True)


def _restore(client: Client, doc: Document, version_id: int) -> Any:
    return _post(client, reverse("documents:history_restore", args=[doc.public_id, version_id]))


def _undo(client: Client, doc: Document, revision: Any) -> Any:
    url = reverse("documents:history_restore_undo", args=[doc.public_id])
    return _post(client, url, {"revision": revision})


@live
def test_a_restore_is_announced_and_undone_by_its_maker_only(
    world: World, history_events: list[dict]
) -> None:
    doc = world.doc
    editor, sharer = client_as(world, "editor"), client_as(world, "sharer")
    _write(doc, ([{"insert": "First draft"}], world.editor))
    named = _post(editor, reverse("documents:history_name", args=[doc.public_id]), {"name": "v1"})
    _write(doc, ([{"retain": 6}, {"delete": 5}, {"insert": "rewrite"}], world.sharer))
    history_events.clear()
    restored = _restore(editor, doc, named.json()["id"])
    assert restored.status_code == 200, restored.content
    reply = restored.json()
    assert document_content(doc) == [{"insert": "First draft\n"}]
    # (The one-off worker that applied it saved a snapshot as it let go: "saved".)
    [event] = [e for e in history_events if e["event"] != "saved"]
    assert event["event"] == "restored" and event["by"]["id"] == world.editor.pk
    assert event["restore"]["revision"] == reply["revision"] == 3
    assert event["restore"]["from"] == named.json()["id"]
    assert event["restore"]["undo_until"] == reply["undo_until"]
    # Someone typed after the restore: the undo keeps it.
    _write(doc, ([{"insert": ">> "}], world.sharer))
    # Only the person who restored may undo it; bad input changes nothing.
    refused = _undo(sharer, doc, 3)
    assert refused.status_code == 403 and "Only the person who restored" in refused.json()["error"]
    assert _undo(editor, doc, "3").status_code == 400
    assert _undo(editor, doc, 2).status_code == 400  # no restore at revision 2
    assert document_content(doc) == [{"insert": ">> First draft\n"}]
    history_events.clear()
    undone = _undo(editor, doc, 3)
    assert undone.status_code == 200, undone.content
    assert undone.json()["ok"] and undone.json()["revision"] == 5
    assert document_content(doc) == [{"insert": ">> First rewrite\n"}]
    [event] = [e for e in history_events if e["event"] != "saved"]
    assert event["event"] == "restored" and event["restore"]["undid"] == reply["id"]
    assert event["restore"]["undo_until"] is None
    assert event["version"]["label"].startswith("Undid")
    # Undone once: the undo is a later restore, so a second is refused.
    again = _undo(editor, doc, 3)
    assert again.status_code == 409 and "later restore" in again.json()["error"]
    assert document_content(doc) == [{"insert": ">> First rewrite\n"}]


@live
def test_an_undo_after_fifteen_minutes_is_refused(world: World) -> None:
    doc = world.doc
    owner = client_as(world, "owner")
    _write(doc, ([{"insert": "A"}], world.owner))
    named = _post(owner, reverse("documents:history_name", args=[doc.public_id]), {"name": "A"})
    _write(doc, ([{"retain": 1}, {"insert": "B"}], world.owner))
    reply = _restore(owner, doc, named.json()["id"]).json()
    DocumentVersion.objects.filter(pk=reply["id"]).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    late = _undo(owner, doc, reply["revision"])
    assert late.status_code == 409 and "15 minutes" in late.json()["error"]
    assert document_content(doc) == [{"insert": "A\n"}]
    assert uuid.UUID(str(doc.public_id))
