"""Pages on a 390 px phone and a 1280 px desktop, and in dark mode.

Debian's Chromium (Playwright) against one real daphne for the module, at
390 x 844 and 1280 x 800. Each test asserts what a person needs to see and
reach (the title whole, the status, Share, the history panel, the list's
titles, the navigation clear of the avatar) and that the page never
scrolls sideways; screenshots go to ``$COLLABDOCS_SCREENSHOTS`` (else a
temporary directory) to be compared by eye.

The data is created once for the module, committed, and flushed after it
(the way a transactional test leaves the database), so the tests here use
no ``db`` fixture of their own: its teardown would flush the module's data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_coediting_browser import SYNCED, _session_key, _user
from tests.conftest import DaphneProcess

# ``django_db`` (not transactional) makes pytest-django create the test
# database when this module runs alone; each test's transaction is rolled
# back and leaves the module's committed data alone.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db,
    pytest.mark.usefixtures("editor_bundle"),
]

PHONE = (390, 844)
DESKTOP = (1280, 800)
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
TITLE = "Quarterly planning notes"

#: True when the page does not scroll sideways (the root is no wider than the window).
NO_SIDEWAYS_SCROLL = (
    "() => document.scrollingElement.scrollWidth <= document.documentElement.clientWidth"
)


@pytest.fixture(scope="module")
def site(
    django_db_setup: None,
    django_db_blocker: Any,
    test_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Quinn owns a document, has one shared with her and one in the trash; daphne serves."""
    from django.core.management import call_command
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.models import Document
    from documents.roles import Role, perms_for

    with django_db_blocker.unblock():
        quinn, sam = _user("quinn", "Quinn"), _user("sam", "Samantha")
        content = [
            {"insert": "Goals for the quarter"},
            {"insert": "\n", "attributes": {"header": 1}},
        ]
        content.append({"insert": "Ship the phone layout and dark mode. " * 8 + "\n"})
        document = services.document_create(owner=quinn, title=TITLE, content=content)
        shared = services.document_create(owner=sam, title="Budget review with a long title")
        for perm in perms_for(Role.EDITOR):
            assign_perm(perm, quinn, shared)
        session = _session_key(quinn)
        trashed = services.document_create(owner=quinn, title="Old draft")
        Document.objects.filter(pk=trashed.pk).update(trashed_at=timezone.now())
    server = DaphneProcess(test_database_url, {}, tmp_path_factory.mktemp("daphne"))
    try:
        yield {"server": server, "session": session, "doc": document}
    finally:
        server.stop()
        with django_db_blocker.unblock():
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(autouse=True)
def _close_the_tests_connection() -> Iterator[None]:
    """Close the connection each test's transaction opened, after the test.

    Under Playwright the test runs in a context of its own, so its database
    connection is not the one the module's teardown closes; left open, it
    keeps the test database from being dropped at the end of the run.
    """
    yield
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return where screenshots go: ``$COLLABDOCS_SCREENSHOTS`` or a temporary directory."""
    configured = os.environ.get("COLLABDOCS_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(
    browser: Any,
    site: dict[str, Any],
    viewport: tuple[int, int],
    *,
    signed_in: bool = True,
    **options: Any,
) -> Any:
    """Return a page of a new context, signed in as Quinn unless told not to.

    ``options`` go to the context (``color_scheme="dark"``).
    """
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **options)
    if signed_in:
        cookie = {"name": "sessionid", "value": site["session"], "url": site["server"].url}
        context.add_cookies([cookie])
    context.set_default_timeout(15_000)
    return context.new_page()


#: The element's box, and whether it is wider than its content can show.
BOX = """(el) => {
  const r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
          clipped: el.scrollWidth > el.clientWidth + 1};
}"""
#: Whether the element is what a tap at its centre reaches (nothing covers it).
REACHABLE = """(el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit !== null && (hit === el || el.contains(hit));
}"""
#: WCAG contrast of the element's text against the first opaque background behind it.
CONTRAST = """(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c; break; }
    node = node.parentElement;
  }
  const fg = lum(rgb(getComputedStyle(el).color));
  const back = lum(bg || [255, 255, 255]);
  return {ratio: (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05), background: back};
}"""


def _inside(box: dict[str, float], viewport: tuple[int, int]) -> bool:
    return box["left"] >= 0 and box["right"] <= viewport[0] + 0.5 and box["top"] >= 0


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"the page is {width} px wide"


def _shot(page: Any, shots: Path, name: str, viewport: tuple[int, int]) -> None:
    page.screenshot(path=str(shots / f"{name}-{viewport[0]}x{viewport[1]}.png"))


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_editor_shows_the_title_status_share_toolbar_and_history(
    site: dict[str, Any], chromium_browser: Any, shots: Path, viewport: tuple[int, int]
) -> None:
    """Title and role are whole, status shows, Share and history open, no sideways scroll.

    On a phone the formatting toolbar starts folded behind its toggle and,
    opened, scrolls sideways inside its row, never the page; on a desktop
    there is no toggle and the toolbar shows.
    """
    page = _page(chromium_browser, site, viewport)
    phone = viewport == PHONE
    try:
        page.goto(f"{site['server'].url}/d/{site['doc'].public_id}/")
        page.wait_for_function(SYNCED)
        _no_sideways_scroll(page)

        title = page.locator("#doc-title")
        assert title.input_value() == TITLE
        box = title.evaluate(BOX)
        assert not box["clipped"] and _inside(box, viewport), box
        pill = page.locator(".role-pill")
        box = pill.evaluate(BOX)
        assert not box["clipped"] and _inside(box, viewport), box
        assert pill.text_content().strip() == "Owner"

        status = page.locator("#connection-status")
        assert status.is_visible() and status.text_content().startswith("Connected")
        assert _inside(status.evaluate(BOX), viewport)

        share = page.locator(".doc-actions .share-button")
        assert share.is_visible() and _inside(share.evaluate(BOX), viewport)
        assert share.evaluate(REACHABLE), "something covers Share"

        toggle = page.locator("[data-toolbar-toggle]")
        toolbar = page.locator("#toolbar")
        if phone:
            assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
            assert toolbar.is_hidden()
            toggle.click()
            assert toggle.get_attribute("aria-expanded") == "true"
            assert toolbar.is_visible()
            row = page.locator(".doc-toolbar-row").evaluate(BOX)
            assert row["clipped"] and row["right"] <= viewport[0], "the row scrolls in itself"
            _no_sideways_scroll(page)
            # Editing not allowed (editor.js hides the toolbar): no toggle either.
            page.evaluate("() => { document.getElementById('toolbar').hidden = true; }")
            assert toggle.is_hidden()
            page.evaluate("() => { document.getElementById('toolbar').hidden = false; }")
            assert toggle.is_visible()
        else:
            assert toggle.is_hidden() and toolbar.is_visible()
        _shot(page, shots, "editor", viewport)

        share.click()
        dialog = page.locator("#share-dialog")
        dialog.wait_for(state="visible")
        page.wait_for_function("() => !document.querySelector('[data-share-form=grant]').hidden")
        box = dialog.evaluate(BOX)
        assert _inside(box, viewport) and box["bottom"] <= viewport[1] + 0.5, box
        assert not dialog.evaluate("(el) => el.scrollWidth > el.clientWidth")
        _no_sideways_scroll(page)
        _shot(page, shots, "share", viewport)
        dialog.locator(".dialog-foot [data-dialog-close]").click()
        dialog.wait_for(state="hidden")

        history = page.locator("[data-history-open]")
        assert history.evaluate(REACHABLE), "something covers the history button"
        history.click()
        panel = page.locator("#history-panel")
        panel.wait_for(state="visible")
        page.wait_for_function("() => document.getElementById('history-panel').dataset.loaded")
        panel.locator(".history-item").first.wait_for(state="visible")
        box = panel.evaluate(BOX)
        assert _inside(box, viewport) and box["right"] == viewport[0], box
        if phone:
            assert box["width"] == viewport[0], "a sheet over the whole width"
        _no_sideways_scroll(page)
        _shot(page, shots, "history", viewport)
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_lists_and_sign_in_fit_with_the_navigation_clear_of_the_avatar(
    site: dict[str, Any], chromium_browser: Any, shots: Path, viewport: tuple[int, int]
) -> None:
    """Every list section shows its titles whole and every tab apart from the account menu."""
    page = _page(chromium_browser, site, viewport)
    base = site["server"].url
    try:
        for path, name in (("/", "mine"), ("/shared/", "shared"), ("/trash/", "trash")):
            page.goto(base + path)
            _no_sideways_scroll(page)
            avatar = page.locator(".topbar .usermenu summary").evaluate(BOX)
            for tab in page.locator(".mainnav a").all():
                box = tab.evaluate(BOX)
                assert _inside(box, viewport), (tab.text_content(), box)
                overlaps = (
                    box["left"] < avatar["right"]
                    and box["right"] > avatar["left"]
                    and box["top"] < avatar["bottom"]
                    and box["bottom"] > avatar["top"]
                )
                assert not overlaps, f"{tab.text_content()} is under the avatar"
                assert tab.evaluate(REACHABLE), tab.text_content()
            titles = page.locator(".doclist .doc-title")
            assert titles.count() == 1, name
            box = titles.first.evaluate(BOX)
            assert titles.first.is_visible() and not box["clipped"], (name, box)
            _shot(page, shots, f"list-{name}", viewport)
    finally:
        page.context.close()

    page = _page(chromium_browser, site, viewport, signed_in=False)
    try:
        for path, name in (("/accounts/login/", "login"), ("/accounts/signup/", "signup")):
            page.goto(base + path)
            _no_sideways_scroll(page)
            button = page.locator(".auth-card button[type=submit]")
            assert _inside(button.evaluate(BOX), viewport) and button.evaluate(REACHABLE)
            _shot(page, shots, name, viewport)
    finally:
        page.context.close()


def test_dark_mode_follows_the_system_and_keeps_text_readable(
    site: dict[str, Any], chromium_browser: Any, shots: Path
) -> None:
    """With the system dark, pages are dark, text is light (>= 7:1), the document readable.

    The document's page keeps its light paper and black text; the toolbar's
    icons, Quill's fixed greys, follow the scheme (>= 3:1, as for graphics).
    """
    page = _page(chromium_browser, site, DESKTOP, color_scheme="dark")
    try:
        page.goto(f"{site['server'].url}/")
        body = page.locator("body").evaluate(CONTRAST)
        assert body["background"] < 0.05, "the page's background is dark"
        assert body["ratio"] >= 7, body
        assert page.locator(".doc-title").first.evaluate(CONTRAST)["ratio"] >= 7
        assert page.locator(".doclist th").first.evaluate(CONTRAST)["ratio"] >= 4.5
        _shot(page, shots, "dark-list", DESKTOP)

        page.goto(f"{site['server'].url}/d/{site['doc'].public_id}/")
        page.wait_for_function(SYNCED)
        assert page.locator("body").evaluate(CONTRAST)["background"] < 0.05
        for selector in ("#doc-title", ".doc-meta", "#connection-status", ".ql-editor p"):
            contrast = page.locator(selector).first.evaluate(CONTRAST)
            assert contrast["ratio"] >= 4.5, (selector, contrast)
        icon = page.locator("#toolbar .ql-bold .ql-stroke").first
        stroke = icon.evaluate("(el) => getComputedStyle(el).stroke")
        assert stroke != "rgb(68, 68, 68)", "Quill's grey icons follow the scheme"
        _shot(page, shots, "dark-editor", DESKTOP)

        page.click(".doc-actions .share-button")
        page.locator("#share-dialog").wait_for(state="visible")
        for selector in ("#share-dialog-title", "#share-dialog .share-section h3"):
            contrast = page.locator(selector).first.evaluate(CONTRAST)
            assert contrast["background"] < 0.05 and contrast["ratio"] >= 7, (selector, contrast)
        _shot(page, shots, "dark-share", DESKTOP)
    finally:
        page.context.close()
