"""Find and replace in Chromium (static/src/editor/find).

Alice edits, Bob types elsewhere at the same time, Carol only views. The
matches are read from ``CSS.highlights`` (the text of each range), so the
test checks what is drawn where, and the stored content shows that nothing
of the drawing is ever written. Failure modes: highlights left behind after
someone else's typing, Escape not giving the focus back, a replace-all sent
as many ops (or undone in many steps), replace bypassing Suggesting mode,
a viewer able to replace, a megabyte of text freezing the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (  # noqa: F401  (fixtures)
    SYNCED,
    _wait_converged,
    open_page,
    people,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

DRAWN = """(name) => [...(CSS.highlights.get(name) || [])].map((range) => range.toString())"""
COUNT = "() => document.querySelector('#find-bar .find-count').textContent"
TEXT = "() => window.collabdocs.quill.getText()"


def _count_is(page: Any, text: str) -> None:
    try:
        page.wait_for_function(f"(t) => ({COUNT})() === t", arg=text, timeout=5_000)
    except Exception as exc:
        raise AssertionError(f"the count says {page.evaluate(COUNT)!r}, not {text!r}") from exc


def _insert(page: Any, index: int, text: str) -> None:
    page.evaluate("([i, t]) => window.collabdocs.quill.insertText(i, t, 'user')", [index, text])


def _marks(content: list[dict]) -> list[tuple[str, str]]:
    """Return ``(text, review attribute)`` of each run of ``content`` that has one."""
    out = []
    for op in content:
        for name in ("suggest-insert", "suggest-delete"):
            if name in op.get("attributes", {}):
                out.append((op["insert"], name))
    return out


def test_find_highlights_counts_moves_and_replaces_as_one_change(
    open_page: Callable[..., Any],  # noqa: F811  (the imported fixture)
    people: dict[str, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """Ctrl+F, options, Enter/Shift+Enter, live matches, Escape, Replace all, Suggesting."""
    alice, bob = open_page("alice"), open_page("bob")
    _insert(alice, 0, "The cat sat. A cat, a Cat and a catalog.")
    _wait_converged([alice, bob], people["doc"])

    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.press("Control+f")
    query = alice.locator("#find-bar .find-query")
    query.wait_for(state="visible", timeout=5_000)
    assert alice.evaluate("() => document.activeElement.classList.contains('find-query')")
    query.fill("cat")
    _count_is(alice, "1 of 4")  # from the caret at the end: wraps to the first
    assert alice.evaluate(DRAWN, "cd-find") == ["cat", "cat", "Cat", "cat"]
    alice.locator("#find-bar .find-whole-word input").check()
    _count_is(alice, "1 of 3")
    alice.locator("#find-bar .find-match-case input").check()
    _count_is(alice, "1 of 2")
    query.press("Enter")
    _count_is(alice, "2 of 2")
    query.press("Enter")
    _count_is(alice, "1 of 2")
    query.press("Shift+Enter")
    _count_is(alice, "2 of 2")
    current = alice.evaluate("() => window.collabdocs.find.matches[window.collabdocs.find.current]")
    assert current == {"index": 15, "length": 3}
    assert alice.evaluate(DRAWN, "cd-find-current") == ["cat"]

    # Bob types before the matches: they move with the text, and his "cat" counts.
    _insert(bob, 0, "A cat! ")
    _count_is(alice, "3 of 3")
    assert alice.evaluate(DRAWN, "cd-find") == ["cat", "cat", "cat"]
    starts = alice.evaluate("() => window.collabdocs.find.matches.map((m) => m.index)")
    text = alice.evaluate(TEXT)
    assert [text[i : i + 3] for i in starts] == ["cat", "cat", "cat"]
    assert starts[2] == 22, "the current match followed Bob's insert"

    # Escape: the bar closes, the drawing goes, the editor has the match selected.
    query.press("Escape")
    assert alice.locator("#find-bar").is_hidden()
    assert alice.evaluate("() => CSS.highlights.size") == 0
    assert alice.evaluate("() => window.collabdocs.quill.hasFocus()")
    assert alice.evaluate("() => window.collabdocs.quill.getSelection()") == {
        "index": 22,
        "length": 3,
    }

    # Replace all: one op to the server, one undo step.
    alice.keyboard.press("Control+h")
    assert alice.locator("#find-bar .find-replacement").is_visible()
    _count_is(alice, "3 of 3")  # the query and options were kept
    alice.locator("#find-bar .find-replacement").fill("dog")
    rev, _ = _wait_converged([alice, bob], people["doc"])
    alice.locator("#find-bar .find-replace-all").click()
    rev_after, content = _wait_converged([alice, bob], people["doc"])
    assert rev_after == rev + 1, "one change"
    assert content == [{"insert": "A dog! The dog sat. A dog, a Cat and a catalog.\n"}]
    assert "Replaced 3 of 3." in alice.locator("#find-bar .find-note").inner_text()
    _count_is(alice, "No results")
    alice.keyboard.press("Escape")
    assert alice.evaluate("() => window.collabdocs.quill.hasFocus()"), "the focus is back"
    alice.keyboard.press("Control+z")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == [{"insert": "A cat! The cat sat. A cat, a Cat and a catalog.\n"}]

    # Suggesting: Replace becomes a suggestion (old struck, new inserted).
    alice.keyboard.press("Control+Alt+Shift+X")
    assert alice.evaluate("() => window.collabdocs.modes.mode") == "suggesting"
    alice.keyboard.press("Control+h")
    query.fill("Cat")
    _count_is(alice, "1 of 1")
    alice.locator("#find-bar .find-replacement").fill("Dog")
    alice.locator("#find-bar .find-replace").click()
    _, content = _wait_converged([alice, bob], people["doc"])
    assert _marks(content) == [("Cat", "suggest-delete"), ("Dog", "suggest-insert")], content
    # The struck "Cat" stays, followed by "Dog" (no longer a whole word);
    # found again, it is never replaced twice.
    _count_is(alice, "No results")
    alice.locator("#find-bar .find-whole-word input").uncheck()
    _count_is(alice, "1 of 1")
    alice.locator("#find-bar .find-replace-all").click()
    _, again = _wait_converged([alice, bob], people["doc"])
    assert again == content
    assert not alice.errors and not bob.errors


def test_viewer_finds_but_cannot_replace_and_large_documents_stay_responsive(
    open_page: Callable[..., Any],  # noqa: F811  (the imported fixture)
    people: dict[str, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """Carol (viewer) finds with the toolbar button; replace is refused and says why."""
    alice = open_page("alice")
    _insert(alice, 0, "one two one")
    _wait_converged([alice], people["doc"])
    carol = open_page("carol")
    carol.wait_for_function("() => window.collabdocs.quill.getText() === 'one two one\\n'")
    carol.locator(".find-open").click()  # no keyboard on a phone
    carol.locator("#find-bar .find-query").fill("one")
    _count_is(carol, "1 of 2")
    carol.locator("#find-bar .find-toggle").click()
    assert carol.locator("#find-bar .find-replace-all").is_disabled()
    assert carol.locator("#find-bar .find-replacement").is_disabled()
    assert "replace does not" in carol.locator("#find-bar .find-note").inner_text()
    # Called anyway (a stale button, a script): nothing changes, a notice says why.
    carol.evaluate("() => window.collabdocs.find.replaceAll()")
    assert carol.evaluate(TEXT) == "one two one\n"
    rev, content = _wait_converged([alice, carol], people["doc"])
    assert content == [{"insert": "one two one\n"}]

    # A megabyte in 2,000 paragraphs (on this page only: "silent" is never
    # sent): a one-letter search answers at once, counts up to its bound and
    # draws at most 1,000 matches.
    carol.evaluate(
        """() => window.collabdocs.quill.setContents(
            [{insert: ("every tree here sees three geese ".repeat(15) + "\\n").repeat(2000)}],
            "silent")"""
    )
    took = carol.evaluate(
        """() => {
          const query = document.querySelector('#find-bar .find-query');
          const began = performance.now();
          query.value = 'e';
          query.dispatchEvent(new Event('input'));
          return performance.now() - began;
        }"""
    )
    _count_is(carol, "1 of 100,000+")
    assert took < 2000, f"the search held the page for {took:.0f} ms"
    print(f"find: a one-letter search of 1 MB took {took:.0f} ms")
    assert carol.evaluate(DRAWN, "cd-find").count("e") == 1000
    assert not carol.errors
    assert rev == _wait_converged([alice], people["doc"])[0], "nothing was sent"
