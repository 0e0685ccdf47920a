"""The image list in the admin: read-only (images change through documents)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from images.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Who uploaded what into which document, how big; nothing editable."""

    list_display = (
        "id",
        "document",
        "uploaded_by",
        "ext",
        "width",
        "height",
        "bytes",
        "created_at",
    )
    list_filter = ("ext",)
    list_select_related = ("document", "uploaded_by")
    search_fields = (
        "id",
        "document__title",
        "document__public_id",
        "uploaded_by__username",
        "sha256",
    )
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Image._meta.fields]
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Return False: images are uploaded into documents, not here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Return False: an image's row records what was stored."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Return False: sweep_images removes images no document uses."""
        return False
