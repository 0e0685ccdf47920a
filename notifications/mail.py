"""Notification emails: one plain-text message per notification, after commit.

Which notifications become email is the recipient's choice
(:class:`~notifications.models.EmailChoice`): all, mentions only, or none;
people without an email address get none. The message carries the
notification's text and an absolute link back to the place (``SITE_URL``
joined with the notification's path) and says where to change the choice.

Mail goes through :mod:`django.core.mail`, so the backend is Django's
``EMAIL_BACKEND`` (settings: console by default, SMTP when ``EMAIL_HOST``
is set, files or memory for tests).

Failure modes:

* the mail server is down, slow (``EMAIL_TIMEOUT``) or refuses the
  message: the error is logged with the notification's id and swallowed.
  The notification itself is committed already and stays in the list, so
  nothing the person relies on is lost; the email is not retried;
* the server is unreachable (connection refused, timed out, dropped):
  besides that email, the emails due in the next ``PAUSE_SECONDS`` are
  skipped (logged), so that a share with a group of 200 does not wait
  200 timeouts. A refused message (a bad recipient or sender, a rejected
  body) is about that message only and pauses nothing;
* the notification was deleted before the callback ran (its document was
  deleted in the same breath): nothing is sent.
"""

from __future__ import annotations

import logging
import smtplib
import time

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from documents.people import display_name
from notifications.models import EmailChoice, Kind, Notification
from notifications.selectors import email_choice

logger = logging.getLogger(__name__)

#: Longest subject line (the notification text is cut to fit).
SUBJECT_MAX_LENGTH = 150
#: Seconds emails are skipped after the mail server could not be reached.
PAUSE_SECONDS = 30.0

#: Errors about one message, not about the server: they pause nothing.
_MESSAGE_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    ValueError,  # e.g. a header Django refuses to encode
)


class MailPause:
    """When emails may be tried again after the server was unreachable.

    Process-wide and only ever moved forward; a float assignment is atomic,
    so request threads need no lock to read or set it.
    """

    until = 0.0

    @classmethod
    def active(cls) -> bool:
        """Return whether emails are being skipped now."""
        return time.monotonic() < cls.until

    @classmethod
    def start(cls) -> None:
        """Skip emails for the next ``PAUSE_SECONDS``."""
        cls.until = time.monotonic() + PAUSE_SECONDS

    @classmethod
    def clear(cls) -> None:
        """Try the next email again (tests; an operator fixing the server may wait)."""
        cls.until = 0.0


def wants_email(*, choice: EmailChoice, kind: str) -> bool:
    """Return whether a person with ``choice`` gets an email for ``kind``."""
    if choice == EmailChoice.ALL:
        return True
    if choice == EmailChoice.MENTIONS:
        return kind == Kind.MENTION
    return False


def absolute_url(path: str) -> str:
    """Return ``path`` (a path on this site) as a link that works from a mail reader."""
    return settings.SITE_URL.rstrip("/") + path


def _subject(text: str) -> str:
    # Headers are one line: a newline would be refused by Django anyway.
    line = " ".join(text.split())
    if len(line) > SUBJECT_MAX_LENGTH:
        line = line[: SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    return f"[CollabDocs] {line}"


def message_body(notification: Notification) -> str:
    """Return the plain-text body of the notification's email."""
    name = display_name(notification.recipient)
    return (
        f"Hi {name},\n\n"
        f"{notification.text}\n\n"
        f"Document: {notification.document.title}\n"
        f"Open it: {absolute_url(notification.url)}\n\n"
        "--\n"
        "You get this email because of your notification settings in CollabDocs.\n"
        f"Change them: {absolute_url(reverse('notifications:settings'))}\n"
    )


def send_notification_email(notification_id: int) -> bool:
    """Email one notification to its recipient if their choice asks for it.

    Meant to run after the notification's transaction commits. Return
    whether a message was handed to the backend; never raise for a mail
    failure (module docstring).
    """
    notification = (
        Notification.objects.select_related("recipient", "document")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return False
    recipient = notification.recipient
    address = (getattr(recipient, "email", "") or "").strip()
    if not address or not recipient.is_active:
        return False
    if not wants_email(choice=email_choice(user=recipient), kind=notification.kind):
        return False
    if MailPause.active():
        logger.warning(
            "skipped emailing notification %s (%s): the mail server was unreachable "
            "less than %d s ago",
            notification_id,
            notification.kind,
            PAUSE_SECONDS,
        )
        return False
    try:
        send_mail(
            subject=_subject(notification.text),
            message=message_body(notification),
            from_email=None,  # DEFAULT_FROM_EMAIL
            recipient_list=[address],
        )
    except Exception as exc:  # noqa: BLE001 - a mail failure must never fail the change that caused it
        if not isinstance(exc, _MESSAGE_ERRORS):
            MailPause.start()
        logger.warning(
            "could not email notification %s (%s): %s: %s",
            notification_id,
            notification.kind,
            type(exc).__name__,
            exc,
        )
        return False
    return True
