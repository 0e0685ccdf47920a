"""The notifications app."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications to people about documents they can see."""

    name = "notifications"
