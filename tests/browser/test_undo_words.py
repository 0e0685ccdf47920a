"""Undo by word or pause in Chromium (static/src/editor/undo.js).

Real key presses into the built editor: one Ctrl+Z takes back one word with
the space after it, a run of Backspaces, a format, a paste; a word typed slower
than Quill's old one-second window is still one step (that window cut it
in half). Each undo is the person's own change: it reaches the server and
the stored content follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (  # noqa: F401  (fixtures)
    _wait_converged,
    open_page,
    people,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

TEXT = "() => window.collabdocs.quill.getText()"
PASTE = """(text) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  window.collabdocs.quill.root.querySelector("p").dispatchEvent(paste);
}"""


def _undo_to(page: Any, text: str, keys: str = "Control+z") -> None:
    """Press ``keys`` once and wait for the editor to hold ``text``."""
    page.keyboard.press(keys)
    page.wait_for_function(f"(t) => ({TEXT})() === t", arg=text, timeout=5_000)


def test_undo_takes_back_a_word_a_deletion_run_or_a_format_at_a_time(
    open_page: Callable[..., Any],  # noqa: F811  (the imported fixture)
    people: dict[str, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """hello world again: undo leaves "hello world ", then "hello "; deletes, format, paste."""
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.type("hello world again")
    assert alice.evaluate(TEXT) == "hello world again\n"
    _undo_to(alice, "hello world \n")
    _undo_to(alice, "hello \n")
    _undo_to(alice, "hello world \n", "Control+Shift+z")
    _, content = _wait_converged([alice], people["doc"])
    assert content == [{"insert": "hello world \n"}], "the undo went to the server"

    # Slower than the old 1 s window from the first key: still one step.
    alice.keyboard.type("antidisestablishment", delay=80)
    alice.keyboard.press("Backspace")
    alice.keyboard.press("Backspace")
    alice.keyboard.press("Backspace")
    assert alice.evaluate(TEXT) == "hello world antidisestablishm\n"
    _undo_to(alice, "hello world antidisestablishment\n")  # the three Backspaces at once
    _undo_to(alice, "hello world \n")  # the whole slow word

    # A format is a step of its own: undo removes the bold, not the text.
    alice.keyboard.type("bold")
    alice.keyboard.press("Shift+Home")
    alice.keyboard.press("Control+b")
    _, content = _wait_converged([alice], people["doc"])
    bold = {"insert": "hello world bold", "attributes": {"bold": True}}
    assert content == [bold, {"insert": "\n"}]
    alice.keyboard.press("Control+z")
    alice.wait_for_function(
        "() => !window.collabdocs.quill.getContents().ops.some((op) => op.attributes)",
        timeout=5_000,
    )
    assert alice.evaluate(TEXT) == "hello world bold\n"
    _, content = _wait_converged([alice], people["doc"])
    assert content == [{"insert": "hello world bold\n"}]

    # A paste is a step of its own, even right inside a word being typed.
    alice.keyboard.press("End")
    alice.keyboard.type(" one")
    alice.evaluate(PASTE, "two three")
    alice.keyboard.type("four")
    assert alice.evaluate(TEXT) == "hello world bold onetwo threefour\n"
    _undo_to(alice, "hello world bold onetwo three\n")
    _undo_to(alice, "hello world bold one\n")
    _, content = _wait_converged([alice], people["doc"])
    assert content == [{"insert": "hello world bold one\n"}]
    assert not alice.errors
