"""POST /api/docs/<id>/images: who may upload, what is stored, and every refusal.

A refused upload stores nothing: no row, no file, no quota used.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from documents import services as documents_services
from documents.exceptions import DocumentNotFound
from documents.models import Document
from images import services
from images.models import Image
from tests.images.conftest import People, animated, image_bytes, noise_png, open_link, upload

pytestmark = pytest.mark.django_db


def stored_files(media_root: Path) -> set[str]:
    root = media_root / "images"
    return (
        {str(p.relative_to(media_root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def assert_nothing_stored(people: People, before_files: set[str], media_root: Path) -> None:
    assert not Image.objects.filter(document=people.doc).exists()
    assert stored_files(media_root) == before_files


@pytest.mark.parametrize(
    ("data", "ext", "content_type"),
    [
        (image_bytes("PNG", size=(64, 48)), "png", "image/png"),
        (image_bytes("JPEG", size=(64, 48)), "jpg", "image/jpeg"),
        (animated("GIF", size=(64, 48)), "gif", "image/gif"),
        (image_bytes("WEBP", size=(64, 48)), "webp", "image/webp"),
    ],
    ids=["png", "jpeg", "gif-animated", "webp"],
)
def test_an_editor_uploads_each_type_and_gets_its_src(
    people: People, client_of: Callable[[Any], Client], data: bytes, ext: str, content_type: str
) -> None:
    response = upload(client_of(people.editor), people.doc, data, name="whatever.bin")
    assert response.status_code == 201, response.content
    body = response.json()
    image = Image.objects.get(document=people.doc)
    assert body == {
        "src": f"/media/i/{image.id}.{ext}",
        "width": 64,
        "height": 48,
        "bytes": image.bytes,
        "type": content_type,
    }
    assert image.uploaded_by == people.editor
    assert image.blob == f"images/{image.sha256[:2]}/{image.sha256}.{ext}"
    with default_storage.open(image.blob) as handle:
        assert len(handle.read()) == image.bytes


def test_an_animated_gif_stays_animated_once_stored(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    upload(client_of(people.owner), people.doc, animated("GIF", frames=5))
    image = Image.objects.get(document=people.doc)
    with default_storage.open(image.blob) as handle:
        assert PILImage.open(io.BytesIO(handle.read())).n_frames == 5


def test_a_commenter_may_upload_for_a_suggestion(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    assert upload(client_of(people.commenter), people.doc, image_bytes()).status_code == 201


def test_the_same_bytes_twice_give_the_same_image_counted_once(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    client = client_of(people.owner)
    first = upload(client, people.doc, image_bytes()).json()
    second = upload(client, people.doc, image_bytes()).json()
    assert first["src"] == second["src"]
    assert Image.objects.filter(document=people.doc).count() == 1


def test_exif_location_never_reaches_storage(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    exif = PILImage.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    PILImage.new("RGB", (30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    assert upload(client_of(people.owner), people.doc, out.getvalue()).status_code == 201
    image = Image.objects.get(document=people.doc)
    with default_storage.open(image.blob) as handle:
        stored = PILImage.open(io.BytesIO(handle.read()))
    assert stored.getexif().get_ifd(0x8825) == {}


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("viewer", 403, "forbidden"),
        ("stranger", 404, "not_found"),
        ("anonymous", 401, "not_signed_in"),
    ],
)
def test_people_who_may_not_change_the_document_cannot_upload(
    people: People,
    client_of: Callable[[Any], Client],
    media_root: Path,
    who: str,
    status: int,
    code: str,
) -> None:
    before = stored_files(media_root)
    user = None if who == "anonymous" else getattr(people, who)
    response = upload(client_of(user), people.doc, image_bytes())
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]
    assert_nothing_stored(people, before, media_root)


def test_a_link_editor_may_upload_and_a_link_viewer_may_not(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    client = client_of(people.linker)
    open_link(client, people.doc, "view")
    assert upload(client, people.doc, image_bytes()).status_code == 403
    open_link(client, people.doc, "edit")
    assert upload(client, people.doc, image_bytes()).status_code == 201


def test_a_trashed_document_takes_no_images(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    documents_services.document_trash(document=people.doc, actor=people.owner)
    assert upload(client_of(people.owner), people.doc, image_bytes()).status_code == 404


def test_a_get_is_refused_with_allow(people: People, client_of: Callable[[Any], Client]) -> None:
    response = client_of(people.owner).get(reverse("images:upload", args=[people.doc.public_id]))
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_no_file_field_is_a_bad_request(people: People, client_of: Callable[[Any], Client]) -> None:
    response = client_of(people.owner).post(
        reverse("images:upload", args=[people.doc.public_id]), {}
    )
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", 415, "unsupported_type"),
        (b"%PDF-1.4\n%%EOF\n", "scan.pdf", 415, "unsupported_type"),
        (b"plain text, named like a picture\n", "photo.png", 400, "not_an_image"),
    ],
    ids=["svg", "pdf", "text-renamed-png"],
)
def test_files_that_are_not_accepted_images_are_refused(
    people: People,
    client_of: Callable[[Any], Client],
    media_root: Path,
    data: bytes,
    name: str,
    status: int,
    code: str,
) -> None:
    before = stored_files(media_root)
    response = upload(client_of(people.owner), people.doc, data, name=name)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert_nothing_stored(people, before, media_root)


def test_a_corrupt_image_is_refused(
    people: People, client_of: Callable[[Any], Client], media_root: Path
) -> None:
    data = noise_png((200, 200), seed=7)
    before = stored_files(media_root)
    response = upload(client_of(people.owner), people.doc, data[: len(data) // 2])
    assert (response.status_code, response.json()["error"]) == (400, "not_an_image")
    assert_nothing_stored(people, before, media_root)


def test_a_decompression_bomb_is_refused(
    people: People,
    client_of: Callable[[Any], Client],
    media_root: Path,
    limits: Callable[..., None],
) -> None:
    limits(IMAGE_MAX_PIXELS=10_000)
    before = stored_files(media_root)
    response = upload(client_of(people.owner), people.doc, image_bytes(size=(200, 200)))
    assert (response.status_code, response.json()["error"]) == (400, "too_many_pixels")
    assert_nothing_stored(people, before, media_root)


def test_too_large_is_refused_with_413(
    people: People,
    client_of: Callable[[Any], Client],
    media_root: Path,
    limits: Callable[..., None],
) -> None:
    limits(IMAGE_MAX_BYTES=20_000)
    before = stored_files(media_root)
    response = upload(client_of(people.owner), people.doc, noise_png((100, 100), seed=1))  # ~30 kB
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert_nothing_stored(people, before, media_root)


def test_a_huge_body_is_refused_before_it_is_parsed(
    people: People, client_of: Callable[[Any], Client], limits: Callable[..., None]
) -> None:
    limits(IMAGE_MAX_BYTES=1024)
    response = client_of(people.owner).generic(
        "POST",
        reverse("images:upload", args=[people.doc.public_id]),
        b"x" * 200_000,
        content_type="multipart/form-data; boundary=zzz",
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


def test_the_document_quota_refuses_and_says_so(
    people: People, client_of: Callable[[Any], Client], limits: Callable[..., None]
) -> None:
    client = client_of(people.owner)
    first = upload(client, people.doc, image_bytes(color=(1, 1, 1))).json()
    limits(IMAGE_DOC_QUOTA_BYTES=first["bytes"] + 10)
    response = upload(client, people.doc, image_bytes(color=(2, 2, 2)))
    assert (response.status_code, response.json()["error"]) == (413, "quota_exceeded")
    assert "document" in response.json()["message"]
    assert Image.objects.filter(document=people.doc).count() == 1


def test_the_personal_quota_counts_every_document_of_the_uploader(
    people: People, client_of: Callable[[Any], Client], limits: Callable[..., None]
) -> None:
    client = client_of(people.owner)
    other = documents_services.document_create(owner=people.owner, title="Another")
    first = upload(client, other, image_bytes(color=(3, 3, 3))).json()
    limits(IMAGE_USER_QUOTA_BYTES=first["bytes"] + 10)
    response = upload(client, people.doc, image_bytes(color=(4, 4, 4)))
    assert (response.status_code, response.json()["error"]) == (413, "quota_exceeded")
    assert response.json()["message"].startswith("Your images")
    # Someone else's quota is theirs: the editor still may.
    assert (
        upload(client_of(people.editor), people.doc, image_bytes(color=(4, 4, 4))).status_code
        == 201
    )


def test_uploads_are_throttled_per_person(
    people: People, client_of: Callable[[Any], Client], settings: Any
) -> None:
    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "THROTTLES": {**settings.COLLABDOCS["THROTTLES"], "image": "2/m"},
    }
    client = client_of(people.editor)
    statuses = [
        upload(client, people.doc, image_bytes(color=(i, 9, 9))).status_code for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    refused = upload(client, people.doc, image_bytes())
    assert refused.json()["error"] == "throttled" and int(refused["Retry-After"]) >= 1
    assert Image.objects.filter(document=people.doc).count() == 2


def test_errors_are_json_with_a_code_and_a_sentence(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    response = upload(client_of(people.owner), people.doc, b"nope")
    body = json.loads(response.content)
    assert set(body) == {"error", "message"} and body["message"].endswith(".")


def test_a_storage_failure_is_503_and_stores_no_row(
    people: People, client_of: Callable[[Any], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(default_storage, "save", broken)
    response = upload(client_of(people.owner), people.doc, image_bytes(color=(77, 7, 7)))
    assert (response.status_code, response.json()["error"]) == (503, "unavailable")
    assert not Image.objects.filter(document=people.doc).exists()


def test_a_document_deleted_while_an_image_is_checked_gets_nothing(people: People) -> None:
    gone = documents_services.document_create(owner=people.owner, title="Soon gone")
    Document.objects.filter(pk=gone.pk).update(snapshot=None)
    Document.objects.filter(pk=gone.pk).delete()
    with pytest.raises(DocumentNotFound):
        services.store_image(document=gone, user=people.owner, data=image_bytes())
    assert not Image.objects.filter(document_id=gone.pk).exists()
