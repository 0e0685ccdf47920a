"""Share-link tokens remembered in the session.

Opening ``/d/<public_id>/?key=<token>`` with a valid token stores the token in
``request.session["doc_links"]`` as ``{str(public_id): token}``. Pages and
the realtime consumer (which reads ``scope["session"]["doc_links"]``) pass
the stored token to :func:`documents.selectors.document_access`, so the link
keeps working without the key in the address bar, and stops working as soon
as the owner turns link sharing off or makes a new link.

Who a change of the link cuts off, as :func:`link_change_message` tells the
person who made it: a new token (a new link, or turning the link off, which
also makes a new token for the next "on") ends the access of everyone who
opened the document through the old link, including people who have it
open right now (their sockets re-check: documents.events), unless it is
also shared with them directly or through a group. The owner and those
shares never depend on the link.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

#: The share dialog's report after the link was turned off.
LINK_OFF_MESSAGE = (
    "Link sharing is off. People who only had the link can no longer open it; "
    "people it was shared with directly keep access."
)
#: The share dialog's report after a new link was made (followed by the mode).
NEW_LINK_MESSAGE = (
    "Made a new link; the old one no longer works. People who opened the document "
    "through the old link lose that access, even if they have it open now, unless "
    "it is also shared with them directly or through a group."
)

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


def link_change_message(*, mode: str, mode_label: str, regenerated: bool) -> str:
    """Return what changing the link did, in the words of the share dialog.

    ``mode`` is the link mode now (``"off"`` or another), ``mode_label`` how
    people read it ("Anyone with the link can view"), ``regenerated``
    whether a new link was asked for.
    """
    if mode == "off":
        return LINK_OFF_MESSAGE
    said = f"{mode_label}."
    return f"{NEW_LINK_MESSAGE} {said}" if regenerated else said
