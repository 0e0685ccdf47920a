"""The memory store: documents in a dict, for unit tests and benchmarks.

Implements :class:`documents.store.base.DocumentStore` with the same fences
as the database (``UNIQUE(document, revision)`` and ``(document, op_id)``),
so the contract suite runs against it unchanged. Leases are recorded per
document; a snapshot keeps every op (in a test every op is younger than the
retention horizon, as it would be in the database); :meth:`compact` drops
older ops as compaction past the horizon does.

It never fails on its own: tests inject outages, failed or held appends
with a wrapper (``tests/documents/faulty_store.py``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from documents.models import INITIAL_CONTENT
from documents.store.base import (
    DocumentMissing,
    DocumentStore,
    DuplicateOpIds,
    LoadedDocument,
    NewOp,
    RevisionConflict,
    SnapshotSaved,
    StoredOp,
    bounded_history,
    consecutive_tail,
)


@dataclass
class MemoryDocument:
    """One document as the memory store holds it (tests read it)."""

    pk: int
    public_id: uuid.UUID
    snapshot_revision: int
    snapshot_content: list[dict[str, Any]]
    ops: list[StoredOp] = field(default_factory=list)
    snapshot_authorship: list[list[Any]] | None = None
    head_revision: int = 0
    updated_at: datetime | None = None
    last_edited_by_id: int | None = None
    lease_holder: str = ""
    closed_at: datetime | None = None


def _copy(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a deep copy, as a round trip through storage would."""
    copied: list[dict[str, Any]] = json.loads(json.dumps(content))
    return copied


class MemoryDocumentStore(DocumentStore):
    """Keep documents in a dict (see the module docstring); thread-safe."""

    def __init__(self, *, holder: str = "memory") -> None:
        """Make an empty store whose leases go by ``holder``."""
        self.holder = holder
        self._docs: dict[uuid.UUID, MemoryDocument] = {}
        self._by_pk: dict[int, MemoryDocument] = {}
        self._lock = threading.Lock()

    # -- set-up and inspection (tests) ---------------------------------------

    def add_document(
        self,
        *,
        public_id: uuid.UUID | None = None,
        content: list[dict[str, Any]] | None = None,
        revision: int = 0,
    ) -> uuid.UUID:
        """Create a document whose snapshot is ``content`` at ``revision``."""
        public_id = public_id or uuid.uuid4()
        with self._lock:
            pk = len(self._by_pk) + 1
            doc = MemoryDocument(
                pk=pk,
                public_id=public_id,
                snapshot_revision=revision,
                snapshot_content=list(content if content is not None else INITIAL_CONTENT),
                head_revision=revision,
            )
            self._docs[public_id] = doc
            self._by_pk[pk] = doc
        return public_id

    def remove_document(self, public_id: uuid.UUID) -> None:
        """Delete a document (its ops go with it)."""
        with self._lock:
            doc = self._docs.pop(public_id)
            del self._by_pk[doc.pk]

    def document_row(self, public_id: uuid.UUID) -> MemoryDocument:
        """Return the stored record of a document (for assertions)."""
        return self._docs[public_id]

    def compact(
        self, public_id: uuid.UUID, *, revision: int, content: list[dict[str, Any]], keep_ops: int
    ) -> None:
        """Make ``content`` the snapshot at ``revision``, keeping ``keep_ops`` ops before it.

        As compaction does once the folded ops are past the retention horizon.
        """
        with self._lock:
            doc = self._docs[public_id]
            doc.snapshot_revision = revision
            doc.snapshot_content = _copy(content)
            doc.ops = [op for op in doc.ops if op.revision > revision - keep_ops]

    def insert_foreign(self, public_id: uuid.UUID, op: StoredOp) -> None:
        """Store an op as another writer would (a second worker)."""
        with self._lock:
            doc = self._docs[public_id]
            doc.ops.append(op)
            doc.head_revision = max(doc.head_revision, op.revision)

    # -- the op log -----------------------------------------------------------

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Return the document's snapshot and the ops after it."""
        with self._lock:
            doc = self._docs.get(public_id)
            if doc is None:
                raise DocumentMissing(str(public_id))
            snap_rev = doc.snapshot_revision
            kept = [op for op in doc.ops if snap_rev - earlier < op.revision <= snap_rev]
            return LoadedDocument(
                document_pk=doc.pk,
                public_id=doc.public_id,
                snapshot_revision=snap_rev,
                snapshot_content=_copy(doc.snapshot_content),
                ops=[op for op in doc.ops if op.revision > snap_rev],
                earlier=consecutive_tail(kept, snap_rev) if earlier > 0 else [],
                snapshot_authorship=doc.snapshot_authorship,
            )

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        """Store ``ops`` atomically, with the same fences as the database."""
        if not ops:
            return
        with self._lock:
            doc = self._by_pk.get(document_pk)
            if doc is None:
                raise DocumentMissing(str(document_pk))
            stored_revs = {op.revision for op in doc.ops}
            if any(op.revision in stored_revs for op in ops):
                raise RevisionConflict("revision already stored")
            stored_ids = {op.op_id: op.revision for op in doc.ops}
            existing = {op.op_id: stored_ids[op.op_id] for op in ops if op.op_id in stored_ids}
            if existing:
                raise DuplicateOpIds(existing)
            for op in ops:
                doc.ops.append(
                    StoredOp(
                        revision=op.revision,
                        op_id=op.op_id,
                        delta=json.loads(op.delta_json),
                        author_id=op.author_id,
                        attribution=(
                            json.loads(op.attribution_json) if op.attribution_json else None
                        ),
                    )
                )
            doc.ops.sort(key=lambda op: op.revision)
            doc.head_revision = ops[-1].revision
            doc.updated_at = timezone.now()
            doc.last_edited_by_id = ops[-1].author_id

    def history(
        self, *, document_pk: int, after: int, up_to: int, max_ops: int, max_bytes: int
    ) -> list[StoredOp] | None:
        """Return the stored ops after ``after`` up to ``up_to`` (see the interface)."""
        if up_to <= after:
            return []
        if up_to - after > max_ops:
            return None
        with self._lock:
            doc = self._by_pk.get(document_pk)
            if doc is None:
                raise DocumentMissing(str(document_pk))
            rows = [
                (op.revision, op.op_id, op.delta, op.author_id)
                for op in doc.ops
                if after < op.revision <= up_to
            ]
        return bounded_history(rows, after=after, up_to=up_to, max_bytes=max_bytes)

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Return the stored op with this client op id, or None."""
        with self._lock:
            doc = self._by_pk.get(document_pk)
            if doc is None:
                raise DocumentMissing(str(document_pk))
            return next((op for op in doc.ops if op.op_id == op_id), None)

    # -- leases and owner snapshots ---------------------------------------------

    def lease_open(self, *, public_id: uuid.UUID) -> bool:
        """Take the lease of a document being loaded; return whether it exists."""
        with self._lock:
            doc = self._docs.get(public_id)
            if doc is None:
                return False
            doc.lease_holder = self.holder
            return True

    def lease_renew(self, *, public_ids: Sequence[uuid.UUID]) -> int:
        """Keep this holder's leases (or reclaim free ones); return how many.

        Memory leases do not expire: a renewal keeps or reclaims free ones.
        """
        renewed = 0
        with self._lock:
            for public_id in public_ids:
                doc = self._docs.get(public_id)
                if doc is not None and doc.lease_holder in (self.holder, ""):
                    doc.lease_holder = self.holder
                    renewed += 1
        return renewed

    def snapshot_save(
        self,
        *,
        document_pk: int,
        revision: int,
        content: list[dict[str, Any]],
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store the owner's content at ``revision`` as the snapshot; keep every op."""
        with self._lock:
            return self._snapshot(document_pk, revision, content, authorship)

    def lease_close(
        self,
        *,
        document_pk: int,
        revision: int | None = None,
        content: list[dict[str, Any]] | None = None,
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store a last snapshot (when given) and release the lease, together."""
        with self._lock:
            result = None
            if revision is not None and content is not None:
                result = self._snapshot(document_pk, revision, content, authorship)
            doc = self._by_pk.get(document_pk)
            if doc is not None and doc.lease_holder == self.holder:
                doc.lease_holder = ""
                doc.closed_at = timezone.now()
            return result

    def _snapshot(
        self,
        document_pk: int,
        revision: int,
        content: list[dict[str, Any]],
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        doc = self._by_pk.get(document_pk)
        if doc is None or revision <= doc.snapshot_revision or revision > doc.head_revision:
            return None
        folded = revision - doc.snapshot_revision
        doc.snapshot_revision = revision
        doc.snapshot_content = _copy(content)
        doc.snapshot_authorship = None if authorship is None else list(authorship)
        return SnapshotSaved(revision=revision, ops_folded=folded, ops_deleted=0)
