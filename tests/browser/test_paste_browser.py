"""Pasted and dropped content in Chromium stays inside the content schema.

A paste is a real ``paste`` ClipboardEvent carrying HTML, handled by
Quill's clipboard and our matchers (static/src/editor/paste.js); content
the server would refuse is turned into links or left out, the person is
told in a notice, and what the server stores equals what Quill shows.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (
    SYNCED,
    _person_page,
    _stored,
    _user,
)
from tests.browser.thirdparty import Recorder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

# data: images over this many characters are refused (set on the server too).
IMAGE_DATA_MAX_BYTES = 2000
PASTE = """(html) => {
  const data = new DataTransfer();
  data.setData("text/html", html);
  data.setData("text/plain", "fallback text");
  const quill = window.collabdocs.quill;
  quill.focus();
  quill.setSelection(quill.getLength() - 1, 0, "user");
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  quill.root.dispatchEvent(paste);
}"""
NOTICE = "[data-kind='content']"
# What happened to uploaded images (static/src/editor/images/).
IMAGES_NOTICE = "[data-kind='images']"
# A 1×1 transparent PNG (as Pillow writes it: the server decodes it whole).
SMALL_PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
        )
    ).decode()
)


@pytest.fixture
def editor(chromium_browser: Any, daphne_factory: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """Alice's connected editor on a new document (small data: image limit)."""
    from documents import services

    server = daphne_factory(COLLABDOCS_IMAGE_DATA_MAX_BYTES=str(IMAGE_DATA_MAX_BYTES))
    alice = _user("alice", "Alice")
    document = services.document_create(owner=alice, title="Pasted")
    context, page = _person_page(chromium_browser, alice, server.url)
    page.goto(f"{server.url}/d/{document.public_id}/")
    page.wait_for_function(SYNCED, timeout=30_000)
    yield {"page": page, "doc": document, "server": server}
    context.close()


def _settled(page: Any, document: Any) -> tuple[list[dict], list[dict]]:
    """Wait until the page is synchronized; return (Quill's content, the stored content)."""
    page.wait_for_function(SYNCED, timeout=15_000)
    quill = page.evaluate("() => window.collabdocs.quill.getContents().ops")
    return quill, _stored(document)[1]


def test_pasted_remote_image_becomes_a_link_and_the_person_is_told(
    editor: dict[str, Any], recorder: Recorder
) -> None:
    """Remote images and iframes become links, bad formats are mapped; server equals Quill."""
    page, document = editor["page"], editor["doc"]
    remote = f"{recorder.origin}/pixel.gif"
    page.evaluate(
        PASTE,
        (
            f'<p>Look <img src="{remote}" alt="the chart"> here</p>'
            "<h5>Deep heading</h5>"
            '<p><span style="color: rgb(255, 0, 0); font-family: serif; font-size: 30px">'
            "red</span> "
            '<a href="javascript:alert(1)">bad link</a> '
            '<a href="https://example.com/">good link</a></p>'
            f'<iframe src="{recorder.origin}/embed/1"></iframe>'
            f'<p><img src="{SMALL_PNG}" alt="dot"></p>'
        ),
    )
    page.wait_for_selector(NOTICE, timeout=10_000)
    notice = page.inner_text(NOTICE)
    print("notice:", notice)
    assert "image from another site became a link" in notice
    assert "video became a link" in notice
    page.wait_for_function("() => window.collabdocs.images.pending === 0", timeout=15_000)
    quill, stored = _settled(page, document)
    print("stored:", stored)
    assert stored == quill, "the server's document differs from the editor's"
    # The remote image is a link with its alt text; the data: image was
    # uploaded (images/index.js): the document holds its stored copy.
    assert {"insert": "the chart", "attributes": {"link": remote}} in stored
    images = [op for op in stored if isinstance(op["insert"], dict) and "image" in op["insert"]]
    assert len(images) == 1 and images[0].get("attributes") == {"alt": "dot"}
    assert re.match(r"^/media/i/[0-9a-f-]{36}\.png$", images[0]["insert"]["image"])
    assert not any(isinstance(op["insert"], dict) and "video" in op["insert"] for op in stored)
    assert {
        "insert": f"{recorder.origin}/embed/1",
        "attributes": {"link": f"{recorder.origin}/embed/1"},
    } in stored
    # h5 became the deepest heading the schema has; rgb() became #rrggbb; the serif font
    # is kept (the schema has it), 30px is no size of the schema.
    assert {"insert": "\n", "attributes": {"header": 3}} in stored
    assert {"insert": "red", "attributes": {"color": "#ff0000", "font": "serif"}} in stored
    links = [op["attributes"].get("link") for op in stored if op.get("attributes")]
    assert "https://example.com/" in links
    assert not any(str(link).lower().startswith("javascript") for link in links)
    assert recorder.paths == [], "pasting fetched the remote image"
    assert page.errors == []


def test_pasted_data_image_the_server_refuses_is_left_out(editor: dict[str, Any]) -> None:
    """A data: image is uploaded; one the server refuses is left out with its reason."""
    page, document = editor["page"], editor["doc"]
    big = "data:image/png;base64," + "A" * IMAGE_DATA_MAX_BYTES
    page.evaluate(PASTE, f'<p>before <img src="{big}"> after</p>')
    page.wait_for_selector(IMAGES_NOTICE, timeout=10_000)
    assert "not an image" in page.inner_text(IMAGES_NOTICE)
    quill, stored = _settled(page, document)
    assert stored == quill
    assert "".join(op["insert"] for op in stored) == "before  after\n"


def test_content_made_another_way_is_cleaned_before_it_is_sent(editor: dict[str, Any]) -> None:
    """A user change with a remote image, a script and header 6 is corrected in the editor too."""
    page, document = editor["page"], editor["doc"]
    page.click(".ql-editor")
    page.keyboard.type("keep")
    page.wait_for_function(SYNCED, timeout=15_000)
    page.wait_for_timeout(1200)  # past the history's merge delay: the next change is its own entry
    page.evaluate("""() => {
      const quill = window.collabdocs.quill;
      quill.updateContents([
        {insert: "Title"}, {insert: "\\n", attributes: {header: 6}},
        {insert: {image: "https://tracker.example/p.gif"}},
        {insert: "serif", attributes: {script: "super", bold: true}}, {insert: "\\n"},
      ], "user");
    }""")
    page.wait_for_selector(NOTICE, timeout=10_000)
    quill, stored = _settled(page, document)
    assert stored == quill
    assert stored == [
        {"insert": "Title"},
        {"insert": "\n", "attributes": {"header": 3}},
        {"insert": "serif", "attributes": {"bold": True}},
        {"insert": "\nkeep\n"},
    ]
    # Undo takes back exactly what was stored: the history was told of the correction.
    page.evaluate("() => window.collabdocs.quill.history.undo()")
    quill, stored = _settled(page, document)
    assert stored == quill == [{"insert": "keep\n"}]
    # Quill registered the schema's formats only.
    registered = page.evaluate("""() => ["header", "bold", "link", "image", "video", "list",
        "font", "size", "script", "formula", "direction"].filter(
        (name) => window.collabdocs.quill.scroll.query(name) !== null)""")
    assert registered == ["header", "bold", "link", "image", "video", "list", "font", "size"]


PASTE_FILE = """([size, b64]) => {
  const bytes = b64 ? Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)) : new Uint8Array(size);
  if (!b64) bytes.set([0x89, 0x50, 0x4e, 0x47]);
  const data = new DataTransfer();
  data.items.add(new File([bytes], "picture.png", {type: "image/png"}));
  const quill = window.collabdocs.quill;
  quill.focus();
  quill.setSelection(0, 0, "user");
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  quill.root.dispatchEvent(paste);
}"""


def test_pasted_image_files_are_uploaded_or_refused(editor: dict[str, Any]) -> None:
    """An image file is uploaded, never read into a data: URL; a damaged one is refused."""
    page, document = editor["page"], editor["doc"]
    page.evaluate(PASTE_FILE, [IMAGE_DATA_MAX_BYTES, None])  # a PNG signature and zeros
    page.wait_for_selector(IMAGES_NOTICE, timeout=10_000)
    assert "not an image" in page.inner_text(IMAGES_NOTICE)
    page.evaluate(PASTE_FILE, [0, SMALL_PNG.split(",", 1)[1]])
    page.wait_for_function(
        "() => window.collabdocs.quill.getContents().ops.some((op) => op.insert.image)",
        timeout=10_000,
    )
    quill, stored = _settled(page, document)
    assert stored == quill
    images = [op["insert"]["image"] for op in stored if isinstance(op["insert"], dict)]
    assert len(images) == 1 and images[0].startswith("/media/i/")


def test_undo_after_a_dropped_embed_does_not_take_other_text(editor: dict[str, Any]) -> None:
    """A refused image inserted into "keep" is removed; undo then never eats a letter of "keep"."""
    page, document = editor["page"], editor["doc"]
    page.click(".ql-editor")
    page.keyboard.type("keep")
    page.wait_for_function(SYNCED, timeout=15_000)
    page.evaluate("""() => {
      const quill = window.collabdocs.quill;
      quill.history.cutoff();  // the image is an undo step of its own
      quill.insertEmbed(2, "image", "https://tracker.example/p.gif", "user");
    }""")
    page.wait_for_selector(NOTICE, timeout=10_000)
    quill, stored = _settled(page, document)
    assert stored == quill == [{"insert": "keep\n"}]
    # The image left no trace, so undo takes back the typing before it, whole.
    page.evaluate("() => window.collabdocs.quill.history.undo()")
    quill, stored = _settled(page, document)
    assert stored == quill == [{"insert": "\n"}]
