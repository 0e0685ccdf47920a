"""The JSON shape of a notification, the same on the API and on the socket.

``{"id", "kind", "text", "url", "document": {"id", "title"},
"actor": {"id", "name"} | null, "created_at", "read"}``; times are ISO 8601
in UTC, the document id is its public UUID.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from documents.people import display_name
from notifications.models import Notification


def notification_json(notification: Notification) -> dict[str, Any]:
    """Return the notification as its recipient's scripts see it."""
    actor = notification.actor
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "text": notification.text,
        "url": notification.url,
        "document": {
            "id": str(notification.document.public_id),
            "title": notification.document.title,
        },
        "actor": None if actor is None else {"id": actor.pk, "name": display_name(actor)},
        "created_at": notification.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "read": notification.is_read,
    }
