"""Durable storage of a document's op log, as the realtime authority sees it.

The authority (``realtime.authority``) needs two things from storage: load a
document as its snapshot plus the ops after it, and append a batch of
accepted ops atomically. :class:`DocumentStore` is that interface;
:class:`DjangoDocumentStore` implements it on the ORM models and
:class:`MemoryDocumentStore` in memory for unit tests. One contract suite
(``tests/realtime/test_store.py``) runs against both.

Every method is synchronous and may block: the authority calls them from a
dedicated thread pool, never on the event loop.

Failure modes, each a distinct exception so the caller can react:

* :class:`RevisionConflict`: ``UNIQUE(document, revision)`` refused the batch.
  Another writer stored those revisions first (two workers both believed they
  owned the document). Nothing of the batch is stored; reload and transform
  again.
* :class:`DuplicateOpIds`: ``UNIQUE(document, op_id)`` refused the batch: an
  op id of the batch is already stored (a resend whose original got stored
  but never acknowledged). Nothing of the batch is stored; ``existing`` maps
  those ids to their revisions.
* :class:`StorageUnavailable`: the database cannot be reached (or failed in a
  way that says nothing about the data). Whether the batch was stored is
  unknown: a retry either succeeds or meets one of the two fences above.
* :class:`DocumentMissing`: the document row is gone (deleted).
"""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone

from documents.content import lock_for_read
from documents.models import INITIAL_CONTENT, Document, Operation

REVISION_CONSTRAINT = "op_unique_revision"
OP_ID_CONSTRAINT = "op_unique_client_id"


class StoreError(Exception):
    """Base class of the errors a document store raises."""


class RevisionConflict(StoreError):
    """Another writer already stored a revision of the batch."""


class DuplicateOpIds(StoreError):
    """An op id of the batch is already stored; see ``existing``."""

    def __init__(self, existing: dict[str, int]) -> None:
        super().__init__(f"op ids already stored: {sorted(existing)}")
        #: op id -> the revision it was stored at.
        self.existing = existing


class StorageUnavailable(StoreError):
    """The database could not be reached; the outcome of a write is unknown."""


class DocumentMissing(StoreError):
    """The document does not exist (any more)."""


@dataclass(frozen=True, slots=True)
class StoredOp:
    """One op as storage holds it."""

    revision: int
    op_id: str
    delta: list[dict]
    author_id: int | None


@dataclass(frozen=True, slots=True)
class NewOp:
    """One op to append. ``delta_json`` is ``delta`` already serialized."""

    revision: int
    op_id: str
    delta: list[dict]
    delta_json: str
    author_id: int | None


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
    snapshot_content: list[dict]
    ops: list[StoredOp]
    earlier: list[StoredOp] = field(default_factory=list)

    @property
    def head_revision(self) -> int:
        """Return the revision of the last op (or of the snapshot)."""
        return self.ops[-1].revision if self.ops else self.snapshot_revision


class DocumentStore:
    """The storage interface of the realtime authority (see module docstring)."""

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Return the document's snapshot and the ops after it.

        With ``earlier``, also up to that many of the kept ops at or before
        the snapshot's revision (see :class:`LoadedDocument`).

        :raises DocumentMissing: no such document.
        :raises StorageUnavailable: the database cannot be reached.
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

        :raises StorageUnavailable: the database cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a history() method")

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Return the stored op with this client op id, or None.

        :raises StorageUnavailable: the database cannot be reached.
        """
        raise NotImplementedError("subclasses of DocumentStore must provide a find_op() method")

    def close(self) -> None:
        """Release what this thread holds (its database connection)."""


def _bounded_history(
    rows: Iterable[tuple[int, str, list[dict], int | None]],
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


# --------------------------------------------------------------------------
# Django (PostgreSQL in production, SQLite as the embedded default)
# --------------------------------------------------------------------------

_PG_APPEND_SQL = """
WITH ins AS (
    INSERT INTO {op_table} (document_id, revision, op_id, delta, author_id, created_at)
    SELECT %s, r.revision, r.op_id, r.delta::jsonb, r.author_id, %s
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[])
        AS r(revision, op_id, delta, author_id)
    RETURNING 1
)
UPDATE {doc_table}
SET head_revision = %s, updated_at = %s, last_edited_by_id = %s
WHERE id = %s
"""


def _consecutive_tail(ops: list[StoredOp], last: int) -> list[StoredOp]:
    """Return the run of ``ops`` with consecutive revisions ending at ``last``."""
    start = len(ops)
    expected = last
    while start > 0 and ops[start - 1].revision == expected:
        start -= 1
        expected -= 1
    return ops[start:]


def _constraint_name(exc: IntegrityError) -> str:
    """Return the name (or, on SQLite, the text) of the violated constraint."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    return str(exc)


def _is_revision_violation(exc: IntegrityError) -> bool:
    name = _constraint_name(exc)
    return REVISION_CONSTRAINT in name or "documents_operation.revision" in name


def _is_op_id_violation(exc: IntegrityError) -> bool:
    name = _constraint_name(exc)
    return OP_ID_CONSTRAINT in name or "documents_operation.op_id" in name


class DjangoDocumentStore(DocumentStore):
    """Store ops in the ``documents`` models through the calling thread's connection.

    Connections are kept open between calls (the authority's threads are
    long-lived and commit often), and closed after any connection-level
    error so that the next call reconnects: a restarted PostgreSQL is picked
    up on the first call after it is back. On PostgreSQL a batch is one SQL
    statement (a data-modifying CTE), so a commit of many ops is a single
    round trip.
    """

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Return the document's snapshot and the ops after it."""
        return self._guard(lambda: self._load(public_id, earlier))

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        """Store ``ops`` and bump the document's head in one transaction."""
        if not ops:
            return
        try:
            self._guard(lambda: self._append(document_pk, ops))
        except IntegrityError as exc:
            if _is_revision_violation(exc):
                raise RevisionConflict(str(exc)) from exc
            if _is_op_id_violation(exc):
                existing = self._guard(lambda: self._existing_ids(document_pk, ops))
                if existing:
                    raise DuplicateOpIds(existing) from exc
                # The other copy vanished since (compaction): say conflict.
                raise RevisionConflict(str(exc)) from exc
            # A foreign key: the document row is gone, or an author was
            # deleted while their op waited to be stored. The op stays (it
            # was accepted; its author is only a label), unattributed, as
            # the author's older ops became when the user row went.
            kept = self._guard(lambda: self._without_deleted_authors(ops))
            if kept is None:
                raise DocumentMissing(str(exc)) from exc
            try:
                self._guard(lambda: self._append(document_pk, kept))
            except IntegrityError as again:
                if _is_revision_violation(again):
                    raise RevisionConflict(str(again)) from again
                raise DocumentMissing(str(again)) from again

    def history(
        self, *, document_pk: int, after: int, up_to: int, max_ops: int, max_bytes: int
    ) -> list[StoredOp] | None:
        """Return the stored ops after ``after`` up to ``up_to`` (see the interface)."""
        if up_to <= after:
            return []
        if up_to - after > max_ops:
            return None

        def read() -> list[StoredOp] | None:
            rows = (
                Operation.objects.filter(document_id=document_pk, revision__gt=after,
                                         revision__lte=up_to)
                .order_by("revision")
                .values_list("revision", "op_id", "delta", "author_id")
            )
            return _bounded_history(rows.iterator(chunk_size=2000), after=after, up_to=up_to,
                                    max_bytes=max_bytes)

        return self._guard(read)

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Return the stored op with this client op id, or None."""

        def read() -> StoredOp | None:
            row = (
                Operation.objects.filter(document_id=document_pk, op_id=op_id)
                .values_list("revision", "op_id", "delta", "author_id")
                .first()
            )
            if row is None:
                return None
            return StoredOp(revision=row[0], op_id=row[1], delta=row[2], author_id=row[3])

        return self._guard(read)

    def close(self) -> None:
        """Close this thread's database connection."""
        try:
            connection.close()
        except DatabaseError:
            pass

    # -- internals ----------------------------------------------------------

    def _guard(self, work):  # type: ignore[no-untyped-def]
        """Run ``work``; turn connection failures into StorageUnavailable.

        A connection that was already open may have been cut while idle (a
        database restart): such a failure is retried once on a fresh
        connection. The retry is safe even for a write whose outcome is
        unknown, because both fences reject a second copy.
        """
        reused = connection.connection is not None
        for attempt in (1, 2):
            try:
                if connection.in_atomic_block is False and connection.errors_occurred:
                    connection.close_if_unusable_or_obsolete()
                return work()
            except IntegrityError:
                raise
            except (OperationalError, InterfaceError) as exc:
                self.close()
                if attempt == 1 and reused:
                    continue
                raise StorageUnavailable(str(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _load(self, public_id: uuid.UUID, earlier: int) -> LoadedDocument:
        with transaction.atomic():
            pk = Document.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
            # Hold the row against compaction so that the snapshot and the
            # ops after it are read from the same state (documents.content).
            if pk is None or lock_for_read(pk) is None:
                raise DocumentMissing(str(public_id))
            row = (
                Document.objects.filter(pk=pk)
                .select_related("snapshot")
                .only("pk", "public_id", "snapshot__revision", "snapshot__content")
                .first()
            )
            if row is None:  # pragma: no cover - locked above
                raise DocumentMissing(str(public_id))
            if row.snapshot_id is not None:
                snap_rev, snap_content = row.snapshot.revision, list(row.snapshot.content)
            else:
                snap_rev, snap_content = 0, list(INITIAL_CONTENT)
            ops = [
                StoredOp(revision=rev, op_id=op_id, delta=delta, author_id=author_id)
                for rev, op_id, delta, author_id in Operation.objects.filter(
                    document_id=row.pk, revision__gt=snap_rev
                )
                .order_by("revision")
                .values_list("revision", "op_id", "delta", "author_id")
            ]
            kept = []
            if earlier > 0 and snap_rev > 0:
                kept = [
                    StoredOp(revision=rev, op_id=op_id, delta=delta, author_id=author_id)
                    for rev, op_id, delta, author_id in Operation.objects.filter(
                        document_id=row.pk, revision__gt=snap_rev - earlier, revision__lte=snap_rev
                    )
                    .order_by("revision")
                    .values_list("revision", "op_id", "delta", "author_id")
                ]
        return LoadedDocument(
            document_pk=row.pk,
            public_id=row.public_id,
            snapshot_revision=snap_rev,
            snapshot_content=snap_content,
            ops=ops,
            earlier=_consecutive_tail(kept, snap_rev),
        )

    def _append(self, document_pk: int, ops: Sequence[NewOp]) -> None:
        now = timezone.now()
        last = ops[-1]
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            sql = _PG_APPEND_SQL.format(
                op_table=connection.ops.quote_name(Operation._meta.db_table),
                doc_table=connection.ops.quote_name(Document._meta.db_table),
            )
            params = [
                document_pk,
                now,
                [op.revision for op in ops],
                [op.op_id for op in ops],
                [op.delta_json for op in ops],
                [op.author_id for op in ops],
                last.revision,
                now,
                last.author_id,
                document_pk,
            ]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                updated = cursor.rowcount
        else:
            with transaction.atomic():
                Operation.objects.bulk_create(
                    Operation(
                        document_id=document_pk,
                        revision=op.revision,
                        op_id=op.op_id,
                        delta=op.delta,
                        author_id=op.author_id,
                        created_at=now,
                    )
                    for op in ops
                )
                updated = Document.objects.filter(pk=document_pk).update(
                    head_revision=last.revision, updated_at=now, last_edited_by_id=last.author_id
                )
        if updated == 0:  # pragma: no cover - the FK refuses the insert first
            raise DocumentMissing(str(document_pk))

    def _without_deleted_authors(self, ops: Sequence[NewOp]) -> list[NewOp] | None:
        """Return ``ops`` with authors no longer stored set to None, or None if all exist."""
        from django.contrib.auth import get_user_model

        wanted = {op.author_id for op in ops if op.author_id is not None}
        present = set(get_user_model().objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if present == wanted:
            return None
        return [op if op.author_id in present or op.author_id is None
                else replace(op, author_id=None) for op in ops]

    def _existing_ids(self, document_pk: int, ops: Iterable[NewOp]) -> dict[str, int]:
        ids = [op.op_id for op in ops]
        return dict(
            Operation.objects.filter(document_id=document_pk, op_id__in=ids).values_list(
                "op_id", "revision"
            )
        )


# --------------------------------------------------------------------------
# In memory, for unit tests
# --------------------------------------------------------------------------


@dataclass
class _MemoryDocument:
    pk: int
    public_id: uuid.UUID
    snapshot_revision: int
    snapshot_content: list[dict]
    ops: list[StoredOp] = field(default_factory=list)
    head_revision: int = 0
    updated_at: datetime | None = None
    last_edited_by_id: int | None = None


class MemoryDocumentStore(DocumentStore):
    """Keep documents in a dict, with hooks to simulate failures and slowness.

    ``available = False`` makes every call raise :class:`StorageUnavailable`;
    ``fail_appends = n`` fails the next ``n`` appends. ``gate``, when set, is
    a :class:`threading.Event` each append waits on before writing: a test
    holds a commit in flight to see what queues behind it. ``appends``
    records the size of every successful append.
    """

    def __init__(self) -> None:
        self._docs: dict[uuid.UUID, _MemoryDocument] = {}
        self._by_pk: dict[int, _MemoryDocument] = {}
        self._lock = threading.Lock()
        self.available = True
        self.fail_appends = 0
        self.gate: threading.Event | None = None
        self.appends: list[int] = []
        self.loads = 0

    def add_document(
        self,
        *,
        public_id: uuid.UUID | None = None,
        content: list[dict] | None = None,
        revision: int = 0,
    ) -> uuid.UUID:
        """Create a document whose snapshot is ``content`` at ``revision``."""
        public_id = public_id or uuid.uuid4()
        with self._lock:
            pk = len(self._by_pk) + 1
            doc = _MemoryDocument(
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

    def document_row(self, public_id: uuid.UUID) -> _MemoryDocument:
        """Return the stored record of a document (for assertions)."""
        return self._docs[public_id]

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Return the document's snapshot and the ops after it."""
        self._check_available()
        with self._lock:
            self.loads += 1
            doc = self._docs.get(public_id)
            if doc is None:
                raise DocumentMissing(str(public_id))
            snap_rev = doc.snapshot_revision
            kept = [op for op in doc.ops if snap_rev - earlier < op.revision <= snap_rev]
            return LoadedDocument(
                document_pk=doc.pk,
                public_id=doc.public_id,
                snapshot_revision=snap_rev,
                snapshot_content=json.loads(json.dumps(doc.snapshot_content)),
                ops=[op for op in doc.ops if op.revision > snap_rev],
                earlier=_consecutive_tail(kept, snap_rev) if earlier > 0 else [],
            )

    def compact(self, public_id: uuid.UUID, *, revision: int, content: list[dict],
                keep_ops: int) -> None:
        """Make ``content`` the snapshot at ``revision``, keeping ``keep_ops`` ops before it."""
        with self._lock:
            doc = self._docs[public_id]
            doc.snapshot_revision = revision
            doc.snapshot_content = json.loads(json.dumps(content))
            doc.ops = [op for op in doc.ops if op.revision > revision - keep_ops]

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        """Store ``ops`` atomically, with the same fences as the database."""
        if not ops:
            return
        if self.gate is not None:
            self.gate.wait(timeout=30)
        self._check_available()
        with self._lock:
            if self.fail_appends > 0:
                self.fail_appends -= 1
                raise StorageUnavailable("simulated failure")
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
                    )
                )
            doc.ops.sort(key=lambda op: op.revision)
            doc.head_revision = ops[-1].revision
            doc.updated_at = timezone.now()
            doc.last_edited_by_id = ops[-1].author_id
            self.appends.append(len(ops))

    def history(
        self, *, document_pk: int, after: int, up_to: int, max_ops: int, max_bytes: int
    ) -> list[StoredOp] | None:
        """Return the stored ops after ``after`` up to ``up_to`` (see the interface)."""
        self._check_available()
        if up_to <= after:
            return []
        if up_to - after > max_ops:
            return None
        with self._lock:
            doc = self._by_pk.get(document_pk)
            if doc is None:
                raise DocumentMissing(str(document_pk))
            rows = [(op.revision, op.op_id, op.delta, op.author_id)
                    for op in doc.ops if after < op.revision <= up_to]
        return _bounded_history(rows, after=after, up_to=up_to, max_bytes=max_bytes)

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Return the stored op with this client op id, or None."""
        self._check_available()
        with self._lock:
            doc = self._by_pk.get(document_pk)
            if doc is None:
                raise DocumentMissing(str(document_pk))
            return next((op for op in doc.ops if op.op_id == op_id), None)

    def insert_foreign(self, public_id: uuid.UUID, op: StoredOp) -> None:
        """Store an op as another writer would (a second worker), for tests."""
        with self._lock:
            doc = self._docs[public_id]
            doc.ops.append(op)
            doc.head_revision = max(doc.head_revision, op.revision)

    def _check_available(self) -> None:
        if not self.available:
            raise StorageUnavailable("simulated outage")
