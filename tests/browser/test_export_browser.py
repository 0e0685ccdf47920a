"""Downloads with suggestions in Chromium: the history panel's two kinds of link.

A document with pending suggestions: the panel's downloads give the
accepted document, its "with suggestions marked up" links the suggestions
with their author; a version's preview shows the accepted text and offers
both kinds for that version. Only the page scripts are needed (the panel is
history.js), so this runs with or without the editor bundle.

Failure modes: marked-up links missing or pointing at the plain file, a
preview showing pending suggestions as if accepted, a download naming no
author.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_sharing_browser import SCREENSHOTS, make_user, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LOADED = "() => document.getElementById('history-panel').dataset.loaded === 'true'"
T = "mxawvd40"  # 2026-12-05 21:15 UTC, as a browser writes it


def suggested(carol_id: int) -> list[dict]:
    """Return content with Carol's insertion and deletion (ends before the final newline)."""
    mark = f"{carol_id}:{T}:ab12"
    return [
        {"insert": "Keep "},
        {"insert": "the ", "attributes": {"suggest-delete": mark}},
        {"insert": "plan"},
        {"insert": " simple", "attributes": {"suggest-insert": mark}},
    ]


def test_history_panel_offers_downloads_with_suggestions_marked_up(
    live_daphne: Any, chromium_browser: Any
) -> None:
    from documents import services
    from documents.models import Document, DocumentVersion, Operation

    alice = make_user("alice3", first_name="Alice")
    carol = make_user("carol3", first_name="Carol")
    document = services.document_create(owner=alice, title="Plan")
    content = suggested(carol.pk)
    Operation.objects.create(document=document, revision=1, op_id="t:1", delta=content)
    version = DocumentVersion.objects.create(
        document=document,
        revision=1,
        content=[*content, {"insert": "\n"}],
        kind="named",
        name="With Carol's ideas",
        author=alice,
    )
    # One more change, so the named version is not the current one.
    Operation.objects.create(document=document, revision=2, op_id="t:2", delta=[{"insert": "!"}])
    Document.objects.filter(pk=document.pk).update(head_revision=2)
    base = live_daphne.url

    page = sign_in(chromium_browser, base, "alice3")
    try:
        page.goto(f"{base}/d/{document.public_id}/")
        page.click("[data-history-open]")
        page.wait_for_function(LOADED)
        panel = page.locator("#history-panel")
        current = panel.locator(".history-downloads-markup a[data-suggestions=markup]")
        # The same formats for the document and for a version (history.js).
        every = ["Plain text", "HTML", "Markdown", "PDF", "Word (.docx)", "OpenDocument (.odt)"]
        assert current.all_inner_texts() == every
        for link in current.all():
            got = page.request.get(base + (link.get_attribute("href") or ""))
            assert got.status == 200 and len(got.body()) > 0, link.get_attribute("href")
        href = current.filter(has_text="Plain text").get_attribute("href")
        assert href is not None and href.endswith("/export/txt?suggestions=markup")
        plain = page.request.get(base + href.replace("?suggestions=markup", ""))
        assert plain.text() == "!Keep the plan\n"
        marked = page.request.get(base + href)
        assert marked.text() == "!Keep [-the -]plan[+ simple+]\n"

        panel.locator(".history-item", has_text="With Carol").click()
        preview = panel.locator('[data-history-field="preview-content"]')
        preview.wait_for(state="visible")
        assert preview.inner_text().strip() == "Keep the plan"
        links = panel.locator('[data-history-field="preview-downloads-markup"] a')
        assert links.all_inner_texts() == every
        md = links.filter(has_text="Markdown").get_attribute("href")
        assert md is not None
        assert re.search(rf"/history/{version.pk}/export/md\?suggestions=markup$", md)
        body = page.request.get(base + md).text()
        assert "{++ simple++}{>>Carol suggested inserting · 2026-12-05 21:15 UTC<<}" in body
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "history-downloads-markup.png"))
    finally:
        page.context.close()
