"""Suggestion mode in a real browser: Debian's Chromium, the built bundle,
a real daphne on the test database (issue 12, contract §2-§4, §7).

Alice may comment (a commenter: she can only suggest), Bob may edit, Carol
may view. Each is a separate browser context. Every test compares what the
editors show with the content stored in the database.

Failure modes covered: review marks on a line end or an embed lost or
moved by Quill (the editor then differs from the server and every later
op lands in the wrong place); a commenter's typing sent as a plain edit
(refused) or shown differently from what was sent; a decision not reaching
the others live; a forced plain edit from devtools changing the document;
several people suggesting in one paragraph diverging.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (
    SYNCED,
    _person_page,
    _screenshot,
    _state,
    _stored,
    _user,
    _wait_converged,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

#: A mark of the page's own user (contract §2): "<uid>:<t base 36>:<r>".
MARK = """(r) => {
    const uid = document.getElementById("editor-app").dataset.userId;
    return `${uid}:${Date.now().toString(36)}:${r}`;
}"""
#: A 1x1 PNG the schema accepts as an image embed.
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


def _characters(content: list[dict]) -> list[tuple[Any, dict]]:
    """Return each character (or embed) of ``content`` with its attributes."""
    out: list[tuple[Any, dict]] = []
    for op in content:
        attrs = op.get("attributes", {})
        if isinstance(op["insert"], str):
            out.extend((ch, attrs) for ch in op["insert"])
        else:
            out.append((op["insert"], attrs))
    return out


@pytest.fixture
def people(live_daphne: Any) -> dict[str, Any]:
    """Bob owns the document and edits, Alice comments, Carol views."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice, bob, carol = _user("alice"), _user("bob"), _user("carol")
    document = services.document_create(owner=bob, title="Plans")
    # Grant directly (no socket is open yet; share_grant would notify).
    for user, role in ((alice, Role.COMMENTER), (carol, Role.VIEWER)):
        for perm in perms_for(role):
            assign_perm(perm, user, document)
    return {"alice": alice, "bob": bob, "carol": carol, "doc": document, "server": live_daphne}


@pytest.fixture
def open_page(chromium_browser: Any, people: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name)``: that person's page on the document, connected."""
    contexts: list[Any] = []
    server = people["server"]
    url = f"{server.url}/d/{people['doc'].public_id}/"

    def open_(name: str) -> Any:
        context, page = _person_page(chromium_browser, people[name], server.url)
        contexts.append(context)
        page.goto(url)
        try:
            page.wait_for_function(SYNCED, timeout=30_000)
        except Exception as exc:
            raise AssertionError(
                f"{name}'s page did not connect\nerrors: {page.errors}\n"
                f"console: {page.console[-20:]}\nserver log:\n{server.log()[-4000:]}"
            ) from exc
        return page

    yield open_
    for context in contexts:
        context.close()


def test_marks_on_text_embeds_and_line_ends_equal_the_server(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Quill holds a review mark on text, an image and a "\\n" as the server does.

    Quill's Block.formatAt skips the newline for inline formats; without
    the patch in review/suggest-blots.js the "\\n" loses its mark in every
    editor that applies the op, and loading the content drops it too.
    """
    bob, carol = open_page("bob"), open_page("carol")
    bob.evaluate(
        f"""() => {{
        const mark = ({MARK})("aaaa");
        const q = window.collabdocs.quill;
        q.updateContents({{ops: [
            {{insert: "Proposed", attributes: {{"suggest-insert": mark, bold: true}}}},
            {{insert: {{image: "{PIXEL}"}}, attributes: {{"suggest-insert": mark}}}},
            {{insert: "\\n", attributes: {{"suggest-insert": mark, header: 2}}}},
            {{insert: "tail", attributes: {{"suggest-delete": mark}}}},
            {{insert: "\\n", attributes: {{"suggest-delete": mark}}}},
        ]}}, "user");
    }}"""
    )
    _, content = _wait_converged([bob, carol], people["doc"])
    newlines = [attrs for ch, attrs in _characters(content) if ch == "\n"]
    assert [sorted(attrs) for attrs in newlines] == [
        ["header", "suggest-insert"],
        ["suggest-delete"],
        [],
    ], content
    assert any(
        isinstance(op["insert"], dict) and "suggest-insert" in op.get("attributes", {})
        for op in content
    ), content
    assert _state(bob)["contents"] == content, "the author's editor"
    assert _state(carol)["contents"] == content, "an editor that applied the op"
    # Enter inside the marked line: the new line end carries no mark (it is
    # new, plain text), the old one keeps it.
    bob.evaluate("() => window.collabdocs.quill.setSelection(3, 0)")
    bob.keyboard.press("Enter")
    _, content = _wait_converged([bob, carol], people["doc"])
    assert _state(bob)["contents"] == _state(carol)["contents"] == content
    carol.reload()
    carol.wait_for_function(SYNCED, timeout=20_000)
    assert _state(carol)["contents"] == content, "an editor that loaded the content"
    assert not bob.errors and not carol.errors


def _suggestions(content: list[dict]) -> dict[str, tuple[str, str]]:
    """Return ``{mark: (kind, text)}`` of the suggestions in ``content``."""
    found: dict[str, tuple[str, str]] = {}
    for ch, attrs in _characters(content):
        for name in ("suggest-insert", "suggest-delete", "suggest-format"):
            if name in attrs:
                mark = attrs[name].split("|", 1)[0]
                kind, text = found.get(mark, (name, ""))
                found[mark] = (kind, text + (ch if isinstance(ch, str) else "▣"))
    return found


def test_commenter_suggests_editor_decides_viewer_sees_it_live(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Alice suggests an insertion and a deletion; Bob accepts one, rejects the other.

    Alice types as a commenter: her keystrokes must reach the server as
    suggestions (a plain insert is refused), show in her editor exactly as
    stored, and group into one suggestion per run. Carol watches.
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Hello world")
    alice, carol = open_page("alice"), open_page("carol")
    assert alice.evaluate("() => window.collabdocs.modes.mode") == "suggesting"
    assert alice.locator("#mode-switch button").all_inner_texts() == ["Suggesting", "Viewing"]
    assert carol.locator("#mode-switch").is_hidden()
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type(" again")
    alice.keyboard.press("Control+Home")
    for _ in range(6):
        alice.keyboard.press("Delete")
    _, content = _wait_converged([alice, bob, carol], people["doc"])
    assert _state(alice)["contents"] == _state(bob)["contents"] == content
    found = _suggestions(content)
    assert sorted(found.values()) == [
        ("suggest-delete", "Hello "),
        ("suggest-insert", " again"),
    ], content
    assert all(mark.startswith(f"{people['alice'].pk}:") for mark in found)
    assert _state(alice)["text"] == "Hello world again\n", "struck text stays on the page"
    # The caret moved past each struck character (forward Delete).
    assert alice.evaluate("() => window.collabdocs.quill.getSelection().index") == 6
    insert_mark = next(m for m, (k, _) in found.items() if k == "suggest-insert")
    delete_mark = next(m for m, (k, _) in found.items() if k == "suggest-delete")
    # Bob sees two cards, with Accept and Reject; Alice only Withdraw.
    cards = bob.locator(".suggestion-card")
    cards.first.wait_for(timeout=10_000)
    assert cards.count() == 2
    assert alice.locator(".suggestion-card [data-decide=accept]").count() == 0
    assert alice.locator(".suggestion-card [data-decide=reject]").count() == 2
    # Clicking a card highlights its text (and only its text).
    bob.locator(f'.suggestion-card[data-suggestion="{insert_mark}"] .suggestion-what').click()
    background = f"""() => getComputedStyle(document.querySelector(
        '.ql-editor [data-suggest-insert="{insert_mark}"]')).backgroundColor"""
    bob.wait_for_function(f"() => ({background})() !== 'rgba(0, 0, 0, 0)'", timeout=5_000)
    struck = f"""() => getComputedStyle(document.querySelector(
        '.ql-editor [data-suggest-delete="{delete_mark}"]')).backgroundColor"""
    assert bob.evaluate(struck) == "rgba(0, 0, 0, 0)"
    _screenshot(bob, "suggestions-bob")
    _screenshot(alice, "suggestions-alice")
    bob.locator(f'.suggestion-card[data-suggestion="{insert_mark}"] [data-decide=accept]').click()
    bob.locator(f'.suggestion-card[data-suggestion="{delete_mark}"] [data-decide=reject]').click()
    carol.wait_for_function(
        """() => { const ops = window.collabdocs.quill.getContents().ops;
        return ops.length === 1 && ops[0].insert === "Hello world again\\n"; }""",
        timeout=15_000,
    )
    _, content = _wait_converged([alice, bob, carol], people["doc"])
    assert content == [{"insert": "Hello world again\n"}]
    assert _state(alice)["contents"] == _state(carol)["contents"] == content
    bob.locator(".suggestion-card").first.wait_for(state="detached", timeout=5_000)
    for page in (alice, bob, carol):
        assert not page.errors, page.errors


def test_decisions_can_be_undone_right_after(open_page: Callable[..., Any], people: dict) -> None:
    """Bob accepts Alice's insertion, then Ctrl+Z: her suggestion is back, hers.

    Then he rejects it and takes that back with the notice's Undo. The undo
    is made by the server (the decision's inverse), so Alice's mark returns
    unchanged and Bob's own earlier typing is not what Ctrl+Z undoes.
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Start")
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type(" added")
    _, suggested = _wait_converged([alice, bob], people["doc"])
    (mark,) = _suggestions(suggested)
    bob.locator(f'.suggestion-card[data-suggestion="{mark}"] [data-decide=accept]').click()
    bob.locator(".cd-notice .cd-notice-action", has_text="Undo").wait_for(timeout=10_000)
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == [{"insert": "Start added\n"}]
    bob.keyboard.press("Control+z")
    bob.wait_for_function(
        "() => document.querySelectorAll('.suggestion-card').length === 1", timeout=10_000
    )
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == suggested, "Alice's suggestion is back as it was"
    bob.locator(f'.suggestion-card[data-suggestion="{mark}"] [data-decide=reject]').click()
    bob.wait_for_function(
        "() => document.querySelectorAll('.suggestion-card').length === 0", timeout=10_000
    )
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == [{"insert": "Start\n"}]
    bob.locator(".cd-notice .cd-notice-action", has_text="Undo").click()
    bob.wait_for_function(
        "() => document.querySelectorAll('.suggestion-card').length === 1", timeout=10_000
    )
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == suggested
    assert _state(alice)["contents"] == _state(bob)["contents"] == content
    assert not alice.errors and not bob.errors


def test_commenter_forcing_a_plain_edit_is_refused(
    open_page: Callable[..., Any], people: dict
) -> None:
    """A commenter's edit that bypasses the rewrite gets ``forbidden``; nothing changes.

    Both roads from devtools: Quill's API with the rewrite switched off,
    and a raw op over the socket.
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Keep me")
    alice = open_page("alice")
    rev, before = _wait_converged([alice, bob], people["doc"])
    alice.evaluate(
        """() => {
        const c = window.collabdocs;
        c.binding.rewrite = null;
        c.quill.insertText(0, "forced ", "user");
    }"""
    )
    notice = alice.locator('.cd-notice[data-kind="unsaved"]')
    notice.wait_for(timeout=15_000)
    assert "refused a change you may not make" in notice.inner_text()
    alice.wait_for_function(SYNCED, timeout=15_000)
    rev_after, content = _wait_converged([alice, bob], people["doc"])
    assert (rev_after, content) == (rev, before), "the document is unchanged"
    assert _state(alice)["contents"] == before
    # A raw op on the socket, as a script would send it.
    alice.evaluate(
        """(rev) => {
        const c = window.collabdocs;
        window.refusals = [];
        c.connection.ws.addEventListener("message", (e) => {
            const frame = JSON.parse(e.data);
            if (frame.type === "error") window.refusals.push(frame);
        });
        c.connection.ws.send(JSON.stringify({type: "op", id: "devtoolsdevtools0001:1", rev,
            delta: [{retain: 4}, {delete: 3}]}));
    }""",
        rev,
    )
    alice.wait_for_function("() => window.refusals.length > 0", timeout=10_000)
    frames = alice.evaluate("() => window.refusals")
    assert frames[0]["code"] == "forbidden", frames
    assert _stored(people["doc"]) == (rev, before)
    assert not alice.errors


def test_several_people_suggesting_in_one_paragraph_converge(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Alice and Bob (both suggesting) and Carol's view end identical.

    Keystrokes cross on the wire; each person's suggestions keep their own
    marks (no mark is ever set in another's name, or the server refuses).
    """
    from guardian.shortcuts import assign_perm

    from documents.roles import Role, perms_for

    for perm in perms_for(Role.COMMENTER):
        assign_perm(perm, people["carol"], people["doc"])
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("one two three four five")
    alice, carol = open_page("alice"), open_page("carol")
    bob.keyboard.press("Control+Alt+Shift+X")  # Suggesting, as in Google Docs
    assert bob.evaluate("() => window.collabdocs.modes.mode") == "suggesting"
    assert bob.locator("#mode-switch [aria-pressed=true]").inner_text() == "Suggesting"
    pages = {"alice": alice, "bob": bob, "carol": carol}
    for page in pages.values():
        page.click(".ql-editor")
    steps = [
        ("alice", "Home", "A1 "),
        ("bob", "End", " B1"),
        ("carol", "Home", "C1 "),
        ("alice", "Backspace", ""),
        ("bob", "Backspace", ""),
        ("carol", "Delete", ""),
        ("alice", None, "xy"),
        ("bob", None, "zz"),
    ]
    for name, key, text in steps:
        page = pages[name]
        if key:
            page.keyboard.press(key)
        if text:
            page.keyboard.type(text, delay=5)
    _, content = _wait_converged(list(pages.values()), people["doc"], timeout=40)
    states = [_state(p)["contents"] for p in pages.values()]
    assert states[0] == states[1] == states[2] == content
    authors = {mark.split(":", 1)[0] for mark in _suggestions(content)}
    assert authors == {str(people[n].pk) for n in pages}, content
    assert "one two three four five" in "".join(
        ch for ch, _ in _characters(content) if isinstance(ch, str)
    ), "nobody's suggestion removed the original text"
    for page in pages.values():
        assert not page.errors, page.errors


def test_backspace_strikes_to_the_left_and_undo_takes_it_back(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Backspace in Suggesting strikes the character and moves left of it; Ctrl+Z undoes.

    Typing then goes before the struck text, and one Ctrl+Z per step takes
    back what the person saw, sent as changes the server accepts from a
    commenter (its effect, not a re-insert of the struck text).
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("abc")
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.press("Backspace")
    alice.keyboard.press("Backspace")
    assert alice.evaluate("() => window.collabdocs.quill.getSelection().index") == 1
    _, content = _wait_converged([alice, bob], people["doc"])
    assert list(_suggestions(content).values()) == [("suggest-delete", "bc")], content
    assert _state(alice)["text"] == "abc\n"
    alice.wait_for_timeout(1100)  # a new undo entry for what follows
    alice.keyboard.type("X")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert _state(alice)["text"] == "aXbc\n", (
        "typed text goes where the caret is: left of the struck"
    )
    alice.keyboard.press("Control+z")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert list(_suggestions(content).values()) == [("suggest-delete", "bc")], content
    alice.keyboard.press("Control+z")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == [{"insert": "abc\n"}], "the strike is undone, the text plain again"
    assert _state(alice)["contents"] == _state(bob)["contents"] == content
    assert not alice.errors and not bob.errors


def test_mode_switch_follows_access_changes_live(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Alice's modes change with her role while she is connected.

    Commenter → editor: Editing appears (and is her default); editor →
    commenter: back to Suggesting with a notice; → viewer: no switch, a
    read-only editor. Her typing after each change is what the role allows.
    """
    from tests.browser.test_coediting_browser import _post_from

    bob, alice = open_page("bob"), open_page("alice")
    role_url = f"/api/docs/{people['doc'].public_id}/share/role"
    modes = "() => [...document.querySelectorAll('#mode-switch button')].map(b => b.dataset.mode)"

    def make(role: str) -> None:
        answer = _post_from(bob, role_url, {"user": people["alice"].pk, "role": role})
        assert answer["status"] == 200, answer

    make("editor")
    alice.wait_for_function(f"() => ({modes})().length === 3", timeout=10_000)
    assert alice.evaluate("() => window.collabdocs.modes.mode") == "editing"
    alice.click(".ql-editor")
    alice.keyboard.type("plain")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert content == [{"insert": "plain\n"}]
    make("commenter")
    alice.wait_for_function(f"() => ({modes})().length === 2", timeout=10_000)
    assert alice.evaluate("() => window.collabdocs.modes.mode") == "suggesting"
    assert "suggest changes" in alice.locator(".cd-notices").inner_text()
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type("!")
    _, content = _wait_converged([alice, bob], people["doc"])
    assert list(_suggestions(content).values()) == [("suggest-insert", "!")], content
    make("viewer")
    alice.wait_for_function("() => !window.collabdocs.quill.isEnabled()", timeout=10_000)
    assert alice.locator("#mode-switch").is_hidden()
    assert not alice.errors and not bob.errors


def _store_content(document: Any, delta: list[dict]) -> None:
    """Store ``delta`` as the document's first change (before any page opens)."""
    import json

    from documents.store import DjangoDocumentStore, NewOp

    op = NewOp(
        revision=1,
        op_id="seedseedseedseedseed:1",
        delta=delta,
        delta_json=json.dumps(delta, ensure_ascii=False),
        author_id=document.owner_id,
    )
    DjangoDocumentStore().append(document_pk=document.pk, ops=[op])


#: Type ``n`` characters as the person would (source "user", through the
#: rewrite), each followed by what the next frame does for it (the cards
#: brought up to date, the margin laid out); return the mean milliseconds
#: of each part per keystroke. Frames themselves are not waited for: their
#: timing on a shared machine says nothing about this code.
TYPE_AND_TIME = """(n) => {
    const c = window.collabdocs;
    const parts = {edit: 0, cards: 0, layout: 0};
    for (let i = 0; i < n; i += 1) {
        let t = performance.now();
        c.quill.insertText(8, "x", "user"); // inside "plain text", beside no suggestion
        parts.edit += performance.now() - t;
        t = performance.now();
        c.cards.refresh();
        parts.cards += performance.now() - t;
        t = performance.now();
        c.comments.margin.layout();
        parts.layout += performance.now() - t;
    }
    for (const key of Object.keys(parts)) parts[key] /= n;
    return parts;
}"""


def test_typing_beside_500_suggestions_stays_responsive(
    open_page: Callable[..., Any], people: dict
) -> None:
    """A page with 500 suggestions by four people opens with 500 cards; typing stays quick.

    Each keystroke in Suggesting mode is rewritten, corrected, sent, and the
    cards are brought up to date in the next frame; only changed cards are
    rebuilt, so a keystroke costs a scan of the content plus the margin's
    layout (printed; bounded loosely, the machine is shared).
    """
    authors = [people["alice"].pk, people["bob"].pk, people["carol"].pk, people["bob"].pk + 1000]
    delta: list[dict] = []
    for i in range(500):
        mark = f"{authors[i % 4]}:lx{i:04d}:{i:06d}ab"
        kind = ("suggest-insert", "suggest-delete")[i % 2]
        delta.append({"insert": f"word{i} ", "attributes": {kind: mark}})
        delta.append({"insert": "plain text between " + ("\n" if i % 10 == 9 else "")})
    delta.append({"insert": "\n"})
    _store_content(people["doc"], delta)
    alice = open_page("alice")
    alice.wait_for_function(
        "() => document.querySelectorAll('.suggestion-card').length === 500", timeout=20_000
    )
    # Authors who are not on the page are named from the people who can see
    # the document; an unknown id stays "Someone".
    authors_shown = """() => new Set([...document.querySelectorAll('.suggestion-author')]
        .map((e) => e.textContent))"""
    alice.wait_for_function(f"() => ({authors_shown})().has('bob')", timeout=10_000)
    assert alice.evaluate(f"() => [...({authors_shown})()].sort()") == [
        "Someone",
        "alice (you)",
        "bob",
        "carol",
    ]
    alice.click(".ql-editor")
    parts = alice.evaluate(TYPE_AND_TIME, 40)
    _, content = _wait_converged([alice], people["doc"])
    typed = [m for m, (kind, text) in _suggestions(content).items() if text == "x" * 40]
    assert len(typed) == 1, "the 40 keystrokes are one suggestion"
    total = sum(parts.values())
    print(
        f"\nkeystroke beside 500 suggestions: {total:.1f} ms",
        {k: round(v, 2) for k, v in parts.items()},
    )
    # Rebuilding every card costs ~150 ms here (measured once); the
    # incremental refresh ~3 ms and the edit with its rewrite ~6 ms. The
    # figure is printed for the README; the bound only catches a return to
    # rebuilding every card per keystroke, never machine load (the suite
    # runs on two processes on a two-core machine).
    assert parts["edit"] + parts["cards"] < 120, parts
    assert not alice.errors


def test_format_suggestion_and_typing_inside_anothers_suggestion(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Alice's Ctrl+B proposes bold; Bob typing inside her insertion types plain text.

    The proposal leaves the text's formats alone until accepted (outlined,
    not bold, in every editor). Bob in Editing mode typing inside Alice's
    suggested words would otherwise send her mark in his name (refused).
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Hello world")
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type(" news")
    alice.evaluate("() => window.collabdocs.quill.setSelection(6, 5, 'user')")  # "world"
    alice.keyboard.press("Control+b")
    _, content = _wait_converged([alice, bob], people["doc"])
    found = _suggestions(content)
    assert sorted(found.values()) == [("suggest-format", "world"), ("suggest-insert", " news")]
    assert not any(attrs.get("bold") for _, attrs in _characters(content)), "not applied yet"
    fmt = next(m for m, (kind, _) in found.items() if kind == "suggest-format")
    card = bob.locator(f'.suggestion-card[data-suggestion="{fmt}"]')
    card.wait_for(timeout=10_000)
    assert "Format “world”: bold" in card.inner_text()
    # Bob types inside " news" (Alice's): plain text of his, accepted by the server.
    bob.evaluate("() => window.collabdocs.quill.setSelection(14, 0, 'user')")
    bob.keyboard.type("Z")
    _, content = _wait_converged([alice, bob], people["doc"])
    z = [attrs for ch, attrs in _characters(content) if ch == "Z"]
    assert z == [{}], content
    card.locator("[data-decide=accept]").click()
    bob.wait_for_function(
        f"() => !document.querySelector('.suggestion-card[data-suggestion=\"{fmt}\"]')",
        timeout=10_000,
    )
    _, content = _wait_converged([alice, bob], people["doc"])
    bold = "".join(ch for ch, attrs in _characters(content) if attrs.get("bold"))
    assert bold == "world", content
    assert _state(alice)["contents"] == _state(bob)["contents"] == content
    assert not alice.errors and not bob.errors


def test_commenters_undo_never_takes_a_comment_mark_away(
    open_page: Callable[..., Any], people: dict
) -> None:
    """Alice (commenter) marks text for a comment, then Ctrl+Z: nothing is refused.

    A commenter may only add thread ids (contract §3); her undo would take
    the new id away and the server would refuse it with ``forbidden`` (the
    page reloading under her). The mark stays, the editor equals the server.
    """
    bob = open_page("bob")
    bob.click(".ql-editor")
    bob.keyboard.type("Comment on this")
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.evaluate(
        """() => window.collabdocs.binding.applyOwn(
            {ops: [{retain: 11}, {retain: 4, attributes: {comment: "abcdefghij123456"}}]})"""
    )
    rev, content = _wait_converged([alice, bob], people["doc"])
    marked = "".join(ch for ch, attrs in _characters(content) if attrs.get("comment"))
    assert marked == "this", content
    alice.keyboard.press("Control+z")
    alice.wait_for_timeout(500)
    rev_after, after = _wait_converged([alice, bob], people["doc"])
    assert (rev_after, after) == (rev, content)
    assert _state(alice)["contents"] == content
    assert alice.locator('.cd-notice[data-kind="unsaved"]').count() == 0
    assert not alice.errors and not bob.errors
