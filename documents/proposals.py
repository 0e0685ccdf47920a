"""Suggestions in content, as the exporters and previews show them.

Review state lives in the content as attributes (``realtime.ot.review``).
People reading an export or a version preview see either the document as
accepted so far (:data:`ACCEPTED`: pending suggestions rejected, comment
anchors gone) or, on request, the suggestions marked up
(:data:`MARKUP`), each with its author's name and the time their browser
stated. This module turns content into what the renderers need for either:

* :func:`readable`: the content to render, review marks resolved (accepted)
  or kept (markup; comment anchors are never shown);
* :func:`proposals_of`: the suggestions one run of content carries,
  outermost first (an insertion, then a deletion of it, then a format
  proposal), parsed from its attributes;
* :func:`group_pieces`: consecutive runs of a line that carry the same
  suggestions, so one suggestion spanning bold and plain text is drawn once;
* :func:`describe`, :func:`describe_formats`: the words of a note.

Pure: names come in as a mapping (``selectors.user_display_names``) and a
missing name (a deleted account) reads "someone". A time that cannot be a
date (the browser states it, so it may be anything) reads "an unknown time".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from realtime.ot.review import (
    SUGGEST_DELETE,
    SUGGEST_FORMAT,
    SUGGEST_INSERT,
    Mark,
    parse_format_suggestion,
    parse_mark,
    without_review,
)

SuggestionMode = Literal["accepted", "markup"]
ACCEPTED: SuggestionMode = "accepted"
MARKUP: SuggestionMode = "markup"
#: The values of the exports' ``suggestions`` option.
SUGGESTION_MODES: tuple[str, ...] = (ACCEPTED, MARKUP)

Names = Mapping[int, str]
Piece = tuple["str | dict", Mapping[str, Any]]

UNKNOWN_PERSON = "someone"
UNKNOWN_TIME = "an unknown time"


@dataclass(frozen=True)
class Proposal:
    """One suggestion on a run of content."""

    kind: Literal["insert", "delete", "format"]
    mark: Mark
    #: The proposed formats (``None``: remove); empty unless kind is format.
    formats: Mapping[str, Any] = field(default_factory=dict)

    def author(self, names: Names) -> str:
        """Return the author's name, or "someone" for an unknown id."""
        return names.get(self.mark.author, UNKNOWN_PERSON)

    @property
    def at(self) -> datetime | None:
        """Return when the author's browser said it was made, if that is a date."""
        try:
            return datetime.fromtimestamp(self.mark.at_ms / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None

    def when(self) -> str:
        """Return the time as people read it: ``2026-12-05 21:15 UTC``."""
        at = self.at
        return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else UNKNOWN_TIME


def _insert_ops(ops: Iterable[Any]) -> list[dict[str, Any]]:
    """Return the well-formed insert ops of ``ops`` (content is not trusted)."""
    clean: list[dict[str, Any]] = []
    for op in ops:
        if not isinstance(op, Mapping):
            continue
        insert = op.get("insert")
        if not isinstance(insert, str | Mapping) or insert == "":
            continue
        item: dict[str, Any] = {"insert": insert if isinstance(insert, str) else dict(insert)}
        attributes = op.get("attributes")
        if isinstance(attributes, Mapping) and attributes:
            item["attributes"] = dict(attributes)
        clean.append(item)
    return clean


def readable(ops: Iterable[Any], *, suggestions: SuggestionMode = ACCEPTED) -> list[dict]:
    """Return the content to show: comment anchors removed, suggestions per mode.

    :raises ValueError: ``suggestions`` is not one of :data:`SUGGESTION_MODES`.
    """
    if suggestions not in SUGGESTION_MODES:
        raise ValueError(f"suggestions must be one of {SUGGESTION_MODES}, got {suggestions!r}")
    return without_review(_insert_ops(ops), suggestions=suggestions)


def proposals_of(attributes: Mapping[str, Any]) -> tuple[Proposal, ...]:
    """Return the well-formed suggestions in ``attributes``, outermost first."""
    found = []
    inserted = parse_mark(attributes.get(SUGGEST_INSERT))
    if inserted is not None:
        found.append(Proposal(kind="insert", mark=inserted))
    deleted = parse_mark(attributes.get(SUGGEST_DELETE))
    if deleted is not None:
        found.append(Proposal(kind="delete", mark=deleted))
    parsed = parse_format_suggestion(attributes.get(SUGGEST_FORMAT))
    if parsed is not None:
        found.append(Proposal(kind="format", mark=parsed[0], formats=parsed[1]))
    return tuple(found)


def group_pieces(pieces: Sequence[Piece]) -> list[tuple[tuple[Proposal, ...], list[Piece]]]:
    """Group consecutive pieces of a line that carry the same suggestions."""
    groups: list[tuple[tuple[Proposal, ...], list[Piece]]] = []
    for piece in pieces:
        proposals = proposals_of(piece[1])
        if groups and groups[-1][0] == proposals:
            groups[-1][1].append(piece)
        else:
            groups.append((proposals, [piece]))
    return groups


def authors(ops: Iterable[Any]) -> set[int]:
    """Return the ids of everyone whose suggestion is in ``ops``."""
    ids: set[int] = set()
    for op in _insert_ops(ops):
        for proposal in proposals_of(op.get("attributes", {})):
            ids.add(proposal.mark.author)
    return ids


def describe_formats(formats: Mapping[str, Any]) -> str:
    """Return proposed formats in words: ``bold, header 2, no italic``."""
    words = []
    for name, value in formats.items():
        if value is None or value is False:
            words.append(f"no {name}")
        elif value is True:
            words.append(name)
        else:
            words.append(f"{name} {value}")
    return ", ".join(words)


def describe(proposal: Proposal, names: Names, *, line: bool = False) -> str:
    """Return a note for people: who suggested what, and when.

    ``line``: the suggestion is on a line break (a new line, joined lines,
    or a line format).
    """
    who, when = proposal.author(names), proposal.when()
    if proposal.kind == "insert":
        what = "suggested a line break" if line else "suggested inserting"
    elif proposal.kind == "delete":
        what = "suggested joining these lines" if line else "suggested deleting"
    else:
        target = " for this line" if line else ""
        what = f"suggested {describe_formats(proposal.formats)}{target}"
    return f"{who} {what} · {when}"
