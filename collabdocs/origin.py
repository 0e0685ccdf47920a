"""The WebSocket Origin check: scheme, host and port, as Django's CSRF check.

A browser sends cookies with a WebSocket handshake whatever page opened it,
so the Origin header is the only thing that tells the victim's editor from a
page elsewhere that opens a socket with the victim's cookie. An origin is
``(scheme, host, port)``: ``http://127.0.0.1:8299`` is foreign to the app on
``http://127.0.0.1:8200``, and ``https://`` to ``http://``, although the host
names agree (Channels' ``AllowedHostsOriginValidator`` compared host names
only).

A handshake is let through when its Origin is:

* the socket's own origin: ``http``/``https`` (``wss``, or a request that
  matches ``SECURE_PROXY_SSL_HEADER``, is https) plus the Host header, whose
  host name must be in ``ALLOWED_HOSTS``: Django's CSRF check of an HTTP
  POST compares the same two things, so both checks agree;
* in ``CSRF_TRUSTED_ORIGINS`` (exact, or ``https://*.example.com`` for
  subdomains, as Django reads it): a front door or another site of the
  deployment;
* a worker of this deployment: ``WORKER_URL``, a member of the ring now, or
  one this process has seen on the ring (docs/scaleout.md: a page served
  by one worker opens its socket on another, and keeps its origin after
  that worker has left). A deployment whose pages come from a worker this
  process never saw lists its origins in ``CSRF_TRUSTED_ORIGINS``.

No Origin at all is let through: browsers always send one on a WebSocket
handshake (RFC 6455 4.1), so only a non-browser client omits it (bench/,
scripts), and such a client holds its own cookie; cross-site use of a
victim's cookie needs the victim's browser. ``Origin: null`` (sandboxed
frames, ``file:`` pages) is refused. A refusal happens before the socket is
accepted: the client sees HTTP 403 and nothing runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from routing.state import routing_state

__all__ = ["OriginValidator", "normalize_origin", "origin_trusted"]

DEFAULT_PORTS = {"http": 80, "https": 443}
#: Worker origins remembered from the ring, at most this many.
MAX_REMEMBERED = 1000

Origin = tuple[str, str, int]

_seen_workers: set[Origin] = set()


def normalize_origin(value: str) -> Origin | None:
    """Return ``(scheme, host, port)`` of an http(s) origin or URL, else None.

    The host is lower-cased and the default port made explicit, so
    ``http://Example.com`` equals ``http://example.com:80``. ``ws``/``wss``
    count as ``http``/``https`` (a worker's socket URL names its page origin).
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def _wildcard_match(origin: Origin, pattern: str) -> bool:
    """Return whether ``origin`` matches Django's ``scheme://*.domain`` entry."""
    scheme, _, rest = pattern.partition("://")
    if not rest.startswith("*."):
        return False
    wanted = normalize_origin(f"{scheme}://{rest[2:]}")
    if wanted is None:
        return False
    return (origin[0], origin[2]) == (wanted[0], wanted[2]) and origin[1].endswith("." + wanted[1])


def origin_trusted(origin: str, *, own: Origin | None, trusted: Iterable[str]) -> bool:
    """Return whether a browser page at ``origin`` may open this socket.

    ``own`` is the socket's own origin (None if its Host is not allowed);
    ``trusted`` are origins or worker URLs, with Django's ``*.`` wildcard.
    Pure: no settings, no I/O.
    """
    parsed = normalize_origin(origin)
    if parsed is None:
        return False
    if own is not None and parsed == own:
        return True
    for entry in trusted:
        if "*" in entry:
            if _wildcard_match(parsed, entry):
                return True
        elif normalize_origin(entry) == parsed:
            return True
    return False


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_secure(scope: dict[str, Any]) -> bool:
    """Return whether the page was served over https (directly or via a proxy)."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        meta_name, expected = proxy
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = _header(scope, name)
        return value is not None and value.split(",")[0].strip() == expected
    return False


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """Return the socket's own origin from its Host header, if the host is allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host.lower())
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django's get_host()
    if not domain or not validate_host(domain, allowed):
        return None
    return normalize_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def worker_origins() -> list[str]:
    """Return the origins of this deployment's workers (now and seen before)."""
    urls = [*routing_state().ownership.view.members.values()]
    if settings.WORKER_URL:
        urls.append(settings.WORKER_URL)
    for url in urls:
        parsed = normalize_origin(url)
        if parsed is not None and len(_seen_workers) < MAX_REMEMBERED:
            _seen_workers.add(parsed)
    return [f"{scheme}://{host}:{port}" for scheme, host, port in sorted(_seen_workers)]


def trusted_origins() -> list[str]:
    """Return every origin trusted besides the socket's own."""
    return [*settings.CSRF_TRUSTED_ORIGINS, *worker_origins()]


class OriginValidator:
    """ASGI middleware refusing WebSocket handshakes from foreign origins (HTTP 403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        """Pass the connection on, or deny it before it is accepted."""
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is not None and not origin_trusted(
                origin, own=own_origin(scope), trusted=trusted_origins()
            ):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
