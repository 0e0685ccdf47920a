"""Notifications to people, and how each person wants to hear of them.

A :class:`Notification` is one thing that happened to one recipient about
one document (shared with you, mentioned, a reply, a suggestion decided).
It is made only through :func:`notifications.services.notify`, which
checks that the recipient may see the document; it is deleted with the
document (or the recipient). ``read_at`` is null while it is unread.

A :class:`NotificationSetting` row exists only for people who changed the
default (email for everything); its absence means :attr:`EmailChoice.ALL`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from documents.models import Document

#: Longest notification text kept (longer text is cut with an ellipsis).
TEXT_MAX_LENGTH = 300
#: Longest link kept: a path on this site, with its query and fragment.
URL_MAX_LENGTH = 500


class Kind(models.TextChoices):
    """What a notification is about."""

    SHARED = "shared", "Shared with you"
    MENTION = "mention", "Mentioned you"
    REPLY = "reply", "Replied in your thread"
    SUGGESTION_ACCEPTED = "suggestion_accepted", "Accepted your suggestion"
    SUGGESTION_REJECTED = "suggestion_rejected", "Rejected your suggestion"


class EmailChoice(models.TextChoices):
    """Which notifications a person also gets by email."""

    ALL = "all", "All notifications"
    MENTIONS = "mentions", "Only when someone mentions me"
    NONE = "none", "None"


class Notification(models.Model):
    """One event about one document, for one person."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who caused it; empty when that account is gone.",
    )
    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    url = models.CharField(max_length=URL_MAX_LENGTH, help_text="A path on this site.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell and the page: one person's latest, and their unread count.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_latest"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notif_recipient_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}: {self.text}"

    @property
    def is_read(self) -> bool:
        """Return whether the recipient has marked it read."""
        return self.read_at is not None


class NotificationSetting(models.Model):
    """A person's choice of notification emails (absent: all of them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_setting"
    )
    email = models.CharField(max_length=16, choices=EmailChoice.choices, default=EmailChoice.ALL)

    def __str__(self) -> str:
        return f"{self.user}: {self.get_email_display()}"
