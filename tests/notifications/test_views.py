"""The notifications page, opening a notification, the email settings, and
the bell on every page.

Failure modes covered: signed-out visitors (sent to sign in), opening
someone else's notification (404, not marked), an invalid setting (the form
says so, nothing saved), GET on the mark-all-read action (405).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import EmailChoice, Kind, Notification, NotificationSetting
from notifications.selectors import email_choice
from tests.notifications.conftest import Cast


def make(cast: Cast, recipient: Any, text: str = "Olivia replied") -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        kind=Kind.REPLY,
        document=cast.doc,
        actor=cast.owner,
        text=text,
        url=cast.doc_url + "#thread-abcdefghij123456",
    )


def checked(page: str) -> str:
    """Return the value of the email choice the settings form shows checked."""
    [value] = re.findall(r'<input type="radio" name="email" value="(\w+)"[^>]*\bchecked\b', page)
    return value


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name", ["notifications:list", "notifications:settings", "notifications:read_all"]
)
def test_signed_out_visitors_are_sent_to_sign_in(db: None, name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_lists_only_ones_own_notifications(cast: Cast) -> None:
    make(cast, cast.viewer, "Olivia replied in your thread")
    make(cast, cast.editor, "A note for Eddie only")
    page = signed_in(cast.viewer).get(reverse("notifications:list")).content.decode()
    assert "Olivia replied in your thread" in page and "Quarterly plan" in page
    assert "A note for Eddie only" not in page
    assert "Mark all read" in page


def test_texts_are_escaped(cast: Cast) -> None:
    make(cast, cast.viewer, "<script>alert(1)</script>")
    page = signed_in(cast.viewer).get(reverse("notifications:list")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_opening_marks_read_and_goes_to_the_place(cast: Cast) -> None:
    notification = make(cast, cast.viewer)
    response = signed_in(cast.viewer).get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == cast.doc_url + "#thread-abcdefghij123456"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_cannot_be_opened(cast: Cast) -> None:
    notification = make(cast, cast.editor)
    response = signed_in(cast.viewer).get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_from_the_page(cast: Cast) -> None:
    make(cast, cast.viewer)
    make(cast, cast.viewer)
    other = make(cast, cast.editor)
    client = signed_in(cast.viewer)
    assert client.get(reverse("notifications:read_all")).status_code == 405
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    assert not Notification.objects.filter(recipient=cast.viewer, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_the_settings_form_shows_and_saves_the_choice(cast: Cast) -> None:
    client = signed_in(cast.viewer)
    page = client.get(reverse("notifications:settings")).content.decode()
    assert checked(page) == "all"
    response = client.post(reverse("notifications:settings"), {"email": "mentions"})
    assert response.status_code == 302
    assert email_choice(user=cast.viewer) == EmailChoice.MENTIONS
    page = client.get(reverse("notifications:settings")).content.decode()
    assert "Notification settings saved." in page and checked(page) == "mentions"


def test_an_invalid_setting_is_refused_and_nothing_saved(cast: Cast) -> None:
    response = signed_in(cast.viewer).post(reverse("notifications:settings"), {"email": "hourly"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationSetting.objects.exists()


def test_the_settings_page_says_when_no_email_can_be_sent(cast: Cast) -> None:
    cast.viewer.email = ""
    cast.viewer.save()
    page = signed_in(cast.viewer).get(reverse("notifications:settings")).content.decode()
    assert "no email address" in page


@pytest.mark.parametrize("unread", [0, 3, 120])
def test_the_bell_shows_the_unread_count_on_every_page(cast: Cast, unread: int) -> None:
    for _ in range(unread):
        make(cast, cast.viewer)
    client = signed_in(cast.viewer)
    badge = {0: "", 3: ">3</span>", 120: ">99+</span>"}[unread]
    for url in (reverse("documents:list"), cast.doc_url, reverse("notifications:settings")):
        page = client.get(url).content.decode()
        assert "data-notifications" in page, url
        assert 'src="/static/' in page and "notifications.js" in page, url
        if unread:
            assert f"data-notif-badge{badge}" in page, url
            assert f'aria-label="Notifications, {unread} unread"' in page, url
        else:
            assert "data-notif-badge hidden" in page, url


def test_the_user_menu_links_to_the_settings(cast: Cast) -> None:
    page = signed_in(cast.viewer).get(reverse("documents:list")).content.decode()
    assert f'href="{reverse("notifications:settings")}"' in page
