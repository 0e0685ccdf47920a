"""Reads: a person's notifications and their email choice."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from notifications.models import EmailChoice, Notification, NotificationSetting


def notification_list(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    """Return the user's notifications, newest first, with what the JSON needs."""
    return Notification.objects.filter(recipient=user).select_related("document", "actor")


def notification_unread_count(*, user: AbstractBaseUser) -> int:
    """Return how many of the user's notifications are unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def email_choice(*, user: AbstractBaseUser) -> EmailChoice:
    """Return which notifications the user also gets by email (default: all)."""
    value = NotificationSetting.objects.filter(user=user).values_list("email", flat=True).first()
    return EmailChoice(value or EmailChoice.ALL)
