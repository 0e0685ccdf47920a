"""History in Chromium: reconnects after compaction, and the panel.

daphne runs with a one-second idle unload and two kept ops, so a document
nobody has open is compacted within a second or two. With the retention
horizon at 0 days a client that was away for more than two revisions
cannot catch up op by op; with the default horizon (7 days) compaction
keeps the ops and it rebases its unsaved edit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

LOADED = "() => document.getElementById('history-panel').dataset.loaded === 'true'"
DAPHNE_ENV = {
    "COLLABDOCS_IDLE_UNLOAD_SECONDS": "1",
    "COLLABDOCS_COMPACT_KEEP_OPS": "2",
    "COLLABDOCS_RETENTION_DAYS": "0",
}


@pytest.fixture
def world(request: pytest.FixtureRequest, daphne_factory: Callable[..., Any]) -> dict[str, Any]:
    """Alice owns a document Bob may edit; daphne compacts idle documents fast.

    An indirect parameter overrides daphne's environment (``DAPHNE_ENV``).
    """
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice, bob = _user("alice", "Alice"), _user("bob", "Bob")
    document = services.document_create(owner=alice, title="Minutes")
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, bob, document)
    env = {**DAPHNE_ENV, **getattr(request, "param", {})}
    return {"alice": alice, "bob": bob, "doc": document, "server": daphne_factory(**env)}


@pytest.fixture
def open_page(chromium_browser: Any, world: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``open_page(name)``: that person's page on the document, connected."""
    contexts: list[Any] = []
    server = world["server"]

    def open_(name: str) -> Any:
        context, page = _person_page(
            chromium_browser, world[name], server.url, viewport=(1400, 900)
        )
        contexts.append(context)
        page.goto(f"{server.url}/d/{world['doc'].public_id}/")
        page.wait_for_function(SYNCED, timeout=20_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def _wait_let_go(document: Any, timeout: float = 20) -> None:
    """Wait until no worker has the document open and its snapshot is at the head."""
    deadline = time.monotonic() + timeout
    while True:
        document.refresh_from_db()
        if document.lease_holder == "" and document.snapshot.revision == document.head_revision:
            return
        assert time.monotonic() < deadline, "the document was not unloaded and compacted"
        time.sleep(0.1)


def _away_while_bob_edits(open_page: Callable[..., Any], world: dict[str, Any]) -> tuple[Any, int]:
    """Alice types, goes offline with an unsaved edit; Bob edits; the log is compacted."""
    alice = open_page("alice")
    alice.click(".ql-editor")
    alice.keyboard.type("Agenda")
    _wait_converged([alice], world["doc"])
    away_at = _state(alice)["rev"]
    alice.context.set_offline(True)
    alice.evaluate(
        "() => window.collabdocs.connection.ws && window.collabdocs.connection.ws.close()"
    )
    alice.keyboard.type(" (my notes)")

    bob = open_page("bob")
    bob.click(".ql-editor")
    for word in ("one ", "two ", "three ", "four "):
        bob.keyboard.press("Control+Home")
        bob.keyboard.type(word)
        _wait_converged([bob], world["doc"])
    bob.context.close()
    _wait_let_go(world["doc"])
    return alice, away_at


@pytest.mark.parametrize("world", [{"COLLABDOCS_RETENTION_DAYS": "7"}], indirect=True)
def test_reconnect_after_compaction_within_the_horizon_saves_the_offline_edit(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    """Away past a compaction and an unload: the kept ops rebase the edit; nothing is lost."""
    alice, away_at = _away_while_bob_edits(open_page, world)
    rev, _ = _stored(world["doc"])
    assert rev - away_at > 2  # more than COMPACT_KEEP_OPS: only the horizon kept them

    alice.context.set_offline(False)
    alice.wait_for_function(SYNCED, timeout=20_000)
    _, content = _wait_converged([alice], world["doc"])
    assert _state(alice)["text"] == "four three two one Agenda (my notes)\n"
    assert alice.locator('.cd-notice[data-kind="unsaved"]').count() == 0
    assert alice.errors == []


def test_stale_reconnect_after_compaction_reloads_and_keeps_the_lost_text(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    """Away past the horizon (0 days here) while the log is compacted: reload, say what was lost."""
    alice, away_at = _away_while_bob_edits(open_page, world)
    rev, content = _stored(world["doc"])
    assert rev - away_at > 2  # more than the kept ops: no catch-up possible

    alice.context.set_offline(False)
    notice = alice.locator('.cd-notice[data-kind="unsaved"]')
    notice.wait_for(timeout=20_000)
    alice.wait_for_function(SYNCED, timeout=20_000)
    state = _state(alice)
    assert state["rev"] == rev and state["contents"] == content
    assert state["text"] == "four three two one Agenda\n"
    assert "(my notes)" in notice.locator("textarea.cd-unsaved").input_value()
    _screenshot(alice, "stale-reconnect")
    # The editor works on: new typing is saved.
    alice.click(".ql-editor")
    alice.keyboard.press("Control+End")
    alice.keyboard.type(" again")
    _, content = _wait_converged([alice], world["doc"])
    assert _state(alice)["text"] == "four three two one Agenda again\n"
    assert alice.errors == []


def test_history_panel_names_previews_and_restores_live(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    """Alice names a version (Bob's open list shows it at once), edits on,
    restores it after a confirmation; Bob is told who restored what, and
    Alice can undo it."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("Keep this")
    _wait_converged([alice, bob], world["doc"])

    bob.click("[data-history-open]")
    bob.wait_for_function(LOADED)
    bob_panel = bob.locator("#history-panel")
    alice.click("[data-history-open]")
    panel = alice.locator("#history-panel")
    panel.wait_for(state="visible")
    alice.wait_for_function(LOADED)
    alice.fill("#history-name-input", "First draft")
    alice.click('[data-history-form="name"] button[type="submit"]')
    panel.locator(".history-item", has_text="First draft").wait_for()
    # Live: Bob's list was loaded before the name existed and is not reloaded.
    bob_panel.locator(".history-item", has_text="First draft").wait_for(timeout=10_000)
    bob.click("[data-history-close]")
    alice.click("[data-history-close]")

    bob.click(".ql-editor")
    bob.keyboard.press("Control+End")
    bob.keyboard.type(" and this not")
    _wait_converged([alice, bob], world["doc"])

    alice.click("[data-history-open]")
    alice.wait_for_function(LOADED)
    panel.locator(".history-item", has_text="First draft").click()
    preview = panel.locator('[data-history-field="preview-content"]')
    preview.wait_for(state="visible")
    assert preview.inner_text().strip() == "Keep this"
    formats = panel.locator('[data-history-field="preview-downloads"] a').evaluate_all(
        "links => links.map(a => a.dataset.export)"
    )
    assert {"txt", "html", "md"} <= set(formats)
    _screenshot(alice, "history-preview")

    # Restore asks first; cancelling changes nothing.
    dialog = alice.locator("dialog[data-history-confirm]")
    panel.locator("[data-history-restore]").click()
    dialog.wait_for(state="visible")
    assert "Everyone editing will see the document change" in dialog.inner_text()
    assert "First draft" in dialog.inner_text()
    _screenshot(alice, "history-restore-confirm")
    dialog.locator('button[value="cancel"]').click()
    dialog.wait_for(state="hidden")
    time.sleep(0.3)
    assert _state(alice)["text"] == "Keep this and this not\n"

    panel.locator("[data-history-restore]").click()
    dialog.locator("[data-history-confirm-restore]").click()
    panel.locator('.history-status[data-kind="ok"]').wait_for(timeout=20_000)
    alice.wait_for_function(LOADED)
    _wait_converged([alice, bob], world["doc"])
    assert _state(bob)["text"] == _state(alice)["text"] == "Keep this\n"
    top = panel.locator(".history-item").first
    assert top.get_attribute("data-kind") == "restore" and "First draft" in top.inner_text()
    _screenshot(alice, "history-list")

    # Everyone is told; only Alice may undo.
    told = bob.locator('.cd-notice[data-kind="history-restore"]')
    told.wait_for(timeout=10_000)
    assert told.inner_text().startswith("Alice restored the version of ")
    assert told.locator(".cd-notice-action").count() == 0
    mine = alice.locator('.cd-notice[data-kind="history-restore"]')
    mine.wait_for(timeout=10_000)
    assert mine.inner_text().startswith("You restored the version of ")
    _screenshot(bob, "history-restore-notice")
    mine.locator(".cd-notice-action", has_text="Undo").click()
    alice.locator(
        '.cd-notice[data-kind="history-restore"]', has_text="undid the restore"
    ).wait_for()
    _wait_converged([alice, bob], world["doc"])
    assert _state(bob)["text"] == "Keep this and this not\n"
    assert alice.errors == [] and bob.errors == []


def _name_version(page: Any, name: str) -> None:
    page.fill("#history-name-input", name)
    page.click('[data-history-form="name"] button[type="submit"]')
    page.locator("#history-panel .history-item", has_text=name).wait_for()


def test_compare_two_versions_marks_insertions_and_deletions_and_plays_back(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    """Compare v1 with v2: Bob's insertion underlined in his colour, the deleted
    word struck through, the summary counts words by person; the timeslider
    shows the first revision and the last."""
    alice, bob = open_page("alice"), open_page("bob")
    alice.click(".ql-editor")
    alice.keyboard.type("The quick fox")
    _wait_converged([alice, bob], world["doc"])
    alice.click("[data-history-open]")
    alice.wait_for_function(LOADED)
    _name_version(alice, "v1")

    bob.click(".ql-editor")
    bob.keyboard.press("Control+End")
    for _ in range(3):
        bob.keyboard.press("Shift+ArrowLeft")
    bob.keyboard.type("dog jumps")
    _wait_converged([alice, bob], world["doc"])
    assert _state(alice)["text"] == "The quick dog jumps\n"
    _name_version(alice, "v2")

    panel = alice.locator("#history-panel")
    v1 = panel.locator(".history-item", has_text="v1").get_attribute("data-version-id")
    v2 = panel.locator(".history-item", has_text="v2").get_attribute("data-version-id")
    alice.select_option('[data-history-field="compare-from"]', v1)
    alice.select_option('[data-history-field="compare-to"]', v2)
    alice.click('[data-history-form="compare"] button[type="submit"]')
    content = panel.locator('[data-history-field="compare-content"]')
    content.wait_for(state="visible")
    inserted = content.locator("ins.redline-insert").all_inner_texts()
    deleted = content.locator("del.redline-delete").all_inner_texts()
    assert "".join(inserted) == "dog jumps" and "".join(deleted) == "fox"
    # Deleted and inserted text side by side where "fox" was, either first.
    assert content.inner_text().replace("\n", "") in (
        "The quick foxdog jumps",
        "The quick dog jumpsfox",
    )
    bob_id = str(world["bob"].pk)
    assert content.locator("ins.redline-insert").first.get_attribute("data-author") == bob_id
    colour = content.locator("ins.redline-insert").first.evaluate(
        "el => getComputedStyle(el).getPropertyValue('--author-color').trim()"
    )
    assert colour.startswith("#")
    summary = panel.locator('[data-history-field="compare-summary"]').inner_text()
    assert summary.startswith("+2 words, \u22121 word")
    by = panel.locator(f'[data-history-field="compare-by"] li[data-author="{bob_id}"]')
    assert by.inner_text().startswith("Bob")
    _screenshot(alice, "history-compare")

    # "Changes since you last opened": Alice last came at v1's revision (an
    # hour ago); only Bob's changes are marked.
    from django.utils import timezone

    from documents.models import DocumentVersion, DocumentVisit

    since = DocumentVersion.objects.get(pk=int(v1 or 0)).revision
    DocumentVisit.objects.filter(user=world["alice"], document=world["doc"]).update(
        previous_revision=since, previous_opened_at=timezone.now() - timedelta(hours=1)
    )
    panel.locator('[data-history-field="compare"] [data-history-back]').click()
    panel.locator("[data-history-since]").click()
    panel.locator('[data-history-field="compare-title"]', has_text="since you last").wait_for()
    compared = panel.locator('[data-history-field="compare-range"]').inner_text()
    assert compared.startswith(f"Revision {since} (")
    assert "".join(content.locator("ins.redline-insert").all_inner_texts()) == "dog jumps"
    assert "".join(content.locator("del.redline-delete").all_inner_texts()) == "fox"

    # Play these changes: the slider runs from v1's revision to v2's.
    panel.locator("[data-history-play-range]").click()
    slider = panel.locator('[data-history-field="slider-content"]')
    slider.wait_for(state="visible")
    alice.wait_for_function(
        "() => document.querySelector('[data-history-field=\"slider-content\"]')"
        ".innerText.includes('dog jumps')"
    )
    # Show authors tints the text by who wrote it, in their colours.
    panel.locator('[data-history-field="slider-authors"] input').check()
    bobs = slider.locator(f'.history-author[data-author="{bob_id}"]')
    bobs.first.wait_for()
    assert "".join(bobs.all_inner_texts()) == "dog jumps"
    alices = slider.locator(f'.history-author[data-author="{world["alice"].pk}"]')
    assert "".join(alices.all_inner_texts()) == "The quick "
    _screenshot(alice, "history-timeslider-authors")
    scrubber = panel.locator('[data-history-field="slider-range"]')
    low = scrubber.get_attribute("min")
    scrubber.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", low)
    alice.wait_for_function(
        f"() => document.querySelector('[data-history-field=\"slider\"]').dataset.rev === '{low}'"
    )
    assert slider.inner_text().strip() == "The quick fox"
    assert alice.errors == [] and bob.errors == []


def test_the_list_pages_through_every_version_by_scrolling(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    """131 versions (130 named, the first "Created"): the first page has 50;
    scrolling to the end loads the rest, each once, newest first."""
    from documents.models import Document, DocumentVersion

    document = world["doc"]
    DocumentVersion.objects.bulk_create(
        DocumentVersion(
            document=document,
            revision=i,
            content=[{"insert": f"draft {i}\n"}],
            kind="named",
            name=f"Draft {i:03d}",
            author=world["alice"],
        )
        for i in range(1, 131)
    )
    Document.objects.filter(pk=document.pk).update(head_revision=130)
    alice = open_page("alice")
    alice.click("[data-history-open]")
    alice.wait_for_function(LOADED)
    items = alice.locator("#history-panel .history-item")
    assert items.count() == 50
    more = alice.locator('#history-panel [data-history-field="more"]')
    for _ in range(10):
        if more.is_hidden():
            break
        more.scroll_into_view_if_needed()
        alice.wait_for_function(
            "n => document.querySelectorAll('#history-panel .history-item').length > n",
            arg=items.count(),
        )
    labels = items.evaluate_all("els => els.map(e => e.dataset.versionId)")
    assert len(labels) == len(set(labels)) == 131
    texts = items.all_inner_texts()
    assert "Draft 130" in texts[0] and "Draft 001" in texts[-2] and "Created" in texts[-1]
    assert alice.errors == []
