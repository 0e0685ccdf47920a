"""Authorship runs: who wrote each character of a document.

Authorship is metadata kept beside the content, never formatting inside it.
It is a list of *runs* ``[(length, author), ...]``: ``length`` in Quill units
(UTF-16 code units, an embed counts 1), ``author`` a user id or ``None`` for
"unknown" (text written before authorship was kept). Runs cover the whole
content, the final newline included.

Invariants of every value this module returns (and :func:`from_json`
enforces on input):

* no run has a length below 1;
* two adjacent runs never have the same author (they are merged);
* the lengths sum to the content's length.

:func:`apply` follows a change the way the content follows it: a retain keeps
its characters' authors (a format change does not make anyone the author of
text), a delete drops them, an insert belongs to the change's author, or to
the authors an ``attribution`` names (a restore puts back text with its
original authors). Authorship derived by applying every op in order equals
authorship maintained op by op; the tests check it against a per-character
model.

Pure: standard library only, no I/O. The browser twin is
``static/src/editor/authorship/runs.js``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate, chain
from typing import Any, TypeAlias

__all__ = [
    "Author",
    "Runs",
    "apply",
    "from_json",
    "initial",
    "inserted_runs",
    "length",
    "shares",
    "slice_runs",
    "to_json",
]

#: A user id, or ``None`` for "unknown".
Author: TypeAlias = "int | None"
#: Authorship runs (see the module docstring).
Runs: TypeAlias = "list[tuple[int, int | None]]"


def _op_length(op: Mapping[str, Any]) -> int:
    """Return an op's length in Quill units (as ``delta.op_length``)."""
    if "insert" in op:
        value = op["insert"]
        if type(value) is str:
            if value.isascii():
                return len(value)
            return len(value.encode("utf-16-le", "surrogatepass")) >> 1
        return 1
    if "retain" in op:
        value = op["retain"]
    elif "delete" in op:
        value = op["delete"]
    else:
        raise ValueError(f"not an op: {op!r}")
    if type(value) is not int or value < 1:
        raise ValueError(f"bad op length: {op!r}")
    return value


def _push(out: Runs, count: int, author: Author) -> None:
    """Append ``count`` characters by ``author``, merging with the last run."""
    if count <= 0:
        return
    if out and out[-1][1] == author:
        out[-1] = (out[-1][0] + count, author)
    else:
        out.append((count, author))


def initial(size: int, author: Author = None) -> Runs:
    """Return the runs of ``size`` characters all written by ``author``."""
    if size < 0:
        raise ValueError("a length cannot be negative")
    return [(size, author)] if size else []


def length(runs: Sequence[tuple[int, Author]]) -> int:
    """Return how many characters ``runs`` cover."""
    return sum(run[0] for run in runs)


def shares(runs: Iterable[tuple[int, Author]]) -> dict[int | None, int]:
    """Return how many characters each author wrote."""
    counts: dict[int | None, int] = {}
    for count, author in runs:
        counts[author] = counts.get(author, 0) + count
    return counts


def slice_runs(runs: Sequence[tuple[int, Author]], start: int, end: int) -> Runs:
    """Return the runs of characters ``start`` (included) to ``end`` (excluded).

    Positions past the end are clamped, as ``Delta.slice``.
    """
    out: Runs = []
    if end <= start:
        return out
    pos = 0
    for count, author in runs:
        run_end = pos + count
        if run_end > start:
            lo = max(start, pos)
            hi = min(end, run_end)
            if hi > lo:
                _push(out, hi - lo, author)
        pos = run_end
        if pos >= end:
            break
    return out


class _Cursor:
    """Hand out pieces of a list of runs from the front, in order."""

    __slots__ = ("runs", "index", "offset", "n")

    def __init__(self, runs: Sequence[tuple[int, Author]]) -> None:
        self.runs = runs
        self.index = 0
        self.offset = 0  # characters of runs[index] already handed out
        self.n = len(runs)

    def take(self, count: int, out: Runs | None, what: str) -> None:
        """Move ``count`` characters on, copying their runs into ``out``.

        Whole runs are copied with one slice: the runs handed in are merged
        (every value of this module is), so only the first can merge with
        what ``out`` ends with.
        """
        if count <= 0:
            return
        runs, n = self.runs, self.n
        index = self.index
        if self.offset:  # finish the run handed out in part
            if index >= n:
                raise ValueError(f"the change {what} past the end of the content")
            size, author = runs[index]
            left = size - self.offset
            if left > count:
                if out is not None:
                    _push(out, count, author)
                self.offset += count
                return
            if out is not None:
                _push(out, left, author)
            count -= left
            index += 1
            self.offset = 0
        start = index
        while index < n:
            size = runs[index][0]
            if size > count:
                break
            count -= size
            index += 1
        if out is not None and index > start:
            first = runs[start]
            if out and out[-1][1] == first[1]:
                out[-1] = (out[-1][0] + first[0], first[1])
                out.extend(runs[start + 1 : index])
            else:
                out.extend(runs[start:index])
        self.index = index
        if count > 0:
            if index >= n:
                raise ValueError(f"the change {what} past the end of the content")
            if out is not None:
                _push(out, count, runs[index][1])
            self.offset = count

    def rest(self, out: Runs) -> None:
        """Copy every character not yet handed out into ``out``."""
        if self.index >= self.n:
            return
        size, author = self.runs[self.index]
        _push(out, size - self.offset, author)
        out.extend(self.runs[self.index + 1 :])


def apply(
    runs: Sequence[tuple[int, Author]],
    delta: Iterable[Mapping[str, Any]],
    author: Author,
    attribution: Sequence[tuple[int, Author]] | None = None,
) -> Runs:
    """Return the runs after ``delta`` (a change by ``author``) is applied.

    ``attribution``, when given, are runs over the change's inserted
    characters in order, naming who wrote them instead of ``author``.

    :raises ValueError: the change reaches past the content's end, or the
        attribution does not cover exactly the inserted characters.
    """
    out: Runs = []
    cursor = _Cursor(runs)
    source = _Cursor(attribution) if attribution is not None else None
    for op in delta:
        count = _op_length(op)
        if "insert" in op:
            if source is None:
                _push(out, count, author)
            else:
                source.take(count, out, "attribution ends before its inserts")
        elif "retain" in op:
            cursor.take(count, out, "retains")
        else:
            cursor.take(count, None, "deletes")
    if source is not None and source.index < source.n:
        raise ValueError("the attribution covers more than the change inserts")
    cursor.rest(out)
    return out


def inserted_runs(
    delta: Iterable[Mapping[str, Any]], new_runs: Sequence[tuple[int, Author]]
) -> Runs:
    """Return the runs of the characters ``delta`` inserts, read from its result.

    ``new_runs`` is the authorship of the content the change produces (for a
    restore: the restored version's). The result is the ``attribution`` that
    makes :func:`apply` give those authors to the inserted text.

    :raises ValueError: the change reaches past the end of ``new_runs``.
    """
    out: Runs = []
    cursor = _Cursor(new_runs)
    for op in delta:
        count = _op_length(op)
        if "insert" in op:
            cursor.take(count, out, "inserts")
        elif "retain" in op:
            cursor.take(count, None, "retains")
    return out


def to_json(runs: Iterable[tuple[int, Author]]) -> list[list[int | None]]:
    """Return ``runs`` as JSON-ready lists ``[[length, author], ...]``."""
    return [[count, author] for count, author in runs]


def from_json(value: object) -> Runs:
    """Return the runs stored as ``value`` (see :func:`to_json`), validated.

    Adjacent runs of one author are merged.

    :raises ValueError: ``value`` is not a list of ``[length >= 1, user id
        or null]`` pairs.
    """
    if not isinstance(value, list):
        raise ValueError("authorship runs must be a list")
    out: Runs = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"an authorship run must be [length, author]: {item!r}")
        count, author = item
        if type(count) is not int or count < 1:
            raise ValueError(f"an authorship run's length must be a positive integer: {item!r}")
        if author is not None and (type(author) is not int or author < 0):
            raise ValueError(f"an authorship run's author must be a user id or null: {item!r}")
        _push(out, count, author)
    return out


#: Most runs one chunk of a :class:`Tracker` holds.
CHUNK_RUNS = 128


class Tracker:
    """Runs that move with many changes, each in time independent of the total.

    :func:`apply` copies the whole list per change; for a document with tens
    of thousands of runs (the authority, a load replaying 100k ops) that is
    the cost of the document per keystroke. A tracker holds the runs in
    chunks of at most :data:`CHUNK_RUNS` with each chunk's length, finds the
    chunks a change reaches by bisecting the chunks' cumulative lengths, applies the change
    to those chunks alone (with :func:`apply`, so the semantics are the
    same) and splices them back. Per change: O(runs it reaches) Python
    work plus O(chunks) at C speed (the cumulative lengths).

    Invariant: :meth:`runs` is always what :func:`apply` of the same changes
    would give (merged, no empty run); a change that raises leaves the
    tracker as it was.
    """

    __slots__ = ("_chunks", "_sizes", "_length")

    def __init__(self, runs: Sequence[tuple[int, Author]] = ()) -> None:
        self._chunks: list[Runs] = []
        self._sizes: list[int] = []
        self._length = 0
        self._set(list(runs))

    def reset(self, runs: Sequence[tuple[int, Author]]) -> None:
        """Hold ``runs`` instead (validated by the caller)."""
        self._set(list(runs))

    def _set(self, runs: Runs) -> None:
        self._chunks = [runs[i : i + CHUNK_RUNS] for i in range(0, len(runs), CHUNK_RUNS)]
        self._sizes = [sum(run[0] for run in chunk) for chunk in self._chunks]
        self._length = sum(self._sizes)

    @property
    def length(self) -> int:
        """Return how many characters the runs cover."""
        return self._length

    def runs(self) -> Runs:
        """Return the runs as one list (a copy)."""
        return [run for chunk in self._chunks for run in chunk]

    def _chunk_at(self, ends: list[int], position: int) -> tuple[int, int]:
        """Return ``(chunk index, its start)`` of the chunk holding ``position``.

        ``ends`` are the chunks' cumulative ends. The last chunk for the end
        position; ``(0, 0)`` when empty.
        """
        index = min(bisect_right(ends, position), len(ends) - 1)
        return index, ends[index] - self._sizes[index] if ends else 0

    def apply(
        self,
        delta: Iterable[Mapping[str, Any]],
        author: Author,
        attribution: Sequence[tuple[int, Author]] | None = None,
    ) -> None:
        """Apply a change as :func:`apply` does (same arguments, same errors)."""
        ops = delta if isinstance(delta, list) else list(delta)
        if attribution is None and self._chunks and len(ops) <= 2 and self._fast(ops, author):
            return
        lead = 0
        if ops and "retain" in ops[0]:  # formatted or not: it keeps authors
            lead = _op_length(ops[0])
            ops = ops[1:]
        reach = grown = 0
        for op in ops:
            size = _op_length(op)
            if "insert" in op:
                grown += size
            else:
                reach += size
                if "delete" in op:
                    grown -= size
        if not self._chunks:
            self._set(apply([], [{"retain": lead}, *ops] if lead else ops, author, attribution))
            return
        ends = list(accumulate(self._sizes))  # C speed: the scan is the cost
        first, first_start = self._chunk_at(ends, lead)
        last, _ = self._chunk_at(ends, lead + reach)
        local: Runs = list(chain.from_iterable(self._chunks[first : last + 1]))
        offset = lead - first_start
        changed = apply(local, ([{"retain": offset}] if offset else []) + ops, author, attribution)
        # Merge with the neighbours when the edges now share an author, and
        # fold a chunk that became small into its left neighbour (chunks stay
        # between a quarter of and the whole CHUNK_RUNS, so there are few).
        lo, hi = first, last + 1
        chunks = self._chunks
        if lo > 0 and (
            len(changed) < CHUNK_RUNS // 4 or (changed and chunks[lo - 1][-1][1] == changed[0][1])
        ):
            lo -= 1
            changed = _join(chunks[lo], changed)
        if hi < len(chunks) and (
            len(changed) < CHUNK_RUNS // 4 or (changed and chunks[hi][0][1] == changed[-1][1])
        ):
            changed = _join(changed, chunks[hi])
            hi += 1
        count = -(-len(changed) // CHUNK_RUNS)  # pieces of equal size, each <= CHUNK_RUNS
        step = -(-len(changed) // count) if count else 0
        pieces = [changed[i : i + step] for i in range(0, len(changed), step)] if step else []
        before = sum(self._sizes[lo:hi])
        if len(pieces) == 1:  # the common case: no need to add up its runs
            sizes = [before + grown]
        else:
            sizes = [sum(run[0] for run in piece) for piece in pieces]
        self._length += grown
        chunks[lo:hi] = pieces
        self._sizes[lo:hi] = sizes

    def _fast(self, ops: list[Any], author: Author) -> bool:
        """Apply a keystroke in place, if ``ops`` is one; return whether it was.

        A keystroke: ``[retain n?, insert]`` or ``[retain n?, delete k]``
        inside one chunk, touching no chunk edge, or retains alone (a format
        change keeps authors). Anything else (and a malformed change: the
        general path raises its errors) returns False untouched. The result
        is what :func:`apply` gives: runs stay merged, none empty.
        """
        lead = 0
        last = ops[-1] if ops else None
        if len(ops) == 2:
            first = ops[0]
            if "retain" not in first:
                return False
            lead = first["retain"]
            if type(lead) is not int or lead <= 0:
                return False
        if last is None or "retain" in last:
            # Retains alone (or nothing): authors unchanged, if within reach.
            reach = sum(op.get("retain", -1) for op in ops)
            return all(type(op.get("retain")) is int for op in ops) and 0 <= reach <= self._length
        sizes = self._sizes
        ends = list(accumulate(sizes))
        index = bisect_right(ends, lead)
        if index >= len(ends):
            return False  # at or past the end: the general path (and its checks)
        chunk = self._chunks[index]
        offset = lead - (ends[index] - sizes[index])
        if offset == 0:
            return False  # a chunk's first edge: neighbours may merge
        if "insert" in last:
            size = _op_length(last)
            found = _run_at(chunk, offset)
            if found is None:
                return False
            i, at = found
            length, who = chunk[i]
            if offset > at:  # inside run i
                if who == author:
                    chunk[i] = (length + size, who)
                elif len(chunk) + 2 > CHUNK_RUNS:
                    return False
                else:
                    chunk[i : i + 1] = [
                        (offset - at, who),
                        (size, author),
                        (at + length - offset, who),
                    ]
            else:  # between runs i - 1 and i (i > 0: offset > 0)
                before = chunk[i - 1]
                if before[1] == author:
                    chunk[i - 1] = (before[0] + size, author)
                elif who == author:
                    chunk[i] = (length + size, who)
                elif len(chunk) + 1 > CHUNK_RUNS:
                    return False
                else:
                    chunk.insert(i, (size, author))
            sizes[index] += size
            self._length += size
            return True
        if "delete" in last:
            size = last["delete"]
            if type(size) is not int or size <= 0:
                return False
            found = _run_at(chunk, offset)
            if found is None:
                return False
            i, at = found
            length, who = chunk[i]
            if offset + size > at + length:
                return False  # reaches past one run
            if size < length:
                chunk[i] = (length - size, who)
            elif 0 < i < len(chunk) - 1 and len(chunk) - 2 >= CHUNK_RUNS // 4:
                # The run goes; its neighbours join when they share an author.
                left, right = chunk[i - 1], chunk[i + 1]
                if left[1] == right[1]:
                    chunk[i - 1 : i + 2] = [(left[0] + right[0], left[1])]
                else:
                    del chunk[i]
            else:
                return False  # a chunk edge or a chunk growing small
            sizes[index] -= size
            self._length -= size
            return True
        return False


def _run_at(chunk: Runs, offset: int) -> tuple[int, int] | None:
    """Return ``(index, start)`` of the run of ``chunk`` holding ``offset``, or None."""
    at = 0
    for index, run in enumerate(chunk):
        if offset < at + run[0]:
            return index, at
        at += run[0]
    return None


def _join(left: Runs, right: Runs) -> Runs:
    """Return merged runs ``left`` then merged runs ``right``, merged."""
    if left and right and left[-1][1] == right[0][1]:
        return [*left[:-1], (left[-1][0] + right[0][0], right[0][1]), *right[1:]]
    return left + right
