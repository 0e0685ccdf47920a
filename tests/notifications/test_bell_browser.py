"""The bell in Debian's Chromium against a real daphne on the test database.

* On any page the badge shows the unread count the server rendered; the
  dropdown lists the latest, newest first; "Mark all read" clears the badge
  and the database agrees; opening an item goes to its place and marks it
  read.
* On the editor page the bell is live: Alice shares another document with
  Bob while he is editing, and his badge and list update without a reload
  (socket -> editor.js -> ``collabdocs:notify`` -> notifications.js), and
  screen readers are told; marking it read on another page darkens the
  editor's bell too; the daphne mails him (file backend, read back here).

Failure modes covered: a page error in the bell's script (each page's
errors are asserted empty); a stale badge after marking read (reload).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import conftest as browser_fixtures
from tests.browser.test_coediting_browser import SYNCED, _person_page, _post_from, _screenshot

# The browser tests' fixture that builds static/dist when its sources changed.
editor_bundle = browser_fixtures.editor_bundle

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

TIMEOUT_MS = 15_000


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    """Return the directory the daphne's file email backend writes to."""
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def server(daphne_factory: Any, mailbox: Path, transactional_db: None) -> Any:
    """Return a daphne that writes its mail into ``mailbox``."""
    return daphne_factory(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mailbox),
    )


@pytest.fixture
def cast(server: Any) -> dict[str, Any]:
    """Alice owns "Plans" and "Budget"; Bob edits "Plans"."""
    from django.contrib.auth import get_user_model
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    users = get_user_model().objects
    alice = users.create_user("alice", email="alice@example.com", first_name="Alice")
    bob = users.create_user("bob", email="bob@example.com", first_name="Bob")
    plans = services.document_create(owner=alice, title="Plans")
    budget = services.document_create(owner=alice, title="Budget")
    # Directly: a share service would notify (the tests decide when).
    for perm in perms_for(Role.EDITOR):
        assign_perm(perm, bob, plans)
    return {"alice": alice, "bob": bob, "plans": plans, "budget": budget}


@pytest.fixture
def pages(chromium_browser: Any, server: Any) -> Iterator[Any]:
    """Return ``open(user, path)``: a page signed in as ``user``; errors checked after."""
    contexts: list[Any] = []
    opened: list[Any] = []

    def open_(user: Any, path: str) -> Any:
        context, page = _person_page(chromium_browser, user, server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        opened.append(page)
        page.goto(server.url + path)
        return page

    yield open_
    try:
        for page in opened:
            assert page.errors == [], page.errors
    finally:
        for context in contexts:
            context.close()


def _badge(page: Any) -> str | None:
    """Return the badge's text, or None while it is hidden."""
    badge = page.locator("[data-notif-badge]")
    return None if badge.is_hidden() else badge.inner_text()


def _mention(cast: dict[str, Any], text: str) -> Any:
    from notifications.models import Kind
    from notifications.services import notify

    return notify(
        recipient=cast["bob"],
        kind=Kind.MENTION,
        document=cast["plans"],
        actor=cast["alice"],
        text=text,
        url=f"/d/{cast['plans'].public_id}/#thread-abcdefghij123456",
    )


def test_badge_dropdown_and_mark_all_read(cast: dict[str, Any], pages: Any) -> None:
    from notifications.models import Notification

    _mention(cast, "Alice mentioned you in “Plans”: first")
    _mention(cast, "Alice mentioned you in “Plans”: second")
    bob = pages(cast["bob"], "/")
    assert _badge(bob) == "2"
    assert bob.locator(".notif-button").get_attribute("aria-label") == "Notifications, 2 unread"
    bob.click(".notif-button")
    items = bob.locator("[data-notif-list] .notif-item")
    items.first.wait_for()
    assert items.count() == 2
    assert "second" in items.nth(0).inner_text() and "first" in items.nth(1).inner_text()
    assert bob.locator("[data-notif-list] .notif-unread").count() == 2
    _screenshot(bob, "notifications-dropdown")
    bob.click("[data-notif-read-all]")
    bob.wait_for_function("() => document.querySelector('[data-notif-badge]').hidden")
    assert bob.locator("[data-notif-list] .notif-unread").count() == 0
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    bob.reload()
    assert _badge(bob) is None


def test_opening_an_item_goes_there_and_marks_it_read(cast: dict[str, Any], pages: Any) -> None:
    notification = _mention(cast, "Alice mentioned you in “Plans”: look here")
    bob = pages(cast["bob"], "/notifications/")
    assert _badge(bob) == "1"
    _screenshot(bob, "notifications-page")
    bob.click(".notif-button")
    bob.click("[data-notif-list] .notif-item a")
    bob.wait_for_url(f"**/d/{cast['plans'].public_id}/#thread-abcdefghij123456")
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert _badge(bob) is None


def test_on_the_editor_page_the_bell_is_live(
    cast: dict[str, Any], pages: Any, mailbox: Path
) -> None:
    bob = pages(cast["bob"], f"/d/{cast['plans'].public_id}/")
    bob.wait_for_function(SYNCED, timeout=30_000)
    assert _badge(bob) is None
    alice = pages(cast["alice"], "/")
    answer = _post_from(
        alice,
        f"/api/docs/{cast['budget'].public_id}/share",
        {"identifier": "bob", "role": "commenter"},
    )
    assert answer["status"] == 200, answer
    bob.wait_for_function(
        "() => !document.querySelector('[data-notif-badge]').hidden", timeout=10_000
    )
    assert _badge(bob) == "1"
    bob.click(".notif-button")
    item = bob.locator("[data-notif-list] .notif-item").first
    item.wait_for()
    assert item.inner_text().startswith("Alice gave you comment access to “Budget”.")
    _screenshot(bob, "notifications-live-on-editor")
    assert bob.locator("[data-notif-announce]").inner_text() == (
        "New notification: Alice gave you comment access to “Budget”."
    )
    # The page did not reload: the editor is still the same, connected one.
    assert bob.evaluate("() => window.collabdocs.connection.status") == "connected"
    # Read on another page, the editor's bell goes dark too.
    elsewhere = pages(cast["bob"], "/notifications/")
    elsewhere.click("#notifications-read-all")
    elsewhere.wait_for_url("**/notifications/")
    bob.wait_for_function(
        "() => document.querySelector('[data-notif-badge]').hidden", timeout=10_000
    )
    assert bob.locator("[data-notif-list] .notif-unread").count() == 0
    # The same daphne mailed Bob, with a link back to the document.
    [mail_file] = list(mailbox.iterdir())
    message = mail_file.read_text()
    assert "To: bob@example.com" in message
    assert f"/d/{cast['budget'].public_id}/" in message


def test_an_item_about_the_open_document_moves_there_without_a_reload(
    cast: dict[str, Any], pages: Any
) -> None:
    notification = _mention(cast, "Alice mentioned you in “Plans”: this paragraph")
    bob = pages(cast["bob"], f"/d/{cast['plans'].public_id}/")
    bob.wait_for_function(SYNCED, timeout=30_000)
    bob.evaluate("() => { window.sameEditor = true; }")
    bob.click(".notif-button")
    bob.click("[data-notif-list] .notif-item a")
    bob.wait_for_function("() => location.hash === '#thread-abcdefghij123456'")
    bob.wait_for_function("() => document.querySelector('[data-notif-badge]').hidden")
    assert bob.evaluate("() => window.sameEditor") is True, "the editor was reloaded"
    assert bob.locator(".notif-panel").is_hidden()
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_choosing_fewer_emails_from_the_user_menu(cast: dict[str, Any], pages: Any) -> None:
    from notifications.models import EmailChoice
    from notifications.selectors import email_choice

    bob = pages(cast["bob"], "/")
    bob.click(".usermenu summary")
    bob.click(".usermenu-panel >> text=Notification settings")
    bob.wait_for_url("**/settings/notifications/")
    assert bob.locator("input[name=email][value=all]").is_checked()
    bob.check("input[name=email][value=mentions]")
    bob.click("form.notif-settings button[type=submit]")
    bob.wait_for_selector(".cd-notice-success")
    assert "saved" in bob.locator(".cd-notice-success").inner_text()
    assert bob.locator("input[name=email][value=mentions]").is_checked()
    _screenshot(bob, "notifications-settings")
    assert email_choice(user=cast["bob"]) == EmailChoice.MENTIONS
