"""A document's current content: its snapshot composed with the later ops.

This is the read path pages use (and anything else that needs the content
outside the realtime authority). It reads the snapshot and the operations
after it in one consistent view: inside a transaction on PostgreSQL the two
queries see the same committed state.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from documents.models import INITIAL_CONTENT, Document, Operation
from realtime.ot import Delta


@dataclass(frozen=True)
class DocumentState:
    """The content of a document at one revision."""

    revision: int
    content: list[dict]


def document_state(document: Document) -> DocumentState:
    """Return the document's latest content and the revision it is at."""
    with transaction.atomic():
        snapshot = document.snapshot if document.snapshot_id else None
        revision = snapshot.revision if snapshot is not None else 0
        content = Delta(list(snapshot.content if snapshot is not None else INITIAL_CONTENT))
        deltas = (
            Operation.objects.filter(document_id=document.pk, revision__gt=revision)
            .order_by("revision")
            .values_list("revision", "delta")
        )
        for revision, delta in deltas.iterator(chunk_size=500):
            content = content.compose(Delta(delta))
    return DocumentState(revision=revision, content=list(content.ops))


def document_content(document: Document) -> list[dict]:
    """Return the document's latest content as a list of Delta ops."""
    return document_state(document).content
