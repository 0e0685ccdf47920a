"""The keyboard shortcut help in Chromium (static/src/editor/shortcuts.js).

Ctrl+/ (Cmd+/ on a Mac) and the "?" button open a modal dialog of the
editor's shortcuts by group. Failure modes: the focus escaping the dialog,
Escape leaving it open or dropping the focus on the page, a Mac shown
"Ctrl", a shortcut listed that the platform does not have (Ctrl+Y outside
Windows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (  # noqa: F401  (fixtures)
    SYNCED,
    _person_page,
    open_page,
    people,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

GROUPS = [
    "Text formatting",
    "Paragraphs",
    "Editing",
    "Find and replace",
    "Review modes",
    "Comments",
    "History",
    "Help",
]
KEYS_OF = """(does) => {
  const term = [...document.querySelectorAll('#shortcuts-dialog dt')]
    .find((dt) => dt.textContent === does);
  if (!term) return null;
  return [...term.nextElementSibling.querySelectorAll('kbd')].map((k) => k.textContent);
}"""
FOCUS_INSIDE = "() => document.getElementById('shortcuts-dialog').contains(document.activeElement)"
OPEN = "() => document.getElementById('shortcuts-dialog').open"


def test_shortcut_help_opens_by_key_or_button_keeps_focus_and_speaks_mac(
    open_page: Callable[..., Any],  # noqa: F811  (the imported fixture)
    people: dict[str, Any],  # noqa: F811  (the imported fixture)
    chromium_browser: Any,
) -> None:
    """Ctrl+/ lists the groups; Tab stays inside; Escape gives the editor back; ⌘ on a Mac."""
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.press("Control+/")
    alice.wait_for_function(OPEN, timeout=5_000)
    assert alice.locator("#shortcuts-dialog h3").all_inner_texts() == GROUPS
    assert alice.evaluate(KEYS_OF, "Bold") == ["Ctrl+B"]
    assert alice.evaluate(KEYS_OF, "Suggesting") == ["Ctrl+Alt+Shift+X"]
    assert alice.evaluate(KEYS_OF, "Find and replace") == ["Ctrl+H"]
    assert alice.evaluate(KEYS_OF, "Redo") == ["Ctrl+Shift+Z"], "Ctrl+Y is Windows only"
    assert alice.evaluate(KEYS_OF, "Show these shortcuts") == ["Ctrl+/"]
    assert alice.evaluate(FOCUS_INSIDE)
    for key in ("Tab", "Tab", "Shift+Tab"):
        alice.keyboard.press(key)
        assert alice.evaluate(FOCUS_INSIDE), f"the focus left the dialog after {key}"
    alice.keyboard.press("Escape")
    alice.wait_for_function(f"() => !({OPEN})()", timeout=5_000)
    assert alice.evaluate("() => window.collabdocs.quill.hasFocus()")
    alice.keyboard.type("still typing")
    assert alice.evaluate("() => window.collabdocs.quill.getText()") == "still typing\n"

    # The "?" button (no keyboard needed); Close gives the focus back to it.
    alice.locator(".shortcuts-open").click()
    alice.wait_for_function(OPEN, timeout=5_000)
    alice.locator("#shortcuts-dialog .shortcuts-close").click()
    alice.wait_for_function(f"() => !({OPEN})()", timeout=5_000)
    assert alice.evaluate("() => document.activeElement.classList.contains('shortcuts-open')")
    assert not alice.errors

    # A Mac: Cmd+/ opens it, and the keys are written the Mac's way.
    mac_platform = "Object.defineProperty(Navigator.prototype, 'platform', {get: () => 'MacIntel'})"
    context, mac = _person_page(
        chromium_browser, people["bob"], people["server"].url, init_script=mac_platform
    )
    try:
        mac.goto(f"{people['server'].url}/d/{people['doc'].public_id}/")
        mac.wait_for_function(SYNCED, timeout=30_000)
        mac.click(".ql-editor")
        mac.keyboard.press("Meta+/")
        mac.wait_for_function(OPEN, timeout=5_000)
        assert mac.evaluate(KEYS_OF, "Bold") == ["⌘B"]
        assert mac.evaluate(KEYS_OF, "Suggesting") == ["⌥⇧⌘X"]
        assert mac.evaluate(KEYS_OF, "Find and replace") == ["⇧⌘H"]
        assert mac.locator(".shortcuts-open").get_attribute("title") == "Keyboard shortcuts (⌘/)"
        assert not mac.errors
    finally:
        context.close()
