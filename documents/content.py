"""A document's current content: its snapshot composed with the later ops.

This is the read path pages use (and anything else that needs the content
outside the realtime authority). It reads the snapshot and the operations
after it in one consistent view. Under PostgreSQL's READ COMMITTED each
query sees what was committed when it started, so a compaction committing
between the two reads (new snapshot, older ops deleted) would leave a gap:
:func:`lock_for_read` holds the document row against compaction for the
transaction, and the snapshot pointer is read again under that lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from documents.models import INITIAL_CONTENT, Document, Operation
from documents.replay import replay
from realtime.ot import Delta, InvalidDelta


@dataclass(frozen=True)
class DocumentState:
    """The content of a document at one revision."""

    revision: int
    content: list[dict]


def lock_for_read(document_pk: int) -> tuple[int | None] | None:
    """Hold the document row against compaction until the transaction ends.

    Return ``(snapshot_id,)`` as of now, or None when the document is gone.
    Call inside ``transaction.atomic()``. On PostgreSQL this is a ``FOR KEY
    SHARE`` row lock: it waits for a compaction in progress (which holds
    ``FOR UPDATE``) and makes the next one wait, but does not block writers
    (their ``UPDATE`` of the row takes a weaker lock). Elsewhere it is a
    plain read: SQLite runs one writer at a time anyway.
    """
    table = connection.ops.quote_name(Document._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT snapshot_id FROM {table} WHERE id = %s{lock}", [document_pk])
        row = cursor.fetchone()
    return None if row is None else (row[0],)


def document_state(document: Document) -> DocumentState:
    """Return the document's latest content and the revision it is at."""
    with transaction.atomic():
        locked = lock_for_read(document.pk)
        if locked is not None and locked[0] != document.snapshot_id:
            # Compacted since ``document`` was read: use the new snapshot.
            document.snapshot_id = locked[0]
            if Document.snapshot.field.is_cached(document):
                Document.snapshot.field.delete_cached_value(document)
        snapshot = document.snapshot if document.snapshot_id else None
        revision = snapshot.revision if snapshot is not None else 0
        base = list(snapshot.content if snapshot is not None else INITIAL_CONTENT)
        deltas = list(
            Operation.objects.filter(document_id=document.pk, revision__gt=revision)
            .order_by("revision")
            .values_list("revision", "delta")
        )
    if deltas:
        revision = deltas[-1][0]
    return DocumentState(revision=revision, content=_replay(base, [delta for _, delta in deltas]))


def _replay(base: list[dict], deltas: list[list[dict]]) -> list[dict]:
    """Return ``base`` with ``deltas`` applied in order (:func:`replay`).

    Stored changes are valid, so the checks the replay makes pass. Should
    one not, the page still needs something to show: Delta composition,
    which accepts anything, is that last resort (and only that).
    """
    try:
        return replay(base, deltas).to_ops()
    except InvalidDelta:
        content = Delta(base)
        for delta in deltas:
            content = content.compose(Delta(delta))
        return list(content.ops)


def document_content(document: Document) -> list[dict]:
    """Return the document's latest content as a list of Delta ops."""
    return document_state(document).content
