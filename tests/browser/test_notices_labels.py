"""Notices in view, an honest status, and labels that follow live changes.

Issue 16 (slice A), in Chromium against a real daphne:

* labels: with the owner's, an editor's and a link editor's pages open,
  the owner makes the editor a commenter (live), then a viewer while the
  editor's socket is down (the reconnect asks), the link editor types, the owner
  transfers ownership, and the new owner turns the link off in the share
  dialog. Each other page's role pill, owner name, owner-only footer and
  "edited … by …" follow without a reload; the dialog reports who the link
  change cut off; the link editor, who typed while offline, is told their
  access is gone, offered the text, and the status never claims the text
  is still to be synced.
* a too-large paste (~600 KB of text, over the server's 512 KB frame
  limit): the text is taken out, a notice with the text to copy is in the
  window after scrolling to the bottom (and fits a 390 px phone), and the
  status says the change was not saved until the notice is dismissed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from documents.links import LINK_OFF_MESSAGE
from tests.browser.test_coediting_browser import SYNCED, _person_page, _post_from, _stored, _user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

WAIT_MS = 15_000
#: About 600 KB of plain text: over MAX_FRAME_BYTES (512 KB) in one change.
BIG_LINE = "A pasted line of a long report that will not fit in one change. " * 4 + "\n"
BIG_TEXT = BIG_LINE * (600_000 // len(BIG_LINE))

PASTE_TEXT = """(text) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const quill = window.collabdocs.quill;
  quill.focus();
  quill.setSelection(quill.getLength() - 1, 0, "user");
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  quill.root.dispatchEvent(paste);
}"""


@pytest.fixture
def people(live_daphne: Any) -> dict[str, Any]:
    """Alice owns a document shared with Bob as editor; its link lets anyone edit."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.models import LinkMode
    from documents.roles import Role, perms_for

    alice, bob, carol = _user("alice", "Alice"), _user("bob", "Bob"), _user("carol", "Carol")
    document = services.document_create(owner=alice, title="Labels")
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, bob, document)
    document.link_mode = LinkMode.EDIT
    document.save(update_fields=["link_mode"])
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "doc": document,
        "server": live_daphne,
    }


@pytest.fixture
def open_page(chromium_browser: Any, people: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name, query="")``: that person's connected page."""
    contexts: list[Any] = []
    server = people["server"]

    def open_(name: str, query: str = "", viewport: tuple[int, int] = (1280, 800)) -> Any:
        context, page = _person_page(chromium_browser, people[name], server.url, viewport=viewport)
        contexts.append(context)
        page.goto(f"{server.url}/d/{people['doc'].public_id}/{query}")
        try:
            page.wait_for_function(SYNCED, timeout=30_000)
        except Exception as exc:
            raise AssertionError(
                f"{name}'s page did not connect: {page.errors}\n{server.log()[-3000:]}"
            ) from exc
        return page

    yield open_
    for context in contexts:
        context.close()


def _shot(page: Any, name: str) -> None:
    """Save a screenshot to ``$COLLABDOCS_SCREENSHOTS`` when set (to look at by eye)."""
    folder = os.environ.get("COLLABDOCS_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"notices-{name}.png"))


def _text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def _wait_text(page: Any, selector: str, expected: str) -> None:
    """Wait until ``selector``'s text is ``expected``; say what it was if not."""
    try:
        page.wait_for_function(
            "([sel, want]) => document.querySelector(sel)?.textContent.trim() === want",
            arg=[selector, expected],
            timeout=WAIT_MS,
        )
    except Exception as exc:
        raise AssertionError(f"{selector}: {_text(page, selector)!r}, not {expected!r}") from exc


def _in_window(page: Any, selector: str) -> dict[str, float]:
    """Return the box of ``selector`` after checking it lies inside the window."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None, f"{selector} is not rendered"
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (box, size)
    return box


def test_labels_follow_role_changes_a_transfer_and_the_link_turned_off(
    open_page: Callable[..., Any], people: dict[str, Any]
) -> None:
    """Every stale label of the issue, checked on the other page after the change."""
    doc = people["doc"]
    alice, bob = open_page("alice"), open_page("bob")
    carol = open_page("carol", f"?key={doc.link_token}")
    assert _text(alice, "#role-pill") == "Owner"
    assert _text(bob, "#role-pill") == "Editor"
    assert _text(carol, "#role-pill") == "Editor (via link)"
    assert bob.locator("#owner-actions").is_hidden()

    # A downgrade: Bob's pill says what he may do now.
    answer = _post_from(
        alice,
        f"/api/docs/{doc.public_id}/share/role",
        {"user": people["bob"].pk, "role": "commenter", "can_share": False},
    )
    assert answer["status"] == 200, answer
    _wait_text(bob, "#role-pill", "Commenter")

    # A change while Bob's socket is down comes with no frame: the reconnect asks.
    bob.context.set_offline(True)
    bob.evaluate("() => window.collabdocs.connection.ws?.close()")
    answer = _post_from(
        alice,
        f"/api/docs/{doc.public_id}/share/role",
        {"user": people["bob"].pk, "role": "viewer", "can_share": False},
    )
    assert answer["status"] == 200, answer
    hellos = bob.evaluate("() => window.collabdocs.connection.hellos")
    bob.context.set_offline(False)
    bob.wait_for_function(f"() => window.collabdocs.connection.hellos > {hellos}", timeout=WAIT_MS)
    _wait_text(bob, "#role-pill", "Viewer")

    # Carol types: the others' "edited … by …" names her, just now.
    carol.click(".ql-editor")
    carol.keyboard.type("Hello")
    alice.wait_for_function(
        "() => /by Carol$/.test(document.getElementById('doc-edited').textContent.trim())",
        timeout=WAIT_MS,
    )
    assert _text(alice, "#doc-edited").startswith("edited just now")

    # A transfer: Alice stops being the owner, Bob becomes it, both live.
    answer = _post_from(alice, f"/api/docs/{doc.public_id}/share/transfer", {"identifier": "bob"})
    assert answer["status"] == 200, answer
    _wait_text(alice, "#role-pill", "Editor")
    _wait_text(alice, "#doc-owner", "Bob")
    alice.locator("#owner-actions").wait_for(state="hidden", timeout=WAIT_MS)
    _wait_text(bob, "#role-pill", "Owner")
    _wait_text(bob, "#doc-owner", "you")
    bob.locator("#owner-actions").wait_for(state="visible", timeout=WAIT_MS)
    _wait_text(carol, "#doc-owner", "Bob")

    # Carol keeps typing offline; Bob turns the link off in the dialog.
    carol.context.set_offline(True)
    carol.evaluate(
        "() => window.collabdocs.connection.ws && window.collabdocs.connection.ws.close()"
    )
    carol.keyboard.type(" lost words")
    carol.wait_for_function(
        "() => document.getElementById('connection-status').dataset.pending !== '0'",
        timeout=WAIT_MS,
    )
    bob.click(".doc-actions .share-button")
    dialog = bob.locator("#share-dialog")
    dialog.locator("[data-share-field=link-mode]").wait_for(state="visible", timeout=WAIT_MS)
    dialog.locator("[data-share-field=link-mode]").select_option("off")
    _wait_text(bob, "#share-dialog [data-share-field=status]", LINK_OFF_MESSAGE)

    # Back online, Carol's page learns the link is dead: no "unsynced" promise.
    carol.context.set_offline(False)
    carol.wait_for_function(
        "() => window.collabdocs.connection.stopReason !== null", timeout=WAIT_MS
    )
    status = _text(carol, "#connection-status")
    assert re.fullmatch(r"Document unavailable · \d+ changes? not saved", status), status
    assert "unsynced" not in status
    _wait_text(carol, "#role-pill", "No access")
    notice = carol.locator(".cd-notice[data-kind=gone]")
    assert notice.get_attribute("role") == "alert"
    assert "lost words" in notice.locator("textarea.cd-unsaved").input_value()
    _in_window(carol, ".cd-notice[data-kind=gone]")
    _shot(carol, "link-off")
    _shot(alice, "transferred")

    # The footer that appeared on Bob's page works; Django's message is a toast.
    bob.locator("#share-dialog [data-dialog-close]").first.click()
    bob.locator("#owner-actions button[type=submit]").click()
    toast = bob.locator("#cd-toasts .cd-toast", has_text="was moved to the trash")
    toast.wait_for(state="visible", timeout=WAIT_MS)
    assert toast.evaluate("(box) => getComputedStyle(box.parentElement).position") == "fixed"
    _in_window(bob, "#cd-toasts .cd-toast")
    _shot(bob, "list-message")
    toast.locator(".cd-notice-close").click()
    toast.wait_for(state="detached", timeout=WAIT_MS)


def test_a_too_large_paste_is_told_in_view_and_the_status_stays_honest(
    open_page: Callable[..., Any], people: dict[str, Any]
) -> None:
    """~600 KB pasted at the end of a long document: notice in the window, honest status."""
    alice = open_page("alice")
    alice.evaluate(
        "(text) => window.collabdocs.quill.insertText(0, text, 'user')",
        "A line of the report.\n" * 200,
    )
    alice.wait_for_function(SYNCED, timeout=WAIT_MS)
    alice.evaluate(PASTE_TEXT, BIG_TEXT)
    notice = alice.locator(".cd-notice[data-kind=unsaved]")
    notice.wait_for(state="attached", timeout=60_000)
    alice.evaluate("() => window.scrollTo(0, document.scrollingElement.scrollHeight)")
    assert alice.evaluate("() => document.scrollingElement.scrollTop") > 0, "the page scrolls"
    _in_window(alice, ".cd-notice[data-kind=unsaved]")
    assert notice.get_attribute("role") == "alert"
    assert "too large to save" in notice.inner_text()
    assert notice.locator("textarea.cd-unsaved").input_value().startswith(BIG_LINE.strip())
    alice.wait_for_function(SYNCED, timeout=WAIT_MS)
    assert _text(alice, "#connection-status") == "Connected · Last change not saved"
    assert "pasted line" not in "".join(op["insert"] for op in _stored(people["doc"])[1])
    _shot(alice, "too-large-paste")

    # On a 390 px phone the notice fits the width.
    alice.set_viewport_size({"width": 390, "height": 844})
    _in_window(alice, ".cd-notice[data-kind=unsaved]")
    _shot(alice, "too-large-paste-phone")

    notice.locator(".cd-notice-close").click()
    _wait_text(alice, "#connection-status", "Connected · All changes saved")


def test_info_toasts_fade_but_not_while_hovered_or_focused_and_escape_dismisses(
    open_page: Callable[..., Any],
) -> None:
    """Info goes by itself unless pointed at or focused; warnings stay; Escape closes."""
    alice = open_page("alice")
    alice.evaluate("() => { document.getElementById('cd-toasts').dataset.fadeMs = '400'; }")
    # Shown and entered (pointer, or focus) in one task: no fade can come first.
    show = """([kind, tone, how]) => {
        const box = window.collabdocs.notices.show({kind, message: kind, tone});
        if (how === "hover") box.dispatchEvent(new MouseEvent("mouseenter"));
        if (how === "focus") box.querySelector(".cd-notice-close").focus();
    }"""
    alice.evaluate(show, ["pointed", "info", "hover"])
    alice.evaluate(show, ["focused", "info", "focus"])
    alice.evaluate(show, ["trouble", "warning", ""])
    alice.wait_for_timeout(1000)  # over twice the fade
    for kind in ("pointed", "focused", "trouble"):
        assert alice.locator(f".cd-notice[data-kind={kind}]").count() == 1, kind
    alice.evaluate(
        "() => document.querySelector('[data-kind=pointed]')"
        ".dispatchEvent(new MouseEvent('mouseleave'))"
    )
    alice.locator(".cd-notice[data-kind=pointed]").wait_for(state="detached", timeout=WAIT_MS)
    alice.locator("#doc-title").focus()  # focus leaves the toast
    alice.locator(".cd-notice[data-kind=focused]").wait_for(state="detached", timeout=WAIT_MS)
    trouble = alice.locator(".cd-notice[data-kind=trouble]")
    assert trouble.count() == 1 and trouble.get_attribute("role") == "status"
    trouble.locator(".cd-notice-close").focus()
    alice.keyboard.press("Escape")
    trouble.wait_for(state="detached", timeout=WAIT_MS)
