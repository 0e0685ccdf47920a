"""The front door: socket URLs that reach a document's owner through the balancer.

Behind a balancer (HAProxy in ``make cluster`` and the cluster tests,
:mod:`collabdocs.haproxy`) browsers reach only its public URL, never a
worker's own. The workers then hand out socket URLs on the front door that
carry the owner as a hint::

    ws://front.example:8000/w/127.0.0.1-8001/ws/docs/<doc id>/

The balancer takes the ``/w/<name>`` prefix off and sends the socket to the
server of that name when it is up (HAProxy ``use-server``), to any healthy
worker otherwise (which serves it or redirects it, on the front door
again). The hint is a path prefix, not a query parameter, because the
browser client rewrites the query (``?rev=``) and the page's socket path
loses it; its characters (letters, digits, ``. _ -``) are left alone by
every URL encoder. It names the owner's *address* (its advertised
``host:port``, ``:`` made ``-``), not its ring id: the balancer's server
list is made of addresses.

Pure, apart from one process-wide value: the front door this worker hands
out, installed by ``runworker --front-door URL`` (or ``FRONT_DOOR_URL``) at
start-up and read by :func:`routing.paths.socket_url`, so the route
endpoint, the page and the consumer's ``redirect`` all agree. No front door
(the default): socket URLs are the owners' own, as before.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

#: The path prefix that names the owner for the balancer: ``/w/<name>``.
HINT_PREFIX = "/w/"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")

_front_door: str | None = None


def server_name(base_url: str) -> str:
    """Return the balancer's name of the worker at ``base_url``: ``host-port``.

    Only letters, digits and ``. _ -``: valid as an HAProxy server name and
    left alone by every URL encoder.
    """
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    return _UNSAFE.sub("-", f"{parts.hostname}:{port}")


def hinted_socket_url(front_door: str, owner_url: str, public_id: uuid.UUID | str) -> str:
    """Return the socket URL of a document on the front door, naming its owner."""
    parts = urlsplit(front_door)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    hint = server_name(owner_url)
    return f"{scheme}://{parts.netloc}{HINT_PREFIX}{hint}/ws/docs/{public_id}/"


def install_front_door(url: str | None) -> None:
    """Hand out socket URLs on ``url`` (a normalized base URL), or not (None)."""
    global _front_door
    _front_door = url or None


def front_door() -> str | None:
    """Return the front door this process hands out, if any."""
    return _front_door
