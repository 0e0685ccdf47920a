"""How people are named to other people: one display name per user."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """Return the user's full name, stripped, or else their username.

    ``user`` is any of Django's users (the anonymous one has no full name).
    """
    get_full_name = getattr(user, "get_full_name", None)
    full = (get_full_name() or "") if callable(get_full_name) else ""
    return full.strip() or str(user.get_username())
