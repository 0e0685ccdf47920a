"""Prometheus metrics of the routing app: the ring, ZooKeeper, hand-overs, fencing.

:Maintainer: the routing app
:Status: counted by :class:`routing.worker.Worker`; served by ``/metrics``
    (:mod:`collabdocs.metrics_view`), which adds the worker id to every
    sample

Events are counters the worker increments as they happen (rare: a
hand-over, a fence). Everything that is a state (the ZooKeeper session,
the ring, this worker's phase, the documents it owns) is read when
``/metrics`` is scraped, by :class:`RoutingCollector`, from the holders
the views read (:mod:`routing.state`, :mod:`routing.readiness`) and the
realtime registry: nothing to keep in step, nothing on the hot path.

============================================  ====================================
``collabdocs_handovers_total{reason}``        documents handed to another worker:
                                              ``ring`` (the ring moved them),
                                              ``shutdown`` (SIGTERM)
``collabdocs_fencing_events_total{event}``    ``fenced`` (no ZooKeeper for a
                                              session timeout), ``lost`` (session
                                              expired), ``resumed`` (serving again)
``collabdocs_zookeeper_connected``            1 while the session is connected
``collabdocs_zookeeper_state{state}``         1 for the session's state
                                              (connected, suspended, lost, none)
``collabdocs_ring_members``                   workers on the ring as seen here
``collabdocs_ring_share``                     this worker's share of the key space
                                              (0 to 1; 0 when not serving)
``collabdocs_owned_documents``                open documents the ring gives here
``collabdocs_worker_ready``                   1 when ``/readyz`` would say ready
                                              (the database aside)
``collabdocs_worker_phase{phase}``            1 for the worker's phase
============================================  ====================================
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from realtime.metrics import watch_open_documents
from realtime.registry import current_registry
from routing.readiness import DRAINING, FENCED, LOST, READY, STARTING, readiness
from routing.state import routing_state

HANDOVERS = Counter(
    "collabdocs_handovers",
    "Open documents handed over to another worker, by reason (ring, shutdown).",
    ["reason"],
)
FENCING_EVENTS = Counter(
    "collabdocs_fencing_events",
    "Fencing events: fenced (no ZooKeeper for a session), lost (session expired), resumed.",
    ["event"],
)

ZK_STATES = ("connected", "suspended", "lost", "none")
PHASES = (STARTING, READY, DRAINING, FENCED, LOST)


def handed_over(reason: str) -> None:
    """Count one open document handed over (``ring`` or ``shutdown``)."""
    HANDOVERS.labels(reason).inc()


def fencing_event(event: str) -> None:
    """Count one fencing event (``fenced``, ``lost``, ``resumed``)."""
    FENCING_EVENTS.labels(event).inc()


def zookeeper_state() -> str:
    """Return this process's ZooKeeper session state, lower case (``none``: no session)."""
    client = routing_state().client
    if client is None:
        return "none"
    state = str(client.state).lower()
    return state if state in ZK_STATES else "lost"


class RoutingCollector(Collector):
    """Read the ring, the session and the phase at scrape time (module docstring)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = zookeeper_state()
        yield GaugeMetricFamily(
            "collabdocs_zookeeper_connected",
            "1 while the ZooKeeper session is connected.",
            1 if state == "connected" else 0,
        )
        states = GaugeMetricFamily(
            "collabdocs_zookeeper_state", "1 for the ZooKeeper session's state.", labels=["state"]
        )
        for name in ZK_STATES:
            states.add_metric([name], 1 if name == state else 0)
        yield states

        ownership = routing_state().ownership
        view = ownership.view
        yield GaugeMetricFamily(
            "collabdocs_ring_members", "Workers on the ring, as seen here.", len(view.ring)
        )
        share = view.ring.shares().get(ownership.self_id or "", 0.0) if ownership.cluster else 1.0
        yield GaugeMetricFamily(
            "collabdocs_ring_share", "This worker's share of the key space (0 to 1).", share
        )
        registry = current_registry()
        open_docs = registry.open_documents() if registry is not None else {}
        yield GaugeMetricFamily(
            "collabdocs_owned_documents",
            "Open documents the ring gives this worker.",
            sum(1 for public_id in open_docs if ownership.is_local(public_id)),
        )

        phase = readiness().phase
        yield GaugeMetricFamily(
            "collabdocs_worker_ready",
            "1 when the worker should get traffic (the database aside).",
            1 if phase == READY else 0,
        )
        phases = GaugeMetricFamily(
            "collabdocs_worker_phase", "1 for the worker's phase.", labels=["phase"]
        )
        for name in PHASES:
            phases.add_metric([name], 1 if name == phase else 0)
        yield phases


# -- the summary a worker publishes for the staff page ----------------------

Key = tuple[str, frozenset[tuple[str, str]]]

#: Counters summed over their labels into the staff page's totals.
TOTALS = {
    "ops_accepted": "collabdocs_ops_accepted_total",
    "ops_refused": "collabdocs_ops_refused_total",
    "rate_limited": "collabdocs_rate_limited_total",
    "handovers": "collabdocs_handovers_total",
    "fencing_events": "collabdocs_fencing_events_total",
    "db_errors": "collabdocs_db_errors_total",
    "channel_layer_errors": "collabdocs_channel_layer_errors_total",
    "compaction_runs": "collabdocs_compaction_runs_total",
    "ops_folded": "collabdocs_compaction_ops_folded_total",
}
#: Histograms whose 95th percentile over the last period the page shows.
LATENCIES = {
    "commit_p95_ms": "collabdocs_commit_seconds",
    "ack_p95_ms": "collabdocs_ack_seconds",
    "broadcast_p95_ms": "collabdocs_broadcast_seconds",
}


def _samples() -> dict[Key, float]:
    """Return every sample of the process registry, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
    }


def _total(samples: dict[Key, float], name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


def _buckets(samples: dict[Key, float], name: str) -> list[tuple[float, float]]:
    """Return a histogram's cumulative buckets as ``(upper bound, count)``, sorted."""
    bucket = f"{name}_bucket"
    return sorted(
        (float(dict(labels)["le"]), value)
        for (sample, labels), value in samples.items()
        if sample == bucket
    )


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Return the ``q`` quantile of cumulative ``buckets``, as Prometheus estimates it.

    Linear inside the bucket it falls in; the last finite bound when it
    falls in the ``+Inf`` bucket; None without observations.
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


class Summary:
    """This worker's metrics at a glance, for its published stats (the staff page).

    Totals since the process started, rates and 95th percentiles over the
    period since the previous :meth:`take` (the stats period). Call on the
    worker's loop: collecting reads the registry of open documents.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._previous: dict[Key, float] = {}
        self._previous_at: float | None = None

    def take(self) -> dict[str, float | int | str | None]:
        """Return the summary and start a new period."""
        now = self._clock()
        samples = _samples()
        previous, self._previous = self._previous, samples
        seconds = now - self._previous_at if self._previous_at is not None else None
        self._previous_at = now
        summary: dict[str, float | int | str | None] = {
            key: int(_total(samples, name)) for key, name in TOTALS.items()
        }
        for key, name in (("ops_per_s", "ops_accepted"), ("refused_per_s", "ops_refused")):
            done = _total(samples, TOTALS[name]) - _total(previous, TOTALS[name])
            summary[key] = round(done / seconds, 1) if seconds else None
        for key, name in LATENCIES.items():
            now_buckets = dict(_buckets(samples, name))
            then_buckets = dict(_buckets(previous, name))
            period = [
                (bound, count - then_buckets.get(bound, 0.0))
                for bound, count in sorted(now_buckets.items())
            ]
            value = quantile(0.95, period)
            summary[key] = None if value is None else round(1000 * value, 1)
        commits = _total(samples, "collabdocs_commit_seconds_count") - _total(
            previous, "collabdocs_commit_seconds_count"
        )
        batched = _total(samples, "collabdocs_commit_batch_ops_sum") - _total(
            previous, "collabdocs_commit_batch_ops_sum"
        )
        summary["ops_per_commit"] = round(batched / commits, 1) if commits else None
        summary["zookeeper"] = zookeeper_state()
        summary["phase"] = readiness().phase
        return summary


def _audience() -> dict[uuid.UUID, tuple[int, int]]:
    registry = current_registry()
    return registry.document_audience() if registry is not None else {}


REGISTRY.register(RoutingCollector())
watch_open_documents(_audience)
