"""POST /api/docs/<id>/images/copy: images survive copy/paste between documents.

Each src of an image the person can view becomes an image of the target
document on the same file; anything else is refused, and nothing leaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents import services as documents_services
from documents.models import Document
from images.models import Image
from tests.images.conftest import People, image_bytes, open_link, upload

pytestmark = pytest.mark.django_db


def copy(client: Client, document: Document, srcs: Any) -> Any:
    return client.post(
        reverse("images:copy", args=[document.public_id]),
        {"srcs": srcs},
        content_type="application/json",
    )


@pytest.fixture
def source_src(people: People, client_of: Callable[[Any], Client]) -> str:
    """An image of the shared document (the viewer can see it)."""
    return str(
        upload(client_of(people.owner), people.doc, image_bytes(color=(9, 90, 9))).json()["src"]
    )


@pytest.fixture
def viewers_doc(people: People) -> Document:
    """A document the viewer owns (where they paste)."""
    return documents_services.document_create(owner=people.viewer, title="My notes")


def test_a_viewable_image_becomes_an_image_of_the_target_on_the_same_file(
    people: People, client_of: Callable[[Any], Client], source_src: str, viewers_doc: Document
) -> None:
    client = client_of(people.viewer)
    response = copy(client, viewers_doc, [source_src])
    assert response.status_code == 200
    body = response.json()
    assert body["refused"] == []
    new_src = body["map"][source_src]
    assert new_src != source_src
    source, copied = Image.objects.get(document=people.doc), Image.objects.get(document=viewers_doc)
    assert new_src == f"/media/i/{copied.id}.{copied.ext}"
    assert copied.blob == source.blob and copied.uploaded_by == people.viewer
    # The copy is served by its own document's rights.
    assert client.get(new_src).status_code == 200
    assert client_of(people.editor).get(new_src).status_code == 404


def test_copy_is_idempotent(
    people: People, client_of: Callable[[Any], Client], source_src: str, viewers_doc: Document
) -> None:
    client = client_of(people.viewer)
    first = copy(client, viewers_doc, [source_src]).json()["map"][source_src]
    second = copy(client, viewers_doc, [source_src]).json()["map"][source_src]
    assert first == second
    assert copy(client, viewers_doc, [first]).json() == {"map": {first: first}, "refused": []}
    assert Image.objects.filter(document=viewers_doc).count() == 1


def test_an_absolute_url_on_this_host_is_understood(
    people: People, client_of: Callable[[Any], Client], source_src: str, viewers_doc: Document
) -> None:
    absolute = f"http://testserver{source_src}"
    body = copy(client_of(people.viewer), viewers_doc, [absolute]).json()
    assert list(body["map"]) == [absolute] and body["refused"] == []
    elsewhere = f"http://evil.example{source_src}"
    assert copy(client_of(people.viewer), viewers_doc, [elsewhere]).json()["refused"] == [elsewhere]


def test_images_the_person_cannot_view_are_refused_and_nothing_is_copied(
    people: People, client_of: Callable[[Any], Client], source_src: str
) -> None:
    strangers_doc = documents_services.document_create(owner=people.stranger, title="Theirs")
    junk = [
        "/media/i/00000000-0000-0000-0000-000000000000.png",
        "https://example.com/x.png",
        "",
        "/d/",
    ]
    response = copy(client_of(people.stranger), strangers_doc, [source_src, *junk])
    assert response.json() == {"map": {}, "refused": [source_src, *junk]}
    assert not Image.objects.filter(document=strangers_doc).exists()


def test_a_link_viewer_may_copy_from_the_linked_document(
    people: People, client_of: Callable[[Any], Client], source_src: str
) -> None:
    client = client_of(people.linker)
    mine = documents_services.document_create(owner=people.linker, title="Linker's")
    assert copy(client, mine, [source_src]).json()["refused"] == [source_src]
    open_link(client, people.doc, "view")
    assert source_src in copy(client, mine, [source_src]).json()["map"]


def test_only_people_who_may_change_the_target_may_copy_into_it(
    people: People, client_of: Callable[[Any], Client], source_src: str
) -> None:
    other = documents_services.document_create(owner=people.owner, title="Owner's other")
    documents_services.share_grant(
        document=other, actor=people.owner, identifier="viewer", role="viewer"
    )
    response = copy(client_of(people.viewer), other, [source_src])
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert copy(client_of(people.stranger), other, [source_src]).status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"srcs": "x"}, {"srcs": [1]}, {}, {"srcs": ["/media/i/x.png"] * 201}],
    ids=["not-a-list", "not-strings", "missing", "too-many"],
)
def test_a_malformed_request_is_refused(
    people: People, client_of: Callable[[Any], Client], body: dict[str, Any]
) -> None:
    response = client_of(people.owner).post(
        reverse("images:copy", args=[people.doc.public_id]), body, content_type="application/json"
    )
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


def test_a_copy_over_the_quota_copies_nothing(
    people: People,
    client_of: Callable[[Any], Client],
    source_src: str,
    viewers_doc: Document,
    limits: Callable[..., None],
) -> None:
    limits(IMAGE_DOC_QUOTA_BYTES=1)
    response = copy(client_of(people.viewer), viewers_doc, [source_src])
    assert (response.status_code, response.json()["error"]) == (413, "quota_exceeded")
    assert not Image.objects.filter(document=viewers_doc).exists()
