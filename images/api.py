"""JSON endpoints of the images app: upload, and copy between documents.

``POST /api/docs/<id>/images`` (multipart field ``file``) and
``POST /api/docs/<id>/images/copy`` (JSON ``{"srcs": [...]}``), for people
who may edit or comment on the document. Every refusal is JSON
``{"error": <code>, "message": <for people>}`` and changes nothing:

===================  ======  ==============================================
code                 status  when
===================  ======  ==============================================
not_signed_in        401     no session
not_found            404     no such document, or one the person cannot see
forbidden            403     the person may only view
method_not_allowed   405     not a POST
throttled            429     too many images lately (``Retry-After``)
too_large            413     the upload is over ``IMAGE_MAX_BYTES``
quota_exceeded       413     the document's or the person's quota is used up
unsupported_type     415     an image or file type not accepted
not_an_image         400     not an image, or a damaged one
too_many_pixels      400     over ``IMAGE_MAX_PIXELS`` (decompression bomb)
bad_request          400     no file, or a malformed copy request
unavailable          503     the storage failed (nothing is stored)
===================  ======  ==============================================
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from documents.api import BadRequest, json_object
from documents.exceptions import DocumentNotFound
from documents.links import session_link_token
from documents.models import Document
from documents.selectors import document_get_for_user
from images import services, throttle
from images.exceptions import ImageRejected

logger = logging.getLogger(__name__)

#: Multipart overhead allowed above IMAGE_MAX_BYTES before the body is read.
MULTIPART_SLACK = 64 * 1024
#: Largest copy request body.
MAX_COPY_BODY = 256 * 1024

STATUS = {
    "too_large": 413,
    "quota_exceeded": 413,
    "unsupported_type": 415,
    "not_an_image": 400,
    "too_many_pixels": 400,
}

View = Callable[..., JsonResponse]


def refusal(code: str, message: str, status: int) -> JsonResponse:
    """Return a JSON refusal ``{"error": code, "message": message}``."""
    return JsonResponse({"error": code, "message": message}, status=status)


def _endpoint(view: View) -> View:
    """Wrap a POST view: sign-in, method, the document and the right to change it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
        if not request.user.is_authenticated:
            return refusal("not_signed_in", "Sign in to continue.", 401)
        if request.method != "POST":
            response = refusal("method_not_allowed", "Use POST.", 405)
            response["Allow"] = "POST"
            return response
        try:
            document, access = document_get_for_user(
                user=request.user,
                public_id=public_id,
                link_token=session_link_token(request.session, public_id),
            )
        except DocumentNotFound:
            return refusal("not_found", "Document not found.", 404)
        if not access.can_comment:
            return refusal("forbidden", "You can only view this document.", 403)
        wait = throttle.wait(request)
        if wait is not None:
            response = refusal("throttled", throttle.IMAGE.message, 429)
            response["Retry-After"] = str(wait)
            return response
        try:
            return view(request, document)
        except DocumentNotFound:
            # Deleted forever while the upload was being checked.
            return refusal("not_found", "Document not found.", 404)
        except ImageRejected as exc:
            return refusal(exc.code, exc.message, STATUS.get(exc.code, 400))
        except BadRequest as exc:
            return refusal("bad_request", str(exc), 400)
        except OSError:
            # The storage (disk, S3) failed: the transaction rolled back, so
            # no row names a file; one written before the failure is swept.
            logger.exception("image storage unavailable for document %s", public_id)
            return refusal("unavailable", "Images can’t be stored right now; try again.", 503)

    return wrapper


def _too_large(max_bytes: int) -> JsonResponse:
    return refusal(
        "too_large",
        f"This image is too large; the most allowed is {max_bytes / 1048576:.1f} MB.",
        413,
    )


@_endpoint
def upload(request: HttpRequest, document: Document) -> JsonResponse:
    """Store the uploaded ``file`` as an image of the document; answer its src (201)."""
    max_bytes = int(settings.COLLABDOCS["IMAGE_MAX_BYTES"])
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes + MULTIPART_SLACK:
        # Refused before the body is parsed. Django's ASGI handler has
        # already spooled it to a temporary file: only a proxy's limit stops
        # an oversized body at the door (docs/images.md).
        return _too_large(max_bytes)
    upload = request.FILES.get("file")
    if upload is None:
        raise BadRequest("Send the image in the multipart field “file”.")
    if upload.size is not None and upload.size > max_bytes:
        return _too_large(max_bytes)
    data = upload.read(max_bytes + 1)
    image = services.store_image(
        document=document, user=request.user, data=data, filename=upload.name or ""
    )
    return JsonResponse(
        {
            "src": services.src_of(image),
            "width": image.width,
            "height": image.height,
            "bytes": image.bytes,
            "type": image.content_type,
        },
        status=201,
    )


def _srcs(data: dict[str, Any]) -> list[str]:
    srcs = data.get("srcs")
    if not isinstance(srcs, list) or not all(isinstance(src, str) for src in srcs):
        raise BadRequest("“srcs” must be a list of image addresses.")
    if len(srcs) > services.MAX_COPY_SRCS:
        raise BadRequest(f"Copy at most {services.MAX_COPY_SRCS} images at a time.")
    return srcs


@_endpoint
def copy(request: HttpRequest, document: Document) -> JsonResponse:
    """Make images of other documents the person can view images of this one."""
    srcs = _srcs(json_object(request, required=True, max_bytes=MAX_COPY_BODY))
    result = services.copy_images(
        document=document,
        user=request.user,
        srcs=srcs,
        link_token_for=lambda public_id: session_link_token(request.session, public_id),
        host=request.get_host(),
    )
    return JsonResponse({"map": result.map, "refused": result.refused})
