"""Prometheus metrics of the documents app: storage errors and compaction.

:Maintainer: the documents app
:Status: counted by :mod:`documents.store.db` and :mod:`documents.compaction`;
    served by ``/metrics`` (:mod:`collabdocs.metrics_view`)

The objects live here, in the lowest layer that counts them, so that
``documents`` never imports upwards; the view that serves them adds the
worker id to every sample. Each is a plain counter: incrementing one costs
a lock and an addition, never I/O.

===================================================  =========================
``collabdocs_db_errors_total``                       PostgreSQL refused or
                                                     dropped a store call
                                                     (a retry on a fresh
                                                     connection counts once)
``collabdocs_compaction_runs_total{outcome,kind}``   documents compacted
                                                     (``compacted``) or
                                                     skipped; ``kind``:
                                                     ``idle`` (compact_docs)
                                                     or ``live`` (the owner's
                                                     snapshot)
``collabdocs_compaction_ops_folded_total{kind}``     ops folded into snapshots
``collabdocs_channel_layer_errors_total{op}``        Redis (channel layer) calls
                                                     that failed: ``send``
                                                     (events), ``receive`` and
                                                     ``join`` (realtime's
                                                     sockets)
===================================================  =========================
"""

from __future__ import annotations

from prometheus_client import Counter

DB_ERRORS = Counter(
    "collabdocs_db_errors",
    "Store calls that failed because PostgreSQL refused or dropped the connection.",
)

COMPACTION_RUNS = Counter(
    "collabdocs_compaction_runs",
    "Compactions of one document, by outcome (compacted or skipped) and kind.",
    ["outcome", "kind"],
)

COMPACTION_OPS_FOLDED = Counter(
    "collabdocs_compaction_ops_folded",
    "Ops folded into a new snapshot.",
    ["kind"],
)


CHANNEL_LAYER_ERRORS = Counter(
    "collabdocs_channel_layer_errors",
    "Channel layer (Redis) calls that failed.",
    ["op"],
)


def channel_layer_error(op: str) -> None:
    """Count one failed channel layer call (``send``, ``receive``, ``join``)."""
    CHANNEL_LAYER_ERRORS.labels(op).inc()


def db_error() -> None:
    """Count one store call that failed on a database error."""
    DB_ERRORS.inc()


def compaction_run(*, outcome: str, kind: str, ops_folded: int = 0) -> None:
    """Count one compaction and the ops it folded."""
    COMPACTION_RUNS.labels(outcome, kind).inc()
    if ops_folded:
        COMPACTION_OPS_FOLDED.labels(kind).inc(ops_folded)
