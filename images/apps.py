"""The images app (docs/images.md)."""

from django.apps import AppConfig


class ImagesConfig(AppConfig):
    """Uploaded images: stored through Django's storage API, served only to viewers."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "images"

    def ready(self) -> None:
        """Release files of deleted images after commit; be the exports' image source."""
        from images import services  # reason: imports models, not ready at apps.py import

        services.connect()
