"""Whether this worker should get traffic: the holder ``/readyz`` reads.

:Maintainer: the routing app
:Status: installed by ``runworker`` (:class:`routing.worker.Worker`); read
    by :mod:`collabdocs.health`

A worker goes through these phases; only ``ready`` gets traffic from the
balancer (``docs/deploy.md``)::

    starting --register--> ready --SIGTERM--> draining --> (exits)
                             |  ^
       no ZooKeeper for a    |  |  the session survived
       whole session timeout v  |  (ZooKeeper kept it)
                            fenced
                             |
       session LOST          v
    (re-registering)       lost --registered again--> ready

``draining`` is reported from the signal on, before the worker has left the
ring, so a balancer stops sending new requests at its next check while the
documents are handed over.

A ZooKeeper connection that is merely SUSPENDED (shorter than a session
timeout) keeps the worker ``ready``: it still serves pages and the API, and
its lease holds back ops it may no longer accept (``routing/lease.py``).
Every worker sees the same hiccup at once, so taking them out of the pool
for it would turn a blip into an outage.

Until something is installed, and in any process that is not a
``runworker`` (``make run``, a test), this process is a single node that is
always ``ready`` here (the database is checked by the view).

Threads: installed once at start-up; the probe reads plain flags the
worker's loop sets, from any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: The phases a worker reports (module docstring).
STARTING = "starting"
READY = "ready"
DRAINING = "draining"
FENCED = "fenced"
LOST = "lost"

#: Why a phase other than ``ready`` takes the worker out of the pool.
REASONS = {
    STARTING: "not registered in ZooKeeper yet",
    DRAINING: "shutting down: handing its documents over",
    FENCED: "fenced: no ZooKeeper for a whole session timeout",
    LOST: "ZooKeeper session lost: registering again",
}


@dataclass(frozen=True)
class Readiness:
    """Where the worker stands; ``worker_id`` is None outside ``runworker``."""

    phase: str
    worker_id: str | None = None
    cluster: bool = False

    @property
    def ready(self) -> bool:
        """Return whether the worker should get traffic (the database aside)."""
        return self.phase == READY

    @property
    def reason(self) -> str | None:
        """Return why it should not, or None."""
        return REASONS.get(self.phase)


Probe = Callable[[], Readiness]


def _single_node() -> Readiness:
    return Readiness(phase=READY)


_probe: Probe = _single_node


def readiness() -> Readiness:
    """Return this process's readiness (single node and ready unless installed)."""
    return _probe()


def install_readiness(probe: Probe) -> None:
    """Make ``probe`` answer :func:`readiness` (once, at start-up)."""
    global _probe
    _probe = probe


def uninstall_readiness() -> None:
    """Go back to a single node that is always ready."""
    global _probe
    _probe = _single_node
