"""The access-checked image file: ``GET /media/i/<uuid>.<ext>``.

Answered only to people who can view the image's document right now (the
share link remembered in the session counts; a trashed document's images
only to its owner, as the document itself). Anyone else, signed in or not,
gets the same 404 page as for a document they cannot see: whether an image
exists is not revealed. Files are immutable (content-addressed), so the
answer may be cached for a year, privately (never by a shared cache: the
next person may not be allowed), with the file's hash as ETag; a matching
``If-None-Match`` gets 304 after the same access check.
"""

from __future__ import annotations

import logging
import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from documents.links import session_link_token
from documents.selectors import document_access
from documents.views import not_found
from images.models import Image

logger = logging.getLogger(__name__)

CACHE_CONTROL = "private, max-age=31536000, immutable"


def _headers(response: HttpResponse, image: Image) -> HttpResponse:
    response["Cache-Control"] = CACHE_CONTROL
    response["ETag"] = f'"{image.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own (not in a page), the file is still only an image.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_vary_headers(response, ["Cookie"])
    return response


def _etag_matches(request: HttpRequest, image: Image) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return f'"{image.sha256}"' in tags or "*" in tags


@require_safe
def image_file(request: HttpRequest, image_id: uuid.UUID, ext: str) -> HttpResponse:
    """Return the image's file to a viewer of its document; else the document's 404."""
    image = Image.objects.select_related("document").filter(pk=image_id, ext=ext).first()
    if image is None:
        return not_found(request)
    document = image.document
    access = document_access(
        user=request.user,
        document=document,
        link_token=session_link_token(request.session, document.public_id),
    )
    if not access.can_view:
        return not_found(request)
    if _etag_matches(request, image):
        return _headers(HttpResponseNotModified(), image)
    try:
        handle = default_storage.open(image.blob, "rb")
    except OSError:
        logger.error("image %s: its file %s is missing from storage", image.id, image.blob)
        return not_found(request)
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Length"] = str(image.bytes)
    return _headers(response, image)
