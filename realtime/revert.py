"""Undoing one stored change as a server edit (``{"kind": "revert"}``).

A decision on suggestions is a server-made change; undoing it in the
browser would mean re-setting other people's suggestion marks, which the
review policy refuses to anyone's op. So the undo is server-made too: the
inverse of the stored change, computed against the content just before it
(rebuilt from storage, :func:`documents.history.content_at`), submitted
based on the change's own revision so that the authority transforms it
over everything after it, like any op based on an older revision.

Failure modes (:class:`~documents.live.ServerChangeFailed`, with a message
for people): the change is no longer stored or its content can no longer
be rebuilt (compacted away); the change was made by someone else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from documents.history import content_at
from documents.live import ServerChangeFailed
from documents.models import Document, Operation
from documents.store import DocumentMissing
from realtime.ot import Delta


@dataclass(frozen=True)
class StoredChange:
    """A stored change and the content it was applied to."""

    revision: int
    delta: list[dict[str, Any]]
    author_id: int | None
    before: list[dict[str, Any]]


def load_change(*, public_id: uuid.UUID, revision: int) -> StoredChange | None:
    """Return the change stored at ``revision`` with the content before it.

    None when the change or that content is no longer stored. Touches the
    database: run it on the store runner.

    :raises DocumentMissing: no such document.
    """
    document = Document.objects.filter(public_id=public_id).first()
    if document is None:
        raise DocumentMissing(str(public_id))
    row = (
        Operation.objects.filter(document=document, revision=revision)
        .values_list("delta", "author_id")
        .first()
    )
    if row is None:
        return None
    before = content_at(document=document, revision=revision - 1)
    if before is None:
        return None
    delta, author_id = row
    return StoredChange(revision=revision, delta=delta, author_id=author_id, before=before)


def revert_change(stored: StoredChange | None, *, user_id: int | None) -> Delta:
    """Return the inverse of ``stored``, to apply at its revision, for ``user_id``.

    :raises ServerChangeFailed: nothing to undo, or someone else's change.
    """
    if stored is None:
        raise ServerChangeFailed("that change can no longer be undone")
    if user_id is None or stored.author_id != user_id:
        raise ServerChangeFailed("only the person who made that change can undo it")
    return Delta(stored.delta).invert(Delta(stored.before))
