"""GET /api/docs/<id>/compare: the redline between revisions or versions, by whom, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents.models import Document, Operation
from documents.people import user_color
from tests.documents.conftest import World, client_as


def _write(doc: Document, *changes: tuple[list[dict], Any]) -> None:
    doc.refresh_from_db()
    head = doc.head_revision
    for delta, author in changes:
        head += 1
        Operation.objects.create(
            document=doc, revision=head, op_id=f"{'c' * 16}:{head}", delta=delta, author=author
        )
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()


def _compare(client: Client, doc: Document, **params: Any) -> Any:
    return client.get(reverse("documents:compare", args=[doc.public_id]), params)


def _marks(ops: list[dict]) -> list[tuple[str, str | None, int | None]]:
    return [(op["insert"], op.get("diff"), op.get("diff-author")) for op in ops]


def test_two_revisions_marked_with_who_wrote_and_a_summary(world: World) -> None:
    doc = world.doc
    _write(doc, ([{"insert": "Hello old world"}], world.owner))  # r1
    _write(
        doc,
        ([{"retain": 6}, {"delete": 4}], world.editor),  # r2: "Hello world"
        ([{"retain": 11}, {"insert": " again and again"}], world.editor),  # r3
        ([{"retain": 6}, {"retain": 5, "attributes": {"bold": True}}], world.sharer),  # r4
    )
    answer = _compare(client_as(world, "editor"), doc, **{"from": 1}).json()
    assert answer["from"]["rev"] == 1 and answer["to"]["rev"] == 4
    assert answer["from"]["at"].endswith("+00:00")
    assert _marks(answer["ops"]) == [
        ("Hello ", None, None),
        ("old ", "delete", world.owner.pk),
        ("world", "format", None),
        (" again and again", "insert", world.editor.pk),
        ("\n", None, None),
    ]
    fmt = answer["ops"][2]
    assert fmt["attributes"] == {"bold": True} and fmt["diff-old"] == {}
    summary = answer["summary"]
    assert (summary["added_words"], summary["removed_words"], summary["formatted"]) == (3, 1, 5)
    by = {entry["id"]: entry for entry in summary["by"]}
    assert by[world.editor.pk]["added_words"] == 3 and by[world.editor.pk]["name"] == "editor"
    # The owner wrote "old", the editor removed it: removed words are the remover's.
    assert by[world.editor.pk]["removed_words"] == 1 and world.owner.pk not in by
    assert set(by[world.editor.pk]) == {"id", "name", "color", "added_words", "removed_words"}
    assert by[world.editor.pk]["color"] == user_color(world.editor.pk)  # the presence colour
    # Backwards is a comparison too: what was added is now removed.
    back = _compare(client_as(world, "editor"), doc, **{"from": 4, "to": 1}).json()
    assert (back["summary"]["added_words"], back["summary"]["removed_words"]) == (1, 3)


def test_versions_compare_by_id(world: World) -> None:
    doc = world.doc
    client = client_as(world, "owner")
    name = reverse("documents:history_name", args=[doc.public_id])
    _write(doc, ([{"insert": "one"}], world.owner))
    first = client.post(name, json.dumps({"name": "a"}), content_type="application/json").json()
    _write(doc, ([{"retain": 3}, {"insert": " two"}], world.editor))
    second = client.post(name, json.dumps({"name": "b"}), content_type="application/json").json()
    answer = _compare(client, doc, from_version=first["id"], to_version=second["id"]).json()
    assert answer["from"] == {"rev": 1, "at": answer["from"]["at"], "version_id": first["id"]}
    assert _marks(answer["ops"]) == [
        ("one", None, None),
        (" two", "insert", world.editor.pk),
        ("\n", None, None),
    ]


BAD = [
    ({}, "Say what to compare from"),
    ({"from": 0, "from_version": 1}, "Say what to compare from"),
    ({"from": 0, "to": 1, "to_version": 1}, "not both"),
    ({"from": 0, "to": 5}, "from 0 to 1"),
    ({"from": "abc"}, "whole number"),
    ({"from_version": 999999}, "doesn’t exist"),
    ({"since": "yesterday"}, "since can only be last_visit"),
    ({"since": "last_visit", "to": 1}, "compared with now"),
    ({"since": "last_visit"}, "first visit"),
]


def test_bad_requests_say_why(world: World) -> None:
    _write(world.doc, ([{"insert": "x"}], world.owner))
    client = client_as(world, "owner")
    for params, needle in BAD:
        response = _compare(client, world.doc, **params)
        assert response.status_code == 400, (params, response.content)
        assert needle in response.json()["error"], params


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("editor", 200), ("viewer", 403), ("stranger", 404)]
)
def test_compare_is_for_whoever_may_browse_the_history(
    world: World, persona: str, status: int
) -> None:
    response = _compare(client_as(world, persona), world.doc, **{"from": 0})
    assert response.status_code == status
