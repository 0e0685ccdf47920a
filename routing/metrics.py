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

import uuid
from collections.abc import Iterator

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


def _audience() -> dict[uuid.UUID, tuple[int, int]]:
    registry = current_registry()
    return registry.document_audience() if registry is not None else {}


REGISTRY.register(RoutingCollector())
watch_open_documents(_audience)
