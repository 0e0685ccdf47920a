"""Finding documents in Chromium: content search, stars, sorting, copies, a phone.

Debian's Chromium (Playwright) drives the list page against one real
daphne: a content search shows marked snippets, with a document's own
``<script>`` as text; the star toggles in place (no reload) and the
Starred list shows it; the sort menu applies itself and keeps the search;
"Make a copy" opens the copy. At 390 x 844 the search, the sort menu,
stars and titles stay on screen without sideways scrolling. Screenshots
go to ``$COLLABDOCS_SCREENSHOTS`` (else a temporary directory).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_coediting_browser import _session_key, _user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

ROW_TITLES = "() => [...document.querySelectorAll('.doc-title')].map((el) => el.textContent)"
NO_SIDEWAYS_SCROLL = (
    "() => document.scrollingElement.scrollWidth <= document.documentElement.clientWidth"
)


def _shots(tmp_path: Path) -> Path:
    configured = os.environ.get("COLLABDOCS_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def _inside_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def test_search_star_sort_and_copy_on_desktop_and_phone(
    live_daphne: Any, chromium_browser: Any, tmp_path: Path
) -> None:
    from documents import services
    from documents.models import Document, Star

    quinn = _user("quinn", "Quinn")
    services.document_create(
        owner=quinn,
        title="Garden plan",
        content=[{"insert": "Tomatoes, basil and more tomatoes by the fence.\n"}],
    )
    services.document_create(
        owner=quinn,
        title="Budget",
        content=[{"insert": "Spend on tomatoes <script>alert(1)</script> seeds.\n"}],
    )
    services.document_create(owner=quinn, title="Other", content=[{"insert": "Nothing.\n"}])
    server = live_daphne.url
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": "sessionid", "value": _session_key(quinn), "url": server}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    shots = _shots(tmp_path)

    page.goto(f"{server}/?q=tomatoes")
    assert page.evaluate(ROW_TITLES) == ["Garden plan", "Budget"]  # two hits rank first
    marks = page.locator(".doc-snippet mark")
    assert marks.first.inner_text().lower() == "tomatoes"
    budget_snippet = page.locator("tr", has_text="Budget").locator(".doc-snippet")
    assert "<script>alert(1)</script>" in budget_snippet.inner_text()
    page.screenshot(path=str(shots / "list-search-1280.png"))

    # The star toggles in place: the page is the same page afterwards.
    page.evaluate("() => { window.__samePage = true; }")
    star = page.locator("tr", has_text="Budget").locator("[data-star]")
    star.click()
    page.wait_for_function(
        "() => document.querySelector('tr:nth-child(2) [data-star]')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    assert page.evaluate("() => window.__samePage === true")
    assert list(Star.objects.values_list("document__title", flat=True)) == ["Budget"]

    # The sort menu applies itself and keeps the search.
    with page.expect_navigation():
        page.select_option("[data-list-sort]", "title")
    assert "q=tomatoes" in page.url and "sort=title" in page.url
    assert page.evaluate(ROW_TITLES) == ["Budget", "Garden plan"]
    assert page.locator("[data-list-sort-go]").is_hidden()

    page.goto(f"{server}/starred/")
    assert page.evaluate(ROW_TITLES) == ["Budget"]

    # At 390 px the search, the menu, stars and titles stay on screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/?q=tomatoes")
    for selector in (
        "input[name=q]",
        "[data-list-sort]",
        "[data-star]",
        ".doc-title",
        ".doc-snippet",
    ):
        assert page.locator(selector).first.is_visible(), selector
        assert _inside_viewport(page, selector), selector
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(shots / "list-search-390.png"), full_page=True)

    # Make a copy opens the copy, owned by the person who made it.
    with page.expect_navigation():
        page.locator("tr", has_text="Garden plan").locator("[data-copy]").click()
    copy = Document.objects.get(title="Copy of Garden plan")
    assert page.url.rstrip("/").endswith(str(copy.public_id)) and copy.owner_id == quinn.pk
    assert errors == []
    context.close()
