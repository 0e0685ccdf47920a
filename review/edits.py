"""Review changes to a live document's content, through the live port.

Deleting a thread removes its id from the document's ``comment`` marks and
deciding suggestions accepts or rejects marked content: both change the
content everyone is editing, so both go through the document's authority
(:meth:`documents.live.LiveDocuments.apply_edit`) as one trusted,
server-made change that reaches every socket and is undoable like any edit.
The authority computes the change from its tip, so concurrent typing is
never overwritten.

Edits are built with :func:`documents.live.decide_edit` and
:func:`documents.live.uncomment_edit`, which check their shape.

Failure modes: the authority refused or storage stayed down
(:class:`ReviewChangeFailed`, nothing changed); the document is gone
(:class:`documents.exceptions.DocumentNotFound`). Call outside a
transaction: the authority stores on its own connection.
"""

from __future__ import annotations

from typing import Any

from documents.exceptions import DocumentNotFound
from documents.live import AppliedChange, ServerChangeFailed, live_documents
from documents.models import Document
from documents.people import display_name
from documents.store import DocumentMissing, StoreError
from review.exceptions import ReviewChangeFailed


def apply_review_edit(
    *, document: Document, edit: dict[str, Any], actor: Any
) -> AppliedChange | None:
    """Apply ``edit`` (a live-port edit) as ``actor``; return it, or None if nothing changed.

    :raises ReviewChangeFailed: refused, or storage is unavailable.
    :raises DocumentNotFound: the document no longer exists.
    """
    try:
        return live_documents().apply_edit(
            public_id=document.public_id,
            edit=edit,
            user_id=actor.pk,
            user_name=display_name(actor),
        )
    except DocumentMissing:
        raise DocumentNotFound(document.public_id) from None
    except (ServerChangeFailed, StoreError) as exc:
        raise ReviewChangeFailed(str(exc) or "storage is unavailable") from exc
