"""URLs of the images app (namespace ``images``).

The file's address is the embed's src (contract.md): ``/media/i/<uuid>.<ext>``,
under the content policy's ``IMAGE_PATH_PREFIX``.
"""

from django.urls import URLPattern, path, register_converter

from images import api, views


class ImageExtConverter:
    """The stored images' extensions."""

    regex = "png|jpg|gif|webp"

    def to_python(self, value: str) -> str:
        """Return the extension as is."""
        return value

    def to_url(self, value: str) -> str:
        """Return the extension as is."""
        return value


register_converter(ImageExtConverter, "imageext")

app_name = "images"

urlpatterns: list[URLPattern] = [
    path("media/i/<uuid:image_id>.<imageext:ext>", views.image_file, name="file"),
    path("api/docs/<uuid:public_id>/images", api.upload, name="upload"),
    path("api/docs/<uuid:public_id>/images/copy", api.copy, name="copy"),
]
