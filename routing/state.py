"""This process's routing state: the one holder Django code reads it from.

:Maintainer: the routing app
:Status: installed by ``runworker`` (:class:`routing.worker.Worker`);
    read by the route endpoint, the page's template tag, the admin page,
    the compactor's guard, the live-document port, the Origin check and
    the Content-Security-Policy

Views, template tags and middleware are made by Django, not by the worker,
so they cannot be handed the worker's objects by constructor. They read
them here, from one typed snapshot (:class:`RoutingState`) that the worker
installs once, when it starts (:func:`install_routing_state`). Everything
the worker makes itself (locks, membership, heartbeat, the registry) gets
what it needs by constructor instead.

Until something is installed, and in any process that is not a
``runworker`` (``make run``, ``manage.py shell``, a command, a test), the
state is a single node: this process serves every document and has no
ZooKeeper session of its own.

Threads: installed on start-up before any request is served; read from
any thread. The snapshot is immutable and swapped in whole, and the
:class:`~routing.ownership.Ownership` it holds is itself safe to read from
any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from routing.ownership import Ownership

if TYPE_CHECKING:
    from kazoo.client import KazooClient


@dataclass(frozen=True)
class RoutingState:
    """Where this process stands in the cluster."""

    #: Who owns which document, as this process sees it.
    ownership: Ownership = field(default_factory=Ownership.single_node)
    #: The worker's ZooKeeper session, shared with the admin page and the
    #: compactor's guard; None outside a cluster worker.
    client: KazooClient | None = None


_state = RoutingState()


def routing_state() -> RoutingState:
    """Return this process's routing state (a single node unless installed)."""
    return _state


def install_routing_state(state: RoutingState) -> None:
    """Make ``state`` this process's routing state (once, at start-up)."""
    global _state
    _state = state


def uninstall_routing_state() -> RoutingState:
    """Go back to a single node; return the state that was installed."""
    global _state
    previous, _state = _state, RoutingState()
    return previous
