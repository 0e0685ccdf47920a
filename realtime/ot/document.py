"""A document held for fast, checked application of changes.

:class:`DocumentText` holds an insert-only document (text and embeds with
attributes, always ending in ``"\\n"``) so that applying a keystroke costs
O(log n + k), not a copy of the document: a 1 MB document with 10,000
formatting runs takes a few microseconds per keystroke.

Layout::

    _blocks: [[piece, piece, ...], [piece, ...], ...]   about 64 pieces each
    _lens:   [units in block 0, units in block 1, ...]

A piece is ``(content, attributes)``: ``content`` is text in *code-unit form*
(one Python code point per UTF-16 code unit, see
:func:`realtime.ot.utf16.to_units`) of at most ``_PIECE_MAX`` units, or a
1-tuple holding an embed dict, so ``len(content)`` is always the piece's
length in UTF-16 code units. ``attributes`` is a non-empty dict or ``None``.

Invariants:

* no piece is empty, no block is empty, ``_lens[b]`` is the sum of the piece
  lengths of block ``b`` and ``_length`` their total;
* adjacent pieces may hold equal attributes (merging is opportunistic);
  :meth:`DocumentText.to_ops` merges them exactly as quill-delta's ``push``,
  so its output equals ``Delta(doc).compose(change)`` in quill-delta;
* attribute dicts are never mutated, only replaced.

:meth:`DocumentText.apply` checks the whole change against the document
before touching it, so a refused change leaves the document unchanged.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Any, Final

from . import attributes as attr_map
from .attributes import attrs_equal
from .delta import Delta, Op, op_length
from .exceptions import DocumentTooLarge, InvalidDelta
from .utf16 import from_units, to_units

__all__ = ["DocumentText", "check_reach"]

_PIECE_MAX: Final = 1024  # Longest text piece, in code units.
_BLOCK_TARGET: Final = 64  # Pieces per block when (re)building blocks.
_BLOCK_MAX: Final = 128  # A block above this is split.
_BLOCK_MIN: Final = 16  # A block below this merges into its successor.
_OBJECT_REPLACEMENT: Final = "\ufffc"  # An embed in text().

Piece = tuple[Any, "dict[str, Any] | None"]

_SURROGATE_OR_ASTRAL: Final = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")


def _has_surrogates(text: str) -> bool:
    """Return whether text would hold a surrogate in code-unit form."""
    return not text.isascii() and _SURROGATE_OR_ASTRAL.search(text) is not None


def _chunks(units: str) -> list[str]:
    """Split code-unit text into pieces of at most ``_PIECE_MAX`` units,
    never between the halves of a surrogate pair."""
    if len(units) <= _PIECE_MAX:
        return [units]
    out = []
    start = 0
    while start < len(units):
        end = min(start + _PIECE_MAX, len(units))
        if end < len(units) and "\ud800" <= units[end - 1] <= "\udbff":
            end -= 1
        out.append(units[start:end])
        start = end
    return out


def _split(
    pieces: list[Piece], offset: int, total: int | None = None, index: int = 0, acc: int = 0
) -> int:
    """Make a piece start at ``offset`` and return its index.

    Return ``len(pieces)`` when ``offset`` is the end of the block. The walk
    starts at piece ``index``, which starts at ``acc`` (a caller that just
    split before ``offset`` passes that point); given the block's ``total``
    length, an offset in its second half is found walking from the end.
    Both halve the work of a change of many small formats, which splits
    the same block thousands of times.
    """
    if total is not None and index == 0 and offset * 2 > total:
        if offset == total:
            return len(pieces)
        end = total
        for back in range(len(pieces) - 1, -1, -1):
            content, attributes = pieces[back]
            begin = end - len(content)
            if offset == begin:
                return back
            if offset > begin:
                cut = offset - begin
                pieces[back : back + 1] = [(content[:cut], attributes), (content[cut:], attributes)]
                return back + 1
            end = begin
    count = len(pieces)
    while index < count:
        content, attributes = pieces[index]
        if offset == acc:
            return index
        length = len(content)
        if offset < acc + length:
            cut = offset - acc
            pieces[index : index + 1] = [
                (content[:cut], attributes),
                (content[cut:], attributes),
            ]
            return index + 1
        acc += length
        index += 1
    return count


def _mergeable(left: Piece, right: Piece) -> bool:
    """Return whether two adjacent pieces may become one."""
    return (
        type(left[0]) is str
        and type(right[0]) is str
        and len(left[0]) + len(right[0]) <= _PIECE_MAX
        and attrs_equal(left[1], right[1])
    )


def _merge_range(pieces: list[Piece], start: int, stop: int) -> None:
    """Merge mergeable neighbours among ``pieces[start:stop + 1]``.

    One pass and one slice assignment: deleting merged pieces one by one
    would cost O(n^2) when a format merges thousands of runs.
    """
    index = max(start, 0)
    stop = min(stop, len(pieces) - 1)
    if index >= stop:
        return
    merged = [pieces[index]]
    for right in pieces[index + 1 : stop + 1]:
        left = merged[-1]
        if _mergeable(left, right):
            merged[-1] = (left[0] + right[0], left[1])
        else:
            merged.append(right)
    if len(merged) <= stop - index:
        pieces[index : stop + 1] = merged


def _insert(pieces: list[Piece], offset: int, new: list[Piece]) -> None:
    """Insert ``new`` pieces at ``offset`` of a block."""
    acc = 0
    count = len(pieces)
    index = 0
    length = 0
    while index < count:
        length = len(pieces[index][0])
        if offset < acc + length:
            break
        acc += length
        index += 1
    cut = offset - acc
    if len(new) == 1 and type(new[0][0]) is str:
        text, attributes = new[0]
        if cut > 0:
            # Inside a text piece: the common keystroke.
            content, old = pieces[index]
            if len(content) + len(text) <= _PIECE_MAX and attrs_equal(old, attributes):
                pieces[index] = (content[:cut] + text + content[cut:], old)
                return
        else:
            if index > 0 and _mergeable(pieces[index - 1], new[0]):
                before = pieces[index - 1]
                pieces[index - 1] = (before[0] + text, before[1])
                return
            if index < count and _mergeable(new[0], pieces[index]):
                after = pieces[index]
                pieces[index] = (text + after[0], after[1])
                return
    if cut > 0:
        content, old = pieces[index]
        pieces[index : index + 1] = [(content[:cut], old), *new, (content[cut:], old)]
    else:
        pieces[index:index] = new


def _delete(pieces: list[Piece], offset: int, count: int) -> None:
    """Delete ``count`` units at ``offset`` of a block (all inside it)."""
    acc = 0
    for index, (content, attributes) in enumerate(pieces):
        length = len(content)
        if offset < acc + length:
            cut = offset - acc
            if cut + count <= length:
                # Inside one piece: the common backspace.
                rest = content[:cut] + content[cut + count :]
                if rest:
                    pieces[index] = (rest, attributes)
                else:
                    del pieces[index]
                    _merge_range(pieces, index - 1, index)
                return
            break
        acc += length
    start = _split(pieces, offset)
    stop = _split(pieces, offset + count, index=start, acc=offset)
    del pieces[start:stop]
    _merge_range(pieces, start - 1, start)


def _format(
    pieces: list[Piece],
    offset: int,
    count: int,
    fmt: dict[str, Any],
    total: int | None = None,
    hint: tuple[int, int] = (0, 0),
) -> tuple[int, int]:
    """Compose ``fmt`` onto the attributes of ``count`` units at ``offset``.

    ``total`` is the block's length, when the caller knows it; ``hint`` a
    ``(piece index, its start)`` at or before ``offset``. Return such a
    hint for a later offset: the piece before the formatted range keeps
    its index and start through the merge (only pieces after it merge
    into it).
    """
    if hint[0]:
        start = _split(pieces, offset, index=hint[0], acc=hint[1])
    else:
        start = _split(pieces, offset, total)
    stop = _split(pieces, offset + count, index=start, acc=offset)
    for index in range(start, stop):
        content, attributes = pieces[index]
        pieces[index] = (content, attr_map.compose(attributes, fmt, False))
    after = (start - 1, offset - len(pieces[start - 1][0])) if start > 0 else (0, 0)
    _merge_range(pieces, start - 1, stop)
    return after


def _pieces_of(op: Op) -> list[Piece]:
    """Return the pieces for one insert op."""
    attributes = op.get("attributes") or None
    value = op["insert"]
    if type(value) is str:
        return [(chunk, attributes) for chunk in _chunks(to_units(value))]
    return [((value,), attributes)]


class DocumentText:
    """An insert-only document with O(log n + k) checked :meth:`apply`."""

    __slots__ = ("_blocks", "_lens", "_length", "_surrogates")

    def __init__(self) -> None:
        """Create the empty document of revision 0, ``[{"insert": "\\n"}]``."""
        self._blocks: list[list[Piece]] = [[("\n", None)]]
        self._lens: list[int] = [1]
        self._length = 1
        # False only while no piece holds a surrogate; then no boundary can
        # split a pair and the checks are skipped.
        self._surrogates = False

    @classmethod
    def from_ops(cls, ops: Iterable[Op] | Delta) -> DocumentText:
        """Return the document for stored content ops.

        :raises InvalidDelta: if ``ops`` is not a document: only inserts,
            ending with text that ends in ``"\\n"``.
        """
        if isinstance(ops, Delta):
            ops = ops.ops
        pieces: list[Piece] = []
        surrogates = False
        last: Any = None
        for index, op in enumerate(ops):
            if type(op) is not dict or "insert" not in op:
                raise InvalidDelta(f"op {index}: a document holds only inserts")
            if set(op) - {"insert", "attributes"}:
                raise InvalidDelta(f"op {index}: a document holds only inserts")
            value = op["insert"]
            if type(value) is str:
                if not value:
                    continue
                surrogates = surrogates or _has_surrogates(value)
            elif type(value) is not dict:
                raise InvalidDelta(f"op {index}: insert is neither text nor an embed")
            attributes = op.get("attributes")
            if attributes is not None and type(attributes) is not dict:
                raise InvalidDelta(f"op {index}: attributes must be an object")
            new = _pieces_of(op)
            if pieces and len(new) == 1 and _mergeable(pieces[-1], new[0]):
                pieces[-1] = (pieces[-1][0] + new[0][0], pieces[-1][1])
            else:
                pieces.extend(new)
            last = value
        if type(last) is not str or not last.endswith("\n"):
            raise InvalidDelta("a document must end with a newline")
        doc = cls.__new__(cls)
        doc._blocks = [
            pieces[start : start + _BLOCK_TARGET] for start in range(0, len(pieces), _BLOCK_TARGET)
        ]
        doc._lens = [sum(len(content) for content, _ in block) for block in doc._blocks]
        doc._length = sum(doc._lens)
        doc._surrogates = surrogates
        return doc

    def copy(self) -> DocumentText:
        """Return an independent copy (pieces are immutable and shared)."""
        doc = DocumentText.__new__(DocumentText)
        doc._blocks = [list(block) for block in self._blocks]
        doc._lens = list(self._lens)
        doc._length = self._length
        doc._surrogates = self._surrogates
        return doc

    @property
    def length(self) -> int:
        """Return the length in UTF-16 code units (an embed counts 1)."""
        return self._length

    def __repr__(self) -> str:
        """Return a short description."""
        return f"<DocumentText length={self._length} blocks={len(self._blocks)}>"

    def __eq__(self, other: object) -> bool:
        """Return whether two documents have the same content."""
        if not isinstance(other, DocumentText):
            return NotImplemented
        return self._length == other._length and Delta._wrap(self.to_ops()) == Delta._wrap(
            other.to_ops()
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable (as a list)

    # Reading ---------------------------------------------------------------

    def _runs(self, start: int = 0, end: int | None = None) -> list[Op]:
        """Return the normalised insert ops covering ``[start, end)``."""
        stop = self._length if end is None else min(end, self._length)
        ops: list[Op] = []
        if start >= stop:
            return ops
        ends = list(accumulate(self._lens))
        block = bisect_right(ends, start)
        pos = ends[block - 1] if block else 0
        parts: list[str] = []
        run_attrs: Any = None

        def flush() -> None:
            """Emit the text run gathered so far as one op."""
            if parts:
                op: Op = {"insert": from_units("".join(parts))}
                if run_attrs:
                    op["attributes"] = dict(run_attrs)
                ops.append(op)
                parts.clear()

        while block < len(self._blocks) and pos < stop:
            for content, attributes in self._blocks[block]:
                length = len(content)
                if pos + length <= start:
                    pos += length
                    continue
                if pos >= stop:
                    break
                lo = max(start - pos, 0)
                hi = min(stop - pos, length)
                pos += length
                if type(content) is str:
                    piece = content if (lo == 0 and hi == length) else content[lo:hi]
                    if parts and not attrs_equal(run_attrs, attributes):
                        flush()
                    parts.append(piece)
                    run_attrs = attributes
                else:
                    flush()
                    op = {"insert": content[0]}
                    if attributes:
                        op["attributes"] = dict(attributes)
                    ops.append(op)
            block += 1
        flush()
        return ops

    def to_ops(self) -> list[Op]:
        """Return the document as normalised, JSON-ready insert ops.

        Equal to quill-delta's result of composing the same changes.
        """
        return self._runs()

    def to_delta(self) -> Delta:
        """Return the document as a :class:`Delta`."""
        return Delta._wrap(self._runs())

    def slice(self, start: int = 0, end: int | None = None) -> list[Op]:
        """Return the ops between two UTF-16 indexes (``Delta.slice``)."""
        return self._runs(start, end)

    def text(self) -> str:
        """Return the plain text, each embed as U+FFFC (so indexes agree)."""
        parts = []
        for block in self._blocks:
            for content, _ in block:
                parts.append(content if type(content) is str else _OBJECT_REPLACEMENT)
        return from_units("".join(parts))

    def _unit(self, ends: list[int], pos: int) -> str:
        """Return the code unit at ``pos`` ("" for an embed)."""
        block = bisect_right(ends, pos)
        acc = ends[block - 1] if block else 0
        for content, _ in self._blocks[block]:
            length = len(content)
            if pos < acc + length:
                return content[pos - acc] if type(content) is str else ""
            acc += length
        raise AssertionError("position outside its block")  # pragma: no cover

    def _splits_pair(self, ends: list[int], pos: int) -> bool:
        """Return whether index ``pos`` falls inside a surrogate pair."""
        if pos <= 0 or pos >= self._length:
            return False
        return "\udc00" <= self._unit(ends, pos) <= "\udfff" and (
            "\ud800" <= self._unit(ends, pos - 1) <= "\udbff"
        )

    # Changing --------------------------------------------------------------

    def check(
        self, change: Delta, *, max_length: int | None = None, max_runs: int | None = None
    ) -> None:
        """Refuse a change that this document cannot take, changing nothing.

        :raises InvalidDelta: if the change reaches past the end, places a
            boundary inside a surrogate pair, deletes the final newline or
            inserts after it.
        :raises DocumentTooLarge: if the result would be longer than
            ``max_length`` code units, or if its formatting retains and
            deletes would touch more than ``max_runs`` pieces (see
            :meth:`runs_touched`): the work of applying a change grows with
            the pieces it touches, not with its size on the wire.
        """
        length = self._length
        # Block end offsets, built only when a check needs them.
        ends = list(accumulate(self._lens)) if self._surrogates else []
        pos = 0
        new_length = length
        runs = 0
        for index, op in enumerate(change.ops):
            if "insert" in op:
                if pos >= length:
                    raise InvalidDelta(f"op {index}: inserts after the final newline")
                if self._surrogates and self._splits_pair(ends, pos):
                    raise InvalidDelta(f"op {index}: inserts inside a surrogate pair at {pos}")
                new_length += op_length(op)
                continue
            is_delete = "delete" in op
            count = op["delete"] if is_delete else op["retain"]
            end = pos + count
            if end > length:
                raise InvalidDelta(
                    f"op {index}: reaches index {end}, past the end of the "
                    f"document (length {length})"
                )
            if is_delete:
                if end == length:
                    raise InvalidDelta(f"op {index}: deletes the final newline")
                new_length -= count
            if self._surrogates and (self._splits_pair(ends, pos) or self._splits_pair(ends, end)):
                raise InvalidDelta(f"op {index}: a boundary splits a surrogate pair")
            if max_runs is not None and (is_delete or op.get("attributes")):
                if not ends:
                    ends = list(accumulate(self._lens))
                runs += self._pieces_between(ends, pos, end)
            pos = end
        if max_length is not None and new_length > max_length:
            raise DocumentTooLarge(
                f"the document would hold {new_length} code units, more than "
                f"the limit of {max_length}"
            )
        if max_runs is not None and runs > max_runs:
            raise DocumentTooLarge(
                f"the change would reformat or delete about {runs} formatting runs, "
                f"more than the limit of {max_runs} per change; split it"
            )

    def _pieces_between(self, ends: list[int], start: int, end: int) -> int:
        """Return an upper bound on the pieces overlapping ``[start, end)``.

        At most one piece per code unit, and at most the pieces of the
        blocks the range spans: O(log n + blocks spanned), no piece walked.
        """
        first = bisect_right(ends, start)
        last = bisect_right(ends, end - 1)
        blocks = self._blocks
        return min(end - start, sum(len(blocks[b]) for b in range(first, last + 1)))

    def runs_touched(self, change: Delta) -> int:
        """Return the bound :meth:`check` compares with ``max_runs``."""
        ends = list(accumulate(self._lens))
        pos = runs = 0
        for op in change.ops:
            if "insert" in op:
                continue
            count = op["delete"] if "delete" in op else op["retain"]
            if "delete" in op or op.get("attributes"):
                runs += self._pieces_between(ends, pos, min(pos + count, self._length))
            pos += count
        return runs

    def apply(self, change: Delta, *, max_length: int | None = None) -> None:
        """Apply a change in place, after checking all of it (see :meth:`check`).

        The result equals quill-delta's ``document.compose(change)``. The
        change's own strings are trusted to be well formed
        (:func:`realtime.ot.parse_change` checks them).
        """
        self.check(change, max_length=max_length)
        self.apply_checked(change)

    def apply_checked(self, change: Delta) -> None:
        """Apply a change that :meth:`check` accepted for this very content.

        For a caller that ran :meth:`check` itself (to refuse before any of
        its own state moves) or re-applies a change checked against an equal
        document. Nothing here raises for a checked change.
        """
        blocks = self._blocks
        lens = self._lens
        block = -1  # Cursor: the block holding ``pos`` and where it starts.
        start = 0
        pos = 0
        # Where the last format left off in ``hint_block`` (a list object:
        # a rebalance that replaces the block invalidates it). Formats move
        # forward, so a change of many small formats walks each block once.
        hint_block: list[Piece] | None = None
        hint = (0, 0)
        for op in change.ops:
            attributes = op.get("attributes")
            if "retain" in op and attributes is None:
                pos += op["retain"]
                continue
            # Move the block cursor to the block holding ``pos``.
            if block < 0:
                ends = list(accumulate(lens))
                block = bisect_right(ends, pos)
                start = ends[block - 1] if block else 0
            else:
                while pos >= start + lens[block]:
                    start += lens[block]
                    block += 1
            if "insert" in op:
                new = _pieces_of(op)
                count = op_length(op)
                if not self._surrogates and type(op["insert"]) is str:
                    self._surrogates = _has_surrogates(op["insert"])
                _insert(blocks[block], pos - start, new)
                lens[block] += count
                self._length += count
                pos += count
            else:
                count = op["delete"] if "delete" in op else op["retain"]
                # Gather the blocks the range spans into one.
                while pos + count > start + lens[block]:
                    blocks[block].extend(blocks.pop(block + 1))
                    lens[block] += lens.pop(block + 1)
                if "delete" in op:
                    _delete(blocks[block], pos - start, count)
                    lens[block] -= count
                    self._length -= count
                else:
                    pieces = blocks[block]
                    hint = _format(
                        pieces,
                        pos - start,
                        count,
                        op["attributes"],  # a plain retain was skipped above
                        lens[block],
                        hint if pieces is hint_block else (0, 0),
                    )
                    hint_block = pieces
                    pos += count
                    self._rebalance(block)
                    continue
            hint_block = None
            self._rebalance(block)

    def _rebalance(self, block: int) -> None:
        """Keep block ``block`` between the size bounds; its start is kept."""
        blocks = self._blocks
        pieces = blocks[block]
        if not pieces:
            del blocks[block]
            del self._lens[block]
            return
        if len(pieces) < _BLOCK_MIN and block + 1 < len(blocks):
            pieces.extend(blocks.pop(block + 1))
            self._lens[block] += self._lens.pop(block + 1)
        if len(pieces) > _BLOCK_MAX:
            parts = [
                pieces[first : first + _BLOCK_TARGET]
                for first in range(0, len(pieces), _BLOCK_TARGET)
            ]
            blocks[block : block + 1] = parts
            self._lens[block : block + 1] = [
                sum(len(content) for content, _ in part) for part in parts
            ]


def check_reach(change: Delta, length: int, *, rev: int | None = None) -> None:
    """Refuse a change that does not fit a document of ``length`` code units.

    What can be checked knowing only the length: a retain or delete reaching
    past the end, a delete of the final newline, an insert after it. The
    authority checks this at a change's base revision (protocol.md, "the
    base-revision rule"), where only the length is at hand.

    :raises InvalidDelta: naming the op and, when given, the revision.
    """
    at = f" at revision {rev}" if rev is not None else ""
    pos = 0
    for index, op in enumerate(change.ops):
        if "insert" in op:
            if pos >= length:
                raise InvalidDelta(f"op {index}: inserts after the final newline{at}")
            continue
        is_delete = "delete" in op
        end = pos + (op["delete"] if is_delete else op["retain"])
        if end > length:
            raise InvalidDelta(
                f"op {index}: reaches index {end}, past the end of the document{at} "
                f"(length {length})"
            )
        if is_delete and end == length:
            raise InvalidDelta(f"op {index}: deletes the final newline{at}")
        pos = end
