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

The realtime registry reaches these through its store
(:meth:`documents.store.DocumentStore.lease_open`, ``lease_renew``,
``lease_close``), from its storage threads: the functions here block and
run on the caller's database connection.
"""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from documents.models import Document


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
        .filter(
            Q(lease_holder=holder)
            | Q(lease_holder="")
            | Q(lease_expires_at__lte=now)
            | Q(lease_expires_at__isnull=True)
        )
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
