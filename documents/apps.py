"""Documents app: models, sharing, versions, pages and admin."""
from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Configure the documents app."""

    name = "documents"
    verbose_name = "Documents"
