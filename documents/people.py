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


#: Fourteen colours, one per person (cursors, flags, the people list,
#: suggestions, authorship, compare). Invariants, checked by
#: tests/documents/test_people_palette.py:
#:
#: * each has a contrast of at least 4.5:1 (WCAG AA) against white, so a
#:   caret reads on the page and white text reads on a flag of it;
#: * any two are at least 19 apart (CIELAB ΔE*ab), and neighbours (the
#:   colours of users ``n`` and ``n + 1``) at least 40, so people next to
#:   each other in sign-up order rarely look alike.
#:
#: Order: red, blue, green, purple, orange, teal, pink, olive, indigo,
#: sienna, slate, magenta, ochre, brown.
PALETTE: tuple[str, ...] = (
    "#c62828",
    "#0277bd",
    "#2e7d32",
    "#7b1fa2",
    "#b23c00",
    "#00796b",
    "#ad1457",
    "#5c7a00",
    "#3949ab",
    "#a0522d",
    "#546e7a",
    "#c71585",
    "#8d6e00",
    "#795548",
)


def user_color(user_id: int) -> str:
    """Return the colour of a user: the same on every worker, page and visit.

    Pure and stable: it depends on the id alone (never on who else is
    here), so every place that draws a person agrees without asking.
    """
    return PALETTE[user_id % len(PALETTE)]
