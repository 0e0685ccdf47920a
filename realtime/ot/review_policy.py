"""The review policy: which changes a person may submit (docs/ot.md "Review policy").

:func:`policy_problem` is what the sequencer holds every op from a socket
to, after transforming it to the tip and checking it against the tip
document, before applying it: suggestion marks must be their author's
own, and a commenter's change must be a suggestion or a comment anchor.
Standard library only.
"""

from __future__ import annotations

from typing import Any, Final

from .delta import Delta
from .document import DocumentText
from .marks import (
    COMMENT,
    SUGGEST_DELETE,
    SUGGEST_FORMAT,
    SUGGEST_INSERT,
    SUGGESTION_ATTRIBUTES,
    mark_author,
)

__all__ = ["policy_problem"]

_NOT_OWN: Final = "suggestion marks must be your own"


def _foreign_mark(change: Delta, user_id: int) -> str | None:
    """Return the reason if the change sets a suggestion mark not by
    ``user_id``, else None (the fast path: no review attribute at all)."""
    for op in change.ops:
        attributes = op.get("attributes")
        if not attributes or SUGGESTION_ATTRIBUTES.isdisjoint(attributes):
            continue
        for name in SUGGESTION_ATTRIBUTES.intersection(attributes):
            value = attributes[name]
            if value is not None and mark_author(name, value) != user_id:
                return _NOT_OWN
    return None


def _own(name: str, value: object, user_id: int) -> bool:
    """Return whether a run's suggestion value is by ``user_id``."""
    return value is not None and mark_author(name, value) == user_id


def _retain_problem(changes: dict[str, Any], current: dict[str, Any], user_id: int) -> str | None:
    """Return why a commenter may not apply ``changes`` to a run holding
    ``current`` attributes, or None."""
    for name, value in changes.items():
        had = current.get(name)
        if name == SUGGEST_INSERT:
            return "commenters may not change what is suggested for insertion"
        if name in (SUGGEST_DELETE, SUGGEST_FORMAT):
            # A value is own (checked before); null withdraws one's own.
            if value is None and had is not None and not _own(name, had, user_id):
                return "commenters may only withdraw their own suggestions"
        elif name == COMMENT:
            if value is None:
                if had is not None:
                    return "commenters may not remove comment anchors"
            elif type(had) is str and not set(had.split(" ")) <= set(value.split(" ")):
                return "commenters may not remove comment anchors"
        elif not _own(SUGGEST_INSERT, current.get(SUGGEST_INSERT), user_id):
            return "commenters may only format text they suggested; suggest a format change instead"
    return None


def _commenter_problem(text: DocumentText, change: Delta, user_id: int) -> str | None:
    """Return why a commenter may not submit ``change`` to ``text``, or None."""
    pos = 0
    for op in change.ops:
        attributes = op.get("attributes") or {}
        if "insert" in op:
            if not _own(SUGGEST_INSERT, attributes.get(SUGGEST_INSERT), user_id):
                return "commenters may only insert text marked as their own suggestion"
            if attributes.get(SUGGEST_DELETE) is not None or (
                attributes.get(SUGGEST_FORMAT) is not None
            ):
                return "inserted text cannot also be suggested for deletion or formatting"
            continue
        length: int = op["delete"] if "delete" in op else op["retain"]
        if "delete" in op:
            for run in text.slice(pos, pos + length):
                current = run.get("attributes") or {}
                if not _own(SUGGEST_INSERT, current.get(SUGGEST_INSERT), user_id):
                    return (
                        "commenters may only delete text they suggested; suggest a deletion instead"
                    )
        elif attributes:
            for run in text.slice(pos, pos + length):
                problem = _retain_problem(attributes, run.get("attributes") or {}, user_id)
                if problem:
                    return problem
        pos += length
    return None


def policy_problem(
    text: DocumentText, change: Delta, *, user_id: int, may_edit: bool
) -> str | None:
    """Return why ``user_id`` may not submit ``change`` to ``text``, or None.

    ``change`` is already transformed to ``text``'s revision. Everyone's
    suggestion marks must be their own. Commenters (``may_edit`` False)
    may only insert text marked as their own suggestion, delete their own
    suggested text, mark content for deletion or formatting, withdraw their
    own marks, add comment anchors, and format their own suggested text
    (docs/ot.md "Review policy"). An editor's change without suggestion
    marks costs one pass over its ops and no look at the document.
    """
    problem = _foreign_mark(change, user_id)
    if problem or may_edit:
        return problem
    return _commenter_problem(text, change, user_id)
