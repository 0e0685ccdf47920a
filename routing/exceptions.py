"""Exceptions of the routing app."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of the routing app's errors."""


class ZooKeeperUnavailable(RoutingError):
    """ZooKeeper could not be reached (at start, or for a lock)."""


class WorkerIdTaken(RoutingError):
    """Another live worker is registered under this worker's id."""
