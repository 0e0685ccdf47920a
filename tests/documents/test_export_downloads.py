"""Office downloads end to end: who may download, and which images go in the file.

Images are real: stored with images.services.store_image, read by the
image source the images app installs (documents.export's port). A document
whose content points at another document's image must not carry that
image's bytes in any format, even when the person downloading can see both.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable

import docx
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from documents import services
from documents.models import Document, Operation
from images.services import read_image, src_of, store_image
from tests.documents.conftest import World

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 32), color).save(out, "PNG")
    return out.getvalue()


def _set_content(doc: Document, ops: list[dict]) -> None:
    Operation.objects.create(document=doc, revision=1, op_id="f" * 16 + ":1", delta=ops)
    Document.objects.filter(pk=doc.pk).update(head_revision=1)
    doc.refresh_from_db()


@pytest.fixture
def pictured(world: World) -> tuple[str, str, bytes, bytes]:
    """Put one image of the document and one of the owner's other document in its content.

    Returns both srcs and the bytes the images app stored for each.
    """
    ours = store_image(document=world.doc, user=world.owner, data=_png((250, 10, 10)))
    other = services.document_create(owner=world.owner, title="Private notes")
    theirs = store_image(document=other, user=world.owner, data=_png((10, 10, 250)))
    ours_bytes, theirs_bytes = read_image(ours), read_image(theirs)
    _set_content(
        world.doc,
        [
            {"insert": "Report"},
            {"insert": "\n", "attributes": {"header": 1}},
            {"insert": {"image": src_of(ours)}, "attributes": {"alt": "ours"}},
            {"insert": {"image": src_of(theirs)}, "attributes": {"alt": "theirs"}},
            {"insert": "\n"},
        ],
    )
    return src_of(ours), src_of(theirs), ours_bytes, theirs_bytes


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("pdf", "application/pdf"),
        ("docx", DOCX_TYPE),
        ("odt", "application/vnd.oasis.opendocument.text"),
    ],
)
def test_viewers_download_office_formats_strangers_get_404(
    world: World,
    login: Callable[..., Client],
    pictured: tuple[str, str, bytes, bytes],
    fmt: str,
    mime: str,
) -> None:
    url = reverse("documents:export", args=[world.doc.public_id, fmt])
    response = login("viewer").get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == mime
    assert response["Content-Disposition"] == f'attachment; filename="quarterly-plan.{fmt}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert login("stranger").get(url).status_code == 404
    assert login("anonymous").get(url).status_code == 302


def test_word_export_carries_only_the_documents_own_image(
    world: World, login: Callable[..., Client], pictured: tuple[str, str, bytes, bytes]
) -> None:
    _ours, theirs_src, _ours_bytes, _theirs_bytes = pictured
    body = login("owner").get(reverse("documents:export", args=[world.doc.public_id, "docx"]))
    document = docx.Document(io.BytesIO(body.content))
    assert [s._inline.docPr.get("descr") for s in document.inline_shapes] == ["ours"]
    assert "[image: theirs]" in document.paragraphs[1].text
    with zipfile.ZipFile(io.BytesIO(body.content)) as package:
        media = [package.read(n) for n in package.namelist() if n.startswith("word/media/")]
    assert len(media) == 1
    assert theirs_src not in body.content.decode("latin-1")


def test_html_and_odt_exports_do_not_leak_another_documents_image(
    world: World, login: Callable[..., Client], pictured: tuple[str, str, bytes, bytes]
) -> None:
    ours_src, theirs_src, ours_bytes, theirs_bytes = pictured
    client = login("owner")
    html = client.get(reverse("documents:export", args=[world.doc.public_id, "html"])).content
    page = html.decode()
    assert base64.b64encode(ours_bytes).decode() in page
    assert base64.b64encode(theirs_bytes).decode() not in page and theirs_src not in page
    odt = client.get(reverse("documents:export", args=[world.doc.public_id, "odt"])).content
    with zipfile.ZipFile(io.BytesIO(odt)) as package:
        pictures = [n for n in package.namelist() if n.startswith("Pictures/")]
        assert len(pictures) == 1
        # The bytes the images app stored (re-encoded at upload) and serves.
        assert package.read(pictures[0]) == ours_bytes


def test_a_version_downloads_as_pdf_for_whoever_sees_the_history(
    world: World, login: Callable[..., Client]
) -> None:
    initial = world.doc.versions.get(kind="initial")
    url = reverse("documents:export_version", args=[world.doc.public_id, initial.pk, "pdf"])
    response = login("editor").get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == 'attachment; filename="quarterly-plan-r0.pdf"'
    assert login("viewer").get(url).status_code == 403
    assert login("stranger").get(url).status_code == 404


def test_the_page_offers_every_office_download(world: World, login: Callable[..., Client]) -> None:
    page = login("viewer").get(reverse("documents:detail", args=[world.doc.public_id])).content
    html = page.decode()
    for fmt, label in (("pdf", "PDF"), ("docx", "Word (.docx)"), ("odt", "OpenDocument (.odt)")):
        url = reverse("documents:export", args=[world.doc.public_id, fmt])
        assert f'data-export="{fmt}" href="{url}" download>{label}</a>' in html
