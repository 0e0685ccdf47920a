"""Real-browser co-editing: Debian's Chromium driving the built editor bundle
against a real daphne on the test database.

Each person is a separate browser context signed in with a session cookie
made by Django's SessionStore. The page exposes ``window.collabdocs``
({quill, client, connection}); the tests read the OT client's state from it
and compare every editor with the content stored in the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path("/tmp/collabdocs-browser")

SYNCED = """() => {
  const c = window.collabdocs;
  return !!c && c.connection.status === "connected" && c.client.isSynchronized;
}"""
STATE = """() => {
  const c = window.collabdocs;
  return {status: c.connection.status, state: c.client.stateName, rev: c.client.revision,
          pending: c.client.pendingEdits, enabled: c.quill.isEnabled(),
          contents: c.quill.getContents().ops, text: c.quill.getText()};
}"""


def _user(username: str, first_name: str = "") -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password=f"pw-{username}-98765", first_name=first_name
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


def _person_page(
    browser: Any,
    user: Any,
    server_url: str,
    *,
    init_script: str | None = None,
    viewport: tuple[int, int] = (1280, 900),
) -> tuple[Any, Any]:
    """Return ``(context, page)``: a new browser context signed in as ``user``.

    The page records its uncaught errors in ``page.errors`` and its console
    lines in ``page.console``; ``init_script`` runs before any page script.
    """
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.add_cookies([{"name": "sessionid", "value": _session_key(user), "url": server_url}])
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    page.errors = []
    page.console = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.console.append(msg.text))
    return context, page


def _stored(document: Any) -> tuple[int, list[dict]]:
    from documents.content import document_state

    document.refresh_from_db()
    state = document_state(document)
    return state.revision, state.content


@pytest.fixture
def people(live_daphne: Any) -> dict[str, Any]:
    """Alice owns a document, Bob may edit it, Carol may only view it."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    document = services.document_create(owner=alice, title="Plans")
    # Grant directly: services.share_grant would also notify open sockets
    # (there are none yet) through async_to_sync, which cannot run in this
    # thread while Playwright's event loop does.
    for user, role in ((bob, Role.EDITOR), (carol, Role.VIEWER)):
        for perm in perms_for(role):
            assign_perm(perm, user, document)
    return {"alice": alice, "bob": bob, "carol": carol, "doc": document, "server": live_daphne}


@pytest.fixture
def open_page(chromium_browser: Any, people: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name)``: that person's page on the document, connected."""
    contexts: list[Any] = []
    server = people["server"]
    url = f"{server.url}/d/{people['doc'].public_id}/"

    def open_(name: str, *, wait: bool = True) -> Any:
        context, page = _person_page(chromium_browser, people[name], server.url)
        contexts.append(context)
        page.goto(url)
        if wait:
            try:
                page.wait_for_function(SYNCED, timeout=30_000)
            except Exception as exc:
                state = page.evaluate("""() => window.collabdocs ? {
                    status: window.collabdocs.connection.status,
                    stop: window.collabdocs.connection.stopReason,
                    url: window.collabdocs.connection.url,
                    state: window.collabdocs.client.stateName} : null""")
                raise AssertionError(
                    f"{name}'s page did not connect: {state}\nerrors: {page.errors}\n"
                    f"console: {page.console[-20:]}\nserver log:\n{server.log()[-4000:]}"
                ) from exc
        return page

    yield open_
    for context in contexts:
        context.close()


def _state(page: Any) -> dict[str, Any]:
    return page.evaluate(STATE)


def _wait_converged(pages: list[Any], document: Any, timeout: float = 30) -> tuple[int, list[dict]]:
    """Wait until every page is synchronized at the stored revision; return it."""
    deadline = time.monotonic() + timeout
    while True:
        states = [_state(p) for p in pages]
        rev, content = _stored(document)
        if all(
            s["status"] == "connected" and s["pending"] == 0 and s["rev"] == rev for s in states
        ):
            return rev, content
        if time.monotonic() > deadline:
            raise AssertionError(f"no convergence: stored r{rev}, pages {states}")
        time.sleep(0.2)


def _screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_two_people_typing_at_once_converge(open_page: Callable[..., Any], people: dict) -> None:
    """Alice and Bob type, format and delete at once and end identical."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    bob.click(".ql-editor")
    a_words = ["Alice ", "writes ", "here", "\n", "more ", "😀 ", "text"]
    b_words = ["Bob ", "types ", "too", "\n", "with ", "emoji 🙂 ", "fast"]
    for step, (a, b) in enumerate(zip(a_words, b_words, strict=True)):
        # Neither waits for the other: the keystrokes cross on the wire.
        for page, word in ((alice, a), (bob, b)):
            if word == "\n":
                page.keyboard.press("Enter")
            elif any(ord(ch) > 0xFFFF for ch in word):
                page.keyboard.insert_text(word)
            else:
                page.keyboard.type(word, delay=5)
        if step == 2:
            alice.keyboard.press("Shift+Home")
            alice.keyboard.press("Control+b")
            alice.keyboard.press("End")
            bob.keyboard.press("Backspace")
            bob.keyboard.press("Backspace")
    rev, content = _wait_converged([alice, bob], people["doc"])
    a_state, b_state = _state(alice), _state(bob)
    assert a_state["contents"] == b_state["contents"] == content
    text = a_state["text"]
    for word in ("Alice", "writes", "more", "😀", "Bob", "types", "emoji", "🙂", "fast"):
        assert word in text
    assert "too" not in text and "types t\n" in text, "Bob's two backspaces were applied"
    assert any(op.get("attributes", {}).get("bold") for op in content), "Alice's bold was kept"
    assert rev >= 10
    _screenshot(bob, "converged-bob")
    assert not alice.errors and not bob.errors


def test_remote_cursor_shows_the_other_persons_name(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Bob sees Alice's caret labelled with her name and colour, and her in the list."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("Hello from Alice")
    _wait_converged([alice, bob], people["doc"])
    alice.keyboard.press("Home")
    alice.keyboard.press("ArrowRight")
    name = bob.locator(".ql-cursor .ql-cursor-name", has_text="alice")
    name.wait_for(state="attached", timeout=10_000)
    caret = bob.locator(".ql-cursor .ql-cursor-caret-container").first
    caret.wait_for(state="visible", timeout=10_000)
    flag = bob.locator(".ql-cursor .ql-cursor-flag").first
    flag.wait_for(state="visible", timeout=5_000)
    _screenshot(bob, "remote-cursor")
    people_list = bob.locator("#people")
    assert "alice" in people_list.inner_text() or "alice" in people_list.text_content()
    assert "bob (you)" in people_list.text_content()
    # The caret reaches the spot after the first character of Alice's line
    # (presence is throttled, so the Home position may show first).
    bob.wait_for_function(
        """() => window.collabdocs.connection.peers
        .localRanges(window.collabdocs.client)
        .some(p => p.user.name === "alice" && p.range
                   && p.range.index === 1 && p.range.length === 0)""",
        timeout=5_000,
    )
    # ...and is drawn there: right after the "H". quill-cursors redraws on
    # its own schedule, so wait (bounded) for the caret to settle there.
    caret_at_h = """() => {
        const q = window.collabdocs.quill;
        const el = document.querySelector(".ql-cursor-caret");
        if (!el) return false;
        const caret = el.getBoundingClientRect();
        const expected = q.container.getBoundingClientRect().left + q.getBounds(1).left;
        return Math.abs(expected - (caret.left + caret.width / 2)) <= 3;
    }"""
    bob.wait_for_function(caret_at_h, timeout=5_000)


def test_reload_shows_the_same_text(open_page: Callable[..., Any], people: dict) -> None:
    """What was typed is there again after reloading the page."""
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.type("Kept across reloads")
    alice.keyboard.press("Enter")
    alice.keyboard.press("Control+i")
    alice.keyboard.type("in italics")
    _, content = _wait_converged([alice], people["doc"])
    before = _state(alice)["contents"]
    assert before == content
    alice.reload()
    # The server-rendered HTML shows the text before the editor connects.
    assert "Kept across reloads" in alice.locator("#editor").inner_text()
    alice.wait_for_function(SYNCED, timeout=20_000)
    assert _state(alice)["contents"] == before


def test_viewer_gets_a_read_only_editor(open_page: Callable[..., Any], people: dict) -> None:
    """Carol sees edits live but cannot type; she has no toolbar."""
    alice, carol = open_page("alice"), open_page("carol")
    state = _state(carol)
    assert state["enabled"] is False
    assert carol.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert carol.locator("#toolbar").is_hidden()
    alice.click(".ql-editor")
    alice.keyboard.type("Only Alice writes")
    _wait_converged([alice, carol], people["doc"])
    carol.click(".ql-editor")
    carol.keyboard.type("Carol tries")
    time.sleep(0.5)
    rev, content = _wait_converged([alice, carol], people["doc"])
    assert "Carol" not in _state(carol)["text"]
    assert _state(carol)["contents"] == content
    _screenshot(carol, "viewer")


def test_dropped_socket_resends_once_and_catches_up(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Typing through a dropped socket is resent with its id and applied once."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("before ")
    _wait_converged([alice, bob], people["doc"])
    # Cut Alice's socket while an op is in flight, and keep typing.
    alice.evaluate("""() => {
        const c = window.collabdocs;
        c.quill.insertText(c.quill.getLength() - 1, "during ", "user");
        c.quill.setSelection(c.quill.getLength() - 1, 0, "user");
        window.sentBeforeDrop = c.client.inflight && c.client.inflight.id;
        c.connection.ws.close();
    }""")
    alice.keyboard.type("after")
    assert alice.evaluate("window.sentBeforeDrop"), "an op was in flight when the socket dropped"
    bob.click(".ql-editor")
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("Bob: ")
    status = alice.locator("#connection-status")
    rev, content = _wait_converged([alice, bob], people["doc"])
    text = _state(alice)["text"]
    assert text.count("during") == 1 and text.count("after") == 1
    assert text.startswith("Bob: before during after")
    assert _state(bob)["contents"] == _state(alice)["contents"] == content
    assert status.get_attribute("data-state") == "connected"
    assert "All changes saved" in status.inner_text()


def test_rename_appears_for_everyone(open_page: Callable[..., Any], people: dict) -> None:
    """A rename in place shows up in the other person's title."""
    alice, bob = open_page("alice"), open_page("bob")
    title = alice.locator("#doc-title")
    title.fill("Quarterly plans")
    title.press("Enter")
    bob.wait_for_function(
        """() => document.getElementById("doc-title").value === "Quarterly plans" """,
        timeout=10_000,
    )
    assert "Quarterly plans" in bob.title()


def _post_from(page: Any, path: str, body: dict) -> dict:
    """POST JSON from ``page`` with its session and CSRF token; return the answer."""
    return page.evaluate(
        """async ([path, body]) => {
            const token = (document.cookie.match(/(?:^|;\\s*)csrftoken=([^;]+)/) || [])[1] || "";
            const response = await fetch(path, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify(body)});
            return {status: response.status, body: await response.text()};
        }""",
        [path, body],
    )


def test_undo_reverts_only_the_persons_own_changes(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Ctrl+Z takes back Alice's typing and leaves Bob's alone."""
    alice, bob = open_page("alice"), open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Bob's line")
    _wait_converged([alice, bob], people["doc"])
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type(" and Alice's words")
    _wait_converged([alice, bob], people["doc"])
    bob.keyboard.press("Control+Home")
    bob.keyboard.type(">> ")
    _wait_converged([alice, bob], people["doc"])
    # Undo goes a word at a time (docs/editing.md): three steps here.
    for _ in range(3):
        alice.keyboard.press("Control+z")
    _wait_converged([alice, bob], people["doc"])
    assert _state(bob)["text"] == ">> Bob's line\n"
    for _ in range(3):
        alice.keyboard.press("Control+Shift+z")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert _state(bob)["text"] == ">> Bob's line and Alice's words\n"
    assert _state(alice)["contents"] == content


def test_offline_counts_unsynced_changes_and_warns_before_leaving(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Offline, the indicator counts unsynced changes and leaving asks first."""
    alice = open_page("alice")
    page_context = alice.context
    alice.click(".ql-editor")
    alice.keyboard.type("online ")
    _wait_converged([alice], people["doc"])
    page_context.set_offline(True)
    alice.evaluate(
        "() => window.collabdocs.connection.ws && window.collabdocs.connection.ws.close()"
    )
    alice.keyboard.type("offline")
    status = alice.locator("#connection-status")
    alice.wait_for_function(
        """() => document.getElementById("connection-status").dataset.state === "offline" """,
        timeout=10_000,
    )
    assert "unsynced change" in status.inner_text()
    assert int(status.get_attribute("data-pending")) >= 1
    prevented = alice.evaluate("""() => {
        const event = new Event("beforeunload", {cancelable: true});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }""")
    assert prevented, "leaving with unsynced changes asks first"
    _screenshot(alice, "offline")
    page_context.set_offline(False)
    _, content = _wait_converged([alice], people["doc"])
    assert _state(alice)["text"] == "online offline\n"
    assert "All changes saved" in status.inner_text()
    assert not alice.evaluate("""() => {
        const event = new Event("beforeunload", {cancelable: true});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }""")


def test_losing_the_edit_right_makes_the_editor_read_only(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Bob made a viewer while connected gets a read-only editor at once."""
    alice, bob = open_page("alice"), open_page("bob")
    assert _state(bob)["enabled"] is True
    answer = _post_from(
        alice,
        f"/api/docs/{people['doc'].public_id}/share/role",
        {"user": people["bob"].pk, "role": "viewer", "can_share": False},
    )
    assert answer["status"] == 200, answer
    bob.wait_for_function("() => !window.collabdocs.quill.isEnabled()", timeout=10_000)
    assert bob.locator("#toolbar").is_hidden()
    assert "only view" in bob.locator(".cd-notices").inner_text()
    alice.click(".ql-editor")
    alice.keyboard.type("still live for Bob")
    _wait_converged([alice, bob], people["doc"])


def test_revoked_share_closes_the_socket_and_says_so(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Bob's share removed while connected: the socket closes and he is told."""
    alice, bob = open_page("alice"), open_page("bob")
    answer = _post_from(
        alice, f"/api/docs/{people['doc'].public_id}/share/revoke", {"user": people["bob"].pk}
    )
    assert answer["status"] == 200, answer
    bob.wait_for_function(
        """() => window.collabdocs.connection.stopReason === "forbidden" """, timeout=10_000
    )
    assert _state(bob)["enabled"] is False
    assert "no longer have access" in bob.locator(".cd-notices").inner_text()
    assert bob.locator("#connection-status").get_attribute("data-state") == "offline"
    _screenshot(bob, "revoked")


def test_reconnects_through_the_route_endpoint(open_page: Callable[..., Any], people: dict) -> None:
    """Sent to the route endpoint (as after 4503), the client goes where it says."""
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.type("routed")
    _wait_converged([alice], people["doc"])
    route = alice.evaluate("""async () => {
        const app = document.getElementById("editor-app");
        return (await (await fetch(app.dataset.routeUrl, {credentials: "same-origin"})).json()).url;
    }""")
    assert route.startswith("ws://127.0.0.1:") and route.endswith(
        f"/ws/docs/{people['doc'].public_id}/"
    )
    hellos = alice.evaluate("window.collabdocs.connection.hellos")
    alice.evaluate("""() => {
        const t = window.collabdocs.connection.transport;
        t._dropSocket();
        t._scheduleRoute(0);
    }""")
    alice.wait_for_function(f"() => window.collabdocs.connection.hellos > {hellos}", timeout=10_000)
    alice.wait_for_function(SYNCED, timeout=10_000)
    url = alice.evaluate("window.collabdocs.connection.url")
    assert url == route
    alice.keyboard.type(" again")
    _wait_converged([alice], people["doc"])
    assert _state(alice)["text"] == "routed again\n"


def test_signed_out_person_is_told_to_sign_in_again(
    open_page: Callable[..., Any], people: dict
) -> None:
    """A reconnect without a valid session stops with a sign-in link and keeps the text."""
    from django.contrib.sessions.models import Session

    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.type("saved")
    _wait_converged([alice], people["doc"])
    Session.objects.all().delete()
    alice.evaluate("""() => {
        const c = window.collabdocs;
        c.connection.ws.close();
        c.quill.insertText(c.quill.getLength() - 1, " unsaved words", "user");
    }""")
    alice.wait_for_function(
        """() => window.collabdocs.connection.stopReason === "signed_out" """, timeout=15_000
    )
    notice = alice.locator('.cd-notice[data-kind="signed_out"]')
    assert "Sign in again" in notice.inner_text()
    assert notice.locator("a").get_attribute("href").startswith("/accounts/login/?next=")
    assert "unsaved words" in notice.locator("textarea").input_value()
    assert _state(alice)["enabled"] is False
    _screenshot(alice, "signed-out")


def test_trashed_document_closes_for_everyone(open_page: Callable[..., Any], people: dict) -> None:
    """Bob is told the document is gone when Alice moves it to the trash."""
    alice, bob = open_page("alice"), open_page("bob")
    answer = _post_from(alice, f"/d/{people['doc'].public_id}/trash/", {})
    assert answer["status"] in (200, 302), answer
    bob.wait_for_function(
        """() => window.collabdocs.connection.stopReason === "gone" """, timeout=10_000
    )
    assert "no longer exists" in bob.locator(".cd-notices").inner_text()
    assert _state(bob)["enabled"] is False


FUZZ = """([seed, ms, drops]) => {
  window.fuzzStop = false;
  window.fuzzDone = new Promise((resolve) => {
    // Random edits through Quill's API as the person (source "user"), every
    // few milliseconds, and now and then a dropped socket, until
    // window.fuzzStop is set or ms have passed.
    let a = seed >>> 0;
    const random = () => {
        a = (a + 0x6d2b79f5) >>> 0; let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = ["a", "b", "é", "😀", " ", "\\n", "word ", "🙂👍"];
    const q = window.collabdocs.quill;
    let edits = 0;
    // Like a caret, never stop between the two halves of a surrogate pair
    // (the protocol refuses such a change).
    const snap = (text, i) => {
        const hi = text.charCodeAt(i - 1), lo = text.charCodeAt(i);
        return i > 0 && hi >= 0xD800 && hi <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF ? i - 1 : i;
    };
    const started = Date.now();
    const timer = setInterval(() => {
        if (window.fuzzStop || Date.now() - started >= ms) {
            clearInterval(timer);
            resolve(edits);
            return;
        }
        const length = q.getLength();
        const text = q.getText();
        const x = random();
        if (x < 0.55 || length < 3) {
            const at = snap(text, Math.floor(random() * length));
            q.insertText(at, pieces[Math.floor(random() * pieces.length)], "user");
        } else if (x < 0.997) {
            const at = snap(text, Math.floor(random() * (length - 1)));
            const end = snap(text, Math.min(length - 1, at + 1 + Math.floor(random() * 6)));
            if (end <= at) return;
            if (x < 0.8) q.deleteText(at, end - at, "user");
            else q.formatText(at, end - at, random() < 0.5 ? "bold" : "italic", random() < 0.7,
                              "user");
        } else if (drops && window.collabdocs.connection.ws) {
            window.collabdocs.connection.ws.close();
        }
        edits += 1;
    }, 8);
}); }"""
#: The random edits run at least this long (so they overlap and sockets
#: drop), and then until this many revisions are stored, for at most
#: FUZZ_MAX_S: a loaded machine takes longer but is not cut short.
FUZZ_MIN_S = 4
FUZZ_REVISIONS = 100
FUZZ_MAX_S = 30


def test_random_concurrent_edits_in_three_tabs_converge(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Three tabs editing at random at once, with dropped sockets, converge exactly."""
    pages = [open_page("alice"), open_page("bob"), open_page("alice")]
    seed = int(time.time()) % 100_000
    print(f"seed {seed}")
    # Start all three, then wait for all: the edits really overlap in time.
    started = time.monotonic()
    for i, page in enumerate(pages):
        page.evaluate(FUZZ, [seed + i, FUZZ_MAX_S * 1000, True])
    stored = 0
    while time.monotonic() - started < FUZZ_MAX_S:
        time.sleep(0.25)
        stored = _stored(people["doc"])[0]
        if stored > FUZZ_REVISIONS and time.monotonic() - started >= FUZZ_MIN_S:
            break
    for page in pages:
        page.evaluate("() => { window.fuzzStop = true; }")
    edits = [p.evaluate("window.fuzzDone") for p in pages]
    print(f"edits per tab {edits}, r{stored} stored after {time.monotonic() - started:.1f} s")
    assert all(n > 50 for n in edits), edits
    rev, content = _wait_converged(pages, people["doc"], timeout=60)
    states = [_state(p) for p in pages]
    assert states[0]["contents"] == states[1]["contents"] == states[2]["contents"] == content, (
        f"seed {seed}"
    )
    assert rev > FUZZ_REVISIONS, f"only r{rev} stored in {FUZZ_MAX_S} s of editing"
    assert content[-1]["insert"].endswith("\n")
    assert not any(p.errors for p in pages)


def test_typing_emoji_next_to_emoji_is_saved(open_page: Callable[..., Any], people: dict) -> None:
    """Emoji typed beside emoji (Quill diffs them into split pairs) are saved."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("ab")
    alice.keyboard.insert_text("🙂👍")
    alice.keyboard.type("c")
    _wait_converged([alice, bob], people["doc"])
    alice.keyboard.press("ArrowLeft")
    alice.keyboard.press("ArrowLeft")  # between 🙂 and 👍
    alice.keyboard.insert_text("🙂👍")
    alice.keyboard.press("Control+b")
    alice.keyboard.insert_text("😀")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert _state(alice)["text"] == "ab🙂🙂👍😀👍c\n"
    assert _state(bob)["contents"] == _state(alice)["contents"] == content
    assert alice.locator(".cd-notice").count() == 0, alice.locator(".cd-notices").inner_text()
    assert alice.evaluate("window.collabdocs.connection.hellos") == 1, "no reload happened"


def test_ime_composition_holds_remote_ops_until_it_ends(
    open_page: Callable[..., Any], people: dict
) -> None:
    """While Alice composes with an IME, Bob's ops wait; then both converge."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("start ")
    bob.click(".ql-editor")
    bob.keyboard.press("Control+End")
    _wait_converged([alice, bob], people["doc"])
    cdp = alice.context.new_cdp_session(alice)
    cdp.send("Input.imeSetComposition", {"text": "にほ", "selectionStart": 2, "selectionEnd": 2})
    alice.wait_for_function(
        "() => window.collabdocs.connection.transport.holding === true", timeout=5_000
    )
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("Bob ")
    alice.wait_for_function(
        "() => window.collabdocs.connection.transport.held.length > 0", timeout=10_000
    )
    assert "Bob" not in _state(alice)["text"], "remote ops wait for the composition"
    cdp.send("Input.insertText", {"text": "日本"})
    alice.wait_for_function(
        "() => window.collabdocs.connection.transport.holding === false", timeout=5_000
    )
    _, content = _wait_converged([alice, bob], people["doc"])
    assert _state(alice)["text"] == "Bob start 日本\n"
    assert _state(bob)["contents"] == _state(alice)["contents"] == content
