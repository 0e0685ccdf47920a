"""Documents app: models, sharing, versions, pages and admin."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Configure the documents app."""

    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        """Connect the receivers that carry every loss of access to open sockets."""
        # Not at the top: revocation imports models (guardian's, sessions'),
        # which Django's app registry only allows once every app is loaded.
        from documents import revocation

        revocation.connect()
