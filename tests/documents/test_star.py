"""Stars: the toggle endpoint (form and JSON) and the Starred list.

Failure modes covered: starring a document one cannot view (404, no row),
a GET or a missing CSRF token changing anything, a bad ``starred`` value,
starring twice making two rows, ``next`` sending the person off-site, and
the Starred list showing a document after access to it was lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from documents import services
from documents.lists import document_list_starred
from documents.models import Star
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def star_url(world: World) -> str:
    return reverse("documents:star", args=[world.doc.public_id])


def test_a_form_stars_and_unstars_and_goes_back(world: World, login: Callable[..., Client]) -> None:
    client = login("viewer")
    back = reverse("documents:shared") + "?sort=title"
    response = client.post(star_url(world), {"starred": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    client.post(star_url(world), {"starred": "1"})  # twice: still one row
    assert Star.objects.filter(user=world.viewer, document=world.doc).count() == 1
    page = client.get(reverse("documents:starred")).content.decode()
    assert "Quarterly plan" in page and 'aria-pressed="true"' in page
    response = client.post(star_url(world), {"starred": "0", "next": "https://evil.example/"})
    assert response["Location"] == reverse("documents:list")  # never off-site
    assert not Star.objects.filter(user=world.viewer).exists()
    assert "No starred documents" in client.get(reverse("documents:starred")).content.decode()


def test_the_script_stars_with_json(world: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    answer = client.post(
        star_url(world),
        json.dumps({"starred": True}),
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200 and answer.json() == {"starred": True}
    bad = client.post(
        star_url(world),
        json.dumps({"starred": "yes"}),
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400 and "starred" in bad.json()["error"]
    assert Star.objects.filter(user=world.owner).count() == 1


def test_refusals_change_nothing(world: World, login: Callable[..., Client]) -> None:
    stranger = login("stranger")
    assert stranger.post(star_url(world), {"starred": "1"}).status_code == 404
    assert stranger.get(star_url(world)).status_code == 405
    viewer = login("viewer")
    assert viewer.post(star_url(world), {"starred": "maybe"}).status_code == 400
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.viewer)
    assert strict.post(star_url(world), {"starred": "1"}).status_code == 403
    assert not Star.objects.exists()


def test_the_starred_list_shows_only_what_the_person_can_still_open(
    world: World, login: Callable[..., Client]
) -> None:
    login("viewer").post(star_url(world), {"starred": "1"})
    assert [d.pk for d in document_list_starred(user=world.viewer)] == [world.doc.pk]
    services.share_revoke(document=world.doc, actor=world.owner, user=world.viewer)
    assert list(document_list_starred(user=world.viewer)) == []
    # The star is kept: sharing again brings the document back.
    services.share_grant(document=world.doc, actor=world.owner, identifier="viewer", role="viewer")
    assert [d.pk for d in document_list_starred(user=world.viewer)] == [world.doc.pk]
    services.document_trash(document=world.doc, actor=world.owner)
    assert list(document_list_starred(user=world.viewer)) == []
