"""The owner compacts on its own: past the threshold, and when it lets go.

A real registry on the Django store (PostgreSQL), driven without sockets.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from documents.models import Document, Operation, VersionKind
from realtime import protocol
from realtime.registry import Registry
from tests.realtime.conftest import create_document, create_user, db

pytestmark = pytest.mark.django_db(transaction=True)


def _row(public_id: Any) -> Document:
    return Document.objects.select_related("snapshot").get(public_id=public_id)


async def _until(predicate: Any, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_owner_snapshots_past_the_threshold_and_when_it_lets_go(settings: Any) -> None:
    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "COMPACT_THRESHOLD_OPS": 10,
        "COMPACT_KEEP_OPS": 3,
        "IDLE_UNLOAD_SECONDS": 0,
        # keep_ops alone (retention: test_compaction_retention.py)
        "RETENTION_DAYS": 0,
    }
    owner = await db(create_user, "owner")
    document = await db(create_document, owner)
    public_id = document.public_id
    registry = Registry()
    try:
        authority = await registry.acquire(public_id)
        row = await db(_row, public_id)
        assert row.lease_holder == registry.store.holder and row.lease_expires_at is not None
        for n in range(1, 26):
            answer = await authority.submit_change(
                protocol.OpMessage(
                    op_id=f"{'a' * 16}:{n}", rev=authority.head, delta=[{"insert": "x"}]
                ),
                user_id=None,
            )
            assert answer == n, answer
        await _until(lambda: _idle(registry))
        row = await db(_row, public_id)
        assert row.snapshot.kind == VersionKind.COMPACTION
        assert 20 <= row.snapshot.revision <= 25 and row.head_revision == 25
        assert authority.snapshot_revision == row.snapshot.revision
        # Content is the snapshot plus the ops after it; older ones but 3 are gone.
        revisions = await db(
            lambda: list(Operation.objects.filter(document=row).values_list("revision", flat=True))
        )
        assert min(revisions) == row.snapshot.revision - 2 and max(revisions) == 25

        registry.release(authority)  # the last holder: unloaded at once
        await _until(lambda: _let_go(public_id))
        row = await db(_row, public_id)
        assert row.snapshot.revision == 25 and row.snapshot.content == [{"insert": "x" * 25 + "\n"}]
        assert row.closed_at is not None and row.lease_expires_at is None
        assert await db(
            lambda: sorted(
                Operation.objects.filter(document=row).values_list("revision", flat=True)
            )
        ) == [23, 24, 25]

        # Loaded again: no replay, and the kept ops serve catch-up.
        again = await registry.acquire(public_id)
        assert again is not authority and again.head == 25 and again.window_start == 22
        assert again.content() == [{"insert": "x" * 25 + "\n"}]
        registry.release(again)
    finally:
        await registry.close()
    row = await db(_row, public_id)
    assert row.lease_holder == ""


async def _idle(registry: Registry) -> bool:
    return not registry.keeper.busy


async def _let_go(public_id: Any) -> bool:
    row = await db(_row, public_id)
    return row.lease_holder == "" and row.snapshot.revision == 25
