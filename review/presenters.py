"""The JSON shapes of threads and messages, as the API and live events send them.

One function per shape, so a thread looks the same in ``GET threads``, in
the answer to a change and in the ``review`` frame every socket receives.
Times are ISO 8601 in UTC. A removed message is sent with an empty body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from documents.people import display_name
from review.models import Message, Thread


def iso(when: datetime | None) -> str | None:
    """Return ``when`` as ISO 8601 text (UTC, as stored), or None."""
    return when.isoformat() if when is not None else None


def person_json(user: Any) -> dict[str, Any] | None:
    """Return ``{"id", "name"}`` for a user, or None (deleted account)."""
    if user is None:
        return None
    return {"id": user.pk, "name": display_name(user)}


def message_json(message: Message) -> dict[str, Any]:
    """Return one message as the API sends it."""
    return {
        "id": message.pk,
        "author": person_json(message.author),
        "body": "" if message.is_removed else message.body,
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "removed": message.is_removed,
    }


def thread_json(thread: Thread) -> dict[str, Any]:
    """Return one thread with its messages (prefetch them: see review.selectors)."""
    return {
        "id": thread.public_id,
        "quote": thread.quote,
        "created_by": person_json(thread.created_by),
        "created_at": iso(thread.created_at),
        "resolved": thread.is_resolved,
        "resolved_by": person_json(thread.resolved_by) if thread.is_resolved else None,
        "resolved_at": iso(thread.resolved_at),
        "messages": [message_json(message) for message in thread.messages.all()],
    }
