"""What the notifications app hears from lower layers: "shared with you".

Connected in :meth:`notifications.apps.NotificationsConfig.ready`.
``documents.signals.document_shared`` is sent after the share commits, once
per person given a role (each member of a group), and again when a role
changes; each becomes one ``shared`` notification. The sharer is never
notified of their own share (:func:`~notifications.services.notify` drops
it), nor is anyone who cannot see the document by the time this runs.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from documents.models import Document
from documents.people import display_name
from documents.roles import Role
from notifications.models import Kind
from notifications.services import notify

#: What each role lets the person do, as the notification says it.
_ACCESS = {Role.VIEWER: "view", Role.COMMENTER: "comment", Role.EDITOR: "edit"}


def shared_text(*, actor: Any, role: Role | str, title: str) -> str:
    """Return the notification text for being given ``role`` on a document."""
    access = _ACCESS.get(Role(role), "view")
    if actor is None:
        return f"You now have {access} access to “{title}”."
    return f"{display_name(actor)} gave you {access} access to “{title}”."


def on_document_shared(
    sender: type, *, document: Document, actor: Any, user: Any, role: Role | str, **kwargs: Any
) -> None:
    """Notify ``user`` that ``actor`` shared ``document`` with them as ``role``."""
    notify(
        recipient=user,
        kind=Kind(Kind.SHARED),
        document=document,
        actor=actor,
        text=shared_text(actor=actor, role=role, title=document.title),
        url=reverse("documents:detail", args=[document.public_id]),
    )
