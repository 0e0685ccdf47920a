"""The storage interface of a live document: its op log, its lease, its snapshot.

The realtime authority needs, from storage, to load a document as its
snapshot plus the ops after it and to append a batch of accepted ops
atomically; the registry that keeps documents open also takes their lease
and stores snapshots of what it holds. :class:`DocumentStore` is all of
that. Every method a backend must supply raises ``NotImplementedError``
here (Django's ``SessionBase``); :mod:`documents.store.db` and
:mod:`documents.store.memory` supply them. One contract suite
(``tests/documents/test_store.py``) runs against both.

Every method is synchronous and may block: the realtime side calls them from
a dedicated thread pool, never on the event loop.

Failure modes, each a distinct exception so the caller can react:

* :class:`RevisionConflict`: ``UNIQUE(document, revision)`` refused the batch.
  Another writer stored those revisions first (two workers both believed they
  owned the document). Nothing of the batch is stored; reload and transform
  again.
* :class:`DuplicateOpIds`: ``UNIQUE(document, op_id)`` refused the batch: an
  op id of the batch is already stored (a resend whose original got stored
  but never acknowledged). Nothing of the batch is stored; ``existing`` maps
  those ids to their revisions.
* :class:`StorageUnavailable`: storage cannot be reached (or failed in a
  way that says nothing about the data). Whether a write happened is
  unknown: a retry either succeeds or meets one of the two fences above.
  Leases and snapshots raise it too; their callers log and try again later.
* :class:`DocumentMissing`: the document is gone (deleted).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


class StoreError(Exception):
    """Base class of the errors a document store raises."""


class RevisionConflict(StoreError):
    """Another writer already stored a revision of the batch."""


class DuplicateOpIds(StoreError):
    """An op id of the batch is already stored; see ``existing``."""

    def __init__(self, existing: dict[str, int]) -> None:
        """Name the op ids already stored, with their revisions."""
        super().__init__(f"op ids already stored: {sorted(existing)}")
        #: op id -> the revision it was stored at.
        self.existing = existing


class StorageUnavailable(StoreError):
    """Storage could not be reached; the outcome of a write is unknown."""


class DocumentMissing(StoreError):
    """The document does not exist (any more)."""


@dataclass(frozen=True, slots=True)
class StoredOp:
    """One op as storage holds it."""

    revision: int
    op_id: str
    delta: list[dict[str, Any]]
    author_id: int | None
    #: Who wrote its inserts when not ``author_id`` (``Operation.attribution``).
    attribution: list[list[Any]] | None = None


@dataclass(frozen=True, slots=True)
class NewOp:
    """One op to append. ``delta_json`` is ``delta`` already serialized."""

    revision: int
    op_id: str
    delta: list[dict[str, Any]]
    delta_json: str
    author_id: int | None
    #: Authorship runs of its inserts as JSON, when not all ``author_id``'s.
    attribution_json: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document as loaded: its snapshot and every op after it, in order.

    ``earlier`` holds ops at or before the snapshot's revision that
    compaction kept for reconnecting clients (consecutive, ending at
    ``snapshot_revision``, oldest first). They are already part of the
    snapshot: only catch-up and transformation may use them, never the
    content.
    """

    document_pk: int
    public_id: uuid.UUID
    snapshot_revision: int
    snapshot_content: list[dict[str, Any]]
    ops: list[StoredOp]
    earlier: list[StoredOp] = field(default_factory=list)
    #: The snapshot's authorship runs as stored (JSON), None if not kept.
    snapshot_authorship: list[list[Any]] | None = None

    @property
    def head_revision(self) -> int:
        """Return the revision of the last op (or of the snapshot)."""
        return self.ops[-1].revision if self.ops else self.snapshot_revision


@dataclass(frozen=True, slots=True)
class SnapshotSaved:
    """A snapshot an owner stored: its revision and what it did to the log."""

    revision: int
    #: Ops after the previous snapshot that this one includes.
    ops_folded: int
    #: Op rows deleted (older than the retention horizon and not kept).
    ops_deleted: int


class DocumentStore:
    """The storage of live documents (see the module docstring).

    ``holder`` names this store's leases: one per process, so that a
    document's lease says which worker has it open.
    """

    holder: str

    # -- the op log ---------------------------------------------------------

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Return the document's snapshot and the ops after it.

        With ``earlier``, also up to that many of the kept ops at or before
        the snapshot's revision (see :class:`LoadedDocument`).

        :raises DocumentMissing: no such document.
        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a load() method")

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        """Store ``ops`` (consecutive revisions) in one transaction.

        Also set the document's ``head_revision`` to the last op's revision,
        ``updated_at`` to now and ``last_edited_by`` to the last op's author,
        in the same transaction.

        :raises RevisionConflict, DuplicateOpIds, DocumentMissing,
            StorageUnavailable: see the module docstring; nothing is stored.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide an append() method")

    def history(
        self, *, document_pk: int, after: int, up_to: int, max_ops: int, max_bytes: int
    ) -> list[StoredOp] | None:
        """Return the stored ops with ``after < revision <= up_to``, oldest first.

        For a client that reconnects (or resends) from a revision older than
        the authority's window: compaction keeps the op log of the retention
        horizon (``COLLABDOCS["RETENTION_DAYS"]``). Return None when any of
        those ops is no longer stored, or there are more than ``max_ops`` of
        them or more than ``max_bytes`` of their JSON: the caller falls back
        to the full content.

        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a history() method")

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Return the stored op with this client op id, or None.

        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a find_op() method")

    # -- leases and owner snapshots (documents.leases, docs/history.md) -----

    def lease_open(self, *, public_id: uuid.UUID) -> bool:
        """Take the lease of a document being loaded; return whether it exists.

        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a lease_open() method")

    def lease_renew(self, *, public_ids: Sequence[uuid.UUID]) -> int:
        """Extend this holder's leases (or reclaim free, expired ones); return how many.

        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a lease_renew() method")

    def snapshot_save(
        self,
        *,
        document_pk: int,
        revision: int,
        content: list[dict[str, Any]],
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store the owner's ``content`` at ``revision`` as the document's snapshot.

        The owner's content (and its ``authorship`` runs, JSON) at its head
        is exact, so nothing is replayed.
        Return None when the snapshot is already at or past ``revision``,
        ``revision`` is past the stored head, or the document is gone.

        :raises StorageUnavailable: storage cannot be reached.
        """
        raise NotImplementedError(
            "subclasses of DocumentStore must provide a snapshot_save() method"
        )

    def lease_close(
        self,
        *,
        document_pk: int,
        revision: int | None = None,
        content: list[dict[str, Any]] | None = None,
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store a last snapshot (when given) and let go of the lease, together.

        Record when the document was let go (compaction waits for it to be
        idle). Return what :meth:`snapshot_save` returns, or None.

        :raises StorageUnavailable: storage cannot be reached; neither happened.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a lease_close() method")

    def close(self) -> None:
        """Release what this thread holds (its database connection)."""


# --------------------------------------------------------------------------
# Shared by the backends
# --------------------------------------------------------------------------


def bounded_history(
    rows: Iterable[tuple[int, str, list[dict[str, Any]], int | None]],
    *,
    after: int,
    up_to: int,
    max_bytes: int,
) -> list[StoredOp] | None:
    """Return ``rows`` as consecutive ops ``after+1 .. up_to``, or None (gap, too big)."""
    ops: list[StoredOp] = []
    size = 0
    expected = after
    for revision, op_id, delta, author_id in rows:
        expected += 1
        if revision != expected:
            return None  # compaction deleted ops of the range: not kept
        size += len(json.dumps(delta, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > max_bytes:
            return None
        ops.append(StoredOp(revision=revision, op_id=op_id, delta=delta, author_id=author_id))
    return ops if expected == up_to else None


def consecutive_tail(ops: list[StoredOp], last: int) -> list[StoredOp]:
    """Return the run of ``ops`` with consecutive revisions ending at ``last``."""
    start = len(ops)
    expected = last
    while start > 0 and ops[start - 1].revision == expected:
        start -= 1
        expected -= 1
    return ops[start:]
