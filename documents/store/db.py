"""The Django store: PostgreSQL in production, SQLite as the embedded default.

Implements :class:`documents.store.base.DocumentStore` on the ``documents``
models, through the calling thread's database connection. Leases are rows'
``lease_holder`` / ``lease_expires_at`` (:mod:`documents.leases`); owner
snapshots are :func:`documents.compaction.snapshot_save`.

Failure modes (beyond the interface's): a connection that was open may have
been cut while idle (a database restart); a call on it is retried once on
a fresh connection, which is safe even for a write whose outcome is
unknown, because both fences reject a second copy and leases and snapshots
are idempotent. Any other connection-level failure closes the connection
(the next call reconnects) and raises ``StorageUnavailable``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone

from documents import compaction, leases
from documents.content import lock_for_read
from documents.metrics import db_error
from documents.models import INITIAL_CONTENT, Document, Operation
from documents.store.base import (
    DocumentMissing,
    DocumentStore,
    DuplicateOpIds,
    LoadedDocument,
    NewOp,
    RevisionConflict,
    SnapshotSaved,
    StorageUnavailable,
    StoredOp,
    bounded_history,
    consecutive_tail,
)

T = TypeVar("T")

REVISION_CONSTRAINT = "op_unique_revision"
OP_ID_CONSTRAINT = "op_unique_client_id"

_PG_APPEND_SQL = """
WITH ins AS (
    INSERT INTO {op_table}
        (document_id, revision, op_id, delta, author_id, attribution, created_at)
    SELECT %s, r.revision, r.op_id, r.delta::jsonb, r.author_id, r.attribution::jsonb, %s
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[])
        AS r(revision, op_id, delta, author_id, attribution)
    RETURNING 1
)
UPDATE {doc_table}
SET head_revision = %s, updated_at = %s, last_edited_by_id = %s
WHERE id = %s
"""


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

    Leases go by ``holder`` (default: this process's,
    :func:`documents.leases.new_holder_id`) and last
    ``COLLABDOCS["LEASE_SECONDS"]``, read at each call.
    """

    def __init__(self, *, holder: str | None = None) -> None:
        """Make a store whose leases go by ``holder``."""
        self.holder = holder or leases.new_holder_id()

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
                Operation.objects.filter(
                    document_id=document_pk, revision__gt=after, revision__lte=up_to
                )
                .order_by("revision")
                .values_list("revision", "op_id", "delta", "author_id")
            )
            return bounded_history(
                rows.iterator(chunk_size=2000), after=after, up_to=up_to, max_bytes=max_bytes
            )

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

    def lease_open(self, *, public_id: uuid.UUID) -> bool:
        """Take the lease of a document being loaded; return whether it exists."""
        return self._guard(
            lambda: leases.lease_open(
                public_id=public_id, holder=self.holder, seconds=_lease_seconds()
            )
        )

    def lease_renew(self, *, public_ids: Sequence[uuid.UUID]) -> int:
        """Extend this holder's leases (or reclaim free, expired ones); return how many."""
        return self._guard(
            lambda: leases.lease_renew(
                public_ids=public_ids, holder=self.holder, seconds=_lease_seconds()
            )
        )

    def snapshot_save(
        self,
        *,
        document_pk: int,
        revision: int,
        content: list[dict[str, Any]],
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store the owner's content at ``revision`` as the snapshot (see the interface)."""
        return self._guard(
            lambda: _saved(
                compaction.snapshot_save(
                    document_pk=document_pk,
                    revision=revision,
                    content=content,
                    authorship=authorship,
                )
            )
        )

    def lease_close(
        self,
        *,
        document_pk: int,
        revision: int | None = None,
        content: list[dict[str, Any]] | None = None,
        authorship: list[list[Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Store a last snapshot (when given) and release the lease in one transaction."""

        def work() -> SnapshotSaved | None:
            with transaction.atomic():
                result = None
                if revision is not None and content is not None:
                    result = compaction.snapshot_save(
                        document_pk=document_pk,
                        revision=revision,
                        content=content,
                        authorship=authorship,
                    )
                leases.lease_release(document_pk=document_pk, holder=self.holder)
            return _saved(result)

        return self._guard(work)

    def close(self) -> None:
        """Close this thread's database connection."""
        with contextlib.suppress(DatabaseError):
            connection.close()

    # -- internals ----------------------------------------------------------

    def _guard(self, work: Callable[[], T]) -> T:
        """Run ``work``; turn connection failures into StorageUnavailable.

        A connection that was already open may have been cut while idle (a
        database restart): such a failure is retried once on a fresh
        connection (the module docstring says why that is safe).
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
                db_error()
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
                .only(
                    "pk",
                    "public_id",
                    "snapshot__revision",
                    "snapshot__content",
                    "snapshot__authorship",
                )
                .first()
            )
            if row is None:  # pragma: no cover - locked above
                raise DocumentMissing(str(public_id))
            snap_authorship = None
            if row.snapshot_id is not None:
                snap_rev, snap_content = row.snapshot.revision, list(row.snapshot.content)
                snap_authorship = row.snapshot.authorship
            else:
                snap_rev, snap_content = 0, list(INITIAL_CONTENT)
            ops = [
                StoredOp(
                    revision=rev,
                    op_id=op_id,
                    delta=delta,
                    author_id=author_id,
                    attribution=attribution,
                )
                for rev, op_id, delta, author_id, attribution in Operation.objects.filter(
                    document_id=row.pk, revision__gt=snap_rev
                )
                .order_by("revision")
                .values_list("revision", "op_id", "delta", "author_id", "attribution")
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
            earlier=consecutive_tail(kept, snap_rev),
            snapshot_authorship=snap_authorship,
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
                [op.attribution_json for op in ops],
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
                        attribution=(
                            json.loads(op.attribution_json) if op.attribution_json else None
                        ),
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
        wanted = {op.author_id for op in ops if op.author_id is not None}
        present = set(get_user_model().objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if present == wanted:
            return None
        return [
            op if op.author_id in present or op.author_id is None else replace(op, author_id=None)
            for op in ops
        ]

    def _existing_ids(self, document_pk: int, ops: Iterable[NewOp]) -> dict[str, int]:
        ids = [op.op_id for op in ops]
        return dict(
            Operation.objects.filter(document_id=document_pk, op_id__in=ids).values_list(
                "op_id", "revision"
            )
        )


def _lease_seconds() -> float:
    return float(settings.COLLABDOCS["LEASE_SECONDS"])


def _saved(result: compaction.CompactionResult | None) -> SnapshotSaved | None:
    if result is None:
        return None
    return SnapshotSaved(
        revision=result.revision, ops_folded=result.ops_folded, ops_deleted=result.ops_deleted
    )
