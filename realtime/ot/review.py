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

The pure parts, standard library only, in three modules; this one is
the place to import them from:

* :mod:`.marks`: the attribute names, :func:`parse_mark`,
  :func:`parse_format_suggestion`, and the value checks beyond the
  schema's patterns (:func:`value_problem`, used by
  :func:`realtime.ot.validate.parse_change`);
* :mod:`.review_policy`: :func:`policy_problem`, the policy the authority
  enforces on ops from sockets (docs/ot.md "Review policy");
* here: the server-made changes that decide suggestions (:func:`decide`)
  and remove comment anchors (:func:`uncomment`), and the read-outs
  :func:`suggestions` and :func:`without_review` (for exports).

Every function takes a document's content (a :class:`Delta` or a list of
insert ops) as it is at one revision, and returns a change against exactly
that content; the caller applies it at that revision (the authority does so
inside its loop, so no concurrent op falls in between).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .delta import Delta, Op, op_length
from .marks import (
    COMMENT,
    REVIEW_ATTRIBUTES,
    SUGGEST_DELETE,
    SUGGEST_FORMAT,
    SUGGEST_INSERT,
    SUGGESTION_ATTRIBUTES,
    Mark,
    parse_format_suggestion,
    parse_mark,
    value_problem,
)
from .review_policy import policy_problem
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

_REVIEW: Final = frozenset(REVIEW_ATTRIBUTES)
_PREVIEW: Final = 200  # Characters of text a Suggestion quotes.
_OBJECT_REPLACEMENT: Final = "\ufffc"  # An embed in a preview.


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
        if not attributes or SUGGESTION_ATTRIBUTES.isdisjoint(attributes):
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
        if not attributes or SUGGESTION_ATTRIBUTES.isdisjoint(attributes):
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
