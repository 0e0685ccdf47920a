"""Comments in a real browser: Debian's Chromium driving the built editor
against a real daphne on the test database.

Alice owns a document, Bob may edit it, Carol may only view it and Dave
may comment on it. The tests cover what people rely on and how it fails:

- a comment made on a selection is anchored in the content (the stored
  document carries the thread id on exactly that text), stored, and shown
  live to everyone; a reply with ``@carol`` from the picker notifies Carol
  (bell badge, live) and emails her (Django's file backend in the daphne);
- anchors move with text typed before them by someone else, survive a
  reload, and a thread whose text is deleted stays, detached, with its
  quote;
- resolving hides the thread and its highlight, the "Resolved (n)" view
  shows it again, re-open brings it back; a person edits and deletes only
  their own messages; a button on a card beside the active one works;
- a failed creation takes the mark out again and says why;
- a commenter comments (the server's policy lets a comment mark through),
  an editor comments from Viewing mode, a ``#thread-<id>`` link opens the
  thread, and deleting a thread takes its marks out of the content;
- a viewer reads threads and can open them from the text but has no way
  to comment, and the server refuses her if she tries anyway;
- below 900 px the margin is a panel behind a toggle that never covers
  the text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (
    SYNCED,
    _person_page,
    _screenshot,
    _user,
    _wait_converged,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

TEXT = "Intro line.\nThe budget needs review before Friday.\n"
CARD = ".review-margin .thread-card:not(.thread-draft)"


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    """Where the daphne's file-based email backend writes its messages."""
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def team(daphne_factory: Callable[..., Any], transactional_db: None, mail_dir: Path) -> dict:
    """Alice owns "Plans"; Bob edits it, Carol views it, Dave comments on it."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    server = daphne_factory(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    alice, bob, carol = _user("alice", "Alice"), _user("bob", "Bob"), _user("carol", "Carol")
    dave = _user("dave", "Dave")
    for user in (alice, bob, carol, dave):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    document = services.document_create(owner=alice, title="Plans")
    # Grant directly (services.share_grant would notify sockets through
    # async_to_sync, which cannot run beside Playwright's loop).
    for user, role in ((bob, Role.EDITOR), (carol, Role.VIEWER), (dave, Role.COMMENTER)):
        for perm in perms_for(role):
            assign_perm(perm, user, document)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "doc": document,
        "server": server,
    }


@pytest.fixture
def open_page(chromium_browser: Any, team: dict) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name, viewport=...)``: that person's connected page."""
    contexts: list[Any] = []
    server = team["server"]
    url = f"{server.url}/d/{team['doc'].public_id}/"

    def open_(name: str, *, viewport: tuple[int, int] = (1400, 900), hash_: str = "") -> Any:
        context, page = _person_page(chromium_browser, team[name], server.url, viewport=viewport)
        contexts.append(context)
        page.goto(url + hash_)
        try:
            page.wait_for_function(SYNCED, timeout=30_000)
            # Threads load after the hello.
            page.wait_for_function("() => window.collabdocs.comments.book.loaded", timeout=15_000)
        except Exception as exc:
            raise AssertionError(
                f"{name}'s page did not load: {page.errors}\n{page.console[-20:]}\n"
                f"server log:\n{server.log()[-4000:]}"
            ) from exc
        return page

    yield open_
    for context in contexts:
        context.close()


def _write(page: Any, text: str) -> None:
    """Put ``text`` into the (empty) document as the person's own typing."""
    page.evaluate(
        """(text) => {
            const q = window.collabdocs.quill;
            q.insertText(0, text.replace(/\\n$/, ""), "user");
        }""",
        text,
    )


def _select(page: Any, word: str) -> None:
    """Select the first ``word`` in the editor, as a person would."""
    page.evaluate(
        """(word) => {
            const q = window.collabdocs.quill;
            const at = q.getText().indexOf(word);
            if (at < 0) throw new Error("no " + word);
            q.focus();
            q.setSelection(at, word.length, "user");
        }""",
        word,
    )


def _comment(page: Any, word: str, body: str) -> str:
    """Comment ``body`` on ``word`` through the Comment button; return the id."""
    _select(page, word)
    page.click(".review-comment-button")
    draft = page.locator(".thread-draft textarea")
    draft.wait_for(state="visible", timeout=5_000)
    draft.fill(body)
    page.click(".thread-draft .thread-submit")
    card = page.locator(CARD, has_text=body)
    card.wait_for(state="visible", timeout=15_000)
    thread_id = card.get_attribute("data-thread-id")
    assert thread_id and re.fullmatch(r"[0-9a-z]{16}", thread_id)
    assert page.evaluate("() => !CSS.highlights.has('comment-draft')"), "draft highlight gone"
    return thread_id


def _marked_text(content: list[dict], thread_id: str) -> str:
    """Return the text of ``content`` whose comment mark holds ``thread_id``."""
    return "".join(
        op["insert"]
        for op in content
        if isinstance(op.get("insert"), str)
        and thread_id in (op.get("attributes") or {}).get("comment", "").split()
    )


def _anchor(page: Any, thread_id: str) -> Any:
    return page.evaluate(
        "(id) => window.collabdocs.comments.anchors().spans.get(id) || null", thread_id
    )


def _mails(mail_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(mail_dir.glob("*.log")))


def _highlight(page: Any, thread_id: str) -> str:
    """Return the background colour drawn on the thread's text."""
    return page.evaluate(
        """(id) => {
            const el = document.querySelector(`.ql-editor [data-comment~="${id}"]`);
            return el ? getComputedStyle(el).backgroundColor : "none";
        }""",
        thread_id,
    )


def test_comment_reply_with_mention_notifies_and_emails(
    open_page: Callable[..., Any], team: dict, mail_dir: Path
) -> None:
    """Alice comments; Bob sees it live and replies @carol; Carol is notified and emailed."""
    from review.models import Thread

    alice, bob, carol = open_page("alice"), open_page("bob"), open_page("carol")
    _write(alice, TEXT)
    _wait_converged([alice, bob, carol], team["doc"])
    thread_id = _comment(alice, "budget", "Is this number right?")

    # Stored: the thread with its quote, and the mark on exactly the word.
    _, content = _wait_converged([alice, bob, carol], team["doc"])
    assert _marked_text(content, thread_id) == "budget"
    thread = Thread.objects.get(public_id=thread_id)
    assert thread.quote == "budget" and thread.created_by == team["alice"]

    # Bob sees it live, beside the highlighted word.
    bob_card = bob.locator(CARD, has_text="Is this number right?")
    bob_card.wait_for(state="visible", timeout=10_000)
    assert _highlight(bob, thread_id) not in ("none", "rgba(0, 0, 0, 0)")
    word_top = bob.evaluate(
        """(id) => document.querySelector(`.ql-editor [data-comment~="${id}"]`)
            .getBoundingClientRect().top""",
        thread_id,
    )
    assert abs(bob_card.bounding_box()["y"] - word_top) < 40, "the card sits beside its text"

    # Bob replies, picking Carol from the mention picker with the keyboard.
    bob_card.click()
    reply = bob_card.locator(".thread-compose textarea")
    reply.click()
    reply.type("Checked with @car", delay=10)
    option = bob.locator(".mention-option", has_text="@carol")
    option.wait_for(state="visible", timeout=5_000)
    assert reply.get_attribute("aria-expanded") == "true"
    _screenshot(bob, "comments-mention-picker")
    reply.press("Enter")
    assert reply.input_value() == "Checked with @carol "
    reply.type("please confirm")
    reply.press("Control+Enter")
    alice_reply = alice.locator(CARD + " .thread-message", has_text="please confirm")
    alice_reply.wait_for(state="visible", timeout=10_000)
    assert alice_reply.locator(".thread-mention").inner_text() == "@carol"
    _screenshot(alice, "comments-thread")

    # Carol: the bell counts it live, and an email names the document.
    badge = carol.locator("[data-notif-badge]")
    carol.wait_for_function(
        "() => { const b = document.querySelector('[data-notif-badge]');"
        " return b && !b.hidden && b.textContent.trim() === '1'; }",
        timeout=10_000,
    )
    assert badge.is_visible()
    deadline = time.monotonic() + 10
    while "carol@example.com" not in _mails(mail_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    mail = _mails(mail_dir)
    assert "To: carol@example.com" in mail
    assert "mentioned you" in mail
    assert f"/d/{team['doc'].public_id}/#thread-{thread_id}" in mail
    assert not alice.errors and not bob.errors and not carol.errors


def test_anchor_moves_survives_reload_and_detaches(
    open_page: Callable[..., Any], team: dict
) -> None:
    """Typing before the anchor moves it; a reload keeps it; deleting its text detaches it."""
    alice, bob = open_page("alice"), open_page("bob")
    _write(alice, TEXT)
    _wait_converged([alice, bob], team["doc"])
    thread_id = _comment(alice, "review", "Who reviews?")
    bob_card = bob.locator(CARD, has_text="Who reviews?")
    bob_card.wait_for(state="visible", timeout=10_000)
    before = _anchor(alice, thread_id)

    # Clicking the highlighted word in his editor opens Bob's card.
    assert "is-active" not in (bob_card.get_attribute("class") or "")
    bob.click(f'.ql-editor [data-comment~="{thread_id}"]')
    bob.wait_for_function(
        "(id) => window.collabdocs.comments.margin.active === `thread:${id}`",
        arg=thread_id,
        timeout=5_000,
    )
    bob.locator(CARD + ".is-active .thread-compose textarea").wait_for(timeout=5_000)

    # Bob types at the very start: Alice's anchor moves with the word.
    bob.evaluate("() => window.collabdocs.quill.insertText(0, 'Hello there. ', 'user')")
    _, content = _wait_converged([alice, bob], team["doc"])
    moved = _anchor(alice, thread_id)
    assert moved == {"index": before["index"] + 13, "length": 6}
    assert _marked_text(content, thread_id) == "review"
    alice_text = alice.evaluate("() => window.collabdocs.quill.getText()")
    assert alice_text[moved["index"] : moved["index"] + 6] == "review"

    # A reload shows the thread anchored to the same word.
    alice.reload()
    alice.wait_for_function(SYNCED, timeout=20_000)
    card = alice.locator(CARD, has_text="Who reviews?")
    card.wait_for(state="visible", timeout=10_000)
    assert _anchor(alice, thread_id) == moved
    assert card.locator(".thread-detached-note").is_hidden()

    # Bob deletes the word: the thread stays, detached, with its quote.
    bob.evaluate(
        """() => {
            const q = window.collabdocs.quill;
            const at = q.getText().indexOf("review");
            q.deleteText(at, 6, "user");
        }"""
    )
    _, content = _wait_converged([alice, bob], team["doc"])
    assert _marked_text(content, thread_id) == ""
    note = card.locator(".thread-detached-note")
    note.wait_for(state="visible", timeout=5_000)
    assert note.inner_text() == "Original text deleted"
    assert card.locator(".thread-quote").inner_text() == "review"
    assert "is-detached" in (card.get_attribute("class") or "")
    _screenshot(alice, "comments-detached")
    assert not alice.errors and not bob.errors


def test_resolve_reopen_and_own_messages(open_page: Callable[..., Any], team: dict) -> None:
    """Own messages are edited and deleted; resolve hides a thread, re-open brings it back."""
    alice, bob = open_page("alice"), open_page("bob")
    _write(alice, TEXT)
    _wait_converged([alice, bob], team["doc"])
    thread_id = _comment(alice, "Friday", "Too soon?")
    bob_card = bob.locator(CARD, has_text="Too soon?")
    bob_card.wait_for(state="visible", timeout=10_000)

    # Only the author may edit or delete a message.
    assert bob_card.locator(".thread-edit").count() == 0
    alice_card = alice.locator(f"#thread-{thread_id}")
    alice_card.click()
    alice_card.locator(".thread-edit").click()
    box = alice_card.locator(".thread-message textarea")
    box.fill("Too soon? Maybe Monday.")
    alice_card.locator(".thread-message .thread-submit").click()
    bob.locator(CARD, has_text="Maybe Monday.").locator(".thread-edited").wait_for(
        state="visible", timeout=10_000
    )

    # Bob replies, then deletes his reply: gone for Alice too.
    bob_card.click()
    reply = bob_card.locator(".thread-compose textarea")
    reply.fill("Temporary thought")
    reply.press("Control+Enter")
    bobs = bob_card.locator(".thread-message", has_text="Temporary thought")
    bobs.wait_for(state="visible", timeout=10_000)
    alice.locator(".thread-message", has_text="Temporary thought").wait_for(timeout=10_000)
    bobs.locator(".thread-message-delete").click()
    bobs.locator(".thread-confirm-yes").click()
    alice.locator(".thread-message", has_text="Temporary thought").wait_for(
        state="detached", timeout=10_000
    )

    # Bob resolves: the card and the highlight go away for both.
    bob_card.locator(".thread-resolve").click()
    alice.wait_for_function(
        """(id) => { const c = document.querySelector(`#thread-${id}`); return c && c.hidden; }""",
        arg=thread_id,
        timeout=10_000,
    )
    assert _highlight(alice, thread_id) == "rgba(0, 0, 0, 0)"
    resolved = alice.locator(".review-resolved-button")
    assert resolved.inner_text() == "Resolved (1)"

    # The resolved view shows it, marked resolved by Bob, and hides it again.
    card = alice.locator(f"#thread-{thread_id}")
    resolved.click()
    card.wait_for(state="visible", timeout=5_000)
    assert "Resolved by Bob" in card.locator(".thread-status").inner_text()
    resolved.click()
    card.wait_for(state="hidden", timeout=5_000)
    assert resolved.get_attribute("aria-pressed") == "false"

    # A link to the resolved thread (a notification's) opens the view on it.
    alice.evaluate("(id) => { window.location.hash = `thread-${id}`; }", thread_id)
    card.wait_for(state="visible", timeout=5_000)
    assert resolved.get_attribute("aria-pressed") == "true"
    alice.wait_for_function(
        "(id) => window.collabdocs.comments.margin.active === `thread:${id}`", arg=thread_id
    )

    # Re-open restores it for everyone.
    card.click()
    card.locator(".thread-reopen").click()
    bob.locator(f"#thread-{thread_id}:not(.is-resolved)").wait_for(state="visible", timeout=10_000)
    assert _highlight(bob, thread_id) not in ("none", "rgba(0, 0, 0, 0)")
    assert not alice.errors and not bob.errors


def test_buttons_of_a_card_beside_the_active_one_work(
    open_page: Callable[..., Any], team: dict
) -> None:
    """Two threads on one line: pressing a button on the inactive card does its job.

    Regression: focusing the pressed button activated its card, which moved
    it to its anchor between press and release, and the click was lost.
    """
    alice = open_page("alice")
    # Far enough down that the cards have room to move.
    _write(alice, "Filler line.\n" * 12 + TEXT)
    _wait_converged([alice], team["doc"])
    first = _comment(alice, "budget", "First on the line")
    second = _comment(alice, "needs", "Second on the line")
    alice.locator(f"#thread-{second}").click()
    alice.wait_for_function(
        "(id) => window.collabdocs.comments.margin.active === `thread:${id}`", arg=second
    )
    # As a person presses: a moment between press and release.
    alice.locator(f"#thread-{first} .thread-resolve").click(delay=250)
    alice.wait_for_function(
        "(id) => { const c = document.querySelector(`#thread-${id}`); return c && c.hidden; }",
        arg=first,
        timeout=10_000,
    )
    assert alice.locator(".review-resolved-button").inner_text() == "Resolved (1)"
    assert not alice.errors


def test_failed_creation_removes_the_mark(open_page: Callable[..., Any], team: dict) -> None:
    """When the server refuses the thread, its mark is taken out and the person told why."""
    from review.models import Thread

    alice = open_page("alice")
    _write(alice, TEXT)
    _wait_converged([alice], team["doc"])
    alice.route(
        re.compile(r".*/threads$"),
        lambda route: (
            route.fulfill(
                status=400, content_type="application/json", body='{"error": "Nope, not today."}'
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    _select(alice, "budget")
    alice.keyboard.press("Control+Alt+m")
    draft = alice.locator(".thread-draft textarea")
    draft.wait_for(state="visible", timeout=5_000)
    # The text being commented on stays shown while the composer has the focus.
    drawn = (
        "() => { const h = CSS.highlights.get('comment-draft'); return h && [...h][0].toString(); }"
    )
    assert alice.evaluate(drawn) == "budget"
    draft.fill("Will fail")
    alice.click(".thread-draft .thread-submit")
    error = alice.locator(".thread-draft .thread-error")
    error.wait_for(state="visible", timeout=10_000)
    assert "Nope, not today." in error.inner_text()
    assert "Nope, not today." in alice.locator(".cd-notice").inner_text()
    assert draft.input_value() == "Will fail", "the text typed is kept"
    _, content = _wait_converged([alice], team["doc"])
    assert not any("comment" in (op.get("attributes") or {}) for op in content)
    assert Thread.objects.count() == 0


def test_commenter_and_viewing_editor_comment_and_links_open_threads(
    open_page: Callable[..., Any], team: dict
) -> None:
    """Dave (commenter) and Alice in Viewing mode comment; a link opens Dave's thread."""
    alice, dave = open_page("alice"), open_page("dave")
    _write(alice, TEXT)
    _wait_converged([alice, dave], team["doc"])
    daves = _comment(dave, "Intro", "Shorter intro?")
    alice.locator(f"#thread-{daves}").wait_for(state="visible", timeout=10_000)

    # Alice switches to Viewing: her editor is read-only, she still comments.
    alice.locator("#mode-switch button", has_text="Viewing").click()
    alice.wait_for_function("() => !window.collabdocs.quill.isEnabled()", timeout=5_000)
    alices = _comment(alice, "Friday", "Or Monday?")
    _, content = _wait_converged([alice, dave], team["doc"])
    assert _marked_text(content, daves) == "Intro"
    assert _marked_text(content, alices) == "Friday"
    assert alice.evaluate("() => window.collabdocs.quill.getText()") == TEXT

    # A notification's link opens the thread beside its text.
    bob = open_page("bob", hash_=f"#thread-{daves}")
    bob.wait_for_function(
        "(id) => window.collabdocs.comments.margin.active === `thread:${id}`",
        arg=daves,
        timeout=10_000,
    )
    assert bob.locator(f"#thread-{daves}").is_visible()
    assert not alice.errors and not dave.errors and not bob.errors


def test_deleting_a_thread_removes_its_marks(open_page: Callable[..., Any], team: dict) -> None:
    """The thread's author deletes it: gone for everyone, its marks out of the content."""
    from review.models import Thread

    alice, bob = open_page("alice"), open_page("bob")
    _write(alice, TEXT)
    _wait_converged([alice, bob], team["doc"])
    kept = _comment(alice, "budget", "Keep me")
    doomed = _comment(alice, "needs", "Delete me")
    bob.locator(f"#thread-{doomed}").wait_for(state="visible", timeout=10_000)
    card = alice.locator(f"#thread-{doomed}")
    card.click()
    card.locator(".thread-delete").click()
    card.locator(".thread-confirm-yes").click()
    bob.locator(f"#thread-{doomed}").wait_for(state="detached", timeout=10_000)
    _, content = _wait_converged([alice, bob], team["doc"])
    assert _marked_text(content, doomed) == ""
    assert _marked_text(content, kept) == "budget"
    assert list(Thread.objects.values_list("public_id", flat=True)) == [kept]
    assert alice.locator(f"#thread-{doomed}").count() == 0
    assert not alice.errors and not bob.errors


def test_viewer_reads_threads_but_cannot_comment(open_page: Callable[..., Any], team: dict) -> None:
    """Carol sees threads, opens one from its text, and has no way to comment."""
    alice, carol = open_page("alice"), open_page("carol")
    _write(alice, TEXT)
    _wait_converged([alice, carol], team["doc"])
    thread_id = _comment(alice, "budget", "Numbers please")
    card = carol.locator(CARD, has_text="Numbers please")
    card.wait_for(state="visible", timeout=10_000)
    assert carol.locator(".review-comment-button").is_hidden()
    assert card.locator(".thread-compose").count() == 0, "no reply box for a viewer"
    assert card.locator(".thread-resolve").count() == 0

    # Clicking the highlighted text in her read-only editor opens the thread.
    carol.click(f'.ql-editor [data-comment~="{thread_id}"]')
    carol.wait_for_function(
        "(id) => window.collabdocs.comments.margin.active === `thread:${id}`",
        arg=thread_id,
        timeout=5_000,
    )
    assert "is-active" in (card.get_attribute("class") or "")
    assert card.locator(".thread-compose").count() == 0

    # The shortcut explains; a forced request is refused by the server.
    _select(carol, "needs")
    carol.keyboard.press("Control+Alt+m")
    assert "not comment" in carol.locator(".cd-notice").inner_text()
    status = carol.evaluate(
        """async () => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)?.[1] || "";
            const doc = document.getElementById("editor-app").dataset.docId;
            const r = await fetch(`/api/docs/${doc}/threads`, {method: "POST",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify({id: "abcdefghij123456", quote: "x", body: "sneaky"})});
            return r.status;
        }"""
    )
    assert status == 403
    assert not carol.errors


def test_narrow_window_opens_the_margin_as_a_panel(
    open_page: Callable[..., Any], team: dict
) -> None:
    """Below 900 px the threads are behind a toggle; open, they never cover the text."""
    alice = open_page("alice")
    _write(alice, TEXT)
    _wait_converged([alice], team["doc"])
    _comment(alice, "budget", "Narrow check")
    narrow = open_page("bob", viewport=(700, 800))
    margin = narrow.locator("#review-margin")
    toggle = narrow.locator(".review-margin-toggle")
    assert margin.is_hidden()
    assert toggle.is_visible() and "1" in toggle.inner_text()
    toggle.click()
    card = narrow.locator(CARD, has_text="Narrow check")
    card.wait_for(state="visible", timeout=5_000)
    # The canvas is padded by the panel's height: the last line can be
    # scrolled above it.
    _screenshot(narrow, "comments-narrow-panel")
    narrow.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    paper = narrow.locator(".doc-paper").bounding_box()
    panel = margin.bounding_box()
    assert paper["y"] + paper["height"] <= panel["y"] + 1
    narrow.locator(".review-margin-close").click()
    assert margin.is_hidden()
    assert not narrow.errors


def _store_commented_document(document: Any, author: Any, threads: int) -> list[str]:
    """Store ``threads`` lines, each anchored to its own thread; return the ids."""
    import json

    from documents.store import DjangoDocumentStore, NewOp
    from review.models import Message, Thread

    ids = [f"perf{n:012d}" for n in range(threads)]
    delta: list[dict] = []
    for n, thread_id in enumerate(ids):
        delta.append({"insert": f"Line {n} has a "})
        delta.append({"insert": "remark", "attributes": {"comment": thread_id}})
        delta.append({"insert": " on it.\n"})
    DjangoDocumentStore().append(
        document_pk=document.pk,
        ops=[
            NewOp(
                revision=1,
                op_id="perfperfperfperfperf:1",
                delta=delta,
                delta_json=json.dumps(delta),
                author_id=author.pk,
            )
        ],
    )
    made = Thread.objects.bulk_create(
        Thread(document=document, public_id=thread_id, quote="remark", created_by=author)
        for thread_id in ids
    )
    Message.objects.bulk_create(
        Message(thread=thread, author=author, body=f"Remark {n}") for n, thread in enumerate(made)
    )
    return ids


def test_five_hundred_threads_open_and_follow_typing(chromium_browser: Any, team: dict) -> None:
    """A document with 500 threads shows them all in order, quickly, and follows typing."""
    ids = _store_commented_document(team["doc"], team["alice"], 500)
    server = team["server"]
    context, page = _person_page(chromium_browser, team["bob"], server.url)
    try:
        # Time from the hello, and from the threads' answer, to every card
        # placed beside its line.
        page.add_init_script(
            """window.addEventListener("DOMContentLoaded", () => {
                const wait = () => {
                    const c = window.collabdocs;
                    if (!c) return requestAnimationFrame(wait);
                    c.connection.on("hello", () => { window.helloAt = performance.now(); });
                };
                wait();
            });"""
        )
        started = time.monotonic()
        page.goto(f"{server.url}/d/{team['doc'].public_id}/")
        page.wait_for_function(
            """(n) => { const c = window.collabdocs;
                const done = c && c.comments.book.loaded
                  && document.querySelectorAll(".review-margin .thread-card").length === n
                  && !c.comments.margin._frame;
                if (done) window.placedAt = performance.now();
                return done; }""",
            arg=len(ids),
            polling="raf",
            timeout=30_000,
        )
        timing = page.evaluate(
            """() => { const t = window.collabdocs.comments.loadTiming;
                return {hello: window.placedAt - window.helloAt,
                        server: t.answered - t.asked, drawn: window.placedAt - t.answered}; }"""
        )
        total = time.monotonic() - started
        print(
            f"500 threads: placed {timing['hello']:.0f} ms after the hello (GET threads "
            f"{timing['server']:.0f} ms, drawing and placing {timing['drawn']:.0f} ms); "
            f"page open {total:.2f} s"
        )
        # The browser's share (what this module controls; 0.1-0.6 s here on
        # a loaded 2-core machine, 1.5-2 s before the per-card costs were
        # removed); the whole is printed for the README.
        # Only an order-of-magnitude regression fails (the per-card costs coming
        # back); the figure itself is a benchmark's, never a timed test's.
        assert timing["drawn"] < 5000, f"drawing 500 threads took {timing['drawn']:.0f} ms"

        # In text order, none overlapping.
        boxes = page.evaluate(
            """() => [...document.querySelectorAll(".review-margin .thread-card")]
                .map((c) => ({id: c.dataset.threadId, top: c.offsetTop, h: c.offsetHeight}))
                .sort((a, b) => a.top - b.top)"""
        )
        assert [b["id"] for b in boxes] == ids
        for above, below in zip(boxes, boxes[1:], strict=False):
            assert below["top"] >= above["top"] + above["h"]

        # Typing at the top moves every anchor; one relayout stays cheap.
        layout_ms = page.evaluate(
            """() => {
                const c = window.collabdocs;
                c.quill.insertText(0, "New first line\\n", "user");
                const t0 = performance.now();
                c.comments.margin.layout();
                return performance.now() - t0;
            }"""
        )
        print(f"relayout of 500 cards after a change: {layout_ms:.1f} ms")
        # A relayout per change, not per card: only a gross regression fails.
        assert layout_ms < 1000
        span = page.evaluate("(id) => window.collabdocs.comments.anchors().spans.get(id)", ids[0])
        assert span["index"] == len("New first line\n") + len("Line 0 has a ")
        assert not page.errors
    finally:
        context.close()
