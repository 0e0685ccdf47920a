"""The bell's unread count, for the header every page includes."""

from __future__ import annotations

from typing import Any

from django import template

from notifications.selectors import notification_unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_unread(context: dict[str, Any]) -> int:
    """Return how many notifications the signed-in user has not read (0 if signed out)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return notification_unread_count(user=user)
