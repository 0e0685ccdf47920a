"""Share-link tokens remembered in the session.

Opening ``/d/<public_id>/?key=<token>`` with a valid token stores the token in
``request.session["doc_links"]`` as ``{str(public_id): token}``. Pages and
the realtime consumer (which reads ``scope["session"]["doc_links"]``) pass
the stored token to :func:`documents.selectors.document_access`, so the link
keeps working without the key in the address bar, and stops working as soon
as the owner turns link sharing off or makes a new link.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

SESSION_KEY = "doc_links"
#: Remember at most this many links per session (oldest are forgotten).
MAX_REMEMBERED = 200


def session_link_token(session: Mapping[str, Any], public_id: uuid.UUID | str) -> str | None:
    """Return the link token remembered for the document, if any."""
    links = session.get(SESSION_KEY)
    if not isinstance(links, dict):
        return None
    token = links.get(str(public_id))
    return token if isinstance(token, str) else None


def remember_link_token(request: HttpRequest, public_id: uuid.UUID | str, token: str) -> None:
    """Store a valid link token for the document in the session."""
    links = request.session.get(SESSION_KEY)
    links = dict(links) if isinstance(links, dict) else {}
    links.pop(str(public_id), None)
    links[str(public_id)] = token
    while len(links) > MAX_REMEMBERED:
        links.pop(next(iter(links)))
    request.session[SESSION_KEY] = links
