"""Sorting the lists: by title, last edited and owner, stable, kept in the address.

Failure modes covered: case deciding the title order, owners sorted by
username where the list shows full names, ties shuffling rows between
pages, an unknown ``sort`` failing the page, the trash's "edited" column
(moved to trash) sorted by the edit time, and the sort lost by the pager.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.lists import document_list_shared_with, document_list_trashed
from documents.models import Document
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def titles(queryset: Any) -> list[str]:
    return [document.title for document in queryset]


@pytest.fixture
def shelf(world: World, make_user: Any) -> Any:
    """Documents shared with the viewer by owners named so that names and usernames disagree."""
    zed = make_user("aaron", first_name="Zed", last_name="Zulu")  # shown as "Zed Zulu"
    amy = make_user("zoe", first_name="Amy", last_name="Adams")  # shown as "Amy Adams"
    bare = make_user("mike")  # no full name: shown as "mike"
    now = timezone.now()
    made = []
    for owner, title, minutes in [
        (zed, "banana", 3),
        (amy, "Apple", 1),
        (bare, "cherry", 2),
        (amy, "apple", 4),
    ]:
        doc = services.document_create(owner=owner, title=title)
        services.share_grant(document=doc, actor=owner, identifier="viewer", role="viewer")
        Document.objects.filter(pk=doc.pk).update(updated_at=now - timedelta(minutes=minutes))
        made.append(doc)
    return made


def test_sorts_by_title_owner_and_edit_time_with_ties_in_a_fixed_order(
    world: World, shelf: Any
) -> None:
    viewer = world.viewer
    by_title = list(document_list_shared_with(user=viewer, sort="title"))
    # "Apple" and "apple" tie on the title: the older row (lower id) first.
    assert [d.title for d in by_title][:2] == ["Apple", "apple"]
    assert titles(by_title) == ["Apple", "apple", "banana", "cherry", "Quarterly plan"]
    assert titles(document_list_shared_with(user=viewer, sort="-title")) == [
        "Quarterly plan",
        "cherry",
        "banana",
        "apple",
        "Apple",
    ]
    # Owners as the list shows them: Amy Adams, mike, Olivia Owner, Zed Zulu.
    assert titles(document_list_shared_with(user=viewer, sort="owner")) == [
        "Apple",
        "apple",
        "cherry",
        "Quarterly plan",
        "banana",
    ]
    edited = titles(document_list_shared_with(user=viewer, sort="edited"))
    assert edited == ["Quarterly plan", "Apple", "cherry", "banana", "apple"]
    assert titles(document_list_shared_with(user=viewer, sort="-edited")) == edited[::-1]
    # Unknown sorts are the default; relevance without a search too.
    for odd in ("bogus", "relevance", "", "-relevance"):
        assert titles(document_list_shared_with(user=viewer, sort=odd)) == edited


def test_the_trash_sorts_by_when_documents_were_trashed(world: World) -> None:
    owner = world.owner
    first = services.document_create(owner=owner, title="first")
    second = services.document_create(owner=owner, title="second")
    services.document_trash(document=second, actor=owner)
    services.document_trash(document=first, actor=owner)
    assert titles(document_list_trashed(user=owner)) == ["first", "second"]
    assert titles(document_list_trashed(user=owner, sort="-edited")) == ["second", "first"]


def test_the_page_keeps_the_sort_in_headers_and_the_menu(
    world: World, shelf: Any, login: Callable[..., Client]
) -> None:
    client = login("viewer")
    html = client.get(reverse("documents:shared"), {"sort": "owner"}).content.decode()
    assert '<th scope="col" class="col-owner" aria-sort="ascending">' in html
    assert 'href="?sort=-owner"' in html  # the header sorts the other way next
    assert '<option value="owner" selected>Owner: A–Z</option>' in html
    assert '<option value="">Edited: newest</option>' in html  # the default has no value
    bad = client.get(reverse("documents:shared"), {"sort": "<script>"})
    assert bad.status_code == 200 and "<script>" not in bad.content.decode().split("<body")[1]
