"""Import endpoints: a file into a new document, or converted for "Insert file…".

``POST /api/import`` (multipart ``file``, optional ``title``) creates a
document owned by the person, holding the file's content as its first
version, and answers 201 ``{"id", "url"}``; it is throttled like creating
a document. ``POST /api/docs/<id>/import/convert`` (multipart ``file``;
edit permission) answers ``{"delta", "title", "warnings"}``: the content
for the editor to insert at the cursor as the person's own change, its
images already stored into that document.

Refusals are JSON ``{"error": code, "message": <for people>}`` and store
nothing: the conversion runs in one transaction (the new document and the
images' rows roll back together) and the files of images stored before a
refusal are released again (:func:`images.services.release_blob` deletes
a file only if no row names it, under the file's lock).

===================  ======  ==============================================
code                 status  when
===================  ======  ==============================================
not_signed_in        401     no session
not_found            404     no such document, or one the person cannot see
forbidden            403     the person may not edit the document
method_not_allowed   405     not a POST
throttled            429     too many documents created lately (import), or
                             images added lately (convert)
bad_request          400     no file in the request, or a title too long
unsupported_format   415     not DOCX, ODT, HTML or Markdown
too_large            413     the file is over ``IMPORT_MAX_BYTES``; or (convert)
                             its content is over what one edit may carry
zip_bomb             413     expands past ``IMPORT_MAX_EXPANDED_BYTES``
too_long             413     over ``MAX_DOC_LENGTH`` (convert: with the
                             document's own text)
macros               400     a macro-enabled file
bad_file             400     damaged, encrypted, or with entity declarations
image_rejected       400     an image too large, too many pixels, over quota;
                             more than MAX_IMAGES pictures
===================  ======  ==============================================
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from documents import services as document_services
from documents import throttle
from documents.content import document_state
from documents.exceptions import DocumentNotFound
from documents.links import session_link_token
from documents.models import Document
from documents.selectors import document_get_for_user
from images import services as image_services
from images import throttle as image_throttle
from images.exceptions import ImageRejected
from office.importers import Converted, ImportRefused, convert
from realtime.ot import ContentPolicy, utf16_len

logger = logging.getLogger(__name__)

#: Multipart overhead allowed above IMPORT_MAX_BYTES before the body is parsed.
MULTIPART_SLACK = 64 * 1024
#: Image refusals that leave the image out (a warning) rather than stop the import.
_SKIPPED_IMAGE_CODES = frozenset({"unsupported_type", "not_an_image"})
#: Pictures one import may store (each is checked, re-encoded and counted).
MAX_IMAGES = 500
#: Room kept in a frame for the op's envelope (type, ids, revision).
_FRAME_ENVELOPE = 4 * 1024


def refusal(code: str, message: str, status: int) -> JsonResponse:
    """Return a JSON refusal ``{"error": code, "message": message}``."""
    return JsonResponse({"error": code, "message": message}, status=status)


def _policy() -> ContentPolicy:
    # The deployment's content policy (realtime.content_policy builds the
    # same from the same settings; office sits below realtime).
    config = settings.COLLABDOCS
    return ContentPolicy(
        image_path_prefix=config.get("IMAGE_PATH_PREFIX", "/media/"),
        image_data_max_bytes=int(config.get("IMAGE_DATA_MAX_BYTES", 256 * 1024)),
        video_hosts=frozenset(host.lower() for host in config.get("VIDEO_HOSTS", ())),
    )


class _ImageStore:
    """``store_image`` for the importers: images of ``document`` by ``user``."""

    def __init__(self, document: Document, user: Any) -> None:
        self.document = document
        self.user = user
        self.stored: list[tuple[str, str]] = []  # (blob, sha256) to release on refusal

    def __call__(self, data: bytes, filename: str) -> str | None:
        if len(self.stored) >= MAX_IMAGES:
            raise ImportRefused(
                "image_rejected",
                f"The file holds more than {MAX_IMAGES} pictures; import at most that many "
                "at once.",
            )
        try:
            image = image_services.store_image(
                document=self.document, user=self.user, data=data, filename=filename
            )
        except ImageRejected as exc:
            if exc.code in _SKIPPED_IMAGE_CODES:
                return None
            raise ImportRefused(
                "image_rejected", f"An image in the file was refused: {exc.message}"
            ) from None
        self.stored.append((image.blob, image.sha256))
        return image_services.src_of(image)

    def release(self) -> None:
        """Delete the files of images whose rows were rolled back (if nobody else names them)."""
        for blob, sha in self.stored:
            try:
                image_services.release_blob(blob, sha)
            except Exception:  # any storage failure: sweep_images removes it later
                logger.exception("imported image file %s not released", blob)


def _read_upload(request: HttpRequest) -> tuple[bytes, str]:
    limit = int(settings.COLLABDOCS["IMPORT_MAX_BYTES"])
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + MULTIPART_SLACK:
        raise ImportRefused(
            "too_large",
            f"The file is too large; files of at most {limit // (1024 * 1024)} MB can be imported.",
        )
    upload = request.FILES.get("file")
    if upload is None:
        raise _NoFile
    if upload.size is not None and upload.size > limit:
        raise ImportRefused(
            "too_large",
            f"The file is too large; files of at most {limit // (1024 * 1024)} MB can be imported.",
        )
    return upload.read(limit + 1), upload.name or ""


class _NoFile(Exception):
    """The request carries no ``file`` field."""


def _convert(data: bytes, filename: str, store: _ImageStore, *, max_length: int) -> Converted:
    config = settings.COLLABDOCS
    started = time.perf_counter()
    converted = convert(
        data,
        filename,
        store_image=store,
        max_bytes=int(config["IMPORT_MAX_BYTES"]),
        max_expanded=int(config["IMPORT_MAX_EXPANDED_BYTES"]),
        max_length=max_length,
        policy=_policy(),
    )
    logger.info(
        "imported %s (%s, %d bytes) in %.0f ms: %d ops, %d images",
        filename[:100],
        converted.kind,
        len(data),
        (time.perf_counter() - started) * 1000,
        len(converted.delta),
        len(store.stored),
    )
    return converted


def _guarded(request: HttpRequest) -> JsonResponse | None:
    if not request.user.is_authenticated:
        return refusal("not_signed_in", "Sign in to continue.", 401)
    if request.method != "POST":
        response = refusal("method_not_allowed", "Use POST.", 405)
        response["Allow"] = "POST"
        return response
    return None


def import_new(request: HttpRequest) -> JsonResponse:
    """Create a document from the uploaded file (201 ``{"id", "url"}``)."""
    if (denied := _guarded(request)) is not None:
        return denied
    wait = throttle.hit(request, throttle.DOCUMENT)
    if wait is not None:
        response = refusal("throttled", throttle.DOCUMENT.message + " Try again later.", 429)
        response["Retry-After"] = str(wait)
        return response
    try:
        data, filename = _read_upload(request)
    except _NoFile:
        return refusal("bad_request", "Choose a file to import.", 400)
    except ImportRefused as exc:
        return refusal(exc.code, exc.message, exc.status)
    asked_title = str(request.POST.get("title", "")).strip()
    stores: list[_ImageStore] = []
    converted: list[Converted] = []

    def content(document: Document) -> list[dict[str, Any]]:
        store = _ImageStore(document, request.user)
        stores.append(store)
        result = _convert(
            data, filename, store, max_length=int(settings.COLLABDOCS["MAX_DOC_LENGTH"])
        )
        converted.append(result)
        document.title = asked_title or result.title or document.title
        return result.delta

    try:
        document = document_services.document_create(owner=request.user, content=content)
    except ImportRefused as exc:
        for store in stores:
            store.release()
        return refusal(exc.code, exc.message, exc.status)
    except ValidationError as exc:  # the title the person gave
        for store in stores:
            store.release()
        return refusal("bad_request", " ".join(exc.messages), 400)
    except Exception:
        for store in stores:
            store.release()
        raise
    url = reverse("documents:detail", kwargs={"public_id": document.public_id})
    warnings = converted[0].warnings if converted else []
    if warnings:
        # Shown on the document's page, which the list opens next.
        messages.info(request, f"Imported “{filename[:100]}”. " + " ".join(warnings))
    return JsonResponse(
        {
            "id": str(document.public_id),
            "url": url,
            "title": document.title,
            "warnings": warnings,
        },
        status=201,
    )


def _content_length(document: Document) -> int:
    state = document_state(document)
    return sum(
        utf16_len(op["insert"]) if isinstance(op["insert"], str) else 1 for op in state.content
    )


def import_convert(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Convert the uploaded file for "Insert file…" into document ``public_id``."""
    if (denied := _guarded(request)) is not None:
        return denied
    try:
        document, access = document_get_for_user(
            user=request.user,
            public_id=public_id,
            link_token=session_link_token(request.session, public_id),
        )
    except DocumentNotFound:
        return refusal("not_found", "Document not found.", 404)
    if not access.can_edit:
        return refusal("forbidden", "Only editors can insert files into this document.", 403)
    # A file can carry many pictures: converting counts against the image
    # throttle (one request), as an upload does.
    wait = image_throttle.wait(request)
    if wait is not None:
        response = refusal("throttled", image_throttle.IMAGE.message, 429)
        response["Retry-After"] = str(wait)
        return response
    try:
        data, filename = _read_upload(request)
    except _NoFile:
        return refusal("bad_request", "Choose a file to insert.", 400)
    except ImportRefused as exc:
        return refusal(exc.code, exc.message, exc.status)
    config = settings.COLLABDOCS
    room = int(config["MAX_DOC_LENGTH"]) - _content_length(document)
    store = _ImageStore(document, request.user)
    try:
        with transaction.atomic():
            if room <= 1:
                raise ImportRefused(
                    "too_long", "The document is already as long as a document may be."
                )
            converted = _convert(data, filename, store, max_length=room)
            frame = len(json.dumps(converted.delta, ensure_ascii=False).encode("utf-8"))
            if frame > int(config["MAX_FRAME_BYTES"]) - _FRAME_ENVELOPE:
                raise ImportRefused(
                    "too_large",
                    f"The file’s content ({frame // 1024} KB) is more than one edit may "
                    f"carry ({int(config['MAX_FRAME_BYTES']) // 1024} KB). Import it as a "
                    "new document instead.",
                )
    except ImportRefused as exc:
        store.release()
        return refusal(exc.code, exc.message, exc.status)
    except Exception:
        store.release()
        raise
    return JsonResponse(
        {"delta": converted.delta, "title": converted.title, "warnings": converted.warnings}
    )
