"""Store, copy, find and read images; remove files nobody names any more.

The Python API other apps use (contract.md "Images"):

* :func:`store_image` checks and re-encodes bytes
  (:func:`images.validation.clean_image`), accounts them against the quotas
  and stores them as an image of a document; it raises
  :class:`ImageRejected` (``code``, ``message``) and stores nothing then.
* :func:`src_of` is the embed's src, ``/media/i/<uuid>.<ext>``;
  :func:`image_for_src` finds an image *of one document* from a src;
  :func:`read_image` returns its bytes.
* :func:`copy_images` makes images other documents hold (that the person can
  view) images of a target document, on the same files.
* :func:`export_image` is the exports' image source
  (``documents.export.install_image_source``), installed by
  :meth:`images.apps.ImagesConfig.ready` through :func:`connect`.

Files are content-addressed and shared (:mod:`images.models`). Two rules keep
a file present while a row names it, across processes: a file is written
(if missing) and its row inserted under a transaction-scoped PostgreSQL
advisory lock on its hash, and a file is deleted only under that same lock
after checking that no row names it. Deleting rows (a document deleted
forever, the sweep) queues the check after commit (:func:`_image_deleted`).
A file left without a row by a crash (a row never committed, a storage
error while deleting) is what ``sweep_images`` removes later.

Quotas count the stored bytes once per row: an image copied into three
documents counts three times, though it is one file. Uploads to one
document and by one person are serialised (row locks on the document and
the user), so two parallel uploads cannot both slip under a quota.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.signals import post_delete
from django.urls import Resolver404, resolve, reverse

from documents import copying, export
from documents.exceptions import DocumentNotFound
from documents.models import Document
from documents.selectors import AnyUser, document_access
from images.exceptions import ImageRejected
from images.models import Image
from images.validation import clean_image

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_COPY_SRCS",
    "CopyResult",
    "ImageRejected",
    "connect",
    "copy_images",
    "export_image",
    "image_for_src",
    "read_image",
    "release_blob",
    "src_of",
    "store_image",
]

#: The most srcs one copy request may name.
MAX_COPY_SRCS = 200
#: The URL name of the access-checked file view.
FILE_VIEW = "images:file"
#: First key of the two-key advisory locks on a file's hash ("IM").
_BLOB_LOCK_SPACE = 0x494D


def _config() -> dict[str, Any]:
    return dict(settings.COLLABDOCS)


def _mb(size: int) -> str:
    return f"{size / 1048576:.1f} MB"


# Files ------------------------------------------------------------------


def blob_name(sha256: str, ext: str) -> str:
    """Return the storage name of the file with these bytes."""
    return f"images/{sha256[:2]}/{sha256}.{ext}"


@contextmanager
def _blob_lock(sha256: str) -> Iterator[None]:
    """Hold the advisory lock on one file's hash until the transaction ends.

    Must run inside ``transaction.atomic``. SQLite (``make run``) serialises
    writers itself, so no lock is needed there.
    """
    if connection.vendor == "postgresql":
        key = [_BLOB_LOCK_SPACE, int(sha256[:8], 16) - 0x80000000]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", key)
    yield


def _ensure_blob(name: str, data: bytes) -> None:
    if default_storage.exists(name):
        return
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        # Written meanwhile by another process (only possible without the
        # advisory lock): the bytes are the same, keep the canonical name.
        default_storage.delete(saved)


def release_blob(name: str, sha256: str) -> bool:
    """Delete the file ``name`` if no image row names it; return whether it was deleted."""
    with transaction.atomic(), _blob_lock(sha256):
        if Image.objects.filter(blob=name).exists():
            return False
        default_storage.delete(name)
    return True


def _image_deleted(sender: type[Image], instance: Image, **kwargs: Any) -> None:
    """After the deleting transaction commits, delete the row's file if it was the last."""
    name, sha = instance.blob, instance.sha256

    def release() -> None:
        try:
            release_blob(name, sha)
        except Exception:  # any storage failure: the sweep retries later
            logger.exception("image file %s not deleted; sweep_images will retry", name)

    transaction.on_commit(release)


# Storing ----------------------------------------------------------------


def _used_bytes(**filters: Any) -> int:
    return int(Image.objects.filter(**filters).aggregate(total=Sum("bytes"))["total"] or 0)


def _check_quotas(*, document: Document, user: AnyUser | None, adding: int) -> None:
    config = _config()
    doc_quota = int(config["IMAGE_DOC_QUOTA_BYTES"])
    used = _used_bytes(document=document)
    if used + adding > doc_quota:
        raise ImageRejected(
            "quota_exceeded",
            f"This document’s images would take more than its {_mb(doc_quota)} "
            f"limit ({_mb(used)} used). Use smaller images, or put more images "
            "in another document.",
        )
    if user is None or not user.is_authenticated:
        return
    user_quota = int(config["IMAGE_USER_QUOTA_BYTES"])
    used = _used_bytes(uploaded_by=user)
    if used + adding > user_quota:
        raise ImageRejected(
            "quota_exceeded",
            f"Your images would take more than your {_mb(user_quota)} limit "
            f"({_mb(used)} used). Images no document uses any more are freed "
            "at the next clean-up.",
        )


def _lock_owners(*, document: Document, user: AnyUser | None) -> None:
    """Lock the uploader's and the document's rows until the transaction ends.

    :raises DocumentNotFound: the document was deleted meanwhile.
    """
    # Always user first, then document: one order, no deadlock.
    if user is not None and user.is_authenticated:
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    if not Document.objects.select_for_update().filter(pk=document.pk).exists():
        raise DocumentNotFound(document.public_id)


def store_image(
    *, document: Document, user: AnyUser | None, data: bytes, filename: str = ""
) -> Image:
    """Check, clean and store ``data`` as an image of ``document`` uploaded by ``user``.

    ``filename`` is for log lines only: the type comes from the bytes. The
    same bytes stored twice in one document give the same image (counted
    once). No permission check: callers check the person may edit or
    comment first.

    :raises ImageRejected: refused (see :mod:`images.validation`) or over a
        quota; nothing is stored.
    :raises DocumentNotFound: the document was deleted meanwhile.
    """
    config = _config()
    clean = clean_image(
        data,
        types=tuple(str(t) for t in config["IMAGE_TYPES"]),
        max_bytes=int(config["IMAGE_MAX_BYTES"]),
        max_pixels=int(config["IMAGE_MAX_PIXELS"]),
    )
    sha = hashlib.sha256(clean.data).hexdigest()
    name = blob_name(sha, clean.ext)
    uploader = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        _lock_owners(document=document, user=uploader)
        existing = Image.objects.filter(document=document, sha256=sha, ext=clean.ext).first()
        if existing is not None:
            return existing
        _check_quotas(document=document, user=uploader, adding=len(clean.data))
        with _blob_lock(sha):
            _ensure_blob(name, clean.data)
            image = Image.objects.create(
                document=document,
                uploaded_by=uploader,
                blob=name,
                sha256=sha,
                content_type=clean.content_type,
                ext=clean.ext,
                bytes=len(clean.data),
                width=clean.width,
                height=clean.height,
            )
    logger.info(
        "image %s stored in document %s (%s, %d bytes from %r)",
        image.id,
        document.public_id,
        clean.format,
        image.bytes,
        filename[:100],
    )
    return image


# Finding and reading ----------------------------------------------------


def src_of(image: Image) -> str:
    """Return the embed src of ``image``: ``/media/i/<uuid>.<ext>``."""
    return reverse(FILE_VIEW, kwargs={"image_id": image.id, "ext": image.ext})


def parse_src(src: object, *, host: str | None = None) -> tuple[uuid.UUID, str] | None:
    """Return ``(image id, ext)`` named by ``src``, or None if it names no image.

    ``src`` is a path, or an absolute http(s) URL on ``host`` (a browser
    hands pasted images' srcs over absolute); any other host gives None.
    """
    if not isinstance(src, str) or len(src) > 2000:
        return None
    parts = urlsplit(src)
    foreign = parts.scheme not in ("http", "https") or host is None or parts.netloc != host
    if (parts.scheme or parts.netloc) and foreign:
        return None
    if parts.query or parts.fragment:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name != FILE_VIEW:
        return None
    return match.kwargs["image_id"], match.kwargs["ext"]


def image_for_src(document: Document, src: str) -> Image | None:
    """Return the image of ``document`` that ``src`` names, else None (any other document's too)."""
    parsed = parse_src(src)
    if parsed is None:
        return None
    image_id, ext = parsed
    return Image.objects.filter(pk=image_id, ext=ext, document=document).first()


def read_image(image: Image) -> bytes:
    """Return the stored bytes of ``image``.

    :raises OSError: the file is missing or the storage cannot be read.
    """
    with default_storage.open(image.blob, "rb") as handle:
        return bytes(handle.read())


def export_image(document: Any, src: str) -> tuple[bytes, str] | None:
    """Answer an export's image: ``(bytes, content type)`` of an image of ``document``."""
    if not isinstance(document, Document):
        return None
    image = image_for_src(document, src)
    if image is None:
        return None
    try:
        return read_image(image), image.content_type
    except OSError:
        logger.warning(
            "image %s of document %s unreadable for export", image.id, document.public_id
        )
        return None


# Copying ----------------------------------------------------------------


@dataclass
class CopyResult:
    """What a copy did: old src -> new src, and the srcs refused."""

    map: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def copy_images(
    *,
    document: Document,
    user: AnyUser,
    srcs: Iterable[str],
    link_token_for: Callable[[uuid.UUID], str | None] = lambda public_id: None,
    host: str | None = None,
) -> CopyResult:
    """Make the images ``srcs`` name images of ``document``, on the same files.

    Each src naming an image ``user`` can view (with the link token
    ``link_token_for`` returns for its document) maps to an image of
    ``document``: the image itself if it already is one, else the row of
    ``document`` with the same bytes, else a new row. Any other src is
    refused. No permission check on ``document``: callers check the person
    may edit or comment first.

    :raises ImageRejected: ``quota_exceeded``; nothing is copied then.
    :raises DocumentNotFound: the document was deleted meanwhile.
    """
    result = CopyResult()
    wanted: dict[str, Image] = {}
    for src in dict.fromkeys(srcs):
        parsed = parse_src(src, host=host)
        source = None
        if parsed is not None:
            source = (
                Image.objects.select_related("document").filter(pk=parsed[0], ext=parsed[1]).first()
            )
        if source is None:
            result.refused.append(src)
            continue
        if source.document_id == document.pk:
            result.map[src] = src_of(source)
            continue
        access = document_access(
            user=user,
            document=source.document,
            link_token=link_token_for(source.document.public_id),
        )
        if not access.can_view:
            result.refused.append(src)
            continue
        wanted[src] = source
    if not wanted:
        return result
    uploader = user if user.is_authenticated else None
    with transaction.atomic():
        _lock_owners(document=document, user=uploader)
        have = {
            (image.sha256, image.ext): image
            for image in Image.objects.filter(
                document=document, sha256__in={s.sha256 for s in wanted.values()}
            )
        }
        new: dict[tuple[str, str], Image] = {}
        for source in wanted.values():
            key = (source.sha256, source.ext)
            if key not in have and key not in new:
                new[key] = Image(
                    document=document,
                    uploaded_by=uploader,
                    blob=source.blob,
                    sha256=source.sha256,
                    content_type=source.content_type,
                    ext=source.ext,
                    bytes=source.bytes,
                    width=source.width,
                    height=source.height,
                )
        _check_quotas(
            document=document, user=uploader, adding=sum(image.bytes for image in new.values())
        )
        for key, image in sorted(new.items(), key=lambda item: item[0]):
            # Under the file's lock: a release running now sees this row, and
            # a file released just before (its last document deleted) is
            # not pointed at again.
            with _blob_lock(key[0]):
                if default_storage.exists(image.blob):
                    image.save(force_insert=True)
                    have[key] = image
    for src, source in wanted.items():
        copied = have.get((source.sha256, source.ext))
        if copied is None:
            result.refused.append(src)
        else:
            result.map[src] = src_of(copied)
    return result


def connect() -> None:
    """Wire the app in (from ``ImagesConfig.ready``): file release on delete,
    export source, the images of "Make a copy"."""
    post_delete.connect(_image_deleted, sender=Image, dispatch_uid="images.release_blob")
    export.install_image_source(export_image)
    copying.install_image_copier(copy_images, refusal=ImageRejected)
