"""Server edits on the review marks: the change a ``decide`` or ``uncomment`` makes.

An edit (:mod:`documents.live`) names what to do; this module turns it
into one change against a given content with :mod:`realtime.ot.review`.
Pure: :func:`realtime.restore.apply_edit` calls it on the authority's loop
with the content at the revision the change is then based on. (A
``content`` edit, a restore, is a diff:
:func:`realtime.restore.restore_change`, run off the loop.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime.ot import Delta
from realtime.ot.review import Mark, decide, suggestions, uncomment


def selector(*, ids: list[str] | None, author: int | None) -> Callable[[Mark], bool]:
    """Return the predicate choosing marks among ``ids`` (None: any) by ``author`` (None: any)."""
    wanted = frozenset(ids) if ids is not None else None

    def select(mark: Mark) -> bool:
        return (wanted is None or mark.raw in wanted) and (author is None or mark.author == author)

    return select


def edit_change(
    edit: dict[str, Any], content: list[dict[str, Any]]
) -> tuple[Delta, list[dict[str, Any]]]:
    """Return the change a ``decide`` or ``uncomment`` edit makes to ``content``.

    Also return, for ``decide``, the suggestions it decides (JSON-ready,
    as :class:`realtime.ot.review.Suggestion`). An empty change: nothing
    selected. ``edit`` is checked already (:func:`documents.live.check_edit`).
    """
    if edit["kind"] == "decide":
        select = selector(ids=edit.get("ids"), author=edit.get("author"))
        change = decide(content, accept=edit["accept"], select=select)
        if not change.ops:
            return change, []
        decided = [
            item.as_json()
            for item in suggestions(content)
            if select(Mark(raw=item.id, author=item.author, at_ms=item.at_ms))
        ]
        return change, decided
    if edit["kind"] == "uncomment":
        return uncomment(content, edit["threads"]), []
    raise ValueError(f"edit_change does not make {edit['kind']!r} edits")
