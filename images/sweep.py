"""The orphan sweep: images no stored content names, and files no row names.

An image row is an orphan when it is older than the grace period and its
id appears in none of its document's stored versions (the snapshot, named,
saved and restored versions: what the page, history and restore read) nor
in any stored operation (what compare, the timeline and replay read). The
current content is the snapshot plus the operations after it, so it is
covered. The check is a text search of the stored JSON for the image's
UUID: anything that mentions it keeps it (a false "referenced" only keeps a
file longer; nothing referenced is ever missed).

The grace period covers an upload whose embed is not stored yet (the person
uploads, then the op travels) and a person who undoes the deletion of an
image in their editor: their undo stack holds the src, not the file.

A file is an orphan when no row names it and it is older than the grace
period (a row may be committing right now). Deleting rows releases their
files after commit (:func:`images.services.release_blob`); the file pass
catches files left by a crash or a storage error.

Bounded: one run examines at most ``limit`` rows (oldest first) and deletes
at most ``limit`` files; :class:`SweepReport` says when more were left.
Idempotent: a second run finds nothing the first removed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from documents.models import DocumentVersion, Operation
from images.models import Image
from images.services import release_blob

logger = logging.getLogger(__name__)

#: Default grace period before an unreferenced image or file is removed.
DEFAULT_GRACE = timedelta(hours=24)
#: Default bound on rows examined and files deleted per run.
DEFAULT_LIMIT = 2000
ROOT = "images"
#: The name of a file :func:`images.services.blob_name` made.
_FILE_NAME = re.compile(r"^([0-9a-f]{64})\.(?:png|jpg|gif|webp)$")


@dataclass
class SweepReport:
    """What a sweep removed (or, in a dry run, would remove)."""

    #: ``(image id, document public id, bytes)`` of orphan rows.
    images: list[tuple[str, str, int]] = field(default_factory=list)
    #: Storage names of orphan files.
    files: list[str] = field(default_factory=list)
    #: Rows examined, and whether the bound stopped the run early.
    examined: int = 0
    truncated: bool = False


def is_referenced(image: Image) -> bool:
    """Return whether any stored version or operation of the image's document names it."""
    needle = str(image.id)
    versions = DocumentVersion.objects.filter(document_id=image.document_id)
    if versions.annotate(text=Cast("content", TextField())).filter(text__contains=needle).exists():
        return True
    operations = Operation.objects.filter(document_id=image.document_id)
    return (
        operations.annotate(text=Cast("delta", TextField())).filter(text__contains=needle).exists()
    )


def _orphan_rows(cutoff: datetime, limit: int, report: SweepReport) -> Iterator[Image]:
    candidates = (
        Image.objects.filter(created_at__lt=cutoff)
        .select_related("document")
        .order_by("created_at", "id")
    )
    for image in candidates[: limit + 1].iterator(chunk_size=200):
        if report.examined == limit:
            report.truncated = True
            return
        report.examined += 1
        if not is_referenced(image):
            yield image


def _unnamed_files() -> Iterator[tuple[str, str]]:
    """Yield ``(storage name, sha256)`` of stored image files no row names."""
    try:
        folders, _ = default_storage.listdir(ROOT)
    except (FileNotFoundError, NotADirectoryError):
        return
    for folder in sorted(folders):
        prefix = f"{ROOT}/{folder}/"
        named = set(Image.objects.filter(blob__startswith=prefix).values_list("blob", flat=True))
        _, names = default_storage.listdir(prefix.rstrip("/"))
        for name in sorted(names):
            match = _FILE_NAME.match(name)
            if match is None or not name.startswith(folder):
                # Not a file this app wrote: left alone.
                continue
            if prefix + name not in named:
                yield prefix + name, match.group(1)


def _modified(name: str) -> datetime | None:
    try:
        return default_storage.get_modified_time(name)
    except (NotImplementedError, OSError):
        return None


def sweep(
    *,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> SweepReport:
    """Remove orphan images and files older than ``grace`` (see the module docstring)."""
    cutoff = (now or timezone.now()) - grace
    report = SweepReport()
    for image in _orphan_rows(cutoff, limit, report):
        report.images.append((str(image.id), str(image.document.public_id), image.bytes))
        if not dry_run:
            with transaction.atomic():
                # Its file is released after commit if it was the last row.
                Image.objects.filter(pk=image.pk, created_at__lt=cutoff).delete()
            logger.info(
                "sweep: image %s of document %s removed", image.id, image.document.public_id
            )
    for name, sha in _unnamed_files():
        if len(report.files) == limit:
            report.truncated = True
            break
        modified = _modified(name)
        if modified is not None and modified >= cutoff:
            continue
        if dry_run:
            report.files.append(name)
        elif release_blob(name, sha):
            report.files.append(name)
            logger.info("sweep: file %s removed (no image names it)", name)
    return report
