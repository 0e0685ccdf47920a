"""Template tags of the routing app."""

from __future__ import annotations

import uuid

from django import template

from routing.frontdoor import front_door
from routing.paths import page_socket_url
from routing.state import routing_state

register = template.Library()


@register.simple_tag
def document_socket_path(public_id: uuid.UUID | str) -> str:
    """Return the page's ``data-ws-path``: where the editor opens its socket.

    ``/ws/docs/<id>/`` (this page's origin) when this worker serves the
    document or no owner is known; the owner's ``http(s)://host:port/ws/docs/<id>/``
    otherwise, which saves the browser a redirect (its client turns
    ``http(s)`` into ``ws(s)``).
    """
    route = routing_state().ownership.route(public_id)
    # Through a front door even a local route carries the owner hint, so
    # the balancer sends the socket to this worker rather than round-robin.
    if not route.url or (route.local and front_door() is None):
        return f"/ws/docs/{public_id}/"
    return page_socket_url(route.url, public_id)
