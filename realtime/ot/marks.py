"""Review marks: the four review attributes and the values they hold.

Suggestion marks (``suggest-insert`` / ``suggest-delete`` / ``suggest-format``)
and comment anchors (``comment``) are attributes of the content
(docs/schema.md "Review marks"). This module names them and reads their
values: :func:`parse_mark`, :func:`parse_format_suggestion`, and
:func:`value_problem`, the checks beyond the schema's patterns that
:func:`realtime.ot.validate.parse_change` makes. Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from .schema import describe, formats

__all__ = [
    "COMMENT",
    "REVIEW_ATTRIBUTES",
    "SUGGESTION_ATTRIBUTES",
    "SUGGEST_DELETE",
    "SUGGEST_FORMAT",
    "SUGGEST_INSERT",
    "Mark",
    "mark_author",
    "parse_format_suggestion",
    "parse_mark",
    "value_problem",
]

SUGGEST_INSERT: Final = "suggest-insert"
SUGGEST_DELETE: Final = "suggest-delete"
SUGGEST_FORMAT: Final = "suggest-format"
COMMENT: Final = "comment"

#: The attributes that carry review state (not formatting).
REVIEW_ATTRIBUTES: Final = (SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT, COMMENT)
#: The three attributes that carry a suggestion (a mark by its author).
SUGGESTION_ATTRIBUTES: Final = frozenset((SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT))
_REVIEW: Final = frozenset(REVIEW_ATTRIBUTES)

_MARK: Final = re.compile(r"([1-9][0-9]{0,11}):([0-9a-z]{1,10}):[0-9a-z]{4,12}")
_MAX_FORMAT_VALUE: Final = 1024


@dataclass(frozen=True)
class Mark:
    """One suggestion mark: its raw value (the suggestion's id), its author
    and the time its author's browser stated."""

    raw: str
    author: int
    at_ms: int


def parse_mark(value: object) -> Mark | None:
    """Return the :class:`Mark` a value spells, or None if it is not one."""
    if type(value) is not str:
        return None
    match = _MARK.fullmatch(value)
    if match is None:
        return None
    return Mark(raw=value, author=int(match.group(1)), at_ms=int(match.group(2), 36))


class _Refused(ValueError):
    """A JSON text holds what a format suggestion may not (internal)."""


def _no_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python's json accepts and JSON lacks."""
    raise _Refused(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing a key given twice (JSON.parse keeps the
    last, other parsers the first: the two ends must not disagree)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"key {describe(key)} appears twice")
        out[key] = value
    return out


def _format_problem(value: str) -> tuple[Mark | None, dict[str, Any], str | None]:
    """Split and check a ``suggest-format`` value: (mark, formats, problem)."""
    if type(value) is not str or len(value) > _MAX_FORMAT_VALUE:
        return None, {}, f"must be a string of at most {_MAX_FORMAT_VALUE} characters"
    head, bar, body = value.partition("|")
    mark = parse_mark(head)
    if mark is None or not bar:
        return None, {}, "must be a suggestion mark, '|' and a JSON object"
    try:
        proposed = json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        reason = str(error) if isinstance(error, _Refused) else "is not valid JSON"
        return mark, {}, f"proposes formats that are not a valid JSON object: {reason}"
    if type(proposed) is not dict or not proposed:
        return mark, {}, "must propose a non-empty JSON object of formats"
    for name, item in proposed.items():
        spec = formats.get(name)
        if spec is None or name in _REVIEW:
            return mark, {}, f"proposes {describe(name)}, which is not a format"
        if item is not None:
            problem = spec.check(item)
            if problem:
                return mark, {}, f"proposes {name!r} that {problem}"
    return mark, proposed, None


def parse_format_suggestion(value: object) -> tuple[Mark, dict[str, Any]] | None:
    """Return the mark and proposed formats of a ``suggest-format`` value.

    The formats map schema format names (not review attributes) to a valid
    value or None (remove the format). Return None for a malformed value.
    """
    if type(value) is not str:
        return None
    mark, proposed, problem = _format_problem(value)
    if mark is None or problem is not None:
        return None
    return mark, proposed


def _comment_problem(value: str) -> str | None:
    """Return what is wrong with a ``comment`` value beyond its pattern."""
    ids = value.split(" ")
    if len(set(ids)) != len(ids):
        return "must not list a comment thread twice"
    return None


def value_problem(name: str, value: object) -> str | None:
    """Return what is wrong with a review attribute's value, or None.

    For the checks the schema's pattern cannot make: the JSON object of a
    ``suggest-format`` and duplicate thread ids in a ``comment``. ``value``
    has already passed the schema's check; other names are always fine.
    The phrase follows "attribute 'name' ...".
    """
    if type(value) is not str:
        return None
    if name == SUGGEST_FORMAT:
        return _format_problem(value)[2]
    if name == COMMENT:
        return _comment_problem(value)
    return None


def mark_author(name: str, value: object) -> int | None:
    """Return the author of a suggestion attribute's value (None if none)."""
    if name == SUGGEST_FORMAT:
        parsed = parse_format_suggestion(value)
        return parsed[0].author if parsed is not None else None
    mark = parse_mark(value)
    return mark.author if mark is not None else None
