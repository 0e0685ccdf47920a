"""Presence helpers: cursor ranges moved through ops (and a user's colour, from documents.people).

Presence is never stored. A range is kept at the revision it was last
expressed at and moved forward only when someone needs it (a broadcast or a
``hello``), so an op costs nothing per connected cursor.
"""

from __future__ import annotations

from collections.abc import Iterable

from documents.people import PALETTE, user_color
from realtime.ot import Delta

# The colours live beside display names (documents.people): history and
# authorship colour people the same way as their cursors.
__all__ = ["PALETTE", "transform_range", "user_color"]


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
