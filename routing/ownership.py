"""Which worker owns a document, as this process sees it.

:class:`Ownership` holds the members of the ring (worker id -> base URL),
the :class:`~routing.ring.HashRing` over them and whether this worker is
serving. Everything else asks it:

* :meth:`Ownership.route` / :meth:`Ownership.is_local`: the route
  endpoint, the page and the locks;
* :meth:`Ownership.locate`: the consumer (for ``redirect``), through
  realtime's :class:`~realtime.placement.Placement` port, which an
  ownership implements;
* listeners (:meth:`Ownership.add_listener`) hear about every change:
  the worker evicts the documents it no longer owns.

Single node (no ``ZOOKEEPER_HOSTS``, or a server that is not
``runworker``): this process owns every document
(:meth:`Ownership.single_node`, what :mod:`routing.state` holds until
``runworker`` installs a cluster one).

In cluster mode the ring is the live workers in ZooKeeper, except that a
worker that is not serving (its session was lost, or it is shutting down)
leaves itself out of its own ring: it then redirects everything to the
workers that own its documents in the others' view. A *fenced* worker (no
ZooKeeper for a whole session) knows no owner at all: its ring may be stale
and the others are likely fenced too, so :meth:`Ownership.route` answers
"no owner" (4503 with a retry hint, 503 from the route endpoint) rather
than sending sockets round between fenced workers.

Threads: changes happen on the worker's event loop only; readers (views
run in threads) read one immutable snapshot, swapped in whole.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from realtime.placement import HERE, Location
from routing.paths import normalize_base_url, socket_url
from routing.ring import DEFAULT_VNODES, HashRing

logger = logging.getLogger(__name__)


def document_key(public_id: uuid.UUID | str) -> str:
    """Return the ring key of a document: its canonical UUID string."""
    return str(uuid.UUID(str(public_id)))


@dataclass(frozen=True)
class Route:
    """Where a document is served.

    ``local``: here. Otherwise ``worker_id`` and ``url`` (its base URL) name
    the owner, or are None when no worker is on the ring.
    """

    local: bool
    worker_id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class View:
    """One consistent snapshot of the membership."""

    members: Mapping[str, str] = field(default_factory=dict)
    serving: bool = False
    ring: HashRing = field(default_factory=HashRing)
    version: int = 0


Listener = Callable[["Ownership"], None]


class Ownership:
    """The ring as this worker sees it (see the module docstring)."""

    def __init__(
        self,
        *,
        self_id: str | None = None,
        self_url: str | None = None,
        cluster: bool = False,
        vnodes: int = DEFAULT_VNODES,
    ) -> None:
        self.self_id = self_id
        self.self_url = normalize_base_url(self_url) if self_url else None
        self.cluster = cluster
        self.vnodes = vnodes
        self._view = View(serving=not cluster, ring=HashRing(vnodes=vnodes))
        self._listeners: list[Listener] = []
        self._fenced = False

    @classmethod
    def single_node(cls, *, self_url: str | None = None) -> Ownership:
        """Return the ownership of a process that serves every document."""
        return cls(self_id="local", self_url=self_url, cluster=False)

    # -- reading (any thread) ---------------------------------------------------

    @property
    def view(self) -> View:
        """Return the current snapshot."""
        return self._view

    @property
    def serving(self) -> bool:
        """Return whether this worker serves documents right now."""
        return self._view.serving

    def route(self, public_id: uuid.UUID | str) -> Route:
        """Return where the document is served."""
        if not self.cluster:
            return Route(local=True, worker_id=self.self_id, url=self.self_url)
        view = self._view
        if not len(view.ring) or self._fenced:
            return Route(local=False)
        owner = view.ring.owner(document_key(public_id))
        if owner == self.self_id and view.serving:
            return Route(local=True, worker_id=owner, url=self.self_url)
        return Route(local=False, worker_id=owner, url=view.members.get(owner))

    def is_local(self, public_id: uuid.UUID | str) -> bool:
        """Return whether this worker serves the document."""
        return self.route(public_id).local

    def locate(self, public_id: uuid.UUID) -> Location:
        """Return where the document is served, with its owner's socket URL.

        Implements :class:`realtime.placement.Placement` for the consumer.
        """
        route = self.route(public_id)
        if route.local:
            return HERE
        return Location(
            local=False, socket_url=socket_url(route.url, public_id) if route.url else None
        )

    # -- changing (the worker's event loop) -------------------------------------

    def set_members(self, members: Mapping[str, str]) -> bool:
        """Take the live workers (id -> base URL); return whether the ring changed."""
        return self._update(members=dict(members), serving=self._view.serving)

    def set_serving(self, serving: bool) -> bool:
        """Start or stop serving here; return whether the ring changed."""
        return self._update(members=dict(self._view.members), serving=serving)

    def set_fenced(self, fenced: bool) -> None:
        """Say whether this worker is fenced: then no owner is known here."""
        self._fenced = fenced

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(ownership)`` after every change of the ring."""
        self._listeners.append(listener)

    def _update(self, *, members: dict[str, str], serving: bool) -> bool:
        old = self._view
        ring_members = set(members)
        if not serving and self.self_id is not None:
            ring_members.discard(self.self_id)
        changed = ring_members != set(old.ring.members) or serving != old.serving
        urls_changed = members != dict(old.members)
        if not changed and not urls_changed:
            return False
        ring = (
            old.ring
            if ring_members == set(old.ring.members)
            else HashRing(sorted(ring_members), vnodes=self.vnodes)
        )
        self._view = View(members=members, serving=serving, ring=ring, version=old.version + 1)
        logger.info(
            "ring: %s%s",
            ", ".join(sorted(ring_members)) or "(empty)",
            "" if serving else " (not serving here)",
        )
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                logger.exception("ownership listener %r failed", listener)
        return changed
