"""``GET authors?ids=``: the names behind suggestion marks, for anyone who may view.

A suggestion mark names its author by user id; the suggestion cards show a
name. Failure modes covered: a viewer turning arbitrary ids into strangers'
names (only people who took part in the document are named), a stranger
learning the document exists (404), malformed or too many ids (400,
nothing read), and an author who lost access since (still named: their
marks are still in the text).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from documents import services
from documents.models import Operation
from documents.people import user_color
from tests.review.conftest import ReviewWorld, send

pytestmark = pytest.mark.django_db


def names(client: Client, world: ReviewWorld, ids: str) -> tuple[int, dict]:
    """Ask for the names of ``ids`` (the raw query value) as ``client``."""
    return send(client, "GET", world.url(f"authors?ids={ids}"))


def test_a_viewer_learns_the_names_of_people_who_can_see_the_document(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    w = review_world
    code, answer = names(as_user("viewer"), w, f"{w.commenter.pk},{w.owner.pk}")
    assert code == 200
    assert answer["people"] == sorted(
        [
            {"id": w.commenter.pk, "name": "Carla", "color": user_color(w.commenter.pk)},
            {"id": w.owner.pk, "name": "Olivia Owner", "color": user_color(w.owner.pk)},
        ],
        key=lambda person: person["id"],
    )


def test_strangers_are_not_named_even_when_asked_by_id(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    w = review_world
    code, answer = names(as_user("viewer"), w, f"{w.stranger.pk},{w.linker.pk}")
    assert (code, answer) == (200, {"people": []})


def test_an_author_who_lost_access_is_still_named(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    w = review_world
    Operation.objects.create(
        document=w.doc, revision=1, op_id="authored:1", delta=[{"insert": "x"}], author=w.editor
    )
    services.share_revoke(document=w.doc, actor=w.owner, user=w.editor)
    code, answer = names(as_user("viewer"), w, str(w.editor.pk))
    assert code == 200
    assert [person["id"] for person in answer["people"]] == [w.editor.pk]


@pytest.mark.parametrize("ids", ["x", "1,,2x", "-1", "²", ",".join(["1"] * 51)])
def test_malformed_or_too_many_ids_are_refused(
    review_world: ReviewWorld, as_user: Callable[[str], Client], ids: str
) -> None:
    code, answer = names(as_user("viewer"), review_world, ids)
    assert code == 400 and "ids" in answer["error"]


def test_a_stranger_gets_the_documents_404(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    code, answer = names(as_user("stranger"), review_world, str(review_world.owner.pk))
    assert (code, answer) == (404, {"error": "Document not found."})
