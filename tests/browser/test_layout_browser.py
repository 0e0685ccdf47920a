"""Layout in Chromium (issue 13): tables converge, rules and page breaks,
the outline, the word count, the page view and print.

Debian's Chromium drives the built bundle against a real daphne on the test
database; each person is a browser context signed in with a session cookie.
``window.collabdocs.layout`` is what editor/layout/index.js returns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

SCREENSHOTS = Path("/tmp/collabdocs-browser")
SYNCED = """() => {
  const c = window.collabdocs;
  return !!c && c.connection.status === "connected" && c.client.isSynchronized
    && c.client.pendingEdits === 0;
}"""
CONTENTS = "() => window.collabdocs.quill.getContents().ops"
# Rows of the table in the editor, as text of their cells.
TABLE_TEXT = """() => [...document.querySelectorAll('.ql-editor table tr')].map(
  (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))"""


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password=f"pw-{username}-98765", first_name=username.title()
    )


def _session_key(user: Any) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _stored(document: Any) -> tuple[int, list[dict]]:
    from documents.content import document_state

    document.refresh_from_db()
    state = document_state(document)
    return state.revision, state.content


@pytest.fixture
def people(live_daphne: Any) -> dict[str, Any]:
    """Alice owns a document that Bob may edit."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice, bob = _user("alice"), _user("bob")
    document = services.document_create(owner=alice, title="Quarterly plan")
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, bob, document)
    return {"alice": alice, "bob": bob, "doc": document, "server": live_daphne}


@pytest.fixture
def open_page(chromium_browser: Any, people: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name)``: that person's page on the document, synchronized."""
    contexts: list[Any] = []
    server = people["server"]

    def open_(name: str) -> Any:
        context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies(
            [{"name": "sessionid", "value": _session_key(people[name]), "url": server.url}]
        )
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.console = []
        page.on("console", lambda msg: page.console.append(msg.text))
        page.goto(f"{server.url}/d/{people['doc'].public_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def _wait_converged(pages: list[Any], document: Any, timeout: float = 20) -> list[dict]:
    """Wait until every page is synchronized at the stored revision; return the content."""
    deadline = time.monotonic() + timeout
    while True:
        rev, content = _stored(document)
        states = [
            p.evaluate(
                "() => ({rev: window.collabdocs.client.revision,"
                " pending: window.collabdocs.client.pendingEdits,"
                " status: window.collabdocs.connection.status})"
            )
            for p in pages
        ]
        if all(
            s["rev"] == rev and s["pending"] == 0 and s["status"] == "connected" for s in states
        ):
            return content
        if time.monotonic() > deadline:
            raise AssertionError(f"no convergence: stored r{rev}, pages {states}")
        time.sleep(0.15)


def _cell_index(page: Any, row: int, column: int) -> int:
    """Return the Quill index of the start of a table cell."""
    return page.evaluate(
        """([row, column]) => {
          const quill = window.collabdocs.quill;
          const td = document.querySelectorAll('.ql-editor table tr')[row]
            .querySelectorAll('td')[column];
          return quill.getIndex(quill.constructor.find(td));
        }""",
        [row, column],
    )


def _type_in_cell(page: Any, row: int, column: int, text: str) -> None:
    index = _cell_index(page, row, column)
    page.evaluate(f"() => window.collabdocs.quill.setSelection({index}, 0, 'user')")
    page.keyboard.type(text, delay=5)


def _screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_a_table_edited_by_two_people_at_once_converges(
    open_page: Callable[..., Any], people: dict[str, Any]
) -> None:
    """Alice inserts a table from the picker; Bob, offline, fills a cell and adds a
    row while Alice fills another cell: both end identical, equal to the server."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("Budget", delay=5)
    alice.click("#toolbar button.ql-table")
    assert alice.is_visible(".table-picker"), "the table button opens the size picker"
    assert alice.inner_text(".table-picker-label") == "3 × 3 table"
    alice.hover('.table-picker-cell[data-rows="2"][data-columns="2"]')
    assert alice.inner_text(".table-picker-label") == "2 × 2 table"
    alice.click('.table-picker-cell[data-rows="2"][data-columns="2"]')
    assert alice.is_hidden(".table-picker")
    assert alice.evaluate(TABLE_TEXT) == [["", ""], ["", ""]]
    # The text of the line stays out of the table, which follows it.
    assert alice.evaluate("() => window.collabdocs.quill.getText()").startswith("Budget\n")
    # The cursor is in the first cell: the table menu shows above the table,
    # in the space kept there, not over the line before it.
    alice.wait_for_selector(".table-menu:not([hidden])", timeout=5_000)
    boxes = alice.evaluate(
        """() => [document.querySelector('.table-menu'), document.querySelector('.ql-editor p'),
                  document.querySelector('.ql-editor table')].map((el) => {
          const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; })"""
    )
    menu, line, table = boxes
    assert line["bottom"] <= menu["top"] and menu["bottom"] <= table["top"], boxes
    content = _wait_converged([alice, bob], people["doc"])
    bob.wait_for_function("() => document.querySelectorAll('.ql-editor td').length === 4")

    # Bob goes offline: what he does now crosses what Alice does.
    bob.evaluate("() => window.collabdocs.connection.setOnline(false)")
    _type_in_cell(bob, 1, 1, "beta")
    bob.wait_for_selector(".table-menu:not([hidden])", timeout=5_000)
    # From the keyboard: Alt+F10 reaches the menu, arrows move, Enter acts.
    bob.keyboard.press("Alt+F10")
    bob.keyboard.press("ArrowRight")
    assert bob.evaluate("() => document.activeElement.dataset.action") == "row-below"
    bob.keyboard.press("Enter")
    assert len(bob.evaluate(TABLE_TEXT)) == 3
    _type_in_cell(alice, 0, 0, "alpha")
    alice.wait_for_function(SYNCED, timeout=10_000)
    bob.evaluate("() => window.collabdocs.connection.setOnline(true)")

    content = _wait_converged([alice, bob], people["doc"])
    a_ops, b_ops = alice.evaluate(CONTENTS), bob.evaluate(CONTENTS)
    assert a_ops == b_ops == content, "the editors and the server differ"
    assert (
        alice.evaluate(TABLE_TEXT)
        == bob.evaluate(TABLE_TEXT)
        == [
            ["alpha", ""],
            ["", "beta"],
            ["", ""],
        ]
    )
    # Each cell is a line end carrying its row id: 3 rows of 2 cells.
    cells = [
        op["attributes"]["table"]
        for op in content
        if "table" in op.get("attributes", {})
        for _ in range(op["insert"].count("\n"))
    ]
    assert len(cells) == 6 and len(set(cells)) == 3, cells
    # The word count follows every change, remote ones included, by itself.
    for page in (alice, bob):
        page.wait_for_function(
            """() => document.querySelector('#layout-controls .word-count')
              .textContent.startsWith('3 words')""",
            timeout=5_000,
        )
    print("table delta:", json.dumps(content))
    _screenshot(alice, "layout-table")
    assert not alice.errors and not bob.errors


# Put before the document's final newline (the protocol keeps that one).
OUTLINE_BODY = [
    {"insert": "Intro"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Some words here, and don't forget émigré 😀 text."},
    {"insert": "\n", "attributes": {"align": "center"}},
    {"insert": {"divider": True}},
    {"insert": "Details"},
    {"insert": "\n", "attributes": {"header": 2}},
    {"insert": ("filler line\n" * 60)},
    {"insert": {"pagebreak": True}},
    {"insert": "Appendix"},
    {"insert": "\n", "attributes": {"header": 2}},
    {"insert": "End", "attributes": {"size": "large", "font": "serif"}},
]


def test_rules_breaks_outline_word_count_page_view_and_print(
    open_page: Callable[..., Any], people: dict[str, Any]
) -> None:
    """One page: the toolbar's rule and page break, the outline jumping to a
    heading, the word count of the document and of a selection, the page view,
    and print showing only the title and the document."""
    alice = open_page("alice")
    # The toolbar keeps every control on screen at 1280 px, labelled.
    toolbar = alice.evaluate(
        """() => [...document.querySelectorAll('#toolbar button, #toolbar .ql-picker-label')]
          .map((el) => { const r = el.getBoundingClientRect();
            return {label: el.getAttribute('aria-label') || '', right: r.right, w: r.width}; })"""
    )
    assert all(c["right"] <= 1280 and c["w"] > 0 for c in toolbar), toolbar
    labels = {c["label"] for c in toolbar}
    for label in (
        "Horizontal line",
        "Page break",
        "Table",
        "Increase indent",
        "Decrease indent",
        "Align",
        "Font",
        "Font size",
        "Insert image",
    ):
        assert label in labels, (label, sorted(labels))

    # Rule and page break from the toolbar: markers, exactly true.
    alice.click(".ql-editor")
    alice.keyboard.type("Top", delay=5)
    alice.click("#toolbar button.ql-divider")
    alice.click("#toolbar button.ql-pagebreak")
    alice.wait_for_function(SYNCED, timeout=10_000)
    _rev, content = _stored(people["doc"])
    assert content == [
        {"insert": "Top\n"},
        {"insert": {"divider": True}},
        {"insert": {"pagebreak": True}},
        {"insert": "\n"},
    ], content
    assert alice.is_visible(".ql-editor hr") and alice.is_visible(".ql-editor .page-break")
    print("marker delta:", json.dumps(content))

    # Content with headings, as a change of Alice's.
    alice.evaluate(
        """(ops) => { const q = window.collabdocs.quill;
          q.updateContents([{delete: q.getLength() - 1}, ...ops], 'user');
          q.setSelection(0, 0, 'user'); }""",
        OUTLINE_BODY,
    )
    alice.wait_for_function(SYNCED, timeout=10_000)
    assert _stored(people["doc"])[1] == alice.evaluate(CONTENTS)

    # Outline: toggled from the layout controls, live, click jumps.
    assert alice.is_hidden("#doc-outline")
    alice.click("#layout-controls .outline-toggle")
    alice.wait_for_selector("#doc-outline:not([hidden]) .doc-outline-item", timeout=5_000)
    items = alice.locator("#doc-outline .doc-outline-item button")
    assert items.all_inner_texts() == ["Intro", "Details", "Appendix"]
    items.nth(2).click()
    appendix = alice.evaluate("() => window.collabdocs.quill.getText().indexOf('Appendix')")
    selection = alice.evaluate("() => window.collabdocs.quill.getSelection()")
    assert selection["index"] == appendix + 2  # two markers before: one unit each, no text
    top = alice.evaluate(
        """() => [...document.querySelectorAll('.ql-editor h2')].at(-1)
          .getBoundingClientRect().top"""
    )
    assert 0 <= top < 900, f"the heading is on screen after the jump (top {top})"
    # A new heading appears in the outline without reloading.
    alice.evaluate("() => window.collabdocs.quill.formatLine(0, 1, 'header', 3, 'user')")
    alice.wait_for_function(
        """() => document.querySelectorAll('#doc-outline .doc-outline-item').length === 3
          && document.querySelector('#doc-outline .doc-outline-item')
            .classList.contains('level-3')""",
        timeout=5_000,
    )

    # Word count: the document, then a selection.
    count = alice.evaluate("() => window.collabdocs.layout.wordCount()")
    text = alice.evaluate("() => window.collabdocs.quill.getText()")
    # Intro, the sentence (8: "don't" is one word, 😀 none), Details, filler, Appendix, End.
    words = 1 + 8 + 1 + 2 * 60 + 1 + 1
    assert count["total"]["words"] == words, count
    # Characters as seen: 😀 (two UTF-16 units) is one; line breaks are none.
    assert count["total"]["characters"] == len(text.replace("\n", ""))
    assert alice.inner_text("#layout-controls .word-count") == count["label"]
    start = text.index("Some")
    alice.evaluate(f"() => window.collabdocs.quill.setSelection({start}, 10, 'user')")
    alice.wait_for_function(
        """() => document.querySelector('#layout-controls .word-count')
          .textContent.startsWith('2 of ')""",
        timeout=5_000,
    )
    assert alice.inner_text("#layout-controls .word-count") == (
        f"2 of {words} words · 10 of {count['total']['characters']} characters"
    )

    # Page view: a sheet of the printed page's width with its margins.
    alice.click("#layout-controls .page-view-toggle")
    paper = alice.evaluate(
        """() => { const s = getComputedStyle(document.querySelector('.doc-paper'));
          return {width: s.width, padding: s.paddingLeft}; }"""
    )
    assert paper == {"width": "816px", "padding": "96px"}, paper
    _screenshot(alice, "layout-page-view")

    # Print: only the title and the document.
    alice.emulate_media(media="print")
    for hidden in (
        "#toolbar",
        "#layout-controls",
        ".doc-actions",
        ".doc-meta",
        ".brand",
        "#doc-outline",
        "#review-margin",
        ".table-menu",
    ):
        assert alice.locator(hidden).evaluate_all(
            "(els) => els.every((el) => !el.checkVisibility())"
        ), f"{hidden} is printed"
    assert alice.is_visible("#doc-title")
    assert alice.input_value("#doc-title") == "Quarterly plan"
    assert alice.is_visible(".ql-editor h3")  # "Intro", made a level-3 heading above
    paper = alice.evaluate(
        """() => { const s = getComputedStyle(document.querySelector('.doc-paper'));
          const b = getComputedStyle(document.querySelector('.ql-editor .page-break'));
          return {shadow: s.boxShadow, padding: s.paddingLeft, breakAfter: b.breakAfter}; }"""
    )
    assert paper == {"shadow": "none", "padding": "0px", "breakAfter": "page"}, paper
    # A page break starts a new page: two short lines print on one page with
    # a rule between them, on two with a page break.
    printed = {}
    for marker in ("divider", "pagebreak"):
        alice.evaluate(
            """(marker) => { const q = window.collabdocs.quill;
              q.updateContents([{delete: q.getLength() - 1}, {insert: "First\\n"},
                                {insert: {[marker]: true}}, {insert: "Second"}], 'user'); }""",
            marker,
        )
        alice.wait_for_function(SYNCED, timeout=10_000)
        pdf = alice.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
        printed[marker] = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert printed == {"divider": 1, "pagebreak": 2}, printed
    alice.emulate_media(media="screen")
    assert not alice.errors, alice.errors
