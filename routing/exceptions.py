"""Exceptions of the routing app."""
from __future__ import annotations


class RoutingError(Exception):
    """Base class of the routing app's errors."""


class NotOwner(RoutingError):
    """This worker does not own the document (any more): redirect the socket."""


class NoWorkers(RoutingError):
    """No worker is on the ring right now, so nothing owns any document."""


class ZooKeeperUnavailable(RoutingError):
    """ZooKeeper could not be reached (at start, or for a lock)."""


class WorkerIdTaken(RoutingError):
    """Another live worker is registered under this worker's id."""
