"""The teams app."""

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    """Teams people make and run themselves; each is a ``django.contrib.auth`` group."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "teams"
