"""One contract for every DocumentStore: the Django one (PostgreSQL) and the memory one."""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone

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
from tests.realtime.conftest import create_document, create_user
from tests.servers import free_port


def new_op(rev: int, text: str, op_id: str | None = None, author: int | None = None) -> NewOp:
    delta = [{"insert": text}]
    return NewOp(
        revision=rev,
        op_id=op_id or f"{'k' * 16}:{rev}",
        delta=delta,
        delta_json=json.dumps(delta, ensure_ascii=False),
        author_id=author,
    )


class Backend:
    """A store under test plus how to make a document and read its row."""

    def __init__(self, store: DocumentStore, make, row) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.make = make
        self.row = row


@pytest.fixture(params=["django", "memory"])
def backend(request):  # type: ignore[no-untyped-def]
    if request.param == "memory":
        store = MemoryDocumentStore()

        def make(owner_id=None):  # type: ignore[no-untyped-def]
            return store.add_document()

        def row(public_id):  # type: ignore[no-untyped-def]
            doc = store.document_row(public_id)
            return doc.head_revision, doc.last_edited_by_id, doc.updated_at

        yield Backend(store, make, row)
        return
    request.getfixturevalue("transactional_db")

    owner = create_user("storeowner")
    store = DjangoDocumentStore()

    def make(owner_id=None):  # type: ignore[no-untyped-def]
        return create_document(owner).public_id

    def row(public_id):  # type: ignore[no-untyped-def]
        doc = Document.objects.get(public_id=public_id)
        return doc.head_revision, doc.last_edited_by_id, doc.updated_at

    backend = Backend(store, make, row)
    backend.owner = owner
    yield backend
    store.close()


def author_of(backend: Backend) -> int | None:
    owner = getattr(backend, "owner", None)
    return owner.pk if owner is not None else 7


def test_load_a_new_document(backend):
    doc = backend.make()
    loaded = backend.store.load(public_id=doc)
    assert loaded.public_id == doc
    assert loaded.snapshot_revision == 0
    assert loaded.snapshot_content == [{"insert": "\n"}]
    assert loaded.ops == [] and loaded.head_revision == 0


def test_append_stores_a_batch_and_moves_the_head(backend):
    doc = backend.make()
    pk = backend.store.load(public_id=doc).document_pk
    author = author_of(backend)
    before = timezone.now()
    backend.store.append(document_pk=pk, ops=[new_op(1, "a"), new_op(2, "😀 é", author=author)])
    loaded = backend.store.load(public_id=doc)
    assert [(op.revision, op.delta) for op in loaded.ops] == [
        (1, [{"insert": "a"}]),
        (2, [{"insert": "😀 é"}]),
    ]
    assert loaded.ops[1].author_id == author and loaded.ops[1].op_id == f"{'k' * 16}:2"
    assert loaded.head_revision == 2
    head, last_editor, updated = backend.row(doc)
    assert head == 2 and last_editor == author
    assert updated >= before  # the append stamps the row


def test_a_stored_revision_is_a_conflict_and_nothing_is_stored(backend):
    doc = backend.make()
    pk = backend.store.load(public_id=doc).document_pk
    backend.store.append(document_pk=pk, ops=[new_op(1, "a")])
    with pytest.raises(RevisionConflict):
        backend.store.append(
            document_pk=pk,
            ops=[new_op(1, "b", op_id="z" * 16 + ":1"), new_op(2, "c", op_id="z" * 16 + ":2")],
        )
    loaded = backend.store.load(public_id=doc)
    assert [op.revision for op in loaded.ops] == [1]
    assert backend.row(doc)[0] == 1


def test_a_stored_op_id_is_reported_with_its_revision(backend):
    doc = backend.make()
    pk = backend.store.load(public_id=doc).document_pk
    backend.store.append(document_pk=pk, ops=[new_op(1, "a", op_id="q" * 16 + ":1")])
    with pytest.raises(DuplicateOpIds) as caught:
        backend.store.append(document_pk=pk, ops=[new_op(2, "b", op_id="q" * 16 + ":1")])
    assert caught.value.existing == {"q" * 16 + ":1": 1}
    assert backend.store.load(public_id=doc).head_revision == 1


def test_missing_documents(backend):
    with pytest.raises(DocumentMissing):
        backend.store.load(public_id=uuid.uuid4())
    with pytest.raises(DocumentMissing):
        backend.store.append(document_pk=987654, ops=[new_op(1, "a")])


def test_an_op_whose_author_was_deleted_is_stored_unattributed(transactional_db):
    """A user deleted while their accepted op waits is no missing document."""
    owner, gone = create_user("stayowner"), create_user("goneauthor")
    doc = create_document(owner).public_id
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


def test_unreachable_database_is_storage_unavailable(transactional_db, settings):
    """A dead server raises StorageUnavailable; the next call reconnects."""
    from django.db import connection

    store = DjangoDocumentStore()
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        with pytest.raises(StorageUnavailable):
            store.load(public_id=uuid.uuid4())
    finally:
        connection.settings_dict["PORT"] = real_port
    with pytest.raises(DocumentMissing):
        store.load(public_id=uuid.uuid4())


def test_a_batch_is_one_statement_on_postgresql(transactional_db):
    """Group commit pays one round trip per batch, however many ops it holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert connection.vendor == "postgresql"
    doc = create_document(create_user("batcher")).public_id
    store = DjangoDocumentStore()
    pk = store.load(public_id=doc).document_pk
    with CaptureQueriesContext(connection) as queries:
        store.append(document_pk=pk, ops=[new_op(rev, "x'\"\\%s") for rev in range(1, 201)])
    assert len(queries) == 1
    loaded = store.load(public_id=doc)
    assert loaded.head_revision == 200 and loaded.ops[-1].delta == [{"insert": "x'\"\\%s"}]
