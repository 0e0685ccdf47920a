"""Documents app: models, sharing, versions, pages and admin."""
from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Configure the documents app."""

    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        """Connect the receivers that carry every loss of access to open sockets."""
        from documents import revocation

        revocation.connect()
