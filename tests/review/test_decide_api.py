"""Who may decide suggestions, and malformed decide requests (refused before any change).

Failure modes: a viewer or stranger deciding, a commenter accepting (only
editors may), a commenter rejecting someone else's suggestion or everyone's,
ambiguous or malformed selections reaching the document's authority. Every
refusal here is answered before the live port is asked, so the content is
untouched (the accepting paths run live in test_review_live.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from documents.content import document_content
from tests.review.conftest import ReviewWorld, send

pytestmark = pytest.mark.django_db


def _mark(user: Any, rand: str = "abcd") -> str:
    return f"{user.pk}:lx3k9a1:{rand}"


@pytest.mark.parametrize(
    ("role", "body", "status", "reason"),
    [
        ("viewer", {"accept": False, "all": True}, 403, "not decide"),
        ("commenter", {"accept": True, "ids": ["COMMENTER"]}, 403, "Only editors"),
        ("commenter", {"accept": False, "ids": ["OTHER"]}, 403, "your own"),
        ("commenter", {"accept": False, "ids": ["COMMENTER", "OTHER"]}, 403, "your own"),
        ("commenter", {"accept": False, "all": True}, 403, "your own"),
        ("commenter", {"accept": False, "author": "EDITOR"}, 403, "your own"),
        ("stranger", {"accept": True, "all": True}, 404, "not found"),
        ("editor", {"accept": True}, 400, "Say which"),
        ("editor", {"accept": True, "all": True, "author": 3}, 400, "Say which"),
        ("editor", {"accept": True, "all": "yes"}, 400, "must be true"),
        ("editor", {"accept": True, "ids": "42:a:abcd"}, 400, "list"),
        ("editor", {"accept": True, "ids": ["not-a-mark"]}, 400, "not a suggestion id"),
        ("editor", {"accept": True, "ids": ["0:a:abcd"]}, 400, "not a suggestion id"),
        ("editor", {"accept": True, "author": "x"}, 400, "person’s id"),
        ("editor", {"accept": True, "author": True}, 400, "person’s id"),
        ("editor", {"accept": "yes", "all": True}, 400, "true or false"),
        ("editor", {"all": True}, 400, "true or false"),
    ],
)
def test_refusals_name_why_and_change_nothing(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    role: str,
    body: dict,
    status: int,
    reason: str,
) -> None:
    names = {
        "COMMENTER": _mark(review_world.commenter),
        "OTHER": _mark(review_world.editor),
    }
    if "ids" in body and isinstance(body["ids"], list):
        body = {**body, "ids": [names.get(i, i) for i in body["ids"]]}
    if body.get("author") == "EDITOR":
        body = {**body, "author": review_world.editor.pk}
    before = document_content(review_world.doc)
    code, answer = send(as_user(role), "POST", review_world.url("suggestions/decide"), body)
    assert code == status, answer
    assert reason.lower() in answer["error"].lower()
    assert document_content(review_world.doc) == before


def test_too_many_ids_are_refused(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    ids = [f"1:a:{i:04d}" for i in range(1001)]
    code, answer = send(
        as_user("editor"), "POST", review_world.url("suggestions/decide"), {"accept": 1, "ids": ids}
    )
    assert code == 400 and "at most 1000" in answer["error"]


def test_only_post_is_allowed(review_world: ReviewWorld, as_user: Callable[[str], Client]) -> None:
    assert send(as_user("editor"), "GET", review_world.url("suggestions/decide"))[0] == 405
