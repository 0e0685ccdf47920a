"""The office app (docs/office.md)."""

from django.apps import AppConfig


class OfficeConfig(AppConfig):
    """Converters between documents and the files people exchange."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "office"
