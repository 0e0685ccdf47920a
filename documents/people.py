"""How people are shown to other people: one display name and one colour per user."""

from __future__ import annotations

from typing import Any


def display_name(user: Any) -> str:
    """Return the user's full name, stripped, or else their username.

    ``user`` is any of Django's users (the anonymous one has no full name).
    """
    get_full_name = getattr(user, "get_full_name", None)
    full = (get_full_name() or "") if callable(get_full_name) else ""
    return full.strip() or str(user.get_username())


#: Twenty distinct colours (Sasha Trubetskoy's list), picked by user id.
PALETTE: tuple[str, ...] = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#469990",
    "#9a6324",
    "#800000",
    "#808000",
    "#000075",
    "#e6beff",
    "#ffe119",
    "#aaffc3",
    "#bfef45",
    "#fabed4",
    "#dcbeff",
    "#fffac8",
    "#a9a9a9",
)


def user_color(user_id: int) -> str:
    """Return the colour of a user: the same on every worker and page."""
    # A multiplicative step spreads consecutive ids across the palette.
    return PALETTE[(user_id * 7) % len(PALETTE)]
