"""The admin: notifications are a record (list, filter, delete; never add or
edit), email choices are editable.

Failure modes covered: staff forging a notification (no add page) or
rewriting one (every field read-only).
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from notifications.models import Kind, Notification, NotificationSetting
from tests.notifications.conftest import Cast


def superuser_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_notifications_are_listed_and_filtered_but_never_added(cast: Cast, make_user: Any) -> None:
    Notification.objects.create(
        recipient=cast.viewer,
        kind=Kind.MENTION,
        document=cast.doc,
        actor=cast.owner,
        text="Olivia mentioned you",
        url=cast.doc_url,
    )
    client = superuser_client(make_user)
    listing = client.get(
        reverse("admin:notifications_notification_changelist"), {"kind": "mention"}
    )
    assert listing.status_code == 200 and "Olivia mentioned you" in listing.content.decode()
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403


def test_a_notification_cannot_be_rewritten(cast: Cast, make_user: Any) -> None:
    notification = Notification.objects.create(
        recipient=cast.viewer,
        kind=Kind.REPLY,
        document=cast.doc,
        actor=cast.owner,
        text="Olivia replied",
        url=cast.doc_url,
    )
    client = superuser_client(make_user)
    url = reverse("admin:notifications_notification_change", args=[notification.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"text": "Forged", "url": "https://evil.example/", "kind": "shared"})
    notification.refresh_from_db()
    assert (notification.text, notification.url, notification.kind) == (
        "Olivia replied",
        cast.doc_url,
        "reply",
    )


def test_email_choices_are_editable(cast: Cast, make_user: Any) -> None:
    setting = NotificationSetting.objects.create(user=cast.viewer, email="none")
    client = superuser_client(make_user)
    url = reverse("admin:notifications_notificationsetting_change", args=[setting.pk])
    response = client.post(url, {"user": cast.viewer.pk, "email": "mentions"})
    assert response.status_code == 302, response.content[:2000]
    setting.refresh_from_db()
    assert setting.email == "mentions"
