"""Presence helpers: a user's colour and cursor ranges moved through ops.

Presence is never stored. A range is kept at the revision it was last
expressed at and moved forward only when someone needs it (a broadcast or a
``hello``), so an op costs nothing per connected cursor.
"""

from __future__ import annotations

from collections.abc import Iterable

from realtime.ot import Delta

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


def transform_range(index: int, length: int, deltas: Iterable[Delta]) -> tuple[int, int]:
    """Return ``(index, length)`` moved through ``deltas`` in order.

    Both ends move with ``transform_position(i, False)`` (protocol.md "Ties"),
    so text typed at a collapsed cursor pushes it forward.
    """
    start, end = index, index + length
    collapsed = length == 0
    for delta in deltas:
        start = delta.transform_position(start, False)
        end = start if collapsed else delta.transform_position(end, False)
    return start, max(0, end - start)
