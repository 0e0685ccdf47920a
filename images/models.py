"""The image row: one uploaded image of one document.

Files are content-addressed: ``blob`` is ``images/<sha256[:2]>/<sha256>.<ext>``
in the default storage, and every row with the same bytes shares that one
file. A row belongs to one document; copying an image into another document
makes a second row on the same blob (:func:`images.services.copy_images`).
The file is removed only when no row names it any more.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from documents.models import Document


class ImageType(models.TextChoices):
    """The stored formats (after re-encoding), by file extension."""

    PNG = "png", "PNG"
    JPG = "jpg", "JPEG"
    GIF = "gif", "GIF"
    WEBP = "webp", "WebP"


class Image(models.Model):
    """An image of a document, served at ``/media/i/<id>.<ext>`` to its viewers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="images")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    #: The storage name of the (shared) file.
    blob = models.CharField(max_length=200, db_index=True)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    ext = models.CharField(max_length=4, choices=ImageType.choices)
    #: Size of the stored file; what the quotas count, once per row.
    bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["document", "sha256"], name="images_doc_sha"),
            models.Index(fields=["uploaded_by", "created_at"], name="images_uploader"),
        ]

    def __str__(self) -> str:
        return f"{self.id}.{self.ext} ({self.width}×{self.height}, {self.bytes} bytes)"
