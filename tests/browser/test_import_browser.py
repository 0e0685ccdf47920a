"""Import in Chromium: a file from the documents list, and "Insert file…" in the editor.

One person on one live server: the list page's "Import file…" turns the
LibreOffice-made DOCX into a new document that opens with its headings,
table and picture (whose bytes the page can fetch); then "Insert file…"
puts a Markdown file in the middle of a line of another document, which
the socket saves like typing; a hostile file gets the server's sentence as
a notice and changes nothing; a viewer gets no Insert file… control.

Failure modes: the list form posting nowhere or not opening the new
document, the picture not served, the inserted content not reaching the
server (inserted with a source the binding ignores), the line the cursor
was in losing its format, a refusal shown as a bare status code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_coediting_browser import SYNCED, _person_page, _stored, _user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

FIXTURES = Path(__file__).resolve().parents[1] / "office" / "fixtures"
TEXT = "() => window.collabdocs.quill.getText()"


def test_import_from_the_list_and_insert_a_file_at_the_cursor(
    chromium_browser: Any, live_daphne: Any, tmp_path: Path
) -> None:
    from documents import services
    from documents.models import Document

    ada = _user("ada", "Ada")
    base = live_daphne.url
    context, page = _person_page(chromium_browser, ada, base)
    try:
        # The list page: Import file… makes a document and opens it.
        page.goto(f"{base}/")
        page.set_input_files("[data-import-input]", str(FIXTURES / "report.docx"))
        page.wait_for_url(re.compile(r"/d/[0-9a-f-]{36}/$"), timeout=20_000)
        page.wait_for_function(SYNCED, timeout=30_000)
        imported = Document.objects.get(owner=ada)
        assert imported.title == "Quarterly report"
        assert page.locator(".ql-editor h1").inner_text() == "Quarterly report"
        assert page.locator(".ql-editor li").count() >= 7
        page.wait_for_function(
            """() => [...document.querySelectorAll(".ql-editor img")].some(
                (img) => img.complete && img.naturalWidth === 120)""",
            timeout=15_000,
        )
        assert "North" in page.evaluate(TEXT)

        # Insert file… in the middle of a heading of another document.
        target = services.document_create(owner=ada, title="Target")
        page.goto(f"{base}/d/{target.public_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        page.evaluate(
            """() => {
              const q = window.collabdocs.quill;
              q.updateContents([{insert: "Before after"}, {insert: "\\n", attributes: {header: 2}}],
                               "user");
              q.setSelection(7, 0, "user");
            }"""
        )
        markdown = tmp_path / "notes.md"
        markdown.write_text("- [x] done\n- [ ] open\n\n**bold** words\n", encoding="utf-8")
        button = page.locator("#file-controls .cd-insert-file")
        assert button.is_visible()
        page.set_input_files("#file-controls input[type=file]", str(markdown))
        page.wait_for_function("() => window.collabdocs.quill.getText().includes('bold words')")
        page.wait_for_function(SYNCED, timeout=15_000)
        notice = page.locator("[data-kind='insert-file']")
        assert "Inserted “notes.md”" in notice.inner_text()
        _, content = _stored(target)
        assert content == [
            {"insert": "Before "},
            {"insert": "\n", "attributes": {"header": 2}},
            {"insert": "done"},
            {"insert": "\n", "attributes": {"list": "checked"}},
            {"insert": "open"},
            {"insert": "\n", "attributes": {"list": "unchecked"}},
            {"insert": "bold", "attributes": {"bold": True}},
            {"insert": " words\nafter"},
            {"insert": "\n", "attributes": {"header": 2}},
            {"insert": "\n"},  # the new document's own empty line
        ]

        # A hostile file: the server's sentence, and nothing changes.
        macro = tmp_path / "macro.docm"
        macro.write_bytes(b"PK\x03\x04 not really a zip")
        page.set_input_files("#file-controls input[type=file]", str(macro))
        page.wait_for_function(
            "() => document.querySelector(\"[data-kind='insert-file'].cd-notice-error\")"
        )
        assert "not a valid DOCM file" in notice.inner_text() or "damaged" in notice.inner_text()
        assert _stored(target)[1] == content
        assert page.errors == []
    finally:
        context.close()

    # A viewer of the same document gets no Insert file… control.
    from documents.roles import Role

    vera = _user("vera", "Vera")
    services.share_grant(document=target, actor=ada, identifier="vera", role=Role.VIEWER)
    context, page = _person_page(chromium_browser, vera, base)
    try:
        page.goto(f"{base}/d/{target.public_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        assert not page.locator("#file-controls .cd-insert-file").is_visible()
    finally:
        context.close()
