"""The images app (docs/images.md)."""

import uuid
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.urls import NoReverseMatch, reverse


def check_image_prefix(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse settings under which the content policy would refuse uploaded images' srcs."""
    prefix = str(settings.COLLABDOCS.get("IMAGE_PATH_PREFIX", "/media/"))
    try:
        sample = reverse("images:file", kwargs={"image_id": uuid.UUID(int=0), "ext": "png"})
    except NoReverseMatch:
        return [checks.Error("The images URLs are not installed.", id="images.E001")]
    if not sample.startswith(prefix):
        return [
            checks.Error(
                f"Uploaded images are served at {sample.rsplit('/', 1)[0]}/, outside "
                f"IMAGE_PATH_PREFIX {prefix!r}: the content policy would refuse every "
                "uploaded image.",
                hint="Set COLLABDOCS_IMAGE_PATH_PREFIX to /media/ (the default).",
                id="images.E002",
            )
        ]
    return []


class ImagesConfig(AppConfig):
    """Uploaded images: stored through Django's storage API, served only to viewers."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "images"

    def ready(self) -> None:
        """Release files of deleted images after commit; be the exports' image source."""
        from images import services  # reason: imports models, not ready at apps.py import

        services.connect()
        checks.register(check_image_prefix, checks.Tags.urls)
