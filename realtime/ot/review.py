"""Review marks in a document: suggestions and comment anchors.

Four attributes of the content schema (``schema.json``, scope ``any``: on
text, embeds and newlines alike) carry review state inside the document, so
it moves with the text under OT like any other format and needs no anchor
bookkeeping of its own:

* ``suggest-insert``: *M*, content proposed for insertion;
* ``suggest-delete``: *M*, existing content proposed for deletion;
* ``suggest-format``: ``M|{json}``, format changes proposed for the content
  (``null`` removes a format); not applied until accepted;
* ``comment``: the ids of the comment threads anchored there, separated by
  spaces.

A *mark* M is ``"<uid>:<t>:<r>"``: the author's user id, the creation time
in milliseconds since the epoch in base 36 (stated by the author's browser)
and a random tag. The mark is the suggestion's id; adjacent edits by one
person reuse it, so one suggestion may span several runs, and even several
kinds (a replacement: a deletion and an insertion under one mark).

This module holds the pure parts, standard library only:

* value checks beyond the schema's patterns (:func:`value_problem`, used by
  :func:`realtime.ot.validate.parse_change`);
* the policy the authority enforces on ops from sockets
  (:func:`policy_problem`, docs/ot.md "Review policy");
* the server-made changes that decide suggestions (:func:`decide`) and
  remove comment anchors (:func:`uncomment`);
* read-outs: :func:`suggestions`, :func:`without_review` (for exports).

Every function takes a document's content (a :class:`Delta` or a list of
insert ops) as it is at one revision, and returns a change against exactly
that content; the caller applies it at that revision (the authority does so
inside its loop, so no concurrent op falls in between).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .delta import Delta, Op, op_length
from .document import DocumentText
from .schema import describe, formats
from .utf16 import utf16_slice

__all__ = [
    "COMMENT",
    "REVIEW_ATTRIBUTES",
    "SUGGEST_DELETE",
    "SUGGEST_FORMAT",
    "SUGGEST_INSERT",
    "Mark",
    "Suggestion",
    "decide",
    "parse_format_suggestion",
    "parse_mark",
    "policy_problem",
    "suggestions",
    "uncomment",
    "value_problem",
    "without_review",
]

SUGGEST_INSERT: Final = "suggest-insert"
SUGGEST_DELETE: Final = "suggest-delete"
SUGGEST_FORMAT: Final = "suggest-format"
COMMENT: Final = "comment"

#: The attributes that carry review state (not formatting).
REVIEW_ATTRIBUTES: Final = (SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT, COMMENT)
_SUGGEST: Final = frozenset((SUGGEST_INSERT, SUGGEST_DELETE, SUGGEST_FORMAT))
_REVIEW: Final = frozenset(REVIEW_ATTRIBUTES)

_MARK: Final = re.compile(r"([1-9][0-9]{0,11}):([0-9a-z]{1,10}):[0-9a-z]{4,12}")
_MAX_FORMAT_VALUE: Final = 1024
_PREVIEW: Final = 200  # Characters of text a Suggestion quotes.
_OBJECT_REPLACEMENT: Final = "\ufffc"  # An embed in a preview.


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


# ---------------------------------------------------------------------------
# Reading a document's runs
# ---------------------------------------------------------------------------


def _ops_of(content: Delta | Iterable[Op]) -> list[Op]:
    """Return a document's insert ops."""
    if isinstance(content, Delta):
        return content.ops
    return list(content)


def _runs(content: Delta | Iterable[Op]) -> Iterator[tuple[int, int, Op]]:
    """Yield (index, length, op) for each insert op of a document."""
    index = 0
    for op in _ops_of(content):
        length = op_length(op)
        yield index, length, op
        index += length


# ---------------------------------------------------------------------------
# Deciding suggestions
# ---------------------------------------------------------------------------


def _selected(value: object, select: Callable[[Mark], bool]) -> Mark | None:
    """Return the mark of a suggestion value if ``select`` picks it."""
    mark = parse_mark(value)
    return mark if mark is not None and select(mark) else None


def _decision(
    attributes: dict[str, Any], *, accept: bool, select: Callable[[Mark], bool]
) -> tuple[bool, dict[str, Any]]:
    """Return (delete?, retain attributes) that decide one run's selected
    suggestions; ({} when the run holds none)."""
    inserted = _selected(attributes.get(SUGGEST_INSERT), select)
    deleted = _selected(attributes.get(SUGGEST_DELETE), select)
    proposal = parse_format_suggestion(attributes.get(SUGGEST_FORMAT))
    if proposal is not None and not select(proposal[0]):
        proposal = None
    change: dict[str, Any] = {}
    if proposal is not None:
        if accept:
            change.update(proposal[1])
        change[SUGGEST_FORMAT] = None
    if inserted is not None:
        change[SUGGEST_INSERT] = None
    if deleted is not None:
        change[SUGGEST_DELETE] = None
    # Rejecting an insertion and accepting a deletion remove the content;
    # when both a removal and a keep are due, the removal wins.
    remove = (inserted is not None and not accept) or (deleted is not None and accept)
    return remove, change


def decide(content: Delta | Iterable[Op], *, accept: bool, select: Callable[[Mark], bool]) -> Delta:
    """Return the one change that accepts (or rejects) the selected suggestions.

    Per run holding a suggestion whose mark ``select`` picks:

    * ``suggest-insert``: accept keeps the content and drops the mark,
      reject deletes the content;
    * ``suggest-delete``: accept deletes the content, reject drops the mark;
    * ``suggest-format``: accept applies the proposed formats and drops the
      mark, reject drops the mark.

    A deletion wins over a keep. The document's final newline is never
    deleted: its selected marks are dropped instead (a valid change must
    keep it). Return an empty Delta when nothing is selected.
    """
    ops = _ops_of(content)
    total = sum(op_length(op) for op in ops)
    change = Delta()
    for index, length, op in _runs(ops):
        attributes = op.get("attributes")
        if not attributes or _SUGGEST.isdisjoint(attributes):
            change.retain(length)
            continue
        remove, keep = _decision(attributes, accept=accept, select=select)
        if remove:
            if index + length == total:
                # The run ends with the final newline: delete all but it.
                if length > 1:
                    change.delete(length - 1)
                change.retain(1, keep or None)
            else:
                change.delete(length)
        else:
            change.retain(length, keep or None)
    return change.chop()


def uncomment(content: Delta | Iterable[Op], thread_ids: Iterable[str]) -> Delta:
    """Return the change that removes these threads' anchors from ``content``.

    Each run whose ``comment`` lists one of ``thread_ids`` keeps the other
    ids, or loses the attribute when none is left. Empty Delta if no run
    names them.
    """
    gone = frozenset(thread_ids)
    change = Delta()
    for _, length, op in _runs(content):
        value = (op.get("attributes") or {}).get(COMMENT)
        if type(value) is not str:
            change.retain(length)
            continue
        ids = value.split(" ")
        kept = [thread for thread in ids if thread not in gone]
        if len(kept) == len(ids):
            change.retain(length)
        else:
            change.retain(length, {COMMENT: " ".join(kept) if kept else None})
    return change.chop()


# ---------------------------------------------------------------------------
# Read-outs
# ---------------------------------------------------------------------------

SuggestionKind = Literal["insert", "delete", "format"]


@dataclass
class Suggestion:
    """One suggestion of one kind, as the document holds it.

    ``index`` and ``length`` span its first to its last run (others' text
    may lie between after concurrent edits); ``text`` quotes its own runs
    (at most 200 characters, an embed as U+FFFC); ``formats`` is the
    proposal of a ``format`` suggestion (None for the other kinds). One mark
    with several kinds (a replacement) gives one Suggestion per kind.
    """

    id: str
    kind: SuggestionKind
    author: int
    at_ms: int
    index: int
    length: int
    text: str = ""
    formats: dict[str, Any] | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """Return the suggestion as a JSON-ready dict."""
        return {
            "id": self.id,
            "kind": self.kind,
            "author": self.author,
            "at_ms": self.at_ms,
            "index": self.index,
            "length": self.length,
            "text": self.text,
            "formats": self.formats,
        }


_KINDS: Final[tuple[tuple[str, SuggestionKind], ...]] = (
    (SUGGEST_INSERT, "insert"),
    (SUGGEST_DELETE, "delete"),
    (SUGGEST_FORMAT, "format"),
)


def suggestions(content: Delta | Iterable[Op]) -> list[Suggestion]:
    """Return the document's pending suggestions, ordered by position.

    Malformed marks (none pass :func:`parse_change`) are skipped.
    """
    found: dict[tuple[str, str], Suggestion] = {}
    for index, length, op in _runs(content):
        attributes = op.get("attributes")
        if not attributes or _SUGGEST.isdisjoint(attributes):
            continue
        for name, kind in _KINDS:
            value = attributes.get(name)
            if value is None:
                continue
            proposed: dict[str, Any] | None = None
            if name == SUGGEST_FORMAT:
                parsed = parse_format_suggestion(value)
                if parsed is None:
                    continue
                mark, proposed = parsed
            else:
                parsed_mark = parse_mark(value)
                if parsed_mark is None:
                    continue
                mark = parsed_mark
            item = found.get((mark.raw, kind))
            if item is None:
                item = found[(mark.raw, kind)] = Suggestion(
                    id=mark.raw,
                    kind=kind,
                    author=mark.author,
                    at_ms=mark.at_ms,
                    index=index,
                    length=0,
                    formats=proposed,
                )
            item.length = index + length - item.index
            if len(item.text) < _PREVIEW:
                insert = op["insert"]
                # A code point is at most two units: this many is enough.
                piece = insert[:_PREVIEW] if type(insert) is str else _OBJECT_REPLACEMENT
                item.text = utf16_slice(item.text + piece, 0, _PREVIEW)
    return sorted(found.values(), key=lambda item: (item.index, item.kind))


def without_review(
    content: Delta | Iterable[Op], *, suggestions: Literal["accepted", "markup"]
) -> list[Op]:
    """Return the content for an export: comment anchors removed, and

    * ``"accepted"``: every pending suggestion rejected (proposed insertions
      dropped, proposed deletions kept, format proposals dropped): the text
      as accepted so far;
    * ``"markup"``: suggestion marks kept, for the exporter to draw.
    """
    if suggestions not in ("accepted", "markup"):
        raise ValueError(f"suggestions must be 'accepted' or 'markup', got {suggestions!r}")
    strip = _REVIEW if suggestions == "accepted" else frozenset((COMMENT,))
    ops = _ops_of(content)
    total = sum(op_length(op) for op in ops)
    out = Delta()
    for index, length, op in _runs(ops):
        attributes = op.get("attributes")
        insert = op["insert"]
        if attributes and not strip.isdisjoint(attributes):
            if suggestions == "accepted" and attributes.get(SUGGEST_INSERT) is not None:
                if index + length < total:
                    continue
                # Keep the final newline (a document always ends with one).
                insert = insert[-1] if type(insert) is str else insert
            attributes = {k: v for k, v in attributes.items() if k not in strip}
        out.insert(insert, attributes or None)
    return out.to_json()


# ---------------------------------------------------------------------------
# The policy on ops from sockets
# ---------------------------------------------------------------------------

_NOT_OWN: Final = "suggestion marks must be your own"


def _mark_author(name: str, value: object) -> int | None:
    """Return the author of a suggestion attribute's value (None if none)."""
    if name == SUGGEST_FORMAT:
        parsed = parse_format_suggestion(value)
        return parsed[0].author if parsed is not None else None
    mark = parse_mark(value)
    return mark.author if mark is not None else None


def _foreign_mark(change: Delta, user_id: int) -> str | None:
    """Return the reason if the change sets a suggestion mark not by
    ``user_id``, else None (the fast path: no review attribute at all)."""
    for op in change.ops:
        attributes = op.get("attributes")
        if not attributes or _SUGGEST.isdisjoint(attributes):
            continue
        for name in _SUGGEST.intersection(attributes):
            value = attributes[name]
            if value is not None and _mark_author(name, value) != user_id:
                return _NOT_OWN
    return None


def _own(name: str, value: object, user_id: int) -> bool:
    """Return whether a run's suggestion value is by ``user_id``."""
    return value is not None and _mark_author(name, value) == user_id


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
