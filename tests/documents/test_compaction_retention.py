"""Compaction keeps the op log of the retention horizon (``RETENTION_DAYS``).

A client offline for up to the horizon reconnects with its old revision and
rebases its unsaved edits over the stored ops, so compaction must keep them:
only ops older than the horizon *and* beyond ``keep_ops`` are deleted, and
what is deleted is a prefix of the log (the kept ops stay consecutive).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from documents import services
from documents.compaction import snapshot_save, version_compact
from documents.content import document_state
from documents.models import Document, Operation
from documents.store import DjangoDocumentStore
from tests.documents.test_compaction import seed_for, write_history

DAY = timedelta(days=1)


@pytest.fixture
def people(db: None, make_user: Callable[..., Any]) -> list[Any]:
    return [make_user("ada"), make_user("bo")]


@pytest.fixture
def doc(people: list[Any]) -> Document:
    return services.document_create(owner=people[0], title="Kept")


def _age(doc: Document, revisions: range, age: timedelta) -> None:
    """Make the ops of ``revisions`` look ``age`` old."""
    Operation.objects.filter(document=doc, revision__in=list(revisions)).update(
        created_at=timezone.now() - age
    )


def _stored_revisions(doc: Document) -> list[int]:
    return list(
        Operation.objects.filter(document=doc)
        .order_by("revision")
        .values_list("revision", flat=True)
    )


def _log_bytes(doc: Document) -> tuple[int, int]:
    """Return (JSON bytes of the op deltas, on-disk bytes of the op table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(octet_length(delta::text)), 0) "
            "FROM documents_operation WHERE document_id = %s",
            [doc.pk],
        )
        (delta_bytes,) = cursor.fetchone()
        cursor.execute("SELECT pg_total_relation_size('documents_operation')")
        (table_bytes,) = cursor.fetchone()
    return int(delta_bytes), int(table_bytes)


def test_young_ops_are_kept_and_the_content_is_unchanged(
    doc: Document, people: list[Any], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 7}
    rng = random.Random(seed_for("retention-young"))
    content = write_history(doc, rng, 1200, people)
    result = version_compact(document=doc, keep_ops=0)
    assert result.changed and result.ops_folded == 1200
    assert result.ops_deleted == 0, result
    assert _stored_revisions(doc) == list(range(1, 1201))
    assert document_state(doc).content == content
    delta_bytes, table_bytes = _log_bytes(doc)
    print(
        f"retention cost: 1200 kept ops hold {delta_bytes} bytes of delta JSON "
        f"({delta_bytes / 1200:.0f} per op); op table on disk {table_bytes} bytes"
    )


def test_only_a_prefix_older_than_the_horizon_goes(
    doc: Document, people: list[Any], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 7}
    rng = random.Random(seed_for("retention-prefix"))
    content = write_history(doc, rng, 900, people)
    _age(doc, range(1, 601), 8 * DAY)
    # A clock behind the others: one young op among old ones stops the prefix.
    _age(doc, range(401, 402), 1 * DAY)
    result = version_compact(document=doc, keep_ops=100)
    assert result.changed and result.ops_deleted == 400, result
    assert _stored_revisions(doc) == list(range(401, 901))
    assert document_state(doc).content == content
    # The store serves the kept range for catch-up, and refuses a range reaching the gap.
    store = DjangoDocumentStore()
    ops = store.history(document_pk=doc.pk, after=400, up_to=900, max_ops=20_000, max_bytes=1 << 24)
    assert ops is not None and [op.revision for op in ops] == list(range(401, 901))
    assert (
        store.history(document_pk=doc.pk, after=399, up_to=900, max_ops=20_000, max_bytes=1 << 24)
        is None
    )


def test_keep_ops_still_holds_past_the_horizon(
    doc: Document, people: list[Any], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 7}
    write_history(doc, random.Random(seed_for("retention-keep")), 300, people)
    _age(doc, range(1, 301), 30 * DAY)
    result = version_compact(document=doc, keep_ops=50)
    assert result.ops_deleted == 250
    assert _stored_revisions(doc) == list(range(251, 301))


def test_owner_snapshot_keeps_the_horizon_too(
    doc: Document, people: list[Any], settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 7}
    content = write_history(doc, random.Random(seed_for("retention-owner")), 700, people)
    _age(doc, range(1, 201), 8 * DAY)
    result = snapshot_save(document_pk=doc.pk, revision=700, content=content, keep_ops=10)
    assert result is not None and result.ops_deleted == 200
    assert _stored_revisions(doc) == list(range(201, 701))


def test_zero_days_keeps_only_keep_ops(doc: Document, people: list[Any], settings: Any) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 0}
    write_history(doc, random.Random(seed_for("retention-zero")), 300, people)
    result = version_compact(document=doc, keep_ops=20)
    assert result.ops_deleted == 280
    assert _stored_revisions(doc) == list(range(281, 301))


def test_history_bounds_fall_back(doc: Document, people: list[Any]) -> None:
    write_history(doc, random.Random(seed_for("retention-bounds")), 50, people)
    store = DjangoDocumentStore()
    assert (
        store.history(document_pk=doc.pk, after=10, up_to=50, max_ops=39, max_bytes=1 << 24) is None
    )
    assert store.history(document_pk=doc.pk, after=10, up_to=50, max_ops=40, max_bytes=10) is None
    assert store.history(document_pk=doc.pk, after=50, up_to=50, max_ops=1, max_bytes=1) == []
    found = store.find_op(
        document_pk=doc.pk, op_id=Operation.objects.get(document=doc, revision=7).op_id
    )
    assert found is not None and found.revision == 7
    assert store.find_op(document_pk=doc.pk, op_id="nobody:1") is None


def test_storage_cost_of_a_day_of_typing_is_printed(
    doc: Document, people: list[Any], settings: Any
) -> None:
    """Measure what keeping keystroke ops costs on disk (rows and both indexes)."""
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 7}
    count = 5000
    _, before = _log_bytes(doc)
    client = "k" * 22
    Operation.objects.bulk_create(
        Operation(
            document=doc,
            revision=n,
            op_id=f"{client}:{n}",
            delta=[{"retain": n - 1}, {"insert": "e"}] if n > 1 else [{"insert": "e"}],
            author=people[0],
        )
        for n in range(1, count + 1)
    )
    Document.objects.filter(pk=doc.pk).update(
        head_revision=count, updated_at=timezone.now() - 2 * DAY
    )
    doc.refresh_from_db()
    result = version_compact(document=doc, keep_ops=500)
    assert result.changed and result.ops_deleted == 0
    delta_bytes, after = _log_bytes(doc)
    print(
        f"retention cost: {count} keystroke ops kept, {delta_bytes / count:.0f} B of delta "
        f"JSON and {(after - before) / count:.0f} B on disk (row + indexes) per op; "
        f"8 hours of typing at 1 op/s = {(after - before) / count * 28_800 / 1e6:.1f} MB"
    )
