"""Leases and owner snapshots of the documents a worker holds open.

The registry (:mod:`realtime.registry`) makes one :class:`Keeper` over its
store and tells it when a document loads, commits and unloads; the store
(:class:`documents.store.DocumentStore`, whatever its backend) does the
storing (docs/history.md):

* a document's lease is taken before it is loaded;
* the leases of the documents held open are renewed every ``renew_every``
  seconds (default: a third of ``LEASE_SECONDS``);
* after a commit that leaves ``compact_after`` ops after the snapshot
  (default ``COMPACT_THRESHOLD_OPS``), the authority's content at its head
  is stored as the new snapshot, off the event loop, one at a time per
  document;
* unloading stores a last snapshot (when the head moved past the stored
  one) and releases the lease in one transaction, after any snapshot still
  being stored.

Failure modes: none reaches a socket or a load. A lease that cannot be
taken is logged (the load itself then says whether storage is up); a
renewal that fails is tried again on the next tick, and a lease that
expires meanwhile only lets ``compact_docs`` do work the owner would have
done; a snapshot that fails is tried again after the next commit past the
threshold; a release that fails leaves the lease to expire on its own.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from django.conf import settings

from documents import logcontext, search
from documents.store import DjangoDocumentStore
from realtime.authority import Authority
from realtime.ot import authorship as ot_authorship
from realtime.runner import StoreRunner

logger = logging.getLogger(__name__)


class Keeper:
    """Take, renew and release the leases of open documents; store their snapshots.

    ``held`` returns the documents to renew; ``spawn`` runs a background
    task the owner waits for when it closes. ``compact_after`` and
    ``renew_every`` default to the settings, read when used.
    """

    def __init__(
        self,
        runner: StoreRunner,
        *,
        loop: asyncio.AbstractEventLoop,
        held: Callable[[], Iterable[uuid.UUID]],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        compact_after: int | None = None,
        renew_every: float | None = None,
    ) -> None:
        self.runner = runner
        self.loop = loop
        self._held = held
        self._spawn = spawn
        self._compact_after = compact_after
        self._renew_every = renew_every
        self._renewal: asyncio.TimerHandle | None = None
        #: Snapshots being stored, by document.
        self._compacting: dict[uuid.UUID, asyncio.Task[None]] = {}
        #: Whether commits mark documents for search: the memory store's
        #: documents are not in the database to index. Decided once, not per
        #: commit.
        self._indexes = isinstance(runner.store, DjangoDocumentStore)

    @property
    def compact_after(self) -> int:
        """Return how many ops after the snapshot start a new one."""
        if self._compact_after is not None:
            return self._compact_after
        return int(settings.COLLABDOCS["COMPACT_THRESHOLD_OPS"])

    @property
    def renew_every(self) -> float:
        """Return the seconds between lease renewals."""
        if self._renew_every is not None:
            return self._renew_every
        return max(1.0, settings.COLLABDOCS["LEASE_SECONDS"] / 3)

    @property
    def busy(self) -> bool:
        """Return whether a snapshot is being stored."""
        return bool(self._compacting)

    async def open(self, public_id: uuid.UUID) -> None:
        """Take the lease of a document about to load; start renewing."""
        try:
            await self.runner.run(self.runner.store.lease_open, public_id=public_id)
        except Exception as exc:  # noqa: BLE001 - the load says whether storage is up
            logger.warning("could not take the lease of %s: %s", public_id, exc)
        if self._renewal is None:
            self._schedule_renewal()

    def committed(self, authority: Authority) -> None:
        """Start a snapshot once enough ops follow the last one (the on_commit hook).

        Also mark the document's search text stale: a set insert, read by
        the search indexer's thread a few seconds later (documents.search).
        """
        if self._indexes:
            search.mark_changed(authority.document_pk)
        public_id = authority.public_id
        if (
            authority.closed
            or public_id in self._compacting
            or authority.head - authority.snapshot_revision < self.compact_after
        ):
            return
        task = self.loop.create_task(
            self._snapshot(authority), context=logcontext.detached(doc=public_id)
        )
        self._compacting[public_id] = task
        task.add_done_callback(lambda _: self._compacting.pop(public_id, None))

    async def close(self, authority: Authority) -> None:
        """Store a last snapshot of an unloaded authority and release its lease."""
        try:
            running = self._compacting.get(authority.public_id)
            if running is not None:
                await asyncio.shield(running)
            fresh = authority.head > authority.snapshot_revision
            await self.runner.run(
                self.runner.store.lease_close,
                document_pk=authority.document_pk,
                revision=authority.head if fresh else None,
                content=authority.content() if fresh else None,
                authorship=ot_authorship.to_json(authority.runs) if fresh else None,
            )
        except Exception as exc:  # noqa: BLE001 - the lease expires on its own
            logger.warning("letting go of %s failed: %s", authority.public_id, exc)

    def stop(self) -> None:
        """Stop renewing (the registry is closing)."""
        if self._renewal is not None:
            self._renewal.cancel()
            self._renewal = None

    def _schedule_renewal(self) -> None:
        self._renewal = self.loop.call_later(self.renew_every, self._renew)

    def _renew(self) -> None:
        self._renewal = None
        public_ids = list(self._held())
        if public_ids:
            self._spawn(self._renew_leases(public_ids))
        self._schedule_renewal()

    async def _renew_leases(self, public_ids: list[uuid.UUID]) -> None:
        try:
            await self.runner.run(self.runner.store.lease_renew, public_ids=public_ids)
        except Exception as exc:  # noqa: BLE001 - tried again on the next tick
            logger.warning("renewing %d leases failed: %s", len(public_ids), exc)

    async def _snapshot(self, authority: Authority) -> None:
        """Store the authority's content at its head as the snapshot."""
        revision, content = authority.head, authority.content()
        runs = ot_authorship.to_json(authority.runs)  # at the same head
        try:
            result = await self.runner.run(
                self.runner.store.snapshot_save,
                document_pk=authority.document_pk,
                revision=revision,
                content=content,
                authorship=runs,
            )
        except Exception as exc:  # noqa: BLE001 - tried again after the next commit
            logger.warning("storing a snapshot of %s failed: %s", authority.public_id, exc)
            return
        authority.snapshot_revision = max(authority.snapshot_revision, revision)
        if result is not None:
            logger.info(
                "compacted %s at r%d: %d ops folded, %d deleted",
                authority.public_id,
                revision,
                result.ops_folded,
                result.ops_deleted,
            )
