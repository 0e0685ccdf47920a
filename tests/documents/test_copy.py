"""Make a copy: POST /d/<id>/copy/ makes a document the copier owns.

Failure modes covered: a person who cannot view the document (or a
trashed one) copying it, a GET or a missing CSRF token copying, the copy
carrying comment anchors or pending suggestions, its images still naming
the original's (so losing access to the original breaks them), a quota
the images would pass leaving a half-made copy, and a long title making
the copy fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from documents import services
from documents.content import document_content
from documents.models import Document, DocumentSearch, LinkMode
from images.models import Image
from images.services import src_of, store_image
from tests.documents.conftest import World, open_link
from tests.images.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(world: World) -> Document:
    """The owner's document with formatting, an image, a comment and a suggestion."""
    mark = f"{world.editor.pk}:lq1abc:k3x9"

    def content(document: Document) -> list[dict[str, Any]]:
        image = store_image(document=document, user=world.owner, data=image_bytes())
        return [
            {"insert": "Plan ", "attributes": {"bold": True}},
            {"insert": "anchored", "attributes": {"comment": "thread0000000001"}},
            {"insert": " proposed", "attributes": {"suggest-insert": mark}},
            {"insert": {"image": src_of(image)}},
            {"insert": "\n"},
        ]

    doc = services.document_create(owner=world.owner, title="Roadmap", content=content)
    services.share_grant(document=doc, actor=world.owner, identifier="viewer", role="viewer")
    return doc


def copy(client: Client, document: Document) -> Any:
    return client.post(reverse("documents:copy", args=[document.public_id]))


def newest_of(user: Any) -> Document:
    return Document.objects.filter(owner=user).latest("created_at", "id")


def test_a_viewer_copies_text_and_images_but_no_review_marks(
    world: World, rich: Document, login: Callable[..., Client]
) -> None:
    client = login("viewer")
    response = copy(client, rich)
    made = newest_of(world.viewer)
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:detail", args=[made.public_id])
    assert made.title == "Copy of Roadmap" and made.head_revision == 0
    content = document_content(made)
    image = Image.objects.get(document=made)
    assert content == [
        {"insert": "Plan ", "attributes": {"bold": True}},
        {"insert": "anchored"},
        {"insert": {"image": src_of(image)}},
        {"insert": "\n"},
    ]
    assert image.blob == Image.objects.get(document=rich).blob  # the same file
    # The copy's image is the copy's: it outlives the viewer's share.
    services.share_revoke(document=rich, actor=world.owner, user=world.viewer)
    assert client.get(src_of(image)).status_code == 200
    # The copy is the viewer's alone; the original is untouched.
    assert login("owner").get(reverse("documents:detail", args=[made.public_id])).status_code == 404
    assert len(document_content(rich)) == 5
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said == ["This is your copy of “Roadmap”."]


def test_a_link_viewer_may_copy_and_the_copy_is_searchable(
    world: World, login: Callable[..., Client]
) -> None:
    doc = services.document_create(
        owner=world.owner, title="Open", content=[{"insert": "narwhal\n"}]
    )
    Document.objects.filter(pk=doc.pk).update(link_mode=LinkMode.VIEW)
    doc.refresh_from_db()
    client = login("linker")
    assert copy(client, doc).status_code == 404  # not opened yet: no access
    open_link(client, doc)
    assert copy(client, doc).status_code == 302
    made = newest_of(world.linker)
    page = client.get(reverse("documents:list"), {"q": "narwhal"}).content.decode()
    assert "Copy of Open" in page and "<mark>narwhal</mark>" in page
    assert DocumentSearch.objects.get(document=made).text == "narwhal\n"


def test_refusals_create_nothing(
    world: World, rich: Document, login: Callable[..., Client], settings: Any
) -> None:
    before = Document.objects.count()
    assert copy(login("stranger"), rich).status_code == 404
    assert login("viewer").get(reverse("documents:copy", args=[rich.public_id])).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.viewer)
    assert copy(strict, rich).status_code == 403
    # Over the copier's image quota: a message, and no copy at all.
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IMAGE_USER_QUOTA_BYTES": 10}
    client = login("viewer")
    response = copy(client, rich)
    assert response.status_code == 302 and response["Location"] == reverse("documents:list")
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert len(said) == 1 and said[0].startswith(
        "Couldn’t make a copy of “Roadmap”: Your images"
    ), said
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IMAGE_USER_QUOTA_BYTES": 10**9}
    services.document_trash(document=rich, actor=world.owner)
    assert copy(login("owner"), rich).status_code == 404  # restore it first
    assert Document.objects.count() == before


def test_a_long_title_is_cut_to_fit(world: World, login: Callable[..., Client]) -> None:
    limit = 200
    doc = services.document_create(owner=world.owner, title="T" * limit)
    assert copy(login("owner"), doc).status_code == 302
    made = newest_of(world.owner)
    assert made.title == ("Copy of " + "T" * limit)[:limit]
