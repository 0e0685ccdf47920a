"""The notifications app."""

from django.apps import AppConfig

from documents.signals import document_shared


class NotificationsConfig(AppConfig):
    """Notifications to people about documents they can see."""

    name = "notifications"

    def ready(self) -> None:
        """Hear about shares (documents cannot import this app: it is a layer above)."""
        # Imported here, not at the top: receivers import models (the app's
        # and documents'), which Django allows only once every app is loaded.
        from notifications.receivers import on_document_shared

        document_shared.connect(on_document_shared, dispatch_uid="notifications.shared")
