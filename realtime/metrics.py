"""Prometheus metrics of the realtime app: ops, commits, acks, broadcasts, sockets.

:Maintainer: the realtime app
:Status: counted by the writer, the fan-out, the authority and the
    consumer; served by ``/metrics`` (:mod:`collabdocs.metrics_view`),
    which adds the worker id to every sample

The hot path pays one counter increment per refused op and, per commit
(a batch of up to 500 ops), one increment and four histogram
observations: nothing per accepted op. Open sockets and documents are
not counted at all as they change: a collector reads them from the
registry when ``/metrics`` is scraped (:class:`OpenDocumentsCollector`).

==============================================  ==================================
``collabdocs_ops_accepted_total``               ops stored (acked) by this worker
``collabdocs_ops_refused_total{code}``          ops (and other client frames)
                                                refused, by protocol error code
``collabdocs_rate_limited_total{limit}``        refusals for a spent limit:
                                                ``ops`` (ops per second),
                                                ``cpu`` (the CPU budget)
``collabdocs_commit_seconds``                   one group commit's transaction
``collabdocs_commit_batch_ops``                 ops per group commit
``collabdocs_ack_seconds``                      oldest op of a commit: queued ->
                                                stored and its ack owed (sent on
                                                the writer's next turn)
``collabdocs_broadcast_seconds``                commit stored -> every socket of
                                                the document sent it
``collabdocs_channel_layer_errors_total{op}``   Redis (channel layer) calls
                                                that failed: ``receive``, ``join``
                                                (here), ``send`` (documents.events)
``collabdocs_open_documents``                   documents open (or loading) here
``collabdocs_open_sockets``                     document sockets open here
``collabdocs_document_people``                  distinct people on the busiest
                                                open document
==============================================  ==================================
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from documents import metrics as documents_metrics

#: Latency buckets in seconds: a local commit takes about a millisecond,
#: a loaded database tens; past 2.5 s something is wrong.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    float("inf"),
)
#: Ops per commit: powers of two up to the writer's MAX_BATCH_OPS.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500, float("inf"))

OPS_ACCEPTED = Counter("collabdocs_ops_accepted", "Ops stored and acked by this worker.")
OPS_REFUSED = Counter(
    "collabdocs_ops_refused",
    "Ops and other client frames refused, by protocol error code.",
    ["code"],
)
RATE_LIMITED = Counter(
    "collabdocs_rate_limited",
    "Client frames refused because a limit was spent (ops per second, CPU budget).",
    ["limit"],
)
COMMIT_SECONDS = Histogram(
    "collabdocs_commit_seconds",
    "Duration of one group commit (one transaction storing a batch of ops).",
    buckets=LATENCY_BUCKETS,
)
COMMIT_BATCH_OPS = Histogram(
    "collabdocs_commit_batch_ops", "Ops stored by one group commit.", buckets=BATCH_BUCKETS
)
ACK_SECONDS = Histogram(
    "collabdocs_ack_seconds",
    "From the oldest op of a commit being queued to its ack being owed (stored).",
    buckets=LATENCY_BUCKETS,
)
BROADCAST_SECONDS = Histogram(
    "collabdocs_broadcast_seconds",
    "From a commit being stored to every socket of the document being sent it.",
    buckets=LATENCY_BUCKETS,
)
# Defined with the documents app, which sends on the layer too (events).
CHANNEL_LAYER_ERRORS = documents_metrics.CHANNEL_LAYER_ERRORS
channel_layer_error = documents_metrics.channel_layer_error


def op_refused(code: str) -> None:
    """Count one refused op or client frame."""
    OPS_REFUSED.labels(code).inc()


def rate_limited(limit: str) -> None:
    """Count one frame refused for a spent ``limit`` (``ops`` or ``cpu``)."""
    RATE_LIMITED.labels(limit).inc()


def committed(*, ops: int, seconds: float, oldest_waited: float | None) -> None:
    """Record one group commit of ``ops`` ops that took ``seconds``."""
    OPS_ACCEPTED.inc(ops)
    COMMIT_SECONDS.observe(seconds)
    COMMIT_BATCH_OPS.observe(ops)
    if oldest_waited is not None:
        ACK_SECONDS.observe(oldest_waited)


def broadcast(seconds: float) -> None:
    """Record one commit sent to every socket of its document."""
    BROADCAST_SECONDS.observe(seconds)


#: Returns the documents open here: public id -> (sockets, distinct people).
AudienceSource = Callable[[], Mapping[uuid.UUID, tuple[int, int]]]


class OpenDocumentsCollector(Collector):
    """Read open documents and sockets from the registry at scrape time."""

    def __init__(self, source: AudienceSource) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        audience = self.source()
        yield GaugeMetricFamily(
            "collabdocs_open_documents", "Documents open (or loading) here.", len(audience)
        )
        yield GaugeMetricFamily(
            "collabdocs_open_sockets",
            "Document sockets open here.",
            sum(sockets for sockets, _ in audience.values()),
        )
        yield GaugeMetricFamily(
            "collabdocs_document_people",
            "Distinct people on the busiest document open here.",
            max((people for _, people in audience.values()), default=0),
        )


_collector: OpenDocumentsCollector | None = None


def watch_open_documents(source: AudienceSource) -> None:
    """Collect open documents and sockets from ``source`` (the last one given)."""
    global _collector
    if _collector is None:
        _collector = OpenDocumentsCollector(source)
        REGISTRY.register(_collector)
    else:
        _collector.source = source
