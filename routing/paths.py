"""Znode paths and worker addresses: pure helpers, no ZooKeeper, no Django.

Socket URLs name the owner's own address, or the front door's with the
owner as a hint when one is installed (:mod:`routing.frontdoor`).

Layout under the deployment's root (``settings.ZOOKEEPER_ROOT``, default
``/collabdocs``)::

    <root>/workers/<worker id>     ephemeral, JSON {"url", "started", ...}
    <root>/locks/<doc id>/...      kazoo Lock contenders, one per holder
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from routing.frontdoor import front_door, hinted_socket_url

#: A worker id: what a znode name may hold, and short enough to read.
WORKER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}")


class BadAddress(ValueError):
    """A worker URL or id that cannot be used."""


def workers_path(root: str) -> str:
    """Return the parent of the workers' ephemeral znodes."""
    return f"{root.rstrip('/')}/workers"


def worker_path(root: str, worker_id: str) -> str:
    """Return the znode of one worker."""
    return f"{workers_path(root)}/{worker_id}"


def locks_path(root: str) -> str:
    """Return the parent of the documents' lock directories."""
    return f"{root.rstrip('/')}/locks"


def lock_path(root: str, public_id: uuid.UUID | str) -> str:
    """Return the lock directory of one document."""
    return f"{locks_path(root)}/{uuid.UUID(str(public_id))}"


def check_root(root: str) -> str:
    """Return ``root`` if it is an absolute znode path, else raise BadAddress."""
    if not root.startswith("/") or root.endswith("/") or "//" in root:
        raise BadAddress(f"ZOOKEEPER_ROOT {root!r} must look like /collabdocs")
    return root


def check_worker_id(worker_id: str) -> str:
    """Return ``worker_id`` if it can name a znode, else raise BadAddress."""
    if not WORKER_ID_RE.fullmatch(worker_id):
        raise BadAddress(
            f"worker id {worker_id!r}: use 1-100 letters, digits and . _ : - "
            "(starting with a letter or digit)"
        )
    return worker_id


def normalize_base_url(url: str) -> str:
    """Return a worker's base URL as ``http[s]://host[:port]`` (no path).

    ``ws``/``wss`` are accepted and turned into ``http``/``https``: the
    advertised URL serves both the pages and the sockets.
    """
    parts = urlsplit(url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.hostname:
        raise BadAddress(f"{url!r} is not an http(s):// URL of a worker")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BadAddress(f"{url!r}: a worker URL has no path (e.g. http://127.0.0.1:8001)")
    try:
        _port = parts.port  # reading it checks it
    except ValueError as exc:
        raise BadAddress(f"{url!r}: {exc}") from None
    return f"{scheme}://{parts.netloc}"


def default_worker_id(base_url: str) -> str:
    """Return the default id of a worker: its advertised ``host:port``.

    Stable across restarts, so a restarted worker gets its documents back.
    """
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return check_worker_id(f"{parts.hostname}:{port}")


def socket_url(base_url: str, public_id: uuid.UUID | str) -> str:
    """Return the WebSocket URL of a document on the worker at ``base_url``.

    Behind a front door (:mod:`routing.frontdoor`) it is the front door's
    URL naming that worker, which the balancer routes to it.
    """
    base = normalize_base_url(base_url)
    door = front_door()
    if door is not None:
        return hinted_socket_url(door, base, public_id)
    scheme, rest = base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws/docs/{public_id}/"


def page_socket_url(base_url: str, public_id: uuid.UUID | str) -> str:
    """Return the socket URL in the form the page's ``data-ws-path`` takes.

    The browser client turns ``http(s)`` into ``ws(s)`` itself, so the page
    carries ``http(s)://host:port/ws/docs/<id>/``; behind a front door, the
    front door's ``http(s)`` URL naming that worker.
    """
    base = normalize_base_url(base_url)
    door = front_door()
    if door is not None:
        ws = hinted_socket_url(door, base, public_id)
        return ws.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    return f"{base}/ws/docs/{public_id}/"
