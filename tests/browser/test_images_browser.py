"""Images in Chromium: uploaded, pasted and dropped, seen by collaborators only.

Two people (Alice owns the document, Bob edits it) on one live server per
test; the browser code is static/src/editor/images/. Files go through the
real upload endpoint (images app), the embed's src is ``/media/i/<uuid>.<ext>``
and its bytes are served only to people who can view the document.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_coediting_browser import SYNCED, _person_page, _stored, _user
from tests.browser.thirdparty import Recorder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

SRC = r"^/media/i/[0-9a-f-]{36}\.(png|jpg|gif|webp)$"
IMAGES = "() => window.collabdocs.quill.getContents().ops.filter((op) => op.insert.image)"
NOTICE = "[data-kind='images']"


def _png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def pair(chromium_browser: Any, live_daphne: Any) -> Iterator[dict[str, Any]]:
    """Alice and Bob (an editor) on Alice's document, both connected."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import perms_for

    alice, bob = _user("alice", "Alice"), _user("bob", "Bob")
    document = services.document_create(owner=alice, title="Pictures")
    for perm in perms_for("editor"):  # Role.EDITOR (mypy sees a TextChoices member as its tuple)
        assign_perm(perm, bob, document)
    contexts = []
    pages = {}
    for name, user in (("alice", alice), ("bob", bob)):
        context, page = _person_page(chromium_browser, user, live_daphne.url)
        contexts.append(context)
        page.goto(f"{live_daphne.url}/d/{document.public_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        pages[name] = page
    yield {"doc": document, "server": live_daphne, "browser": chromium_browser, **pages}
    for context in contexts:
        context.close()


def _wait_images(page: Any, count: int, timeout: float = 15_000) -> list[dict]:
    page.wait_for_function(f"() => ({IMAGES})().length >= {count}", timeout=timeout)
    page.wait_for_function(SYNCED, timeout=timeout)
    return page.evaluate(IMAGES)


def _shown(page: Any, src: str) -> None:
    """Wait until ``src`` is drawn on ``page`` (its bytes were served to that person)."""
    page.wait_for_function(
        """(src) => [...document.querySelectorAll(".ql-editor img")].some(
            (img) => img.getAttribute("src") === src && img.complete && img.naturalWidth > 0)""",
        arg=src,
        timeout=15_000,
    )


def test_toolbar_upload_reaches_the_collaborator_and_no_stranger(pair: dict[str, Any]) -> None:
    """The picked file is uploaded, shown to Bob, refused to a stranger, and resized for both."""
    alice, bob, server = pair["alice"], pair["bob"], pair["server"]
    alice.click(".ql-editor")
    alice.keyboard.type("Chart: ")
    alice.wait_for_function(SYNCED, timeout=15_000)
    # Hold Alice's upload until both have typed, so that the image's place
    # must follow their edits.
    alice.evaluate("""() => {
      const send = XMLHttpRequest.prototype.send;
      window.__release = null;
      XMLHttpRequest.prototype.send = function (body) {
        window.__release = () => send.call(this, body);
      };
    }""")
    with alice.expect_file_chooser() as chooser:
        alice.click("#toolbar .ql-image")
    chooser.value.set_files(
        files=[{"name": "chart.png", "mimeType": "image/png", "buffer": _png(320, 200)}]
    )
    alice.wait_for_function("() => !!window.__release", timeout=5_000)
    assert alice.locator(".cd-image-upload").count() == 1
    bob.evaluate("() => window.collabdocs.quill.setSelection(0, 0, 'user')")
    bob.keyboard.type("Hi ")
    alice.keyboard.type("below")
    alice.wait_for_function("() => window.collabdocs.quill.getText().startsWith('Hi ')")
    alice.evaluate("() => window.__release()")
    [op] = _wait_images(alice, 1)
    src = op["insert"]["image"]
    assert re.match(SRC, src), src
    # Where Alice was when she picked it: after her text, before what she
    # typed while it uploaded, after Bob's text before it.
    ops = alice.evaluate("() => window.collabdocs.quill.getContents().ops")
    assert ops == [{"insert": "Hi Chart: "}, {"insert": {"image": src}}, {"insert": "below\n"}]
    _shown(bob, src)
    assert _stored(pair["doc"])[1] == alice.evaluate(
        "() => window.collabdocs.quill.getContents().ops"
    )

    # A signed-in stranger asking for the file gets the document's 404.
    stranger = _user("mallory", "Mallory")
    context, page = _person_page(pair["browser"], stranger, server.url)
    try:
        answer = context.request.get(f"{server.url}{src}")
        assert answer.status == 404
        assert answer.body() != _png(320, 200)
        own = bob.evaluate("(src) => fetch(src).then((r) => r.status)", src)
        assert own == 200
    finally:
        context.close()

    # Selecting the image with the keyboard's selection shows its frame too.
    alice.evaluate("() => window.collabdocs.quill.setSelection(10, 1, 'user')")
    alice.wait_for_selector(".cd-image-frame:not([hidden])", timeout=5_000)
    alice.evaluate("() => window.collabdocs.quill.setSelection(0, 0, 'user')")
    alice.wait_for_selector(".cd-image-frame", state="hidden", timeout=5_000)

    # Alice drags the handle: Bob's copy gets the width.
    alice.click(".ql-editor img")
    alice.wait_for_selector(".cd-image-frame:not([hidden])", timeout=5_000)
    box = alice.locator(".cd-image-handle").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    alice.mouse.move(x, y)
    alice.mouse.down()
    alice.mouse.move(x - 80, y, steps=4)
    alice.mouse.move(x - 160, y, steps=4)
    alice.mouse.up()
    bob.wait_for_function(
        "() => document.querySelector('.ql-editor img')?.getAttribute('width') === '160'",
        timeout=15_000,
    )
    # The handle is a slider: the arrow keys resize by 10 px.
    alice.focus(".cd-image-handle")
    alice.keyboard.press("ArrowRight")
    bob.wait_for_function(
        "() => document.querySelector('.ql-editor img')?.getAttribute('width') === '170'",
        timeout=15_000,
    )
    # Alt text from the panel, by keyboard.
    alice.fill(".cd-image-alt input", "Sales by month")
    alice.press(".cd-image-alt input", "Enter")
    bob.wait_for_function(
        "() => document.querySelector('.ql-editor img')?.getAttribute('alt') === 'Sales by month'",
        timeout=15_000,
    )
    alice.wait_for_function(SYNCED, timeout=15_000)
    stored = _stored(pair["doc"])[1]
    assert {
        "insert": {"image": src},
        "attributes": {"alt": "Sales by month", "width": "170"},
    } in stored
    assert alice.errors == [] and bob.errors == []


PASTE_FILE = """([b64, name, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, {type}));
  const quill = window.collabdocs.quill;
  quill.focus();
  quill.setSelection(quill.getLength() - 1, 0, "user");
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  quill.root.dispatchEvent(paste);
}"""
DROP_FILES = """(files) => {
  const data = new DataTransfer();
  for (const [b64, name] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], name, {type: "image/png"}));
  }
  const target = document.querySelector(".ql-editor p");
  target.scrollIntoView({block: "center"});
  const box = target.getBoundingClientRect();
  target.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true,
    clientX: box.left + 2, clientY: box.top + box.height / 2}));
}"""


def test_pasted_and_dropped_files_are_uploaded_with_progress(pair: dict[str, Any]) -> None:
    """Pasted and dropped files become stored images; a refused file says the server's reason."""
    alice, bob = pair["alice"], pair["bob"]
    alice.click(".ql-editor")
    alice.keyboard.type("Photos")
    alice.wait_for_function(SYNCED, timeout=15_000)
    # Record the placeholders the page shows (they go once the image is in).
    alice.evaluate("""() => {
      window.__placeholders = [];
      new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) {
          if (node.classList?.contains("cd-image-upload")) {
            const bar = !!node.querySelector("progress");
            window.__placeholders.push({text: node.textContent, bar});
          }
        }
      }).observe(document.querySelector(".cd-image-uploads"), {childList: true});
    }""")
    alice.evaluate(PASTE_FILE, [base64.b64encode(_png(60, 40)).decode(), "pasted.png", "image/png"])
    [pasted] = [op["insert"]["image"] for op in _wait_images(alice, 1)]
    shown = alice.evaluate("() => window.__placeholders")
    assert shown and "pasted.png" in shown[0]["text"] and shown[0]["bar"], shown
    assert alice.locator(".cd-image-upload").count() == 0
    # Two files dropped together: uploaded at once, kept in their order.
    alice.evaluate(
        DROP_FILES,
        [
            [base64.b64encode(_png(30, 30, (0, 90, 200))).decode(), "first.png"],
            [base64.b64encode(_png(34, 30, (0, 150, 90))).decode(), "second.png"],
        ],
    )
    ops = _wait_images(alice, 3)
    srcs = [op["insert"]["image"] for op in ops]
    assert len(set(srcs)) == 3
    for src in srcs:
        _shown(bob, src)
    # The drop landed where it was dropped, the start of the line, in order.
    assert srcs[2] == pasted
    widths = bob.evaluate(
        "() => [...document.querySelectorAll('.ql-editor img')].map((img) => img.naturalWidth)"
    )
    assert widths == [30, 34, 60]
    dropped = srcs[:2]

    # Not an image: the server's sentence, nothing inserted.
    alice.evaluate(
        PASTE_FILE, [base64.b64encode(b"\x89PNG not really").decode(), "fake.png", "image/png"]
    )
    alice.wait_for_selector(NOTICE, timeout=10_000)
    print("notice:", alice.inner_text(NOTICE))
    assert "not an image" in alice.inner_text(NOTICE)
    alice.wait_for_function(SYNCED, timeout=15_000)
    stored = _stored(pair["doc"])[1]
    assert [op["insert"]["image"] for op in stored if isinstance(op["insert"], dict)] == [
        *dropped,
        pasted,
    ]

    # Over the server's limit (data-image-max-bytes, lowered here to keep the
    # test small): refused in the page with the limit named, nothing sent.
    limit = alice.evaluate(
        "() => Number(document.getElementById('editor-app').dataset.imageMaxBytes)"
    )
    assert limit == 10 * 1024 * 1024
    alice.evaluate("() => { document.getElementById('editor-app').dataset.imageMaxBytes = '100'; }")
    sent: list[str] = []
    alice.on("request", lambda request: request.method == "POST" and sent.append(request.url))
    alice.evaluate(PASTE_FILE, [base64.b64encode(_png(200, 200)).decode(), "big.png", "image/png"])
    alice.wait_for_function("() => /larger than/.test(document.body.innerText)", timeout=10_000)
    assert not [url for url in sent if url.endswith("/images")], sent
    alice.evaluate(
        f"() => {{ document.getElementById('editor-app').dataset.imageMaxBytes = '{limit}'; }}"
    )

    # In Suggesting mode the uploaded image is the person's suggestion.
    alice.evaluate("() => window.collabdocs.modes.choose('suggesting')")
    alice.evaluate(PASTE_FILE, [base64.b64encode(_png(12, 12)).decode(), "idea.png", "image/png"])
    _wait_images(alice, 4)
    alice.wait_for_function(SYNCED, timeout=15_000)
    stored = _stored(pair["doc"])[1]
    suggested = [op for op in stored if isinstance(op["insert"], dict)][-1]
    assert re.match(SRC, suggested["insert"]["image"])
    assert "suggest-insert" in suggested.get("attributes", {}), suggested
    bob.wait_for_function(
        "(src) => !!document.querySelector(`.ql-editor img[src='${src}']`)",
        arg=suggested["insert"]["image"],
        timeout=15_000,
    )
    assert alice.errors == [] and bob.errors == []


PASTE_HTML = """([html, b64]) => {
  const data = new DataTransfer();
  data.setData("text/html", html);
  data.setData("text/plain", "fallback");
  if (b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], "image.png", {type: "image/png"}));
  }
  const quill = window.collabdocs.quill;
  quill.focus();
  quill.setSelection(quill.getLength() - 1, 0, "user");
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  quill.root.dispatchEvent(paste);
}"""


def test_pasted_images_are_copied_uploaded_or_linked(
    pair: dict[str, Any], recorder: Recorder
) -> None:
    """Another document's image is copied, a data: image uploaded, one the person may not
    see left out, a remote one uploaded from the clipboard's copy or else linked, and told."""
    from documents import services
    from images.services import src_of, store_image

    alice, doc = pair["alice"], pair["doc"]
    other = services.document_create(owner=doc.owner, title="Elsewhere")
    mine = store_image(document=other, user=doc.owner, data=_png(20, 20), filename="a.png")
    sam = _user("sam", "Sam")
    secret_doc = services.document_create(owner=sam, title="Secret")
    secret = store_image(document=secret_doc, user=sam, data=_png(22, 22), filename="s.png")
    data_png = "data:image/png;base64," + base64.b64encode(_png(16, 16)).decode()
    remote = f"{recorder.origin}/photo.png"
    alice.evaluate(
        PASTE_HTML,
        [
            f'<p>A <img src="{src_of(mine)}" alt="copied"> B <img src="{data_png}">'
            f' C <img src="{pair["server"].url}{src_of(secret)}"> D'
            f' <img src="{remote}" alt="the view"> E</p>',
            None,
        ],
    )
    alice.wait_for_selector(NOTICE, timeout=15_000)
    told = alice.inner_text(NOTICE)
    linked = alice.inner_text("[data-kind='content']")
    print("notices:", told, "|", linked)
    assert "left out" in told and "can’t open" in told
    assert "became a link" in linked
    alice.wait_for_function("() => window.collabdocs.images.pending === 0", timeout=15_000)
    alice.wait_for_function(SYNCED, timeout=15_000)
    stored = _stored(doc)[1]
    assert stored == alice.evaluate("() => window.collabdocs.quill.getContents().ops")
    images = [op for op in stored if isinstance(op["insert"], dict)]
    assert len(images) == 2, stored
    copied, uploaded = images
    assert copied["insert"]["image"] != src_of(mine), "the image became one of this document"
    assert copied.get("attributes") == {"alt": "copied"}
    assert re.match(SRC, uploaded["insert"]["image"])
    assert {"insert": "the view", "attributes": {"link": remote}} in stored
    text = "".join(op["insert"] for op in stored if isinstance(op["insert"], str))
    assert text.replace("the view", "") == "A  B  C  D  E\n"
    assert not any(src_of(secret) in str(op) for op in stored)

    # The same remote image with the browser's copy of it beside the HTML.
    alice.evaluate(
        PASTE_HTML,
        [
            f'<p>F <img src="{remote}" alt="the view"> G</p>',
            base64.b64encode(_png(24, 18)).decode(),
        ],
    )
    _wait_images(alice, 3)
    alice.wait_for_function("() => window.collabdocs.images.pending === 0", timeout=15_000)
    alice.wait_for_function(SYNCED, timeout=15_000)
    stored = _stored(doc)[1]
    last = [op for op in stored if isinstance(op["insert"], dict)][-1]
    assert re.match(SRC, last["insert"]["image"])
    assert last.get("attributes") == {"alt": "the view"}
    assert recorder.paths == [], "the page asked the remote site for the image"
    assert alice.errors == []
