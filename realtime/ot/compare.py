"""Compare two documents: a redline of what changed, by whom, with a summary.

:func:`redline` diffs document ``old`` into document ``new`` with
:meth:`Delta.diff` (quill-delta's diff, fast-diff on the text, an embed one
placeholder character) and returns the *redline*: the ops of ``new`` with
the text ``old`` lost interleaved where it stood. Every op keeps its own
formats (an ``insert`` op with ``attributes``) and may carry two keys
beside them, outside ``attributes`` so that no format is ever confused
with a mark:

* ``"diff"``: ``"insert"`` (in ``new`` only), ``"delete"`` (in ``old`` only:
  the op is ``old``'s text with ``old``'s formats) or ``"format"`` (in both,
  formats changed: the op carries ``new``'s formats);
* ``"diff-author"``: for an insert, who wrote it (``new_runs``); for a
  delete, who wrote the deleted text (``old_runs``). Absent when unknown;
* ``"diff-old"``: on a format op, ``old``'s formats of that text (an
  object, empty for none), so a reader can say what changed.

So the redline's ops without ``"diff": "delete"`` are ``new`` and its ops
without ``"diff": "insert"``, format ops taking their ``"diff-old"``
formats, are ``old``; the tests check both against quill-delta.

Large documents: fast-diff (a pure-Python port) costs about the product of
the text's length and the number of differences, minutes for a 1 MB
document edited all over. Past :data:`EXACT_LIMIT` code units the texts
are first matched paragraph by paragraph (lines ending in ``"\n"``,
:mod:`difflib` over whole lines, linear in practice); unchanged paragraphs
are kept, and each changed stretch is diffed character by character with
fast-diff (line by line up to :data:`PAIR_LIMIT` units when as many lines
went as came, else as one block up to :data:`BLOCK_LIMIT` units, at most
:data:`FINE_BUDGET` units in all); anything longer is marked as deleted
and inserted whole. The redline is then no longer exactly
quill-delta's diff, but it keeps both properties above (it still gives
back ``old`` and ``new``).

Authorship runs (``[(length, user_id | None), ...]`` in Quill units summing
to the document's length, :mod:`realtime.ot.authorship`'s shape) are
optional: without them nobody is named. ``deleted_by`` (runs over ``old``:
who deleted each character, None where nobody or unknown, see
:func:`deleters`) names who removed text in the summary.

``only_others_than=u`` marks only other people's changes ("changes since
you last opened"): text ``u`` wrote is shown as plain text, text ``u``
deleted is left out (the redline then reads as ``new``), formatting is
marked whoever made it (runs do not say who formats).

Words are counted per marked stretch (consecutive marked ops of one kind
and author) as runs of letters and digits (``\\w+`` with inner apostrophes);
an embed separates words and is not one. A word split between two authors
counts once for each.

Pure: standard library and :mod:`realtime.ot` only, no I/O.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter
from typing import Any, Final

from . import attributes as attr_map
from . import fastdiff
from .attributes import attrs_equal, js_equal
from .delta import Delta, Op, _OpIterator, op_length
from .utf16 import to_units

__all__ = ["AuthorCount", "Redline", "Runs", "Summary", "deleters", "redline", "words"]

#: Authorship runs: ``(length, user id or None)`` covering a document in order.
Runs = list[tuple[int, int | None]]

INSERT: Final = "insert"
DELETE: Final = "delete"
FORMAT: Final = "format"

#: Texts (both together, in code units) up to this size are diffed exactly
#: as quill-delta does (:meth:`Delta.diff`).
EXACT_LIMIT = 20_000
#: Longest changed paragraph (old and new together) diffed character by
#: character on the large path, when as many paragraphs went as came.
PAIR_LIMIT = 4_000
#: The same for a changed stretch of unequal paragraph counts, diffed as one
#: block (the paragraphs may not correspond: fast-diff is slowest then).
BLOCK_LIMIT = 1_000
#: Most code units diffed character by character in one comparison; past
#: it, changed paragraphs are marked whole.
FINE_BUDGET = 400_000

_WORD = re.compile(r"\w+(?:['’]\w+)*")


def words(text: str) -> int:
    """Return how many words ``text`` holds (runs of letters and digits)."""
    return sum(1 for _ in _WORD.finditer(text))


@dataclass
class AuthorCount:
    """Words one person added and removed (``user`` None: unknown)."""

    user: int | None
    added_words: int = 0
    removed_words: int = 0


@dataclass
class Summary:
    """What changed: words added and removed, units reformatted, per author."""

    added_words: int = 0
    removed_words: int = 0
    #: Quill units (UTF-16 code units, an embed 1) whose formats changed.
    formatted: int = 0
    #: Per person, in order of first appearance in the document.
    by: list[AuthorCount] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data (``by`` as id and counts)."""
        return {
            "added_words": self.added_words,
            "removed_words": self.removed_words,
            "formatted": self.formatted,
            "by": [
                {"id": c.user, "added_words": c.added_words, "removed_words": c.removed_words}
                for c in self.by
            ],
        }


@dataclass(frozen=True)
class Redline:
    """The redline ops and their summary."""

    ops: list[Op]
    summary: Summary


class _RunCursor:
    """Walk authorship runs, handing out how far the current author reaches."""

    __slots__ = ("index", "left", "runs")

    def __init__(self, runs: Sequence[tuple[int, int | None]] | None) -> None:
        self.runs = list(runs) if runs else []
        self.index = 0
        self.left = self.runs[0][0] if self.runs else 0

    def peek(self) -> tuple[int, int | None]:
        """Return (units left in the current run, its author); endless None past the end."""
        while self.index < len(self.runs) and self.left <= 0:
            self.index += 1
            self.left = self.runs[self.index][0] if self.index < len(self.runs) else 0
        if self.index >= len(self.runs):
            return (1 << 62, None)
        return (self.left, self.runs[self.index][1])

    def skip(self, length: int) -> None:
        """Move ``length`` units on."""
        while length > 0:
            left, _ = self.peek()
            if left >= 1 << 62:
                return
            step = min(left, length)
            self.left -= step
            length -= step


class _Builder:
    """Collect redline ops (merging like ones) and count words per marked stretch."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.summary = Summary()
        self._authors: dict[int | None, AuthorCount] = {}
        # The marked stretch being counted: (kind, author, text pieces).
        self._stretch: tuple[str, int | None] | None = None
        self._text: list[str] = []

    def _count(self, user: int | None) -> AuthorCount:
        count = self._authors.get(user)
        if count is None:
            count = self._authors[user] = AuthorCount(user)
            self.summary.by.append(count)
        return count

    def _flush(self) -> None:
        if self._stretch is None:
            return
        kind, user = self._stretch
        n = words(" ".join(self._text))
        self._stretch, self._text = None, []
        if not n:
            return
        if kind == INSERT:
            self.summary.added_words += n
            self._count(user).added_words += n
        else:
            self.summary.removed_words += n
            self._count(user).removed_words += n

    def add(
        self,
        op: Op,
        kind: str | None = None,
        author: int | None = None,
        *,
        credited: int | None = None,
        old_formats: dict[str, Any] | None = None,
    ) -> None:
        """Append an insert op, marked ``kind``.

        ``author`` is the ``diff-author`` shown, ``credited`` whom the
        summary credits (the author for an insert, the deleter for a
        delete), ``old_formats`` a format op's ``diff-old``.
        """
        if kind in (INSERT, DELETE):
            stretch = (kind, credited)
            if stretch != self._stretch:
                self._flush()
                self._stretch = stretch
            value = op["insert"]
            # An embed separates words.
            self._text.append(value if type(value) is str else " ")
        else:
            self._flush()
            if kind == FORMAT:
                self.summary.formatted += op_length(op)
        new: Op = dict(op)
        if kind is not None:
            new["diff"] = kind
            if author is not None and kind != FORMAT:
                new["diff-author"] = author
            if kind == FORMAT:
                new["diff-old"] = dict(old_formats or {})
        last = self.ops[-1] if self.ops else None
        if (
            last is not None
            and type(last["insert"]) is str
            and type(new["insert"]) is str
            and last.get("diff") == new.get("diff")
            and last.get("diff-author") == new.get("diff-author")
            and attrs_equal(last.get("attributes"), new.get("attributes"))
            and attrs_equal(last.get("diff-old"), new.get("diff-old"))
        ):
            self.ops[-1] = {**last, "insert": last["insert"] + new["insert"]}
        else:
            self.ops.append(new)

    def finish(self) -> Redline:
        self._flush()
        return Redline(self.ops, self.summary)


def redline(
    old: Delta | Iterable[Op],
    new: Delta | Iterable[Op],
    old_runs: Runs | None = None,
    new_runs: Runs | None = None,
    only_others_than: int | None = None,
    deleted_by: Runs | None = None,
) -> Redline:
    """Return the redline turning document ``old`` into document ``new`` (module docstring).

    :raises ValueError: ``old`` or ``new`` is not a document (an op that is
        not an insert).
    """
    old_delta = old if isinstance(old, Delta) else Delta(list(old))
    new_delta = new if isinstance(new, Delta) else Delta(list(new))
    change = change_between(old_delta, new_delta)
    old_iter, new_iter = _OpIterator(old_delta.ops), _OpIterator(new_delta.ops)
    old_authors, new_authors = _RunCursor(old_runs), _RunCursor(new_runs)
    deleters_cursor = _RunCursor(deleted_by)
    out = _Builder()
    for op in change.ops:
        if "insert" in op:
            remaining = op_length(op)
            while remaining > 0:
                left, author = new_authors.peek()
                step = min(remaining, left, new_iter.peek_length())
                piece = new_iter.next(step)
                new_authors.skip(step)
                remaining -= step
                mine = only_others_than is not None and author == only_others_than
                out.add(piece, None if mine else INSERT, author, credited=author)
        elif "delete" in op:
            remaining = op["delete"]
            pieces: list[tuple[Op, int | None, int | None]] = []
            while remaining > 0:
                left, author = old_authors.peek()
                dleft, deleter = deleters_cursor.peek()
                step = min(remaining, left, dleft, old_iter.peek_length())
                pieces.append((old_iter.next(step), author, deleter))
                old_authors.skip(step)
                deleters_cursor.skip(step)
                remaining -= step
            for piece, author, deleter in _fill_deleters(pieces):
                if only_others_than is not None and deleter == only_others_than:
                    continue  # Left out: the reader removed it.
                out.add(piece, DELETE, author, credited=deleter)
        else:
            remaining = op["retain"]
            changed = "attributes" in op
            while remaining > 0:
                step = min(remaining, old_iter.peek_length(), new_iter.peek_length())
                old_piece = old_iter.next(step)
                piece = new_iter.next(step)
                old_authors.skip(step)
                new_authors.skip(step)
                deleters_cursor.skip(step)
                remaining -= step
                if changed:
                    out.add(piece, FORMAT, old_formats=old_piece.get("attributes"))
                else:
                    out.add(piece)
    # The diff's trailing retain is chopped: the rest of ``new`` is unchanged.
    for piece in new_iter.rest():
        out.add(piece)
    return out.finish()


def _text_units(delta: Delta) -> str:
    parts = []
    for op in delta.ops:
        if "insert" not in op:
            raise ValueError("diff() called with non-document")
        value = op["insert"]
        parts.append(value if type(value) is str else "\x00")
    return to_units("".join(parts))


def change_between(old: Delta, new: Delta) -> Delta:
    """Return a change turning document ``old`` into ``new`` (module docstring, "Large").

    Up to :data:`EXACT_LIMIT` units: :meth:`Delta.diff`, quill-delta's.

    :raises ValueError: ``old`` or ``new`` is not a document.
    """
    a, b = _text_units(old), _text_units(new)
    if len(a) + len(b) <= EXACT_LIMIT:
        return old.diff(new)
    old_lines, new_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    tuples: list[tuple[int, str]] = []
    budget = FINE_BUDGET
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            tuples.append((fastdiff.DIFF_EQUAL, "".join(old_lines[i1:i2])))
            continue
        gone, came = old_lines[i1:i2], new_lines[j1:j2]
        if gone and came and len(gone) == len(came):
            pairs, limit = list(zip(gone, came, strict=True)), PAIR_LIMIT
        else:
            pairs, limit = [("".join(gone), "".join(came))], BLOCK_LIMIT
        for before, after in pairs:
            size = len(before) + len(after)
            if size <= limit and size <= budget:
                budget -= size
                tuples.extend((kind, text) for kind, text in fastdiff.diff(before, after))
            else:
                tuples.append((fastdiff.DIFF_DELETE, before))
                tuples.append((fastdiff.DIFF_INSERT, after))
    return _change_from(old, new, tuples)


def _change_from(old: Delta, new: Delta, tuples: Iterable[tuple[int, str]]) -> Delta:
    """Return the change that text diff ``tuples`` describe (as :meth:`Delta.diff` builds it)."""
    change = Delta()
    old_iter, new_iter = _OpIterator(old.ops), _OpIterator(new.ops)
    for kind, text in tuples:
        length = len(text)
        while length > 0:
            if kind == fastdiff.DIFF_INSERT:
                step = min(new_iter.peek_length(), length)
                change.push(new_iter.next(step))
            elif kind == fastdiff.DIFF_DELETE:
                step = min(length, old_iter.peek_length())
                old_iter.next(step)
                change.delete(step)
            else:
                step = min(old_iter.peek_length(), new_iter.peek_length(), length)
                this, other = old_iter.next(step), new_iter.next(step)
                if js_equal(this["insert"], other["insert"]):
                    change.retain(
                        step, attr_map.diff(this.get("attributes"), other.get("attributes"))
                    )
                else:
                    change.push(other)
                    change.delete(step)
            length -= step
    return change.chop()


def _fill_deleters(
    pieces: list[tuple[Op, int | None, int | None]],
) -> list[tuple[Op, int | None, int | None]]:
    """Credit pieces of one deletion nobody is known to have deleted to a neighbour's deleter.

    The diff may align a deletion a few characters off the one that was
    made ("two t" for "o two" in "one two three"): where repeated text
    makes the two equivalent, the stretch the diff deletes straddles what
    the ops deleted and what they kept. The kept part is credited to the
    deleter before it (or else after it) in the same deletion.
    """
    known = [deleter for _, _, deleter in pieces if deleter is not None]
    if not known or len(known) == len(pieces):
        return pieces
    filled: list[tuple[Op, int | None, int | None]] = []
    last: int | None = known[0]
    for piece, author, deleter in pieces:
        if deleter is None:
            deleter = last
        last = deleter
        filled.append((piece, author, deleter))
    return filled


def deleters(
    old_length: int, changes: Iterable[tuple[Delta | list[Op], int | None]], budget: int
) -> Runs | None:
    """Return who deleted each unit of a document of ``old_length`` units.

    ``changes`` are the ops applied to it in order (Deltas, or stored op
    lists, normalised) with their authors. The
    result covers the old document: ``(length, user)`` runs where ``user``
    deleted those units, None where they are still there (or the deleter is
    unknown). The document is kept as pieces (old text and inserted text);
    each op walks the pieces it reaches and copies the others as slices, so
    the work is bounded by ``budget`` steps (pieces walked, ops, and a
    64th of the pieces copied): past it, return None (nobody is named).
    """
    # The current document as pieces: (length, start in old or -1 if inserted).
    pieces: list[tuple[int, int]] = [(old_length, 0)] if old_length else []
    deleted: list[tuple[int, int, int | None]] = []  # (old start, length, who)
    spent = 0
    for delta, user in changes:
        ops = delta.ops if isinstance(delta, Delta) else delta
        lead = ops[0]["retain"] if ops and "retain" in ops[0] and "attributes" not in ops[0] else 0
        # Untouched pieces before and after the edit are copied as slices
        # (C speed); only the pieces the op reaches are walked.
        ends = list(accumulate(map(itemgetter(0), pieces)))
        index = bisect_right(ends, lead)
        cursor = _PieceCursor(pieces)
        cursor.index = index
        cursor.left = ends[index] - lead if index < len(pieces) else 0
        middle: list[tuple[int, int]] = []
        for op in ops[1:] if lead else ops:
            if "retain" in op:
                middle.extend(cursor.take(op["retain"]))
            elif "delete" in op:
                for size, start in cursor.take(op["delete"]):
                    if start >= 0:
                        deleted.append((start, size, user))
            else:
                middle.append((op_length(op), -1))
        spent += len(middle) + len(ops) + cursor.index - index + len(pieces) // 64
        if spent > budget:
            return None
        head = pieces[:index]
        if index < len(pieces) and pieces[index][0] > ends[index] - lead:
            # The edit starts inside this piece: its first part stays before it.
            head.append((pieces[index][0] - (ends[index] - lead), pieces[index][1]))
        pieces = _glue(_glue(head, _merge(middle)), cursor.rest())
    deleted.sort()
    runs: Runs = []
    at = 0
    for start, size, user in deleted:
        if start > at:
            _append(runs, start - at, None)
        _append(runs, size, user)
        at = start + size
    if at < old_length:
        _append(runs, old_length - at, None)
    return runs


class _PieceCursor:
    """Hand out the pieces of a document ``length`` units at a time."""

    __slots__ = ("index", "left", "pieces")

    def __init__(self, pieces: list[tuple[int, int]]) -> None:
        self.pieces = pieces
        self.index = 0
        self.left = pieces[0][0] if pieces else 0

    def take(self, length: int) -> list[tuple[int, int]]:
        """Return the next ``length`` units as pieces (fewer at the end)."""
        taken: list[tuple[int, int]] = []
        pieces = self.pieces
        while length > 0 and self.index < len(pieces):
            size, start = pieces[self.index]
            offset = size - self.left
            step = min(length, self.left)
            taken.append((step, start + offset if start >= 0 else -1))
            self.left -= step
            length -= step
            if self.left == 0:
                self.index += 1
                self.left = pieces[self.index][0] if self.index < len(pieces) else 0
        return taken

    def rest(self) -> list[tuple[int, int]]:
        """Return the pieces not taken yet (the one in hand cut where it was left)."""
        pieces = self.pieces
        if self.index >= len(pieces):
            return []
        size, start = pieces[self.index]
        if self.left == size:
            return pieces[self.index :]
        offset = size - self.left
        return [(self.left, start + offset if start >= 0 else -1), *pieces[self.index + 1 :]]


def _glue(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return ``first + second``, the two pieces where they meet merged when they continue."""
    if first and second:
        (size, start), (next_size, next_start) = first[-1], second[0]
        if (start < 0 and next_start < 0) or (start >= 0 and next_start == start + size):
            return [*first[:-1], (size + next_size, start), *second[1:]]
    return first + second


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for size, start in pieces:
        if size <= 0:
            continue
        if merged:
            last_size, last_start = merged[-1]
            if (last_start < 0 and start < 0) or (
                last_start >= 0 and start == last_start + last_size
            ):
                merged[-1] = (last_size + size, last_start)
                continue
        merged.append((size, start))
    return merged


def _append(runs: Runs, length: int, user: int | None) -> None:
    if length <= 0:
        return
    if runs and runs[-1][1] == user:
        runs[-1] = (runs[-1][0] + length, user)
    else:
        runs.append((length, user))


# --------------------------------------------------------------------------
# Authorship carried as a hidden format (the timeline's fast replay)
# --------------------------------------------------------------------------

#: The attribute key that carries a piece's author while replaying; no real
#: format can have it (formats are names from the schema).
AUTHOR_KEY: Final = "\x00author"


def _tagged(op: Op, author: int | None) -> Op:
    attributes = {k: v for k, v in (op.get("attributes") or {}).items() if k != AUTHOR_KEY}
    if author is not None:
        attributes[AUTHOR_KEY] = author
    new: Op = {"insert": op["insert"]}
    if attributes:
        new["attributes"] = attributes
    return new


def tag_authors(content: Sequence[Op], runs: Runs) -> list[Op]:
    """Return document ``content`` with each piece's author (``runs``) as :data:`AUTHOR_KEY`.

    A document so tagged replays ops (tagged by :func:`tag_change`) with
    :class:`~realtime.ot.DocumentText` at its speed, O(log n + k) an op,
    authorship included; :func:`untag_authors` splits it back.
    """
    out: list[Op] = []
    pieces = _OpIterator(list(content))
    authors = _RunCursor(runs)
    while pieces.peek_length() < 1 << 62 and pieces.cur is not None:
        left, author = authors.peek()
        step = min(left, pieces.peek_length())
        out.append(_tagged(pieces.next(step), author))
        authors.skip(step)
    return out


def tag_change(change: Sequence[Op], author: int | None, attribution: Runs | None = None) -> Delta:
    """Return ``change``, its inserts tagged ``author`` (or by ``attribution``, in order)."""
    out = Delta()
    names = _RunCursor(attribution) if attribution is not None else None
    for op in change:
        if "insert" not in op:
            out.push(op)
            continue
        if names is None:
            out.push(_tagged(op, author))
            continue
        piece_iter = _OpIterator([op])
        while piece_iter.cur is not None:
            left, named = names.peek()
            step = min(left, piece_iter.peek_length())
            out.push(_tagged(piece_iter.next(step), named))
            names.skip(step)
    return out


def untag_authors(tagged: Iterable[Op]) -> tuple[list[Op], Runs]:
    """Return the content and the authorship runs of a tagged document."""
    content = Delta()
    runs: Runs = []
    for op in tagged:
        attributes = op.get("attributes") or {}
        author = attributes.get(AUTHOR_KEY)
        _append(runs, op_length(op), author)
        rest = {k: v for k, v in attributes.items() if k != AUTHOR_KEY}
        content.push({"insert": op["insert"], **({"attributes": rest} if rest else {})})
    return content.ops, runs
