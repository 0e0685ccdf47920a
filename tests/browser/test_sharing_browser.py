"""Real-browser sharing: sign in, create, share, and the other person finds it.

Debian's Chromium (Playwright) against a real daphne on the test database.
Only the page scripts (app.js) are needed: the test never waits for the live
editor, so it passes with or without the editor bundle.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

# The bundles (app.js with the share dialog among them) are rebuilt by the
# browser conftest's editor_bundle when any file under static/src changed.
pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

SCREENSHOTS = Path("/tmp/collabdocs-browser")
TIMEOUT_MS = 15_000


def make_user(username: str, **extra: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=f"pw-{username}-24680", **extra
    )


def sign_in(browser: Any, base_url: str, username: str) -> Any:
    """Open a fresh browser context and sign in through the login form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base_url}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-24680")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def test_share_a_new_document_and_the_other_person_finds_it(
    live_daphne: Any, chromium_browser: Any
) -> None:
    from documents.models import Document
    from documents.selectors import document_access

    alice = make_user("alice", first_name="Alice")
    bob = make_user("bob", first_name="Bob")
    base = live_daphne.url
    SCREENSHOTS.mkdir(exist_ok=True)

    # Alice creates a document, names it, and shares it with Bob by email.
    page = sign_in(chromium_browser, base, "alice")
    try:
        page.click("#new-document")
        page.wait_for_url(re.compile(r"/d/[0-9a-f-]{36}/$"))
        public_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        title = page.locator("#doc-title")
        title.fill("Launch plan")
        title.press("Enter")
        page.wait_for_function(
            "() => document.getElementById('title-status').textContent === 'Saved'"
        )

        page.click(".doc-actions .share-button")
        dialog = page.locator("#share-dialog")
        dialog.wait_for(state="visible")
        page.wait_for_function("() => !document.querySelector('[data-share-form=grant]').hidden")
        dialog.locator("#share-identifier").fill("bob@example.com")
        dialog.locator("[data-share-form=grant] select[name=role]").select_option("editor")
        dialog.locator("[data-share-form=grant] button[type=submit]").click()
        status = dialog.locator("[data-share-field=status]")
        status.wait_for(state="visible")
        assert status.text_content() == "Shared with Bob as Editor."
        assert (
            dialog.locator(".share-row", has_text="Bob").locator("select").input_value() == "editor"
        )
        page.screenshot(path=str(SCREENSHOTS / "sharing-owner.png"))
    finally:
        page.context.close()

    document = Document.objects.get(public_id=public_id)
    assert document.title == "Launch plan" and document.owner == alice
    assert document_access(user=bob, document=document).can_edit

    # Bob signs in elsewhere, finds it under "Shared with me" and opens it.
    page = sign_in(chromium_browser, base, "bob")
    try:
        page.click("nav.mainnav >> text=Shared with me")
        page.wait_for_url(f"{base}/shared/")
        link = page.locator("a.doc-link", has_text="Launch plan")
        assert link.count() == 1
        row = page.locator("tr", has=link)
        assert "Alice" in row.locator(".col-owner").text_content()
        link.click()
        page.wait_for_url(f"{base}/d/{public_id}/")
        assert page.locator("#doc-title").input_value() == "Launch plan"
        app = page.locator("#editor-app")
        assert app.get_attribute("data-can-edit") == "true"
        assert app.get_attribute("data-can-share") == "false"

        # Bob may look at the sharing but not change it.
        page.click(".doc-actions .share-button")
        dialog = page.locator("#share-dialog")
        dialog.locator("[data-share-field=readonly]").wait_for(state="visible")
        assert dialog.locator("[data-share-form=grant]").is_hidden()
        assert (
            dialog.locator(".share-row", has_text="Alice").locator(".share-role").text_content()
            == "Owner"
        )
        page.screenshot(path=str(SCREENSHOTS / "sharing-recipient.png"))
    finally:
        page.context.close()


def test_share_as_commenter_by_person_group_and_link(
    live_daphne: Any, chromium_browser: Any
) -> None:
    """The commenter role from the dialog: person, group and link, as each recipient sees it.

    Failure modes: the dialog offering no commenter role (or sending another),
    a commenter shown as an editor or viewer anywhere, the comment link
    mode missing or a commenter receiving the link that would raise them.
    """
    from django.contrib.auth.models import Group

    from documents import services
    from documents.models import Document
    from documents.selectors import document_access

    alice = make_user("alice2", first_name="Alice")
    carol = make_user("carol2", first_name="Carol")
    dave = make_user("dave2", first_name="Dave")
    erin = make_user("erin2", first_name="Erin")
    reviewers = Group.objects.create(name="reviewers")
    erin.groups.add(reviewers)
    document = services.document_create(owner=alice, title="Budget")
    base = live_daphne.url
    SCREENSHOTS.mkdir(exist_ok=True)

    page = sign_in(chromium_browser, base, "alice2")
    try:
        page.goto(f"{base}/d/{document.public_id}/")
        page.click(".doc-actions .share-button")
        dialog = page.locator("#share-dialog")
        page.wait_for_function("() => !document.querySelector('[data-share-form=grant]').hidden")
        grant = dialog.locator("[data-share-form=grant]")
        grant.locator("#share-identifier").fill("carol2")
        grant.locator("select[name=role]").select_option("commenter")
        assert grant.locator("input[name=can_share]").is_disabled()  # editors only
        grant.locator("button[type=submit]").click()
        status = dialog.locator("[data-share-field=status]")
        page.wait_for_function(
            "() => document.querySelector('[data-share-field=status]').textContent"
            " === 'Shared with Carol as Commenter.'"
        )
        carol_row = dialog.locator(".share-row", has_text="Carol")
        assert carol_row.locator("select").input_value() == "commenter"

        group = dialog.locator("[data-share-form=group]")
        group.locator("#share-group").fill("reviewers")
        group.locator("select[name=role]").select_option("commenter")
        group.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('[data-share-field=status]').textContent"
            " === 'Shared with the group reviewers as Commenter.'"
        )
        group_row = dialog.locator("[data-share-field=groups] .share-row", has_text="reviewers")
        assert group_row.locator("select").input_value() == "commenter"

        dialog.locator("[data-share-field=link-mode]").select_option("comment")
        page.wait_for_function(
            "() => document.querySelector('[data-share-field=status]').textContent"
            " === 'Anyone with the link can comment.'"
        )
        link_url = dialog.locator("[data-share-field=link-url]").input_value()
        assert "?key=" in link_url
        assert status.is_visible()
        page.screenshot(path=str(SCREENSHOTS / "sharing-commenter-owner.png"))
    finally:
        page.context.close()

    document = Document.objects.get(pk=document.pk)
    for user in (carol, erin):
        access = document_access(user=user, document=document)
        assert (access.role, access.can_comment, access.can_edit) == ("commenter", True, False)

    # Carol finds it labelled with her role and opens it as a commenter.
    page = sign_in(chromium_browser, base, "carol2")
    try:
        page.goto(f"{base}/shared/")
        row = page.locator("tr", has=page.locator("a.doc-link", has_text="Budget"))
        assert row.locator("[data-role-label]").text_content() == "Commenter"
        row.locator("a.doc-link").click()
        page.wait_for_url(f"{base}/d/{document.public_id}/")
        app = page.locator("#editor-app")
        assert app.get_attribute("data-can-edit") == "false"
        assert app.get_attribute("data-can-comment") == "true"
        assert page.locator(".role-pill").text_content() == "Commenter"
        page.click(".doc-actions .share-button")
        dialog = page.locator("#share-dialog")
        dialog.locator("[data-share-field=readonly]").wait_for(state="visible")
        assert (
            dialog.locator(".share-row", has_text="Carol").locator(".share-role").text_content()
            == "Commenter"
        )
        # The comment link gives her nothing new: she may see and copy it.
        assert dialog.locator("[data-share-field=link-url]").input_value() == link_url
    finally:
        page.context.close()

    # Dave has no share: the link makes him a commenter, and says so.
    page = sign_in(chromium_browser, base, "dave2")
    try:
        page.goto(link_url)
        page.wait_for_url(f"{base}/d/{document.public_id}/")
        assert page.locator(".role-pill").text_content() == "Commenter (via link)"
        assert page.locator("#editor-app").get_attribute("data-can-edit") == "false"
        page.screenshot(path=str(SCREENSHOTS / "sharing-commenter-link.png"))
    finally:
        page.context.close()
    assert document_access(user=dave, document=document).role == "none"  # without the link
