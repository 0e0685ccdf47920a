"""The import endpoints: a new document from a file, and a file converted for "Insert file…".

Images go through the real store (images.services): an imported document's
pictures are images of that document, served only to its viewers. A refused
import stores nothing: no document, no image rows, no image files.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from documents import services
from documents.content import document_content
from documents.models import Document
from documents.roles import Role
from images.models import Image
from tests.office.import_helpers import fixture_bytes
from tests.office.structure import structure

pytestmark = pytest.mark.django_db

IMPORT = "/api/import"


def convert_url(document: Document) -> str:
    return reverse("office:import-convert", args=[document.public_id])


def post_file(client: Client, url: str, data: bytes, name: str, **fields: str) -> Any:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(url, {"file": upload, **fields})


def files_under(root: Path) -> set[str]:
    images = root / "images"
    return {str(p) for p in images.rglob("*") if p.is_file()} if images.exists() else set()


@pytest.fixture
def person(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="importer", password=None)


@pytest.fixture
def client_of() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def huge_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """Return a valid PNG header claiming ``width`` × ``height`` pixels, with a tiny body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def unique_png(seed: int) -> bytes:
    """Return a small PNG no other test stores (files outlive each test's rollback)."""
    out = io.BytesIO()
    PILImage.new("RGB", (30, 20), (seed % 256, 77, 200 - seed % 100)).save(out, "PNG")
    return out.getvalue()


def docx_with_picture(picture: bytes) -> bytes:
    document = docx.Document()
    document.add_paragraph("Before the picture")
    document.add_picture(io.BytesIO(picture))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_docx_becomes_a_new_document_with_its_images(
    person: Any, client_of: Callable[[Any], Client]
) -> None:
    response = post_file(client_of(person), IMPORT, fixture_bytes("report.docx"), "report.docx")
    assert response.status_code == 201, response.content
    body = response.json()
    document = Document.objects.get(public_id=body["id"])
    assert body["url"] == reverse("documents:detail", args=[document.public_id])
    assert document.owner == person
    assert document.title == "Quarterly report" == body["title"]
    content = document_content(document)
    doc = structure(content)
    assert doc.texts(header=1) == ["Quarterly report"]
    assert doc.table() == [["Region", "Sales"], ["North", "120"], ["South", "95"]]
    # The picture is an image of the new document, uploaded by the person.
    image = Image.objects.get(document=document)
    assert image.uploaded_by == person
    assert [i["src"] for i in doc.images] == [f"/media/i/{image.id}.{image.ext}"]
    # The person is the author of every character of the first version.
    version = document.snapshot
    assert version.revision == 0
    assert version.authorship == [[sum(_length(op) for op in content), person.pk]]
    # And the owner can open it.
    assert client_of(person).get(body["url"]).status_code == 200


def _length(op: dict[str, Any]) -> int:
    insert = op["insert"]
    return len(insert.encode("utf-16-le")) // 2 if isinstance(insert, str) else 1


def test_an_odt_import_takes_the_title_the_person_gave(
    person: Any, client_of: Callable[[Any], Client]
) -> None:
    response = post_file(
        client_of(person), IMPORT, fixture_bytes("report.odt"), "report.odt", title=" Q3  draft "
    )
    assert response.status_code == 201, response.content
    assert Document.objects.get(public_id=response.json()["id"]).title == "Q3 draft"


def test_markdown_and_html_imports(person: Any, client_of: Callable[[Any], Client]) -> None:
    client = client_of(person)
    md = post_file(client, IMPORT, b"# Plan\n\n- [ ] write\n", "plan.md")
    html = post_file(client, IMPORT, b"<title>Page</title><p>Hi <b>there</b></p>", "page.html")
    assert md.status_code == 201 and html.status_code == 201
    assert Document.objects.get(public_id=md.json()["id"]).title == "Plan"
    remote = post_file(client, IMPORT, b'<img src="https://x.example/a.png" alt="a">', "r.html")
    assert remote.json()["warnings"] == ["1 image(s) from other sites became links to them."]
    shown = client.get(remote.json()["url"]).content.decode()
    assert "Imported “r.html”. 1 image(s) from other sites became links to them." in shown
    page = Document.objects.get(public_id=html.json()["id"])
    assert page.title == "Page"
    assert document_content(page) == [
        {"insert": "Hi "},
        {"insert": "there", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


def test_a_refused_import_stores_nothing(
    person: Any, client_of: Callable[[Any], Client], media_root: Path
) -> None:
    """A picture stored before a later one is refused: the document, rows and files all go."""
    ok = docx.Document()
    ok.add_picture(io.BytesIO(unique_png(1)))
    ok.add_picture(io.BytesIO(huge_png()))
    out = io.BytesIO()
    ok.save(out)
    before_files = files_under(media_root)
    documents_before = Document.objects.count()
    response = post_file(client_of(person), IMPORT, out.getvalue(), "bomb.docx")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "image_rejected"
    assert "pixels" in body["message"]
    assert Document.objects.count() == documents_before
    assert not Image.objects.exists()
    assert files_under(media_root) == before_files


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "old.doc", 415, "unsupported_format"),
        (fixture_bytes("report.docx")[:2000], "cut.docx", 400, "bad_file"),
        (b"", "empty.md", 400, "bad_file"),
    ],
    ids=["doc", "damaged", "empty"],
)
def test_refusals_answer_their_code_and_status(
    person: Any,
    client_of: Callable[[Any], Client],
    data: bytes,
    name: str,
    status: int,
    code: str,
) -> None:
    response = post_file(client_of(person), IMPORT, data, name)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert not Document.objects.filter(owner=person).exists()


def test_a_file_with_too_many_pictures_is_refused_and_nothing_stored(
    person: Any, client_of: Callable[[Any], Client], monkeypatch: Any, media_root: Path
) -> None:
    from office import views

    monkeypatch.setattr(views, "MAX_IMAGES", 2)
    pictures = b"".join(
        b'<img src="data:image/png;base64,%s">' % base64.b64encode(unique_png(10 + i))
        for i in range(3)
    )
    before = files_under(media_root)
    response = post_file(client_of(person), IMPORT, pictures, "many.html")
    assert response.status_code == 400
    assert response.json()["error"] == "image_rejected"
    assert "more than 2 pictures" in response.json()["message"]
    assert not Image.objects.exists()
    assert files_under(media_root) == before


def test_a_title_too_long_is_refused_and_nothing_stored(
    person: Any, client_of: Callable[[Any], Client], media_root: Path
) -> None:
    before = files_under(media_root)
    data = docx_with_picture(unique_png(3))
    response = post_file(client_of(person), IMPORT, data, "t.docx", title="x" * 500)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "at most 200 characters" in response.json()["message"]
    assert not Document.objects.filter(owner=person).exists()
    assert not Image.objects.exists()
    assert files_under(media_root) == before


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(
    person: Any, client_of: Callable[[Any], Client], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IMPORT_MAX_BYTES": 4096}
    response = post_file(client_of(person), IMPORT, fixture_bytes("report.odt"), "report.odt")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_imports_count_against_the_document_creation_throttle(
    person: Any, client_of: Callable[[Any], Client], settings: Any
) -> None:
    throttles = {**settings.COLLABDOCS["THROTTLES"], "document": "1/d"}
    settings.COLLABDOCS = {**settings.COLLABDOCS, "THROTTLES": throttles}
    client = client_of(person)
    assert post_file(client, IMPORT, b"one", "one.md").status_code == 201
    refused = post_file(client, IMPORT, b"two", "two.md")
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert Document.objects.filter(owner=person).count() == 1


def test_who_may_import(client_of: Callable[[Any], Client]) -> None:
    anonymous = post_file(client_of(None), IMPORT, b"x", "x.md")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_signed_in"


def test_a_get_is_not_allowed(person: Any, client_of: Callable[[Any], Client]) -> None:
    response = client_of(person).get(IMPORT)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_request_without_a_file_is_a_bad_request(
    person: Any, client_of: Callable[[Any], Client]
) -> None:
    response = client_of(person).post(IMPORT, {"title": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


# Insert file: convert into an open document ---------------------------------


@pytest.fixture
def shared(person: Any, django_user_model: Any) -> dict[str, Any]:
    document = services.document_create(owner=person, title="Target")
    people = {"owner": person, "document": document}
    for name, role in (("editor", Role.EDITOR), ("viewer", Role.VIEWER)):
        people[name] = django_user_model.objects.create_user(username=name, password=None)
        services.share_grant(document=document, actor=person, identifier=name, role=role)
    people["stranger"] = django_user_model.objects.create_user(username="stranger", password=None)
    return people


def test_an_editor_gets_the_converted_content_with_images_stored_into_the_document(
    shared: dict[str, Any], client_of: Callable[[Any], Client]
) -> None:
    document = shared["document"]
    response = post_file(
        client_of(shared["editor"]), convert_url(document), fixture_bytes("report.odt"), "r.odt"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Quarterly report"
    assert body["warnings"] == []
    doc = structure(body["delta"])
    image = Image.objects.get(document=document)
    assert image.uploaded_by == shared["editor"]
    assert [i["src"] for i in doc.images] == [f"/media/i/{image.id}.{image.ext}"]
    # Nothing was inserted by the server: the browser inserts it as an edit.
    assert document_content(document) == [{"insert": "\n"}]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("viewer", 403, "forbidden"), ("stranger", 404, "not_found"), (None, 401, "not_signed_in")],
)
def test_only_editors_may_convert_into_a_document(
    shared: dict[str, Any],
    client_of: Callable[[Any], Client],
    who: str | None,
    status: int,
    code: str,
) -> None:
    user = shared[who] if who else None
    response = post_file(
        client_of(user), convert_url(shared["document"]), fixture_bytes("report.odt"), "r.odt"
    )
    assert response.status_code == status
    assert response.json()["error"] == code
    assert not Image.objects.exists()


def test_convert_counts_against_the_image_throttle(
    shared: dict[str, Any], client_of: Callable[[Any], Client], settings: Any
) -> None:
    throttles = {**settings.COLLABDOCS["THROTTLES"], "image": "1/d"}
    settings.COLLABDOCS = {**settings.COLLABDOCS, "THROTTLES": throttles}
    client = client_of(shared["editor"])
    url = convert_url(shared["document"])
    assert post_file(client, url, b"one", "one.md").status_code == 200
    refused = post_file(client, url, fixture_bytes("report.odt"), "r.odt")
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert not Image.objects.exists()


def test_convert_counts_the_documents_own_length(
    shared: dict[str, Any], client_of: Callable[[Any], Client], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "MAX_DOC_LENGTH": 300}
    response = post_file(
        client_of(shared["owner"]), convert_url(shared["document"]), b"x" * 299, "x.md"
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_long"
    ok = post_file(client_of(shared["owner"]), convert_url(shared["document"]), b"x" * 290, "x.md")
    assert ok.status_code == 200


def test_convert_refuses_more_than_one_edit_may_carry(
    shared: dict[str, Any], client_of: Callable[[Any], Client], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "MAX_FRAME_BYTES": 8 * 1024}
    response = post_file(
        client_of(shared["owner"]), convert_url(shared["document"]), b"word " * 2000, "x.md"
    )
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "too_large"
    assert "new document" in body["message"]


def test_a_refused_convert_releases_the_images_it_stored(
    shared: dict[str, Any], client_of: Callable[[Any], Client], media_root: Path, settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "MAX_FRAME_BYTES": 1024}
    before = files_under(media_root)
    data = docx_with_picture(unique_png(2))
    response = post_file(
        client_of(shared["owner"]), convert_url(shared["document"]), data, "p.docx"
    )
    assert response.status_code == 413, json.dumps(response.json())
    assert not Image.objects.exists()
    assert files_under(media_root) == before
