"""Waiting out a dead owner in the route endpoint.

A client asks the route endpoint after its socket to the owner failed. If
the owner's process died (``kill -9``), the ring still names it until its
ZooKeeper session expires; answering with its URL at once sends the client
back to a closed port, and the client's backoff (up to seconds) then comes
on top of the session timeout. So when the ring's owner is another worker
whose port refuses connections, the endpoint waits (asynchronously, bounded
by the session timeout plus a little) for the ring to change and answers
the new owner the moment it is known.

A port that accepts (the owner lives, or is merely frozen) is answered at
once, as before: only a refused connection counts as dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from urllib.parse import urlsplit

from routing.ownership import Ownership, Route

#: Longest a probe of the owner's port may take, seconds.
PROBE_SECONDS = 0.3
#: How often the ring is looked at while waiting, seconds.
POLL_SECONDS = 0.05


async def refuses_connections(base_url: str, *, timeout: float = PROBE_SECONDS) -> bool:
    """Return whether nothing listens at ``base_url``'s host and port (refused).

    A timeout or any other error is not a refusal: the worker may be busy.
    """
    parts = urlsplit(base_url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeout)
    except ConnectionRefusedError:
        return True
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return False


async def route_past_dead_owner(ownership: Ownership, doc_id: uuid.UUID, *, wait: float) -> Route:
    """Return the document's route, waiting up to ``wait`` s while its owner is dead."""
    route = ownership.route(doc_id)
    if route.local or not route.url or not await refuses_connections(route.url):
        return route
    dead = route.worker_id
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        route = ownership.route(doc_id)
        if route.worker_id != dead:
            return route
    return route
