"""The office app (docs/office.md)."""

from django.apps import AppConfig


class OfficeConfig(AppConfig):
    """Converters between documents and the files people exchange."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "office"

    def ready(self) -> None:
        """Register the PDF, Word and OpenDocument downloads with documents.export."""
        # Function-level (tests/test_architecture.py allowlist): office.formats
        # imports documents.export and so the models, not importable before ready().
        from office import formats

        formats.register()
