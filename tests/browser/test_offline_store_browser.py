"""Unsynced changes that survive a closed page (issue 16; docs/offline.md).

Debian's Chromium drives the built editor against a real daphne. Pages of
one browser context share its IndexedDB and its Web Locks, as the tabs of
one browser profile do; a page is closed with ``page.close()`` and the
next one opened in the same context. Offline is the context's
``set_offline(True)`` plus closing the socket (an open WebSocket survives
``set_offline``), or, for one page while its sibling stays online, the
connection told it is offline and its socket closed. What reached the
server is read from the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

SYNCED = """() => {
  const c = window.collabdocs;
  return !!c && c.connection.status === "connected" && c.client.isSynchronized;
}"""
TEXT = "() => window.collabdocs.quill.getText()"
CLIENT_ID = "() => window.collabdocs.client.clientId"
CLOSE_SOCKET = "() => window.collabdocs.connection.ws && window.collabdocs.connection.ws.close()"
# The unsaved-text box of the stop notice shows ``text``.
OFFERED = """(text) => [...document.querySelectorAll("textarea")].some((t) => t.value === text)"""
# Drop this page's socket and keep it down, while the context stays online.
GO_DOWN = """() => {
  const c = window.collabdocs.connection;
  c.setOnline(false);
  if (c.ws) c.ws.close();
}"""
STORED = """async () => {
  await window.collabdocs.offline.flush();
  return window.collabdocs.client.pendingEdits;
}"""
# Every text the connection status shows, from the page's start.
WATCH_STATUS = """
window.statusSeen = [];
new MutationObserver(() => {
  const text = document.getElementById("connection-status")?.textContent || "";
  if (text && window.statusSeen.at(-1) !== text) window.statusSeen.push(text);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
# The queue records of this context, as (user, client, text) triples.
RECORDS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("collabdocs-offline");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("queues")) { db.close(); resolve([]); return; }
    const all = db.transaction("queues").objectStore("queues").getAll();
    all.onsuccess = () => {
      db.close();
      resolve(all.result.map((r) => [r.user, r.client,
        [...r.inflight.ops, ...(r.buffer ? r.buffer.ops : [])]
          .map((op) => typeof op.insert === "string" ? op.insert : "").join("")]));
    };
  };
})"""


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=f"pw-{username}-98765")


def _session_key(user: Any) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _stored_text(document: Any) -> str:
    from documents.content import document_state

    document.refresh_from_db()
    ops = document_state(document).content
    return "".join(op["insert"] for op in ops if isinstance(op.get("insert"), str))


def _wait_stored(document: Any, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (stored := _stored_text(document)) != text:
        if time.monotonic() > deadline:
            raise AssertionError(f"stored {stored!r}, expected {text!r}")
        time.sleep(0.1)


@pytest.fixture
def setting(live_daphne: Any, chromium_browser: Any) -> Iterator[dict[str, Any]]:
    """Alice owns a document Bob may edit; one browser context to share."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice, bob = _user("alice"), _user("bob")
    document = services.document_create(owner=alice, title="Notes")
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, bob, document)
    contexts: list[Any] = []

    def context(user: Any) -> Any:
        made = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
        sign_in(made, user)
        contexts.append(made)
        return made

    def sign_in(made: Any, user: Any) -> None:
        made.clear_cookies()
        made.add_cookies(
            [{"name": "sessionid", "value": _session_key(user), "url": live_daphne.url}]
        )

    def open_page(made: Any, *, synced: bool = True) -> Any:
        page = made.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(f"{live_daphne.url}/d/{document.public_id}/")
        if synced:
            page.wait_for_function(SYNCED, timeout=20_000)
        return page

    yield {
        "alice": alice,
        "bob": bob,
        "doc": document,
        "context": context,
        "sign_in": sign_in,
        "open": open_page,
    }
    for made in contexts:
        made.close()


def test_typed_offline_then_closed_comes_back_for_the_same_user_only(
    setting: dict[str, Any],
) -> None:
    """Type offline, close the page: the next page of the same user shows
    the text as restored, moved over what changed meanwhile, and saves it;
    another user signed in to the same browser meanwhile sees nothing of it,
    and signing out kept it."""
    document, context = setting["doc"], setting["context"](setting["alice"])
    page = setting["open"](context)
    page.click(".ql-editor")
    page.keyboard.type("online ")
    _wait_stored(document, "online \n")
    page.wait_for_function(SYNCED, timeout=10_000)  # every ack in, too
    context.set_offline(True)
    page.evaluate(CLOSE_SOCKET)
    page.keyboard.type("typed offline")
    assert page.evaluate(STORED) >= 1
    alice_id, client_id = setting["alice"].pk, page.evaluate(CLIENT_ID)
    assert page.evaluate(RECORDS) == [[alice_id, client_id, "typed offline"]]
    page.close()
    context.set_offline(False)
    assert _stored_text(document) == "online \n", "nothing was sent before the page closed"

    # Bob signs in to the same browser: nothing of Alice's comes to him.
    setting["sign_in"](context, setting["bob"])
    other = setting["open"](context)
    assert other.evaluate(TEXT) == "online \n"
    assert other.evaluate("() => window.collabdocs.offline.outcome()") == "none"
    assert [r[0] for r in other.evaluate(RECORDS)] == [setting["alice"].pk], "kept for Alice"
    # Meanwhile the document moves on: Alice's changes must be moved over it.
    other.click(".ql-editor")
    other.keyboard.press("Control+Home")
    other.keyboard.type("Bob: ")
    _wait_stored(document, "Bob: online \n")
    other.close()

    # Alice again: restored over Bob's edit, shown as unsynced until saved.
    setting["sign_in"](context, setting["alice"])
    context.add_init_script(WATCH_STATUS)
    again = setting["open"](context, synced=False)
    again.get_by_text("came back and will be saved").wait_for(state="visible", timeout=10_000)
    again.wait_for_function(SYNCED, timeout=20_000)
    assert again.evaluate(TEXT) == "Bob: online typed offline\n"
    assert again.evaluate("() => window.collabdocs.offline.outcome()") == "restored"
    shown = again.evaluate("() => window.statusSeen")
    assert any("unsynced change" in s and "(restored)" in s for s in shown), shown
    _wait_stored(document, "Bob: online typed offline\n")
    again.evaluate("() => window.collabdocs.offline.flush()")
    assert again.evaluate(RECORDS) == [], "acked ops leave the store"
    assert not page.errors and not again.errors and not other.errors


def test_a_lost_ack_is_not_doubled_and_a_live_tab_keeps_its_queue(
    setting: dict[str, Any],
) -> None:
    """An op stored by the server whose ack never reached the closed page is
    acked on restore, not applied twice; a second tab opened while the
    first is alive with unsynced changes leaves them to it."""
    document, context = setting["doc"], setting["context"](setting["alice"])
    page = setting["open"](context)
    page.click(".ql-editor")
    page.evaluate("() => window.collabdocs.connection.pause()")  # acks never handled
    page.keyboard.type("once")
    # "o" went at once and was stored; "nce" waits behind its ack.
    _wait_stored(document, "o\n")
    assert page.evaluate(STORED) == 4, "the stored op is still in flight for the page"
    page.close()
    again = setting["open"](context)
    assert again.evaluate("() => window.collabdocs.offline.outcome()") == "restored"
    assert again.evaluate(TEXT) == "once\n"
    _wait_stored(document, "once\n")
    assert again.evaluate(TEXT) == "once\n", "the stored op was acked, not applied twice"
    again.wait_for_function(SYNCED, timeout=10_000)

    # The first tab goes down with unsynced text; a second tab opens.
    again.click(".ql-editor")
    again.keyboard.press("Control+End")
    again.evaluate(GO_DOWN)
    again.keyboard.type(" more")
    assert again.evaluate(STORED) >= 1
    second = setting["open"](context)
    assert second.evaluate("() => window.collabdocs.offline.outcome()") == "none"
    assert second.evaluate(TEXT) == "once\n"
    mine = again.evaluate(CLIENT_ID)
    assert [r[1:] for r in second.evaluate(RECORDS)] == [[mine, " more"]]
    again.evaluate("() => window.collabdocs.connection.setOnline(true)")
    again.wait_for_function(SYNCED, timeout=20_000)
    second.wait_for_function(
        "() => window.collabdocs.quill.getText() === 'once more\\n'", timeout=20_000
    )
    _wait_stored(document, "once more\n")
    assert not again.errors and not second.errors


def test_refused_access_drops_the_stored_queue(setting: dict[str, Any]) -> None:
    """Bob's unsynced text is offered to copy once his access is revoked,
    and the queue is dropped: it never syncs on a later visit."""
    document = setting["doc"]
    owner = setting["open"](setting["context"](setting["alice"]))
    bob = setting["open"](setting["context"](setting["bob"]))
    bob.click(".ql-editor")
    bob.evaluate(GO_DOWN)
    bob.keyboard.type("never saved")
    assert bob.evaluate(STORED) >= 1
    assert len(bob.evaluate(RECORDS)) == 1
    answer = owner.evaluate(
        """async (body) => {
            const token = (document.cookie.match(/(?:^|;\\s*)csrftoken=([^;]+)/) || [])[1] || "";
            const response = await fetch(`/api/docs/${body.doc}/share/revoke`, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify({user: body.user})});
            return response.status;
        }""",
        {"doc": str(document.public_id), "user": setting["bob"].pk},
    )
    assert answer == 200
    bob.evaluate("() => window.collabdocs.connection.setOnline(true)")
    bob.wait_for_function(
        "() => ['forbidden', 'gone'].includes(window.collabdocs.connection.stopReason)",
        timeout=20_000,
    )
    bob.wait_for_function(OFFERED, arg="never saved", timeout=10_000)
    bob.wait_for_function(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("collabdocs-offline");
            open.onsuccess = () => {
                const all = open.result.transaction("queues").objectStore("queues").count();
                all.onsuccess = () => { open.result.close(); resolve(all.result === 0); };
            };
        })""",
        timeout=10_000,
    )
    assert _stored_text(document) == "\n"
    assert not bob.errors
