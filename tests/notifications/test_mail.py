"""Notification emails: who gets one (per their setting), what it says, and that
a broken mail server never costs the change that caused the email.

Mail goes to Django's locmem outbox (the test settings' backend). Failure
modes covered: the setting "mentions only" and "none"; an account without an
email address; the notification deleted before the email was due; the mail
server refusing (the share through the JSON API still answers 200, the
notification is kept, the failure is logged).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from notifications import mail as notification_mail
from notifications.mail import MailPause, send_notification_email
from notifications.models import EmailChoice, Kind, Notification
from notifications.services import notification_setting_set, notify
from tests.notifications import failing_mail
from tests.notifications.conftest import Cast


def tell(cast: Cast, recipient: Any, kind: str = Kind.REPLY) -> Notification | None:
    """Notify ``recipient`` about a reply by the editor, and commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return notify(
            recipient=recipient,
            kind=kind,
            document=cast.doc,
            actor=cast.editor,
            text=f"Eddie replied in your thread on “{cast.doc.title}”: agreed",
            url=cast.doc_url + "#thread-abcdefghij123456",
        )


@pytest.fixture(autouse=True)
def site_url(settings: Any) -> str:
    """Serve the site at a known address, as COLLABDOCS_SITE_URL would."""
    settings.SITE_URL = "https://docs.example.com"
    return settings.SITE_URL


def test_by_default_every_notification_is_emailed_with_a_link_back(cast: Cast) -> None:
    assert tell(cast, cast.viewer) is not None
    [message] = mail.outbox
    assert message.to == ["vic@example.com"]
    assert (
        message.subject == "[CollabDocs] Eddie replied in your thread on “Quarterly plan”: agreed"
    )
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", None)
    assert "Eddie replied in your thread" in message.body
    link = f"https://docs.example.com/d/{cast.doc.public_id}/#thread-abcdefghij123456"
    assert f"Open it: {link}\n" in message.body
    assert "https://docs.example.com/settings/notifications/" in message.body


def test_nothing_is_mailed_before_the_commit(cast: Cast) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        notify(
            recipient=cast.viewer,
            kind=Kind.REPLY,
            document=cast.doc,
            actor=cast.editor,
            text="Eddie replied",
            url=cast.doc_url,
        )
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("choice", "emailed_kinds"),
    [
        (EmailChoice.ALL, set(Kind.values)),
        (EmailChoice.MENTIONS, {"mention"}),
        (EmailChoice.NONE, set()),
    ],
)
def test_each_setting_emails_exactly_its_kinds(
    cast: Cast, choice: EmailChoice, emailed_kinds: set[str]
) -> None:
    notification_setting_set(user=cast.viewer, email=choice)
    emailed = set()
    for kind in Kind.values:
        before = len(mail.outbox)
        assert tell(cast, cast.viewer, kind=kind) is not None, "the bell hears of everything"
        if len(mail.outbox) > before:
            emailed.add(kind)
    assert emailed == emailed_kinds
    assert Notification.objects.filter(recipient=cast.viewer).count() == len(Kind.values)


def test_an_account_without_an_address_gets_no_email(cast: Cast) -> None:
    cast.viewer.email = ""
    cast.viewer.save()
    assert tell(cast, cast.viewer) is not None
    assert mail.outbox == []


def test_a_notification_deleted_before_its_email_is_due_sends_nothing(cast: Cast) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False):
        notification = notify(
            recipient=cast.viewer,
            kind=Kind.REPLY,
            document=cast.doc,
            actor=cast.editor,
            text="Eddie replied",
            url=cast.doc_url,
        )
    assert notification is not None
    Notification.objects.filter(pk=notification.pk).delete()
    assert send_notification_email(notification.pk) is False
    assert mail.outbox == []


def test_a_failing_mail_server_costs_the_email_only(
    cast: Cast, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.failing_mail.EmailBackend"
    failing_mail.EmailBackend.attempts = 0
    client = Client()
    client.force_login(cast.owner)
    url = reverse("documents:share", args=[cast.doc.public_id])
    with caplog.at_level(logging.WARNING), TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            url,
            json.dumps({"identifier": "stan", "role": "commenter"}),
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert failing_mail.EmailBackend.attempts == 1
    kept = Notification.objects.get(recipient=cast.stranger)
    assert kept.kind == "shared" and kept.read_at is None
    assert f"could not email notification {kept.pk} (shared)" in caplog.text
    assert "SMTPServerDisconnected" in caplog.text


def test_an_unreachable_server_pauses_emails_for_a_while(
    cast: Cast, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group share must not wait one timeout per member while the server is away."""
    settings.EMAIL_BACKEND = "tests.notifications.failing_mail.EmailBackend"
    failing_mail.EmailBackend.attempts = 0
    with caplog.at_level(logging.WARNING):
        for person in (cast.viewer, cast.owner, cast.commenter):
            assert tell(cast, person) is not None, "the bell hears of it all the same"
    assert failing_mail.EmailBackend.attempts == 1
    assert caplog.text.count("skipped emailing notification") == 2
    # Once the pause is over the next email is tried again.
    now = notification_mail.time.monotonic()
    monkeypatch.setattr(
        notification_mail.time, "monotonic", lambda: now + notification_mail.PAUSE_SECONDS + 1
    )
    tell(cast, cast.member)
    assert failing_mail.EmailBackend.attempts == 2


def test_a_refused_recipient_pauses_nothing(
    cast: Cast, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMAIL_BACKEND = "tests.notifications.failing_mail.RefusingBackend"
    failing_mail.RefusingBackend.attempts = 0
    with caplog.at_level(logging.WARNING):
        tell(cast, cast.viewer)
        tell(cast, cast.owner)
    assert failing_mail.RefusingBackend.attempts == 2
    assert "SMTPRecipientsRefused" in caplog.text and "skipped" not in caplog.text
    assert not MailPause.active()
