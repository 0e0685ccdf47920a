"""Where a document is served: the port through which the consumer redirects.

The consumer asks :meth:`Placement.locate` when a socket opens and again
once the document is loaded (the ring may have changed while the worker
waited for the document's lock). A :class:`Location` says one of three
things:

* ``local``: this worker serves the document;
* elsewhere, with ``socket_url``: the owner's WebSocket URL of this
  document; the socket gets ``redirect`` and close 4301;
* elsewhere without one: no owner is known here (no worker on the ring, or
  this worker is fenced); the socket gets ``unavailable`` with the retry
  hint :data:`NO_OWNER_RETRY_MS` and close 4503, never a redirect between
  workers that cannot know.

A single node serves everything (:data:`SINGLE_NODE`, the default); in a
cluster the routing app supplies the placement, built from its view of the
ring, when it composes the process (docs/scaleout.md). Realtime never
imports routing: the port points down the layers, the implementation up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

#: The retry hint (ms) given with 4503 when no owner is known here.
NO_OWNER_RETRY_MS = 1000


@dataclass(frozen=True, slots=True)
class Location:
    """Where one document is served, as the consumer needs to know it."""

    #: This worker serves the document.
    local: bool
    #: Not local: the owner's WebSocket URL of the document; None: no owner known.
    socket_url: str | None = None


#: The answer of a worker that serves every document.
HERE = Location(local=True)


class Placement(Protocol):
    """Say where documents are served, as this process sees it."""

    def locate(self, public_id: uuid.UUID) -> Location:
        """Return where the document is served right now."""
        ...


class _SingleNode:
    """The placement of a process that serves every document."""

    def locate(self, public_id: uuid.UUID) -> Location:
        """Return :data:`HERE`: this process serves every document."""
        return HERE


#: The default placement: this process serves every document.
SINGLE_NODE: Placement = _SingleNode()
