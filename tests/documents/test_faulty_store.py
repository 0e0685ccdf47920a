"""tests/documents/faulty_store.py: the failures it injects are the store's own."""

from __future__ import annotations

import threading

import pytest

from documents.store import MemoryDocumentStore, StorageUnavailable
from tests.documents.faulty_store import FaultyStore
from tests.documents.test_store import new_op


def test_an_outage_makes_every_call_storage_unavailable() -> None:
    store = FaultyStore(MemoryDocumentStore())
    doc = store.add_document()
    pk = store.load(public_id=doc).document_pk
    store.available = False
    with pytest.raises(StorageUnavailable):
        store.load(public_id=doc)
    with pytest.raises(StorageUnavailable):
        store.append(document_pk=pk, ops=[new_op(1, "a")])
    with pytest.raises(StorageUnavailable):
        store.lease_open(public_id=doc)
    store.available = True
    assert store.load(public_id=doc).ops == []
    assert store.loads == 2


def test_failed_appends_store_nothing_and_the_next_one_succeeds() -> None:
    store = FaultyStore(MemoryDocumentStore())
    doc = store.add_document()
    pk = store.load(public_id=doc).document_pk
    store.fail_appends = 1
    with pytest.raises(StorageUnavailable):
        store.append(document_pk=pk, ops=[new_op(1, "a")])
    store.append(document_pk=pk, ops=[new_op(1, "a"), new_op(2, "b")])
    assert store.appends == [2]
    assert store.load(public_id=doc).head_revision == 2


def test_a_gate_holds_an_append_until_it_opens() -> None:
    store = FaultyStore(MemoryDocumentStore())
    doc = store.add_document()
    pk = store.load(public_id=doc).document_pk
    store.gate = threading.Event()
    writer = threading.Thread(
        target=store.append, kwargs={"document_pk": pk, "ops": [new_op(1, "a")]}
    )
    writer.start()
    writer.join(timeout=0.2)
    assert writer.is_alive() and store.appends == []
    store.gate.set()
    writer.join(timeout=5)
    assert store.appends == [1]
