"""Which worker has a document open: a lease recorded on the document row.

This is the single-node half of compaction's guard. A worker that loads a
document takes its lease (``lease_holder``, ``lease_expires_at``); while
the document stays loaded the worker renews the lease well before it
expires; when it unloads the document it stores a snapshot of what it
holds in memory and clears the lease in one transaction, recording
``closed_at``. ``compact_docs`` skips documents with a live lease and those
let go less than ``--idle-minutes`` ago.

The lease is a policy record, not the safety net: compaction is correct
even on an open document (see :mod:`documents.compaction`). It exists so
that the offline compactor leaves open documents to their owner, which
compacts them itself without replaying anything.

Failure modes:

* The worker dies: its leases expire after ``LEASE_SECONDS`` and the
  documents become compactable; nothing else waits on them.
* The database is unreachable during a renewal: the next renewal tries
  again. A lease that expires meanwhile only lets ``compact_docs`` do work
  the owner would have done.
* Two workers open the same document (a misconfiguration, or a one-off
  process such as a restore from the shell): the later one takes the
  lease; a renewal reclaims a lease only when it is free or expired.

:class:`LeaseKeeper` is what the realtime registry calls, from its storage
threads; its methods block.
"""
from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from documents.compaction import CompactionResult, snapshot_save
from documents.models import Document
from documents.store import StorageUnavailable

T = TypeVar("T")


def new_holder_id() -> str:
    """Return an id for this process's leases: host, pid and a random tag."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_open(*, public_id: uuid.UUID, holder: str, seconds: float) -> bool:
    """Take the document's lease for ``seconds``; return whether it exists."""
    expires = timezone.now() + timedelta(seconds=seconds)
    updated = Document.objects.filter(public_id=public_id).update(
        lease_holder=holder, lease_expires_at=expires
    )
    return updated > 0


def lease_renew(*, public_ids: Sequence[uuid.UUID], holder: str, seconds: float) -> int:
    """Extend ``holder``'s leases (or reclaim free and expired ones); return how many."""
    if not public_ids:
        return 0
    now = timezone.now()
    return (
        Document.objects.filter(public_id__in=list(public_ids))
        .filter(Q(lease_holder=holder) | Q(lease_holder="") | Q(lease_expires_at__lte=now)
                | Q(lease_expires_at__isnull=True))
        .update(lease_holder=holder, lease_expires_at=now + timedelta(seconds=seconds))
    )


def lease_release(*, document_pk: int, holder: str) -> bool:
    """Clear ``holder``'s lease and record when it let go; return whether it held it."""
    return (
        Document.objects.filter(pk=document_pk, lease_holder=holder).update(
            lease_holder="", lease_expires_at=None, closed_at=timezone.now()
        )
        > 0
    )


class LeaseKeeper:
    """Leases and owner snapshots of one worker (see the module docstring).

    Every method blocks and runs on the caller's thread and database
    connection (the realtime registry's storage threads). A connection
    failure closes that thread's connection, so that the next call
    reconnects, and raises :class:`documents.store.StorageUnavailable`.
    """

    def __init__(self, *, holder: str | None = None) -> None:
        self.holder = holder or new_holder_id()

    @property
    def seconds(self) -> float:
        """Return the lease length, ``COLLABDOCS["LEASE_SECONDS"]``."""
        return float(settings.COLLABDOCS["LEASE_SECONDS"])

    def open(self, *, public_id: uuid.UUID) -> bool:
        """Take the lease of a document being loaded."""
        return self._guard(lambda: lease_open(public_id=public_id, holder=self.holder,
                                              seconds=self.seconds))

    def renew(self, *, public_ids: Sequence[uuid.UUID]) -> int:
        """Renew the leases of the documents this worker has open."""
        return self._guard(lambda: lease_renew(public_ids=public_ids, holder=self.holder,
                                               seconds=self.seconds))

    def snapshot(self, *, document_pk: int, revision: int, content: list[dict]) -> CompactionResult | None:
        """Store the owner's content at ``revision`` as the snapshot."""
        return self._guard(lambda: snapshot_save(document_pk=document_pk, revision=revision,
                                                 content=content))

    def close(
        self, *, document_pk: int, revision: int | None = None, content: list[dict] | None = None
    ) -> CompactionResult | None:
        """Store a last snapshot (when given) and let go of the lease, together."""

        def work() -> CompactionResult | None:
            with transaction.atomic():
                result = None
                if revision is not None and content is not None:
                    result = snapshot_save(document_pk=document_pk, revision=revision,
                                           content=content)
                lease_release(document_pk=document_pk, holder=self.holder)
            return result

        return self._guard(work)

    def _guard(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - the connection is already broken
                pass
            raise StorageUnavailable(str(exc)) from exc
