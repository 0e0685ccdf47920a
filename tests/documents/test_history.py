"""Version history: who sees it, the list, previews, naming, restoring, admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import compaction, services
from documents.content import document_content
from documents.models import Document, DocumentVersion, Operation, VersionKind
from tests.documents.conftest import World, client_as


def _post(client: Client, url: str, body: dict | None = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _write(doc: Document, *changes: tuple[list[dict], Any]) -> None:
    """Append ops (delta, author) after the document's head."""
    doc.refresh_from_db()
    head = doc.head_revision
    for delta, author in changes:
        head += 1
        Operation.objects.create(
            document=doc, revision=head, op_id=f"{'h' * 16}:{head}", delta=delta, author=author
        )
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()


def _history(client: Client, doc: Document) -> Any:
    return client.get(reverse("documents:history", args=[doc.public_id]))


# --------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "browse", "change", "configure"),
    [
        ("owner", True, True, True),
        ("editor", True, True, False),
        ("sharer", True, True, False),
        ("group_member", True, True, False),
        ("link_editor", True, True, False),
        ("viewer", False, False, False),
        ("link_viewer", False, False, False),
    ],
)
def test_permissions_by_persona(
    world: World,
    login: Callable[..., Client],
    persona: str,
    browse: bool,
    change: bool,
    configure: bool,
) -> None:
    response = _history(login(persona), world.doc)
    assert response.status_code == 200
    data = response.json()
    assert data["permissions"] == {
        "can_browse": browse,
        "can_restore": change,
        "can_name": change,
        "can_configure": configure,
    }
    assert bool(data["versions"]) == browse
    if not browse:
        assert "hasn’t shared" in data["message"]


def test_strangers_and_anonymous_get_nothing(world: World, login: Callable[..., Client]) -> None:
    assert _history(login("stranger"), world.doc).status_code == 404
    assert _history(login("anonymous"), world.doc).status_code == 401
    assert _history(login("superuser"), world.doc).status_code == 404


def test_owner_lets_viewers_browse_and_only_the_owner_may(
    world: World, login: Callable[..., Client]
) -> None:
    url = reverse("documents:history_settings", args=[world.doc.public_id])
    for persona in ("editor", "viewer"):
        assert _post(login(persona), url, {"visible_to_viewers": True}).status_code == 403
    assert not world.refresh().history_visible_to_viewers
    response = _post(login("owner"), url, {"visible_to_viewers": True})
    assert response.status_code == 200 and response.json()["visible_to_viewers"] is True
    assert world.refresh().history_visible_to_viewers
    viewer = login("viewer")
    data = _history(viewer, world.doc).json()
    assert data["permissions"]["can_browse"] and not data["permissions"]["can_restore"]
    initial = world.doc.versions.get(kind=VersionKind.INITIAL)
    preview = viewer.get(
        reverse("documents:history_version", args=[world.doc.public_id, initial.pk])
    )
    assert preview.status_code == 200
    restore = reverse("documents:history_restore", args=[world.doc.public_id, initial.pk])
    assert _post(viewer, restore).status_code == 403
    _post(login("owner"), url, {"visible_to_viewers": False})
    assert not _history(viewer, world.doc).json()["versions"]


# --------------------------------------------------------------------------
# The list and previews
# --------------------------------------------------------------------------


def test_list_is_newest_first_with_times_and_authors(
    world: World, login: Callable[..., Client]
) -> None:
    doc = world.doc
    _write(
        doc, ([{"insert": "Hello"}], world.editor), ([{"retain": 5}, {"insert": "!"}], world.sharer)
    )
    assert compaction.version_compact(document=doc, keep_ops=0).changed
    _write(doc, ([{"insert": "> "}], world.owner))
    versions = _history(login("editor"), doc).json()["versions"]
    assert [v["kind"] for v in versions] == ["current", "compaction", "initial"]
    current, compacted, initial = versions
    assert current["is_current"] and current["id"] is None and current["revision"] == 3
    assert [a["name"] for a in current["authors"]] == ["Olivia Owner"]
    assert compacted["label"] == "Saved automatically" and compacted["ops_folded"] == 2
    assert sorted(a["name"] for a in compacted["authors"]) == ["editor", "sharer"]
    assert initial["label"] == "Created" and initial["authors"][0]["name"] == "Olivia Owner"
    assert all(v["created_at"] for v in versions)
    assert set(current["export"]) == {"txt", "html", "md", "pdf", "docx", "odt"}


def test_preview_is_rendered_safely(world: World, login: Callable[..., Client]) -> None:
    doc = world.doc
    _write(
        doc,
        (
            [
                {"insert": "<img src=x onerror=alert(1)>"},
                {"insert": "link", "attributes": {"link": "javascript:alert(1)"}},
            ],
            world.editor,
        ),
    )
    client = login("editor")
    version_id = _post(
        client, reverse("documents:history_name", args=[doc.public_id]), {"name": "Before"}
    ).json()["id"]
    data = client.get(reverse("documents:history_version", args=[doc.public_id, version_id])).json()
    assert "<img" not in data["html"] and "&lt;img" in data["html"]
    assert "javascript" not in data["html"]
    assert data["label"] == "Before"


def test_a_version_of_another_document_is_not_found(
    world: World, login: Callable[..., Client]
) -> None:
    other = services.document_create(owner=world.owner)
    version = other.versions.get()
    url = reverse("documents:history_version", args=[world.doc.public_id, version.pk])
    response = login("editor").get(url)
    assert response.status_code == 400 and "doesn’t exist" in response.json()["error"]


# --------------------------------------------------------------------------
# Naming
# --------------------------------------------------------------------------


def test_editors_name_the_current_version(world: World, login: Callable[..., Client]) -> None:
    doc = world.doc
    _write(doc, ([{"insert": "Draft"}], world.editor))
    url = reverse("documents:history_name", args=[doc.public_id])
    response = _post(login("editor"), url, {"name": "  Sent   to review "})
    assert response.status_code == 200
    version = DocumentVersion.objects.get(pk=response.json()["id"])
    assert (version.kind, version.name, version.revision) == (
        VersionKind.NAMED,
        "Sent to review",
        1,
    )
    assert version.content == [{"insert": "Draft\n"}]
    assert version.author == world.editor
    assert list(version.authors.all()) == [world.editor]
    versions = _history(login("owner"), doc).json()["versions"]
    assert versions[0]["label"] == "Sent to review" and versions[0]["is_current"]
    assert _post(login("editor"), url, {"name": "   "}).status_code == 400
    assert _post(login("viewer"), url, {"name": "x"}).status_code == 403


# --------------------------------------------------------------------------
# Restoring (through the authority: a one-off registry in this process)
# --------------------------------------------------------------------------


# Committed for real: the authority stores ops on connections of its own.
live = pytest.mark.django_db(transaction=True)


@live
def test_restore_is_a_new_change_by_the_restorer(world: World) -> None:
    doc = world.doc
    _write(doc, ([{"insert": "First draft"}], world.editor))
    client = client_as(world, "editor")
    named = _post(
        client, reverse("documents:history_name", args=[doc.public_id]), {"name": "v1"}
    ).json()
    _write(
        doc,
        (
            [{"retain": 6}, {"delete": 5}, {"insert": "rewrite", "attributes": {"bold": True}}],
            world.sharer,
        ),
    )
    assert document_content(doc) == [
        {"insert": "First "},
        {"insert": "rewrite", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]
    restore_url = reverse("documents:history_restore", args=[doc.public_id, named["id"]])
    response = _post(client, restore_url)
    assert response.status_code == 200, response.content
    doc.refresh_from_db()
    assert doc.head_revision == 3 == response.json()["revision"]
    assert document_content(doc) == [{"insert": "First draft\n"}]
    op = Operation.objects.get(document=doc, revision=3)
    assert op.author == world.editor
    restore = DocumentVersion.objects.get(pk=response.json()["id"])
    assert restore.kind == VersionKind.RESTORE and restore.restored_from_id == named["id"]
    assert restore.content == [{"insert": "First draft\n"}] and "v1" in restore.name
    versions = _history(client, doc).json()["versions"]
    assert versions[0]["kind"] == "restore" and versions[0]["is_current"]
    # Restoring the same version again changes nothing: refused, said why.
    again = _post(client, restore_url)
    assert again.status_code == 400 and "already matches" in again.json()["error"]
    # The one-off worker let go of the document when it was done.
    doc.refresh_from_db()
    assert doc.lease_holder == "" and doc.closed_at is not None


@live
def test_a_restore_is_undone_by_restoring_the_version_before_it(world: World) -> None:
    doc = world.doc
    client = client_as(world, "owner")
    name_url = reverse("documents:history_name", args=[doc.public_id])
    _write(doc, ([{"insert": "A"}], world.owner))
    first = _post(client, name_url, {"name": "A"}).json()["id"]
    _write(doc, ([{"retain": 1}, {"insert": "B"}], world.owner))
    second = _post(client, name_url, {"name": "AB"}).json()["id"]
    restore = "documents:history_restore"
    assert _post(client, reverse(restore, args=[doc.public_id, first])).status_code == 200
    assert document_content(doc) == [{"insert": "A\n"}]
    assert _post(client, reverse(restore, args=[doc.public_id, second])).status_code == 200
    assert document_content(doc) == [{"insert": "AB\n"}]
    assert Operation.objects.filter(document=doc).count() == 4


@live
def test_admin_restores_a_version_through_the_same_path(world: World) -> None:
    doc = world.doc
    _write(doc, ([{"insert": "kept"}], world.editor))
    initial = doc.versions.get(kind=VersionKind.INITIAL)
    client = client_as(world, "superuser")
    response = client.post(
        reverse("admin:documents_documentversion_changelist"),
        {"action": "restore_version", "_selected_action": [initial.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "as revision 2" in response.content.decode()
    assert document_content(doc) == [{"insert": "\n"}]
    assert Operation.objects.get(document=doc, revision=2).author == world.superuser


def test_admin_compacts_now_and_reports_skips(world: World, login: Callable[..., Client]) -> None:
    _write(world.doc, ([{"insert": "x"}], world.editor))
    other = services.document_create(owner=world.owner, title="Open one")
    _write(other, ([{"insert": "y"}], world.owner))

    Document.objects.filter(pk=other.pk).update(
        lease_holder="w:1:x", lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    response = login("superuser").post(
        reverse("admin:documents_document_changelist"),
        {"action": "compact_now", "_selected_action": [world.doc.pk, other.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "Compacted 1 document(s), 1 ops folded." in body
    assert "“Open one” skipped: open on w:1:x." in body
    world.refresh()
    assert world.doc.snapshot.kind == VersionKind.COMPACTION
