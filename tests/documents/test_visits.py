"""Visits and "changes since you last opened": recorded by the page, only others' changes marked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from documents import visits
from documents.models import Document, DocumentVisit, Operation
from tests.documents.conftest import World, client_as


def _write(doc: Document, *changes: tuple[list[dict], Any]) -> None:
    doc.refresh_from_db()
    head = doc.head_revision
    for delta, author in changes:
        head += 1
        Operation.objects.create(
            document=doc, revision=head, op_id=f"{'v' * 16}:{head}", delta=delta, author=author
        )
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()


def _away(user: Any, doc: Document, hours: int = 2) -> None:
    """Pretend the person's last opening was ``hours`` ago."""
    DocumentVisit.objects.filter(user=user, document=doc).update(
        opened_at=timezone.now() - timedelta(hours=hours)
    )


def test_opening_the_page_records_a_visit_and_reloads_are_the_same_visit(world: World) -> None:
    doc = world.doc
    client = client_as(world, "editor")
    page = reverse("documents:detail", args=[doc.public_id])
    assert client.get(page).status_code == 200
    visit = DocumentVisit.objects.get(user=world.editor, document=doc)
    assert (visit.revision, visit.previous_revision) == (0, None)
    _write(doc, ([{"insert": "a"}], world.owner))
    client.get(page)  # a reload: the same visit, its revision moves on
    visit.refresh_from_db()
    assert (visit.revision, visit.previous_revision) == (1, None)
    assert visits.last_visit(user=world.editor, document=doc) is None
    _away(world.editor, doc)
    _write(doc, ([{"retain": 1}, {"insert": "b"}], world.owner))
    client.get(page)
    visit.refresh_from_db()
    assert (visit.revision, visit.previous_revision) == (2, 1)
    last = visits.last_visit(user=world.editor, document=doc)
    assert last is not None and last.revision == 1
    # Someone who cannot see the document records nothing.
    assert client_as(world, "stranger").get(page).status_code == 404
    assert not DocumentVisit.objects.filter(user=world.stranger).exists()


def test_since_last_visit_marks_only_other_peoples_changes(world: World) -> None:
    doc = world.doc
    text = "The quick brown fox jumps over the lazy dog near the river bank."
    _write(doc, ([{"insert": text}], world.owner))  # r1
    client = client_as(world, "owner")
    page = reverse("documents:detail", args=[doc.public_id])
    client.get(page)  # the owner opens at r1 ...
    _away(world.owner, doc)
    brown = text.index("brown ")
    after_owner = text.replace("brown ", "") + " Mine."
    lazy = after_owner.index("lazy ")
    _write(
        doc,
        ([{"retain": brown}, {"delete": 6}], world.owner),  # the owner's own: "brown " gone
        ([{"retain": len(text) - 6}, {"insert": " Mine."}], world.owner),  # and " Mine." added
        ([{"retain": lazy}, {"delete": 5}], world.editor),  # the editor removes "lazy "
        ([{"retain": len(after_owner) - 5}, {"insert": " Theirs."}], world.editor),
    )
    client.get(page)  # ... and comes back later
    compare = reverse("documents:compare", args=[doc.public_id])
    answer = client.get(compare, {"since": "last_visit"}).json()
    assert answer["from"]["rev"] == 1 and answer["to"]["rev"] == 5 and answer["only_others"]
    marked = [(op["insert"], op.get("diff")) for op in answer["ops"] if op.get("diff")]
    assert marked == [("lazy ", "delete"), (" Theirs.", "insert")]
    shown = "".join(op["insert"] for op in answer["ops"] if op.get("diff") != "delete")
    assert shown == "The quick fox jumps over the dog near the river bank. Mine. Theirs.\n"
    by = [(e["id"], e["added_words"], e["removed_words"]) for e in answer["summary"]["by"]]
    assert by == [(world.editor.pk, 1, 1)]  # "lazy" removed, "Theirs" added: the editor
    # The editor, away over the same stretch, is shown the owner's changes instead.
    DocumentVisit.objects.create(
        user=world.editor,
        document=doc,
        revision=5,
        opened_at=timezone.now(),
        previous_revision=1,
        previous_opened_at=timezone.now() - timedelta(hours=3),
    )
    theirs = client_as(world, "editor").get(compare, {"since": "last_visit"}).json()
    marked = [(op["insert"], op.get("diff")) for op in theirs["ops"] if op.get("diff")]
    assert marked == [("brown ", "delete"), (" Mine.", "insert")]
