"""The share dialog's autocomplete in Chromium: type, arrow, Enter, shared.

Alice and Bob are in the team "Design"; Carol is a stranger. In the share
dialog of Alice's document (opened from the list, so the editor bundle is
not needed): typing a prefix of Carol's name suggests nothing, typing "bo"
suggests Bob, ArrowDown highlights him (``aria-activedescendant``), Enter
fills the input without submitting, a second Enter shares; the group input
suggests Alice's team, Escape closes its list but not the dialog, and
sharing with the chosen group works. Failure modes: a stranger enumerated,
Enter on a suggestion submitting a half-typed name, Escape closing the
whole dialog, the combobox roles missing for screen readers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_sharing_browser import SCREENSHOTS, make_user, sign_in

# The bundles (app.js with the share dialog among them) are rebuilt by the
# browser conftest's editor_bundle when any file under static/src changed.
pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]


def test_combobox_suggests_only_findable_people_and_groups_and_shares(
    live_daphne: Any, chromium_browser: Any
) -> None:
    from documents.models import Document
    from documents.selectors import document_access
    from documents.services import document_create
    from teams import services

    alice = make_user("alice", first_name="Alice")
    bob = make_user("bob", first_name="Bob")
    make_user("carol", first_name="Carol")
    team = services.team_create(creator=alice, name="Design")
    services.team_add_member(team=team, actor=alice, identifier="bob")
    document = document_create(owner=alice, title="Roadmap")
    SCREENSHOTS.mkdir(exist_ok=True)

    page = sign_in(chromium_browser, live_daphne.url, "alice")
    try:
        page.locator(f"tr[data-doc-id='{document.public_id}'] [data-share-url]").click()
        dialog = page.locator("#share-dialog")
        page.wait_for_function("() => !document.querySelector('[data-share-form=grant]').hidden")
        person = dialog.locator("#share-identifier")
        listbox = dialog.locator("#share-identifier-listbox")
        assert person.get_attribute("role") == "combobox"
        assert person.get_attribute("aria-controls") == "share-identifier-listbox"
        assert listbox.get_attribute("role") == "listbox"

        # A stranger's prefix: the server answers, nothing is suggested.
        person.press_sequentially("car")
        dialog.get_by_role("status").filter(has_text="No suggestions.").wait_for(state="attached")
        assert listbox.is_hidden() and person.get_attribute("aria-expanded") == "false"

        person.fill("")
        person.press_sequentially("bo")
        option = listbox.get_by_role("option", name=re.compile("Bob"))
        option.wait_for(state="visible")
        assert person.get_attribute("aria-expanded") == "true"
        assert listbox.get_by_role("option").count() == 1
        assert "bob@example.com" in option.text_content()
        page.screenshot(path=str(SCREENSHOTS / "share-autocomplete.png"))

        person.press("ArrowDown")
        assert person.get_attribute("aria-activedescendant") == option.get_attribute("id")
        assert option.get_attribute("aria-selected") == "true"
        person.press("Enter")  # fills, does not submit
        assert person.input_value() == "bob"
        assert listbox.is_hidden() and person.get_attribute("aria-expanded") == "false"
        assert dialog.locator("[data-share-field=status]").is_hidden()

        dialog.locator("[data-share-form=grant] select[name=role]").select_option("editor")
        person.press("Enter")  # now the form submits
        status = dialog.locator("[data-share-field=status]")
        status.wait_for(state="visible")
        assert status.text_content() == "Shared with Bob as Editor."

        group = dialog.locator("#share-group")
        group.press_sequentially("des")
        group_option = dialog.locator("#share-group-listbox").get_by_role("option", name="Design")
        group_option.wait_for(state="visible")
        group.press("Escape")  # closes the list, not the dialog
        assert group_option.is_hidden() and dialog.is_visible()
        group.press("ArrowDown")  # reopens on the first suggestion
        assert group.get_attribute("aria-activedescendant") == group_option.get_attribute("id")
        group.press("Enter")
        assert group.input_value() == "Design"
        group.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('[data-share-field=status]').textContent"
            " === 'Shared with the group Design as Viewer.'"
        )
    finally:
        page.context.close()

    document = Document.objects.get(pk=document.pk)
    assert document_access(user=bob, document=document).can_edit
