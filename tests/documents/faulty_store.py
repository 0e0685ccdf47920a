"""A store that wraps another and fails, stalls or counts on demand.

Fault injection stays out of the product: tests wrap a real backend
(usually :class:`documents.store.MemoryDocumentStore`) in a
:class:`FaultyStore` and turn its knobs. Anything the wrapper does not
define (``add_document``, ``compact``, ``document_row``...) reaches the
wrapped store.

Knobs:

* ``available = False``: every call raises ``StorageUnavailable``
  ("simulated outage"), as an unreachable database would;
* ``fail_appends = n``: the next ``n`` appends raise ``StorageUnavailable``
  ("simulated failure") and store nothing;
* ``gate``: a :class:`threading.Event` each append waits on (30 s at most)
  before writing, so a test can hold a commit in flight;
* ``appends`` records the size of every successful append and ``loads``
  counts loads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

from documents.store import (
    DocumentStore,
    LoadedDocument,
    NewOp,
    SnapshotSaved,
    StorageUnavailable,
    StoredOp,
)


class FaultyStore(DocumentStore):
    """Delegate to ``inner``, failing, waiting and counting as the knobs say."""

    def __init__(self, inner: DocumentStore) -> None:
        """Wrap ``inner``, every knob off."""
        self.inner = inner
        self.holder = inner.holder
        self.available = True
        self.fail_appends = 0
        self.gate: threading.Event | None = None
        self.appends: list[int] = []
        self.loads = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        """Reach the wrapped store's own helpers (set-up, inspection)."""
        return getattr(self.inner, name)

    def _check_available(self) -> None:
        if not self.available:
            raise StorageUnavailable("simulated outage")

    def load(self, *, public_id: uuid.UUID, earlier: int = 0) -> LoadedDocument:
        """Load from the wrapped store, unless storage is down; count it."""
        self._check_available()
        with self._lock:
            self.loads += 1
        return self.inner.load(public_id=public_id, earlier=earlier)

    def append(self, *, document_pk: int, ops: Sequence[NewOp]) -> None:
        """Wait for the gate, fail when told to, else append and record the size."""
        if not ops:
            return
        if self.gate is not None:
            self.gate.wait(timeout=30)
        self._check_available()
        with self._lock:
            if self.fail_appends > 0:
                self.fail_appends -= 1
                raise StorageUnavailable("simulated failure")
        self.inner.append(document_pk=document_pk, ops=ops)
        with self._lock:
            self.appends.append(len(ops))

    def history(
        self, *, document_pk: int, after: int, up_to: int, max_ops: int, max_bytes: int
    ) -> list[StoredOp] | None:
        """Read the wrapped store's history, unless storage is down."""
        self._check_available()
        return self.inner.history(
            document_pk=document_pk, after=after, up_to=up_to, max_ops=max_ops, max_bytes=max_bytes
        )

    def find_op(self, *, document_pk: int, op_id: str) -> StoredOp | None:
        """Find an op in the wrapped store, unless storage is down."""
        self._check_available()
        return self.inner.find_op(document_pk=document_pk, op_id=op_id)

    def lease_open(self, *, public_id: uuid.UUID) -> bool:
        """Take the lease in the wrapped store, unless storage is down."""
        self._check_available()
        return self.inner.lease_open(public_id=public_id)

    def lease_renew(self, *, public_ids: Sequence[uuid.UUID]) -> int:
        """Renew leases in the wrapped store, unless storage is down."""
        self._check_available()
        return self.inner.lease_renew(public_ids=public_ids)

    def snapshot_save(
        self, *, document_pk: int, revision: int, content: list[dict[str, Any]]
    ) -> SnapshotSaved | None:
        """Store a snapshot in the wrapped store, unless storage is down."""
        self._check_available()
        return self.inner.snapshot_save(document_pk=document_pk, revision=revision, content=content)

    def lease_close(
        self,
        *,
        document_pk: int,
        revision: int | None = None,
        content: list[dict[str, Any]] | None = None,
    ) -> SnapshotSaved | None:
        """Close the lease in the wrapped store, unless storage is down."""
        self._check_available()
        return self.inner.lease_close(document_pk=document_pk, revision=revision, content=content)

    def close(self) -> None:
        """Close the wrapped store."""
        self.inner.close()
