"""Compaction: fold a document's op log into a new snapshot.

A document's content is its snapshot (a :class:`DocumentVersion`) composed
with the ops after the snapshot's revision. Compaction stores that content
as a new version of kind ``compaction`` at the head revision, points the
document at it and deletes the folded ops, except the last ``keep_ops`` and
every op younger than ``COLLABDOCS["RETENTION_DAYS"]`` (default 7): a client
that reconnects with an older revision catches up from those, so its unsaved
edits are rebased rather than dropped (docs/history.md, "Retention"). What
is deleted is always a prefix of the log, so the kept ops are consecutive.

Two entry points:

* :func:`version_compact` (``manage.py compact_docs``, the admin) replays
  the ops from the database, and skips documents that are open, busy or not
  idle for long enough.
* :func:`snapshot_save` (the owning worker, through its store's
  ``snapshot_save`` / ``lease_close``, :mod:`documents.store.db`) already
  holds the content at its head in memory and writes it without replaying.

Replaying goes through :func:`documents.replay.replay`, as every reader's does.

Guarantees, and how they are kept:

* **All or nothing.** Each document is one transaction: lock, read, write
  the version, point the document at it, delete the ops. A failure or a
  crash at any step rolls all of it back; the previous snapshot and every
  op stay as they were.
* **Never races an edit.** The document row is locked ``FOR UPDATE`` for
  the transaction (``NOWAIT`` for ``version_compact``: a busy document is
  skipped). Storing an op takes a ``KEY SHARE`` lock on that row (the
  foreign key check) and so does loading a document
  (:func:`documents.content.lock_for_read`), so a commit or a load either
  finishes before the compaction starts or waits for it to end. Only ops up
  to the locked row's ``head_revision`` are folded: an op stored later is
  never folded or deleted.
* **Open documents are left to their owner.** In single-node mode the lease
  (:mod:`documents.leases`) says whether a worker has the document open. In
  cluster mode a :class:`DocumentGuard` is held as well: the document's
  ZooKeeper lock, which the owner holds while it serves the document.

The guard is pluggable (``COLLABDOCS["DOCUMENT_GUARD"]``, a dotted path). A
ZooKeeper implementation holds kazoo's ``Lock`` recipe on the document's
lock path for the duration of ``hold()``, acquired with ``blocking=False``
so a document its owner holds is skipped, not waited for.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from documents.deepjson import DeepJSONEncoder
from documents.metrics import compaction_run
from documents.models import INITIAL_CONTENT, Document, DocumentVersion, Operation, VersionKind
from documents.replay import replay
from realtime.ot import Delta, InvalidDelta
from realtime.ot import authorship as ot_authorship

#: PostgreSQL's SQLSTATE for "could not obtain lock" (``NOWAIT``).
LOCK_NOT_AVAILABLE = "55P03"


class Status:
    """What became of one document."""

    COMPACTED = "compacted"
    WOULD_COMPACT = "would compact"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CompactionResult:
    """The outcome of compacting one document."""

    public_id: uuid.UUID
    title: str
    status: str
    reason: str = ""
    #: Ops after the old snapshot that the new one includes.
    ops_folded: int = 0
    #: Op rows deleted (folded ones, and older kept ones now out of range).
    ops_deleted: int = 0
    #: JSON bytes of the deleted ops minus those of the new snapshot.
    bytes_saved: int = 0
    #: Revision of the new snapshot.
    revision: int = 0
    seconds: float = 0.0
    version_id: int | None = None
    authors: tuple[int, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        """Return whether a new snapshot was stored."""
        return self.status == Status.COMPACTED


class _Skip(Exception):
    """Leave this document alone (the message says why); roll back."""


class CorruptHistory(Exception):
    """The stored ops of a document are not consecutive after its snapshot."""


# --------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------


class DocumentGuard:
    """What ``version_compact`` holds, besides the database lock, per document.

    ``hold(public_id)`` is a context manager that yields True while the
    guard is held (it is released on exit) or False when someone else holds
    it, in which case the document is skipped. It must not block for long:
    the owner of an open document holds it for as long as it serves it.
    """

    def hold(self, public_id: uuid.UUID) -> AbstractContextManager[bool]:
        """Try to take the guard of one document (see the class docstring)."""
        raise NotImplementedError("subclasses of DocumentGuard must provide a hold() method")

    def close(self) -> None:
        """Release what the guard holds (connections); called once at the end."""


class DatabaseGuard(DocumentGuard):
    """The single-node guard: nothing beyond the database.

    ``version_compact`` always locks the document row and checks the lease
    inside its transaction; with one node that is the whole guarantee.
    """

    @contextmanager
    def hold(self, public_id: uuid.UUID) -> Iterator[bool]:
        """Yield True: the row lock and the lease are checked by the caller."""
        yield True


def get_guard() -> DocumentGuard:
    """Return a new guard of the class named by ``COLLABDOCS["DOCUMENT_GUARD"]``."""
    path = settings.COLLABDOCS.get("DOCUMENT_GUARD") or "documents.compaction.DatabaseGuard"
    return import_string(path)()


# --------------------------------------------------------------------------
# Which documents
# --------------------------------------------------------------------------


def _idle_cutoff(now: datetime, idle_minutes: float) -> datetime:
    return now - timedelta(minutes=idle_minutes)


def compaction_candidates(
    *, idle_minutes: float, now: datetime | None = None
) -> QuerySet[Document]:
    """Return documents with ops after their snapshot, closed and idle long enough.

    "Idle" means not edited, and not open on any worker (no live lease, and
    the last one let go), for ``idle_minutes``. :func:`version_compact`
    checks all of it again under the row lock.
    """
    now = now or timezone.now()
    cutoff = _idle_cutoff(now, idle_minutes)
    return (
        Document.objects.filter(head_revision__gt=F("snapshot__revision"))
        .filter(
            Q(lease_holder="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
        )
        .filter(updated_at__lte=cutoff)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__lte=cutoff))
        .order_by("pk")
    )


def open_reason(document: Document, *, now: datetime, idle_minutes: float) -> str:
    """Return why ``document`` counts as open or recently used, or ""."""
    if document.lease_holder and document.lease_expires_at and document.lease_expires_at > now:
        return f"open on {document.lease_holder}"
    cutoff = _idle_cutoff(now, idle_minutes)
    if document.updated_at and document.updated_at > cutoff:
        return f"edited in the last {idle_minutes:g} minutes"
    if document.closed_at and document.closed_at > cutoff:
        return f"open in the last {idle_minutes:g} minutes"
    return ""


# --------------------------------------------------------------------------
# The steps (separate functions so that tests can fail between them)
# --------------------------------------------------------------------------


def _json_size(value: object) -> int:
    # DeepJSONEncoder: ops stored before the content schema may nest deep.
    text = json.dumps(value, cls=DeepJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8"))


def _lock(document_pk: int, *, nowait: bool) -> Document:
    """Lock the document row for the transaction, or raise _Skip."""
    try:
        row = (
            Document.objects.select_for_update(nowait=nowait)
            .filter(pk=document_pk)
            .only(
                "pk",
                "public_id",
                "title",
                "head_revision",
                "snapshot_id",
                "updated_at",
                "lease_holder",
                "lease_expires_at",
                "closed_at",
            )
            .first()
        )
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise _Skip("busy: a write or another compaction holds it") from None
        raise
    if row is None:
        raise _Skip("deleted")
    return row


def _snapshot_of(row: Document) -> tuple[int, list[dict]]:
    if row.snapshot_id is None:
        return 0, list(INITIAL_CONTENT)
    revision, content = (
        DocumentVersion.objects.filter(pk=row.snapshot_id).values_list("revision", "content").get()
    )
    return revision, list(content)


@dataclass
class _Folded:
    content: list[dict]
    ops: int
    authors: set[int]
    #: Authorship runs of ``content`` (JSON), None when they cannot be known.
    authorship: list[list[int | None]] | None = None


def _snapshot_runs(row: Document, snapshot_content: list[dict]) -> ot_authorship.Runs:
    """Return the snapshot's stored authorship, or "unknown" over all of it."""
    stored = (
        DocumentVersion.objects.filter(pk=row.snapshot_id)
        .values_list("authorship", flat=True)
        .first()
        if row.snapshot_id
        else None
    )
    if stored is not None:
        try:
            return ot_authorship.from_json(stored)
        except ValueError:
            pass  # Malformed: start from "unknown", as for a version without it.
    return ot_authorship.initial(Delta(snapshot_content).length())


def _fold(row: Document, snapshot_revision: int, snapshot_content: list[dict]) -> _Folded:
    """Replay the ops after the snapshot, up to the row's head, with their authorship."""
    authors: set[int] = set()
    runs: list[ot_authorship.Tracker | None] = [
        ot_authorship.Tracker(_snapshot_runs(row, snapshot_content))
    ]
    rows = (
        Operation.objects.filter(
            document_id=row.pk, revision__gt=snapshot_revision, revision__lte=row.head_revision
        )
        .order_by("revision")
        .values_list("revision", "delta", "author_id", "attribution")
    )

    def consecutive() -> Iterator[list[dict]]:
        expected = snapshot_revision
        for revision, delta, author_id, attribution in rows.iterator(chunk_size=2000):
            expected += 1
            if revision != expected:
                raise CorruptHistory(
                    f"{row.public_id}: revision {revision} where {expected} was expected"
                )
            if author_id is not None:
                authors.add(author_id)
            current = runs[0]
            if current is not None:
                try:
                    named = None if attribution is None else ot_authorship.from_json(attribution)
                    current.apply(delta, author_id, named)
                except ValueError:
                    runs[0] = None  # Not kept past a bad record; the content decides.
            yield delta
        if expected != row.head_revision:
            raise CorruptHistory(
                f"{row.public_id}: ops end at {expected}, head is {row.head_revision}"
            )

    text = replay(snapshot_content, consecutive())
    final = runs[0].runs() if runs[0] is not None else None
    return _Folded(
        content=text.to_ops(),
        ops=row.head_revision - snapshot_revision,
        authors=authors,
        authorship=(
            ot_authorship.to_json(final)
            if final is not None and ot_authorship.length(final) == text.length
            else None
        ),
    )


def _store_version(
    row: Document,
    *,
    revision: int,
    content: list[dict],
    ops: int,
    authors: Iterable[int],
    runs: list[list[int | None]] | None,
) -> DocumentVersion:
    version = DocumentVersion.objects.create(
        document_id=row.pk,
        revision=revision,
        content=content,
        kind=VersionKind.COMPACTION,
        ops_folded=ops,
        authorship=runs,
    )
    author_ids = sorted(set(authors))
    if author_ids:
        version.authors.add(*author_ids)
    return version


def _point_document(row: Document, version: DocumentVersion) -> None:
    Document.objects.filter(pk=row.pk).update(snapshot_id=version.pk)


def _op_bytes(document_pk: int, up_to: int) -> tuple[int, int]:
    """Return ``(count, JSON bytes)`` of the ops at or below ``up_to``."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Operation._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), coalesce(sum(octet_length(delta::text)), 0) FROM {table} "
                "WHERE document_id = %s AND revision <= %s",
                [document_pk, up_to],
            )
            count, size = cursor.fetchone()
        return int(count), int(size)
    deltas = Operation.objects.filter(document_id=document_pk, revision__lte=up_to).values_list(
        "delta", flat=True
    )
    sizes = [_json_size(delta) for delta in deltas.iterator(chunk_size=2000)]
    return len(sizes), sum(sizes)


def retention_horizon(now: datetime) -> datetime:
    """Return the time before which folded ops may be deleted (``RETENTION_DAYS``)."""
    return now - timedelta(days=settings.COLLABDOCS["RETENTION_DAYS"])


def _deletable_up_to(document_pk: int, cutoff: int, *, now: datetime) -> int:
    """Return the last revision that may be deleted: at most ``cutoff``, and old.

    The ops to delete must be older than the retention horizon. Revisions
    and times agree only roughly (several workers' clocks), so the prefix
    stops before the first young op: what stays is consecutive, which
    catch-up from storage relies on.
    """
    if cutoff <= 0:
        return cutoff
    first_young = (
        Operation.objects.filter(
            document_id=document_pk, revision__lte=cutoff, created_at__gte=retention_horizon(now)
        )
        .order_by("revision")
        .values_list("revision", flat=True)
        .first()
    )
    return cutoff if first_young is None else min(cutoff, first_young - 1)


def _delete_ops(row: Document, up_to: int) -> int:
    deleted, _ = Operation.objects.filter(document_id=row.pk, revision__lte=up_to).delete()
    return deleted


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def _default_keep(keep_ops: int | None) -> int:
    if keep_ops is None:
        keep_ops = settings.COLLABDOCS["COMPACT_KEEP_OPS"]
    if keep_ops < 0:
        raise ValueError("keep_ops must not be negative")
    return keep_ops


def version_compact(
    *,
    document: Document,
    keep_ops: int | None = None,
    idle_minutes: float = 0,
    dry_run: bool = False,
    guard: DocumentGuard | None = None,
    now: datetime | None = None,
) -> CompactionResult:
    """Fold the ops of an idle document into a new snapshot (module docstring).

    Skip the document (``status == "skipped"``, ``reason`` says why) when
    the guard is held elsewhere, a worker has it open, it was used in the
    last ``idle_minutes``, its row is locked right now, or there is nothing
    to fold. With ``dry_run`` nothing is written: the result says what would
    be folded and saved.
    """
    keep_ops = _default_keep(keep_ops)
    started = time.perf_counter()
    guard = guard or DatabaseGuard()

    def result(status: str, reason: str = "", **values: Any) -> CompactionResult:
        if not dry_run:  # a dry run changes nothing: nothing to count
            compaction_run(outcome=status, kind="idle", ops_folded=values.get("ops_folded", 0))
        return CompactionResult(
            public_id=document.public_id,
            title=document.title,
            status=status,
            reason=reason,
            seconds=time.perf_counter() - started,
            **values,
        )

    with guard.hold(document.public_id) as held:
        if not held:
            return result(Status.SKIPPED, "its lock is held elsewhere (open on another worker)")
        try:
            with transaction.atomic():
                row = _lock(document.pk, nowait=True)
                reason = open_reason(row, now=now or timezone.now(), idle_minutes=idle_minutes)
                if reason:
                    raise _Skip(reason)
                snap_rev, snap_content = _snapshot_of(row)
                if row.head_revision <= snap_rev:
                    raise _Skip("nothing to fold")
                folded = _fold(row, snap_rev, snap_content)
                cutoff = _deletable_up_to(
                    row.pk, row.head_revision - keep_ops, now=now or timezone.now()
                )
                deleted, deleted_bytes = _op_bytes(row.pk, cutoff)
                saved = deleted_bytes - _json_size(folded.content)
                values = dict(
                    ops_folded=folded.ops,
                    ops_deleted=deleted,
                    bytes_saved=saved,
                    revision=row.head_revision,
                    authors=tuple(sorted(folded.authors)),
                )
                if dry_run:
                    raise _DryRun(values)
                version = _store_version(
                    row,
                    revision=row.head_revision,
                    content=folded.content,
                    ops=folded.ops,
                    authors=folded.authors,
                    runs=folded.authorship,
                )
                _point_document(row, version)
                _delete_ops(row, cutoff)
        except _Skip as skip:
            return result(Status.SKIPPED, str(skip))
        except _DryRun as dry:
            return result(Status.WOULD_COMPACT, **dry.values)
        except (CorruptHistory, InvalidDelta) as exc:
            return result(Status.SKIPPED, f"stored history does not replay ({exc}); left alone")
    return result(Status.COMPACTED, version_id=version.pk, **values)


class _DryRun(Exception):
    """Roll back: this was a dry run (``values`` is what would have been done)."""

    def __init__(self, values: dict) -> None:
        super().__init__("dry run")
        self.values = values


def snapshot_save(
    *,
    document_pk: int,
    revision: int,
    content: list[dict],
    keep_ops: int | None = None,
    authorship: list[list[int | None]] | None = None,
) -> CompactionResult | None:
    """Store the owner's content at ``revision`` as the document's snapshot.

    For the worker that has the document open: its content at its head is
    exact, so nothing is replayed; so are its ``authorship`` runs (JSON,
    stored with it; None: not known). The authors and the count come from the
    ops being folded. Return None when the snapshot is already at or past
    ``revision`` or the document is gone.
    """
    keep_ops = _default_keep(keep_ops)
    started = time.perf_counter()
    with transaction.atomic():
        try:
            row = _lock(document_pk, nowait=False)
        except _Skip:
            return None
        snap_rev = (
            DocumentVersion.objects.filter(pk=row.snapshot_id)
            .values_list("revision", flat=True)
            .first()
            if row.snapshot_id
            else 0
        ) or 0
        if revision <= snap_rev or revision > row.head_revision:
            return None
        folded_ops = Operation.objects.filter(
            document_id=row.pk, revision__gt=snap_rev, revision__lte=revision
        )
        authors = set(
            folded_ops.exclude(author_id=None).values_list("author_id", flat=True).distinct()
        )
        count = revision - snap_rev
        cutoff = _deletable_up_to(row.pk, revision - keep_ops, now=timezone.now())
        deleted, deleted_bytes = _op_bytes(row.pk, cutoff)
        version = _store_version(
            row, revision=revision, content=content, ops=count, authors=authors, runs=authorship
        )
        _point_document(row, version)
        _delete_ops(row, cutoff)
    compaction_run(outcome=Status.COMPACTED, kind="live", ops_folded=count)
    return CompactionResult(
        public_id=row.public_id,
        title=row.title,
        status=Status.COMPACTED,
        ops_folded=count,
        ops_deleted=deleted,
        bytes_saved=deleted_bytes - _json_size(content),
        revision=revision,
        seconds=time.perf_counter() - started,
        version_id=version.pk,
        authors=tuple(sorted(authors)),
    )
