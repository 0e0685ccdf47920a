"""Email backends whose server fails: down, or refusing recipients, as smtplib does."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    """Refuse every message the way a server that is down makes smtplib refuse it."""

    attempts = 0

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        """Raise ``SMTPServerDisconnected`` (and count the attempt)."""
        EmailBackend.attempts += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """A server that is up but refuses the recipient of every message."""

    attempts = 0

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        """Raise ``SMTPRecipientsRefused`` (and count the attempt)."""
        RefusingBackend.attempts += 1
        recipients = [address for message in email_messages for address in message.to]
        raise smtplib.SMTPRecipientsRefused(
            {address: (550, b"No such mailbox") for address in recipients}
        )
