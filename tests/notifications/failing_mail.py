"""An email backend whose server is down: every send raises, as smtplib does."""

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
