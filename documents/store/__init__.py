"""Durable storage of live documents: the interface and its two backends.

* :mod:`documents.store.base`: :class:`DocumentStore` (the interface), its
  data classes and exceptions, and the failure modes;
* :mod:`documents.store.db`: :class:`DjangoDocumentStore`, on the models;
* :mod:`documents.store.memory`: :class:`MemoryDocumentStore`, for tests.
"""

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
    StoreError,
)
from documents.store.db import DjangoDocumentStore
from documents.store.memory import MemoryDocumentStore

__all__ = [
    "DjangoDocumentStore",
    "DocumentMissing",
    "DocumentStore",
    "DuplicateOpIds",
    "LoadedDocument",
    "MemoryDocumentStore",
    "NewOp",
    "RevisionConflict",
    "SnapshotSaved",
    "StorageUnavailable",
    "StoreError",
    "StoredOp",
]
