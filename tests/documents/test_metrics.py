"""Storage and compaction metrics: what ``/metrics`` counts for the documents app.

Failure modes covered: PostgreSQL refusing connections without a trace in
the metrics (an operator would see only the clients' ``unavailable``), and
compaction runs or folded ops that are not counted, or counted for a dry
run that changed nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from documents import services
from documents.compaction import version_compact
from documents.models import Document
from documents.store import DjangoDocumentStore, StorageUnavailable
from tests.documents.test_compaction import write_history


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def doc(db: None, make_user: Callable[..., Any]) -> Document:
    return services.document_create(owner=make_user("ada"), title="Counted")


def test_compaction_runs_and_folded_ops_are_counted_but_not_dry_runs(
    doc: Document, settings: Any
) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 0}
    write_history(doc, random.Random(15), 20, [doc.owner])
    runs = "collabdocs_compaction_runs_total"
    before = {
        "compacted": sample(runs, outcome="compacted", kind="idle"),
        "skipped": sample(runs, outcome="skipped", kind="idle"),
        "folded": sample("collabdocs_compaction_ops_folded_total", kind="idle"),
    }
    assert version_compact(document=doc, keep_ops=0, dry_run=True).ops_folded == 20
    assert sample(runs, outcome="compacted", kind="idle") == before["compacted"]
    assert version_compact(document=doc, keep_ops=0).changed
    assert version_compact(document=doc, keep_ops=0).reason == "nothing to fold"
    assert sample(runs, outcome="compacted", kind="idle") == before["compacted"] + 1
    assert sample(runs, outcome="skipped", kind="idle") == before["skipped"] + 1
    assert sample("collabdocs_compaction_ops_folded_total", kind="idle") == before["folded"] + 20


@pytest.mark.django_db(transaction=True)
def test_a_database_that_refuses_connections_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    before = sample("collabdocs_db_errors_total")
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")  # nothing listens there
    with pytest.raises(StorageUnavailable):
        DjangoDocumentStore().load(public_id=uuid.uuid4())
    assert sample("collabdocs_db_errors_total") == before + 1
