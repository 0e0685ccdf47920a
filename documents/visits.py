"""When people open a document: for "changes since you last opened".

:func:`record_visit` runs when the document's page opens
(:func:`documents.views.document_detail`): it keeps the revision and time of
this opening and shifts the one before into ``previous_*``. Openings closer
together than :data:`SAME_VISIT` (reloads, a second tab, coming back from
lunch within the hour) are one visit: the revision and time move on but the
previous opening stays, so "since you last opened" still means since the
person was last away. :func:`last_visit` answers that previous opening.

One row per person and document (``UNIQUE(user, document)``), written in
one transaction with the row locked, so two tabs opening at once shift
once each in turn. Deleting the user or the document deletes their rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from documents.models import Document, DocumentVisit

#: Openings closer together than this are one visit.
SAME_VISIT = timedelta(minutes=30)


def record_visit(*, user: AbstractBaseUser, document: Document, revision: int) -> DocumentVisit:
    """Record that ``user`` opened ``document`` at ``revision`` now (module docstring)."""
    now = timezone.now()
    with transaction.atomic():
        visit, created = DocumentVisit.objects.select_for_update().get_or_create(
            user=user, document=document, defaults={"revision": revision, "opened_at": now}
        )
        if created:
            return visit
        if now - visit.opened_at >= SAME_VISIT:
            visit.previous_revision = visit.revision
            visit.previous_opened_at = visit.opened_at
        visit.revision = revision
        visit.opened_at = now
        visit.save(
            update_fields=["revision", "opened_at", "previous_revision", "previous_opened_at"]
        )
    return visit


@dataclass(frozen=True)
class LastVisit:
    """The revision and time of a person's previous visit."""

    revision: int
    opened_at: datetime


def last_visit(*, user: AbstractBaseUser, document: Document) -> LastVisit | None:
    """Return the person's visit before the current one, or None if there was none."""
    row = (
        DocumentVisit.objects.filter(user=user, document=document)
        .values_list("previous_revision", "previous_opened_at")
        .first()
    )
    if row is None or row[0] is None or row[1] is None:
        return None
    return LastVisit(revision=int(row[0]), opened_at=row[1])
