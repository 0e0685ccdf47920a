"""What pages may load: the Content-Security-Policy and the embed policy.

Every response carries a strict policy (docs/schema.md, issue 9)::

    default-src 'self'; script-src 'self'; style-src 'self' <quill-cursors' hash>;
    style-src-attr 'unsafe-inline'; img-src 'self' data:;
    connect-src 'self' <the sockets the page may open>;
    frame-src <the video hosts> | 'none'; object-src 'none';
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'

* No inline script anywhere: the pages load their scripts from /static/, so
  an injected ``<script>`` (or ``onerror=``) never runs.
* ``style-src-attr 'unsafe-inline'``: style *attributes* are needed, since
  the server renders colours as ``<span style="color: …">`` (documents/render.py:
  first paint, history previews) and Django's admin uses a few; Quill itself
  sets styles through the CSSOM, which CSP does not restrict. ``<style>``
  elements stay blocked (``style-src 'self'``), so injected CSS cannot read
  the page; the one exception is the stylesheet quill-cursors injects
  itself (its bundle has no separate CSS file), allowed by its hash.
* ``img-src 'self' data:``: images come from the project's storage or are
  ``data:`` URLs (the content schema allows nothing else), so a remote
  image cannot be a tracking pixel.
* ``frame-src``: only the https hosts of ``COLLABDOCS["VIDEO_HOSTS"]``;
  none by default.
* ``connect-src``: the page's own origin, its ``ws``/``wss`` twin, and in a
  cluster (docs/scaleout.md) every worker on the ring when the page was
  made, plus any port of the page's host name, where workers started later
  listen. The editor's socket may be redirected to any of them.

A small middleware rather than django-csp: the policy is computed per
request from the live ring (connect-src), there are no nonces to manage
since no inline script is left, and it is one header. Django 6.0's own CSP
support can replace it when the project moves to 6.x.

Django's technical 500 page (inline styles and scripts), which a developer
gets only under DEBUG with ``COLLABDOCS_DEBUG_TRACEBACKS=1``
(collabdocs/errors.py), is left without the header so that it stays
readable. Every other error page is the site's own and gets the policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

from collabdocs.errors import tracebacks_wanted
from routing.state import routing_state

__all__ = [
    "HEADER",
    "STYLE_HASHES",
    "ContentSecurityPolicyMiddleware",
    "build_policy",
    "embed_policy",
]

HEADER = "Content-Security-Policy"

#: The ``<style>`` that quill-cursors 4.0.4 inserts (its CSS is inside its
#: bundle), and the empty one it inserts first and fills after.
#: tests/browser/test_csp_browser.py recomputes the hash from node_modules,
#: so an upgrade that changes the CSS fails there first.
STYLE_HASHES = (
    "'sha256-NCz8GTtvyHIP1M8acaVKFf+iiOTwOxOnzUJr6V1Sil4='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # ""
)


def _video_hosts() -> list[str]:
    """Return the video allowlist of the settings (lower case, sorted)."""
    return sorted({str(host).lower() for host in settings.COLLABDOCS.get("VIDEO_HOSTS", ())})


def embed_policy(request: HttpRequest) -> dict[str, Any]:
    """Return the embed policy for templates (the editor reads it from data- attributes).

    A context processor: ``embed_policy.video_hosts`` (comma-separated),
    ``.image_data_max_bytes`` and ``.image_path_prefix``, the same settings
    the server's ``parse_change`` is given (realtime.content_policy), and
    ``.image_max_bytes``, the largest upload the images app accepts (the
    editor refuses bigger files before sending them).
    """
    config = settings.COLLABDOCS
    return {
        "embed_policy": {
            "video_hosts": ",".join(_video_hosts()),
            "image_data_max_bytes": int(config.get("IMAGE_DATA_MAX_BYTES", 256 * 1024)),
            "image_path_prefix": str(config.get("IMAGE_PATH_PREFIX", "/media/")),
            "image_max_bytes": int(config.get("IMAGE_MAX_BYTES", 10 * 1024 * 1024)),
        }
    }


def _socket_origins(base_url: str) -> list[str]:
    """Return ``[http(s)://host:port, ws(s)://host:port]`` of a worker's base URL."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    ws = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]


def _connect_sources(request: HttpRequest) -> list[str]:
    """Return what the page may connect to besides 'self' (see the module docstring)."""
    secure = request.is_secure()
    try:
        # Validated against ALLOWED_HOSTS: only [a-z0-9.-] (or [IPv6]) and a port.
        host = request.get_host()
    except DisallowedHost:
        host = ""  # the 400 answering it needs no socket
    sources = [f"{'wss' if secure else 'ws'}://{host}"] if host else []
    ownership = routing_state().ownership
    urls: Iterable[str] = list(ownership.view.members.values())
    if settings.WORKER_URL:
        urls = [*urls, settings.WORKER_URL]
    for url in urls:
        sources.extend(_socket_origins(url))
    if ownership.cluster and host:
        # Workers that join after the page was made listen on other ports.
        hostname = urlsplit(f"//{host}").hostname or ""
        if hostname:
            name = f"[{hostname}]" if ":" in hostname else hostname
            sources.extend(
                [
                    f"{'https' if secure else 'http'}://{name}:*",
                    f"{'wss' if secure else 'ws'}://{name}:*",
                ]
            )
    return list(dict.fromkeys(sources))


def build_policy(request: HttpRequest) -> str:
    """Return the Content-Security-Policy header value for ``request``."""
    frames = " ".join(f"https://{host}" for host in _video_hosts()) or "'none'"
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' " + " ".join(STYLE_HASHES),
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self' " + " ".join(_connect_sources(request)),
        f"frame-src {frames}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Add :func:`build_policy`'s header to every response that has none."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Set the header (unless already set, or on Django's technical 500 page)."""
        if HEADER in response:
            return response
        if response.status_code == 500 and tracebacks_wanted():
            return response
        response[HEADER] = build_policy(request)
        return response
