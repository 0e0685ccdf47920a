"""GET /media/i/<uuid>.<ext>: only viewers of the image's document get the file.

Everyone else gets the very page a document they cannot see gives (404),
so an image's existence is never revealed. Files are immutable, so the
answer is cacheable for a year, privately, with an ETag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from documents import services as documents_services
from images.models import Image
from images.views import CACHE_CONTROL
from tests.images.conftest import People, image_bytes, open_link, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def src(people: People, client_of: Callable[[Any], Client]) -> str:
    response = upload(client_of(people.owner), people.doc, image_bytes("PNG"))
    assert response.status_code == 201
    return str(response.json()["src"])


def masked(page: bytes) -> bytes:
    """Return the page with its per-response tokens (CSRF, CSP nonce) blanked."""
    page = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"csrf", page)
    return re.sub(rb'nonce="[^"]+"', b"nonce", page)


def document_404(client: Client, people: People) -> bytes:
    response = client.get(reverse("documents:detail", args=[people.doc.public_id]))
    assert response.status_code == 404
    return bytes(response.content)


@pytest.mark.parametrize("who", ["owner", "editor", "commenter", "viewer"])
def test_everyone_who_can_view_the_document_gets_the_file(
    people: People, client_of: Callable[[Any], Client], src: str, who: str
) -> None:
    response = client_of(getattr(people, who)).get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.objects.get()
    assert b"".join(response.streaming_content) == open_blob(image)  # type: ignore[attr-defined]  # a FileResponse streams
    assert response["Content-Length"] == str(image.bytes)


def open_blob(image: Image) -> bytes:
    with default_storage.open(image.blob) as handle:
        return bytes(handle.read())


def test_a_link_viewer_gets_it_while_the_link_works(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    client = client_of(people.linker)
    assert client.get(src).status_code == 404
    open_link(client, people.doc, "view")
    assert client.get(src).status_code == 200
    documents_services.link_set_mode(document=people.doc, actor=people.owner, mode="off")
    assert client.get(src).status_code == 404


def test_a_stranger_gets_the_same_404_page_as_for_the_document(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    client = client_of(people.stranger)
    response = client.get(src)
    assert response.status_code == 404
    assert masked(response.content) == masked(document_404(client, people))
    # And the same answer as for an image that never existed.
    missing = src.replace(src.split("/")[-1][:8], "00000000")
    assert masked(client.get(missing).content) == masked(response.content)


def test_anonymous_gets_404_not_the_file(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    response = client_of(None).get(src)
    assert response.status_code == 404
    assert response.get("Content-Type", "").startswith("text/html")


def test_a_revoked_viewer_loses_the_file_at_once(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    client = client_of(people.viewer)
    assert client.get(src).status_code == 200
    documents_services.share_revoke(document=people.doc, actor=people.owner, user=people.viewer)
    assert client.get(src).status_code == 404


def test_in_the_trash_only_the_owner_still_sees_the_images(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    documents_services.document_trash(document=people.doc, actor=people.owner)
    assert client_of(people.owner).get(src).status_code == 200
    assert client_of(people.editor).get(src).status_code == 404


def test_the_wrong_extension_is_404(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    assert client_of(people.owner).get(src.replace(".png", ".gif")).status_code == 404


def test_caching_headers_etag_and_304(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    client = client_of(people.viewer)
    response = client.get(src)
    image = Image.objects.get()
    assert response["Cache-Control"] == CACHE_CONTROL == "private, max-age=31536000, immutable"
    assert response["ETag"] == f'"{image.sha256}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "Cookie" in response["Vary"]
    again = client.get(src, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == response["ETag"] and again["Cache-Control"] == CACHE_CONTROL
    assert client.get(src, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_304_is_never_given_to_someone_who_may_not_see_it(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    image = Image.objects.get()
    response = client_of(people.stranger).get(src, HTTP_IF_NONE_MATCH=f'"{image.sha256}"')
    assert response.status_code == 404


def test_head_is_answered_and_post_is_not(
    people: People, client_of: Callable[[Any], Client], src: str
) -> None:
    client = client_of(people.owner)
    assert client.head(src).status_code == 200
    assert client.post(src).status_code == 405
