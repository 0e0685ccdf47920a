"""The route endpoint: where a document's WebSocket lives.

``GET /api/docs/<id>/route`` answers ``{"url": "ws://host:port/ws/docs/<id>/"}``
to a user who may read the document, 401 to an anonymous one and 404
otherwise (protocol.md "Routing"). The URL is the owning worker's, as this
worker's ring says (:mod:`routing.ownership`, read from :mod:`routing.state`);
when no worker is on the ring it answers 503 with ``Retry-After``, and the
client asks again. While the
ring's owner refuses connections (it died; its session has not expired
yet) the answer waits for the ring to move the document (routing/probe.py).

Behind a front door (``runworker --front-door``) every answer is the
front door's URL naming the owner (:mod:`routing.frontdoor`), this worker
included, so the balancer sends the socket straight to it.

On a single node the answer is this worker: its advertised URL
(``runworker --advertise`` or ``settings.WORKER_URL``) when known, else the
host the request came to.
"""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from documents.exceptions import DocumentNotFound
from documents.selectors import document_get_for_user
from routing import zk
from routing.frontdoor import front_door
from routing.paths import socket_url
from routing.probe import route_past_dead_owner
from routing.state import routing_state


def _ws_base(request: HttpRequest) -> str:
    """Return ``ws[s]://host[:port]`` of this worker."""
    advertised = (settings.WORKER_URL or "").strip().rstrip("/")
    if advertised:
        for http, ws in (("https://", "wss://"), ("http://", "ws://")):
            if advertised.startswith(http):
                return ws + advertised[len(http) :]
        return advertised
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}"


@never_cache
async def document_route(request: HttpRequest, doc_id: uuid.UUID) -> JsonResponse:
    """Answer the WebSocket URL of a document the user may read.

    When the ring's owner refuses connections (its process died and its
    session has not expired yet), wait for the ring to move the document,
    up to the session timeout and a second (:mod:`routing.probe`).
    """
    if request.method != "GET":
        return JsonResponse({"error": "Use GET."}, status=405)
    refusal = await sync_to_async(_refusal)(request, doc_id)
    if refusal is not None:
        return refusal
    ownership = routing_state().ownership
    wait = zk.session_timeout() + 1 if ownership.cluster else 0
    route = await route_past_dead_owner(ownership, doc_id, wait=wait)
    if route.url:
        return JsonResponse({"url": socket_url(route.url, doc_id)})
    if route.local:
        if front_door() is not None and ownership.self_url:
            return JsonResponse({"url": socket_url(ownership.self_url, doc_id)})
        return JsonResponse({"url": f"{_ws_base(request)}/ws/docs/{doc_id}/"})
    response = JsonResponse(
        {"error": "No server is serving documents right now; retry shortly."}, status=503
    )
    response["Retry-After"] = "1"
    return response


def _refusal(request: HttpRequest, doc_id: uuid.UUID) -> JsonResponse | None:
    """Return the 401 or 404 for a user who may not read the document, else None."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Sign in to continue."}, status=401)
    links = request.session.get("doc_links")
    token = links.get(str(doc_id)) if isinstance(links, dict) else None
    try:
        document_get_for_user(
            user=request.user,
            public_id=doc_id,
            link_token=token if isinstance(token, str) else None,
        )
    except DocumentNotFound:
        return JsonResponse({"error": "No such document."}, status=404)
    return None
