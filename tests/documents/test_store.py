"""One contract for every DocumentStore: the Django one (PostgreSQL) and the memory one.

As ShareDB's ``test/db.js``: each contract test runs against both backends
through the ``backend`` fixture. Failure modes covered: the revision and
op-id fences (nothing of a refused batch is stored), missing documents, an
author deleted meanwhile, an unreachable database; for leases and owner
snapshots, a snapshot that is not newer or is past the head changes
nothing, and closing stores the last snapshot and frees the lease together.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collabdocs.devservers import free_port
from documents import services
from documents.models import Document
from documents.store import (
    DjangoDocumentStore,
    DocumentMissing,
    DocumentStore,
    DuplicateOpIds,
    MemoryDocumentStore,
    NewOp,
    RevisionConflict,
    StorageUnavailable,
)


def new_op(rev: int, text: str, op_id: str | None = None, author: int | None = None) -> NewOp:
    delta = [{"insert": text}]
    return NewOp(
        revision=rev,
        op_id=op_id or f"{'k' * 16}:{rev}",
        delta=delta,
        delta_json=json.dumps(delta, ensure_ascii=False),
        author_id=author,
    )


@dataclass
class Row:
    """What a backend records on a document besides its ops."""

    head_revision: int
    last_edited_by_id: int | None
    updated_at: datetime | None
    lease_holder: str
    closed_at: datetime | None


@dataclass
class Backend:
    """A store under test, how to make a document and how to read its row."""

    store: DocumentStore
    make: Callable[[], uuid.UUID]
    row: Callable[[uuid.UUID], Row]
    #: A user id ops may name as their author.
    author: int


def memory_backend() -> Backend:
    store = MemoryDocumentStore(holder="worker-a")

    def row(public_id: uuid.UUID) -> Row:
        doc = store.document_row(public_id)
        return Row(
            doc.head_revision,
            doc.last_edited_by_id,
            doc.updated_at,
            doc.lease_holder,
            doc.closed_at,
        )

    return Backend(store=store, make=lambda: store.add_document(), row=row, author=7)


def django_backend(make_user: Callable[..., Any]) -> Backend:
    owner = make_user("storeowner")

    def row(public_id: uuid.UUID) -> Row:
        doc = Document.objects.get(public_id=public_id)
        return Row(
            doc.head_revision,
            doc.last_edited_by_id,
            doc.updated_at,
            doc.lease_holder,
            doc.closed_at,
        )

    return Backend(
        store=DjangoDocumentStore(holder="worker-a"),
        make=lambda: services.document_create(owner=owner).public_id,
        row=row,
        author=owner.pk,
    )


@pytest.fixture(params=["django", "memory"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        yield memory_backend()
        return
    request.getfixturevalue("transactional_db")
    made = django_backend(request.getfixturevalue("make_user"))
    yield made
    made.store.close()


def pk_of(backend: Backend, public_id: uuid.UUID) -> int:
    return backend.store.load(public_id=public_id).document_pk


# -- the op log ----------------------------------------------------------------


def test_load_a_new_document(backend: Backend) -> None:
    doc = backend.make()
    loaded = backend.store.load(public_id=doc)
    assert loaded.public_id == doc
    assert loaded.snapshot_revision == 0
    assert loaded.snapshot_content == [{"insert": "\n"}]
    assert loaded.ops == [] and loaded.head_revision == 0


def test_append_stores_a_batch_and_moves_the_head(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    created = backend.row(doc).updated_at
    backend.store.append(
        document_pk=pk, ops=[new_op(1, "a"), new_op(2, "😀 é", author=backend.author)]
    )
    loaded = backend.store.load(public_id=doc)
    assert [(op.revision, op.delta) for op in loaded.ops] == [
        (1, [{"insert": "a"}]),
        (2, [{"insert": "😀 é"}]),
    ]
    assert loaded.ops[1].author_id == backend.author and loaded.ops[1].op_id == f"{'k' * 16}:2"
    assert loaded.head_revision == 2
    row = backend.row(doc)
    assert row.head_revision == 2 and row.last_edited_by_id == backend.author
    assert row.updated_at is not None and (created is None or row.updated_at >= created)


def test_a_stored_revision_is_a_conflict_and_nothing_is_stored(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.append(document_pk=pk, ops=[new_op(1, "a")])
    with pytest.raises(RevisionConflict):
        backend.store.append(
            document_pk=pk,
            ops=[new_op(1, "b", op_id="z" * 16 + ":1"), new_op(2, "c", op_id="z" * 16 + ":2")],
        )
    loaded = backend.store.load(public_id=doc)
    assert [op.revision for op in loaded.ops] == [1]
    assert backend.row(doc).head_revision == 1


def test_a_stored_op_id_is_reported_with_its_revision(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.append(document_pk=pk, ops=[new_op(1, "a", op_id="q" * 16 + ":1")])
    with pytest.raises(DuplicateOpIds) as caught:
        backend.store.append(document_pk=pk, ops=[new_op(2, "b", op_id="q" * 16 + ":1")])
    assert caught.value.existing == {"q" * 16 + ":1": 1}
    assert backend.store.load(public_id=doc).head_revision == 1


def test_missing_documents(backend: Backend) -> None:
    with pytest.raises(DocumentMissing):
        backend.store.load(public_id=uuid.uuid4())
    with pytest.raises(DocumentMissing):
        backend.store.append(document_pk=987654, ops=[new_op(1, "a")])


def test_history_returns_consecutive_ops_or_none(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.append(document_pk=pk, ops=[new_op(rev, "x") for rev in range(1, 6)])
    ops = backend.store.history(document_pk=pk, after=1, up_to=4, max_ops=10, max_bytes=10_000)
    assert ops is not None and [op.revision for op in ops] == [2, 3, 4]
    assert (
        backend.store.history(document_pk=pk, after=0, up_to=5, max_ops=3, max_bytes=10_000) is None
    )
    assert backend.store.history(document_pk=pk, after=0, up_to=5, max_ops=10, max_bytes=10) is None
    assert backend.store.history(document_pk=pk, after=5, up_to=5, max_ops=10, max_bytes=10) == []
    found = backend.store.find_op(document_pk=pk, op_id=f"{'k' * 16}:3")
    assert found is not None and found.revision == 3
    assert backend.store.find_op(document_pk=pk, op_id="nobody:1") is None


# -- leases and owner snapshots ---------------------------------------------------


def test_a_lease_is_taken_renewed_and_released_with_a_last_snapshot(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    assert backend.store.lease_open(public_id=doc) is True
    assert backend.row(doc).lease_holder == "worker-a"
    assert backend.store.lease_renew(public_ids=[doc]) == 1
    backend.store.append(document_pk=pk, ops=[new_op(1, "a"), new_op(2, "b")])
    saved = backend.store.lease_close(document_pk=pk, revision=2, content=[{"insert": "ba\n"}])
    assert saved is not None and (saved.revision, saved.ops_folded) == (2, 2)
    row = backend.row(doc)
    assert row.lease_holder == "" and row.closed_at is not None
    loaded = backend.store.load(public_id=doc)
    assert (loaded.snapshot_revision, loaded.snapshot_content) == (2, [{"insert": "ba\n"}])
    assert loaded.ops == []


def test_closing_without_content_only_releases_the_lease(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.lease_open(public_id=doc)
    assert backend.store.lease_close(document_pk=pk) is None
    assert backend.row(doc).lease_holder == ""
    assert backend.store.load(public_id=doc).snapshot_revision == 0


def test_the_lease_of_a_missing_document_is_not_taken(backend: Backend) -> None:
    assert backend.store.lease_open(public_id=uuid.uuid4()) is False
    assert backend.store.lease_renew(public_ids=[uuid.uuid4()]) == 0
    assert backend.store.snapshot_save(document_pk=987654, revision=1, content=[]) is None


def test_a_snapshot_folds_the_ops_up_to_its_revision_and_keeps_young_ones(
    backend: Backend,
) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.append(document_pk=pk, ops=[new_op(rev, "x") for rev in range(1, 4)])
    saved = backend.store.snapshot_save(document_pk=pk, revision=2, content=[{"insert": "xx\n"}])
    assert saved is not None
    # Every op is younger than the retention horizon: none is deleted.
    assert (saved.revision, saved.ops_folded, saved.ops_deleted) == (2, 2, 0)
    loaded = backend.store.load(public_id=doc, earlier=5)
    assert loaded.snapshot_revision == 2 and loaded.snapshot_content == [{"insert": "xx\n"}]
    assert [op.revision for op in loaded.ops] == [3]
    assert [op.revision for op in loaded.earlier] == [1, 2]


def test_a_snapshot_not_newer_or_past_the_head_changes_nothing(backend: Backend) -> None:
    doc = backend.make()
    pk = pk_of(backend, doc)
    backend.store.append(document_pk=pk, ops=[new_op(1, "a"), new_op(2, "b")])
    assert backend.store.snapshot_save(document_pk=pk, revision=2, content=[{"insert": "ba\n"}])
    assert (
        backend.store.snapshot_save(document_pk=pk, revision=2, content=[{"insert": "?\n"}]) is None
    )
    assert (
        backend.store.snapshot_save(document_pk=pk, revision=1, content=[{"insert": "?\n"}]) is None
    )
    assert (
        backend.store.snapshot_save(document_pk=pk, revision=3, content=[{"insert": "?\n"}]) is None
    )
    loaded = backend.store.load(public_id=doc)
    assert (loaded.snapshot_revision, loaded.snapshot_content) == (2, [{"insert": "ba\n"}])


# -- the Django backend's own failure modes --------------------------------------


def test_an_op_whose_author_was_deleted_is_stored_unattributed(
    transactional_db: None, make_user: Callable[..., Any]
) -> None:
    """A user deleted while their accepted op waits is no missing document."""
    owner, gone = make_user("stayowner"), make_user("goneauthor")
    doc = services.document_create(owner=owner).public_id
    store = DjangoDocumentStore()
    try:
        pk = store.load(public_id=doc).document_pk
        gone_id = gone.pk
        gone.delete()
        store.append(
            document_pk=pk, ops=[new_op(1, "a", author=owner.pk), new_op(2, "b", author=gone_id)]
        )
        loaded = store.load(public_id=doc)
        assert [(op.revision, op.author_id) for op in loaded.ops] == [(1, owner.pk), (2, None)]
        assert Document.objects.get(public_id=doc).head_revision == 2
        with pytest.raises(DocumentMissing):
            store.append(document_pk=987654, ops=[new_op(1, "a", author=gone_id)])
    finally:
        store.close()


def test_unreachable_database_is_storage_unavailable(transactional_db: None) -> None:
    """A dead server raises StorageUnavailable; the next call reconnects."""
    store = DjangoDocumentStore()
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        with pytest.raises(StorageUnavailable):
            store.load(public_id=uuid.uuid4())
        with pytest.raises(StorageUnavailable):
            store.lease_renew(public_ids=[uuid.uuid4()])
    finally:
        connection.settings_dict["PORT"] = real_port
    with pytest.raises(DocumentMissing):
        store.load(public_id=uuid.uuid4())


def test_a_batch_is_one_statement_on_postgresql(
    transactional_db: None, make_user: Callable[..., Any]
) -> None:
    """Group commit pays one round trip per batch, however many ops it holds."""
    assert connection.vendor == "postgresql"
    doc = services.document_create(owner=make_user("batcher")).public_id
    store = DjangoDocumentStore()
    pk = store.load(public_id=doc).document_pk
    with CaptureQueriesContext(connection) as queries:
        store.append(document_pk=pk, ops=[new_op(rev, "x'\"\\%s") for rev in range(1, 201)])
    assert len(queries) == 1
    loaded = store.load(public_id=doc)
    assert loaded.head_revision == 200 and loaded.ops[-1].delta == [{"insert": "x'\"\\%s"}]
