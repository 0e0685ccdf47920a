"""The Delta value type, a port of npm ``quill-delta`` 5.1.0.

A delta is a list of ops, each a plain JSON-ready dict:

* ``{"insert": "text" | {embed}, "attributes"?: {...}}``
* ``{"retain": n, "attributes"?: {...}}``
* ``{"delete": n}``

Every algorithm here (``push`` normalisation, ``compose``, ``transform``,
``transform_position``, ``invert``, ``diff``, ``slice``, ``concat``) follows
quill-delta's ``Delta.js``, ``OpIterator.js`` and ``AttributeMap.js`` step for
step, so that the server computes exactly what the browser computes; the
differential tests in ``tests/realtime`` check it against the real package.

Lengths and indexes are UTF-16 code units (see :mod:`realtime.ot.utf16`); an
embed has length 1.

Invariants of a :class:`Delta` built by this module:

* its ops are normalised as quill-delta's ``push`` leaves them: no empty op,
  no ``attributes`` that is empty, adjacent mergeable ops merged, an insert
  never directly after a delete;
* op dicts (and their ``attributes`` dicts) are never mutated once they are
  in a delta, so deltas share them freely instead of deep-copying as
  quill-delta does. Treat ``Delta.ops`` as read-only; :meth:`Delta.to_json`
  returns a copy that is safe to change.

Differences from quill-delta, all outside valid input:

* a retain of an object (an embed change, which needs registered embed
  handlers in quill-delta) is not supported and raises :class:`InvalidDelta`;
* the constructor normalises its ops through ``push`` (quill-delta's
  constructor trusts them as given), and drops ``"attributes": {}`` and
  ``"attributes": None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, TypeAlias, cast

from . import attributes as attr_map
from . import fastdiff
from .attributes import Attributes, attrs_equal, js_equal
from .exceptions import InvalidDelta
from .utf16 import join, to_units, utf16_len, utf16_slice

__all__ = ["Delta", "Op", "op_length"]

#: One op, a JSON-ready dict (see the module docstring).
Op: TypeAlias = "dict[str, Any]"

#: Endless length: past the end an iterator yields an endless retain, as
#: quill-delta's ``Infinity``. Typed as an int because every length it meets
#: is one: it only ever takes part in comparisons and ``min``, and an op
#: carrying it is never sliced nor stored.
_INF: Final[int] = cast(int, float("inf"))
_NUL: Final = "\x00"  # Placeholder for an embed in diff(), as quill-delta.


def op_length(op: Op) -> int:
    """Return the length of one op in UTF-16 code units (``Op.length``)."""
    if "insert" in op:
        value = op["insert"]
        if type(value) is str:
            return len(value) if value.isascii() else utf16_len(value)
        return 1
    if "retain" in op:
        return op["retain"]  # type: ignore[no-any-return]  # validated ops: an int
    return op["delete"]  # type: ignore[no-any-return]  # validated ops: an int


class _OpIterator:
    """Walk a list of ops, handing out pieces of them (``OpIterator``).

    Invariant: ``0 <= offset < length`` of ``ops[index]`` (the op in hand),
    and ``cur_len`` caches that op's length (``inf`` past the end).
    """

    __slots__ = ("ops", "n", "index", "offset", "cur", "cur_len")

    def __init__(self, ops: list[Op]) -> None:
        """Start at the first op of ``ops``."""
        self.ops = ops
        self.n = len(ops)
        self.index = 0
        self.offset = 0
        if ops:
            self.cur: Op | None = ops[0]
            self.cur_len: int = op_length(ops[0])
        else:
            self.cur = None
            self.cur_len = _INF

    def seek(self, index: int) -> None:
        """Move to the start of ``ops[index]``."""
        self.index = index - 1
        self._advance()

    def peek_length(self) -> int:
        """Return what is left of the op in hand (``inf`` past the end)."""
        return self.cur_len - self.offset

    def peek_type(self) -> str:
        """Return "insert", "retain" or "delete"; "retain" past the end."""
        op = self.cur
        if op is None or "retain" in op:
            return "retain"
        if "insert" in op:
            return "insert"
        return "delete"

    def _advance(self) -> None:
        """Move to the start of the next op."""
        self.index += 1
        self.offset = 0
        if self.index < self.n:
            op = self.ops[self.index]
            self.cur = op
            self.cur_len = op_length(op)
        else:
            self.cur = None
            self.cur_len = _INF

    def next(self, length: int = _INF) -> Op:
        """Return the next ``length`` units of ops (all of the op in hand by
        default) as an op; past the end return an endless retain."""
        op = self.cur
        if op is None:
            return {"retain": _INF}
        offset = self.offset
        if length >= self.cur_len - offset:
            length = self.cur_len - offset
            self._advance()
            if offset == 0:
                return op  # The whole op: share it, it is never mutated.
        else:
            self.offset += length
        if "delete" in op:
            return {"delete": length}
        if "retain" in op:
            piece: Op = {"retain": length}
        else:
            text = op["insert"]
            piece = {"insert": _substr(text, offset, offset + length)}
        if "attributes" in op:
            piece["attributes"] = op["attributes"]
        return piece

    def rest(self) -> list[Op]:
        """Return the ops left, starting with what is left of the op in hand."""
        if self.cur is None:
            return []
        if self.offset == 0:
            return self.ops[self.index :]
        index, offset = self.index, self.offset
        cur, cur_len = self.cur, self.cur_len
        head = self.next()
        rest = [head, *self.ops[self.index :]]
        self.index, self.offset = index, offset
        self.cur, self.cur_len = cur, cur_len
        return rest


_INSERT: Final = 0
_RETAIN: Final = 1
_DELETE: Final = 2


def _kind_and_length(op: Op) -> tuple[int, int]:
    """Return an op's kind (``_INSERT``, ``_RETAIN``, ``_DELETE``) and length."""
    if "insert" in op:
        return _INSERT, op_length(op)
    if "retain" in op:
        return _RETAIN, op["retain"]
    return _DELETE, op["delete"]


def _substr(text: str, start: int, end: int) -> str:
    """Return ``text`` between two UTF-16 offsets."""
    if text.isascii():
        return text[start:end]
    return utf16_slice(text, start, end)


def _push(ops: list[Op], new: Op) -> None:
    """Append ``new`` to ``ops`` normalising as quill-delta's ``push``.

    ``new`` must already be well formed (non-empty, no empty attributes); it
    is stored as it is, not copied.
    """
    index = len(ops)
    if index:
        last = ops[-1]
        if "delete" in new:
            if "delete" in last:
                ops[-1] = {"delete": last["delete"] + new["delete"]}
                return
        elif "delete" in last and "insert" in new:
            # Inserting before or after a delete at one index is the same;
            # always insert first.
            index -= 1
            if index == 0:
                ops.insert(0, new)
                return
            last = ops[index - 1]
        new_attrs = new.get("attributes")
        if attrs_equal(new_attrs, last.get("attributes")):
            if "insert" in new:
                value = new["insert"]
                last_value = last.get("insert")
                if type(value) is str and type(last_value) is str:
                    merged: Op = {"insert": join(last_value, value)}
                    if new_attrs is not None:
                        merged["attributes"] = new_attrs
                    ops[index - 1] = merged
                    return
            elif "retain" in new and "retain" in last:
                merged = {"retain": last["retain"] + new["retain"]}
                if new_attrs is not None:
                    merged["attributes"] = new_attrs
                ops[index - 1] = merged
                return
    if index == len(ops):
        ops.append(new)
    else:
        ops.insert(index, new)


def _retain(ops: list[Op], length: int, attributes: Attributes = None) -> None:
    """Push a retain as quill-delta's ``retain()`` (nothing if empty)."""
    if length <= 0:
        return
    if attributes:
        _push(ops, {"retain": length, "attributes": attributes})
    else:
        _push(ops, {"retain": length})


def _chop(ops: list[Op]) -> list[Op]:
    """Drop a trailing plain retain, as quill-delta's ``chop()``."""
    if ops:
        last = ops[-1]
        if "retain" in last and "attributes" not in last:
            ops.pop()
    return ops


def _normalise_op(op: Any) -> Op | None:
    """Return a private, well formed copy of a trusted op, or ``None`` if empty."""
    if not isinstance(op, dict):
        raise InvalidDelta(f"op is not an object: {op!r}")
    attributes = op.get("attributes")
    if "delete" in op:
        length = op["delete"]
        if type(length) is not int:
            raise InvalidDelta(f"delete is not an integer: {op!r}")
        return {"delete": length} if length > 0 else None
    if "retain" in op:
        length = op["retain"]
        if type(length) is not int:
            raise InvalidDelta(f"retain of a non-integer is not supported: {op!r}")
        if length <= 0:
            return None
        new: Op = {"retain": length}
    elif "insert" in op:
        value = op["insert"]
        if type(value) is str:
            if not value:
                return None
        elif not isinstance(value, dict):
            raise InvalidDelta(f"insert is neither text nor an embed: {op!r}")
        new = {"insert": value}
    else:
        raise InvalidDelta(f"op has no insert, retain or delete: {op!r}")
    if attributes:
        if not isinstance(attributes, dict):
            raise InvalidDelta(f"attributes are not an object: {op!r}")
        new["attributes"] = dict(attributes)
    return new


class Delta:
    """A list of ops with quill-delta's algebra.

    ``Delta(ops)`` normalises ``ops`` as a sequence of quill-delta ``push``
    calls. The builder methods (:meth:`insert`, :meth:`retain`,
    :meth:`delete`, :meth:`push`) change the delta in place and return it,
    as in quill-delta; every other method returns a new delta.
    """

    __slots__ = ("ops",)

    ops: list[Op]

    def __init__(self, ops: Iterable[Op] | Delta | None = None) -> None:
        """Build a delta from trusted ops (see :func:`parse_change` for
        untrusted input)."""
        self.ops = []
        if ops is None:
            return
        if isinstance(ops, Delta):
            self.ops = list(ops.ops)
            return
        result = self.ops
        for op in ops:
            new = _normalise_op(op)
            if new is not None:
                _push(result, new)

    @classmethod
    def _wrap(cls, ops: list[Op]) -> Delta:
        """Return a delta holding ``ops`` as they are (already normalised)."""
        delta = cls.__new__(cls)
        delta.ops = ops
        return delta

    # Builders -------------------------------------------------------------

    def insert(self, value: str | dict[str, Any], attributes: Attributes = None) -> Delta:
        """Append an insert of text or an embed; return this delta."""
        if type(value) is str and not value:
            return self
        new: Op = {"insert": value}
        if attributes:
            new["attributes"] = dict(attributes)
        _push(self.ops, new)
        return self

    def retain(self, length: int, attributes: Attributes = None) -> Delta:
        """Append a retain; return this delta."""
        _retain(self.ops, length, dict(attributes) if attributes else None)
        return self

    def delete(self, length: int) -> Delta:
        """Append a delete; return this delta."""
        if length > 0:
            _push(self.ops, {"delete": length})
        return self

    def push(self, op: Op) -> Delta:
        """Append one op, merging it as quill-delta's ``push``; return this delta."""
        new = _normalise_op(op)
        if new is not None:
            _push(self.ops, new)
        return self

    def chop(self) -> Delta:
        """Drop a trailing retain without attributes; return this delta."""
        _chop(self.ops)
        return self

    # Values ---------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Return whether both deltas have equal ops (lodash ``isEqual``)."""
        if not isinstance(other, Delta):
            return NotImplemented
        return len(self.ops) == len(other.ops) and all(map(js_equal, self.ops, other.ops))

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable (as a list)

    def __repr__(self) -> str:
        """Return ``Delta([...ops...])``."""
        return f"Delta({self.ops!r})"

    def __iter__(self) -> Iterator[Op]:
        """Iterate over the ops."""
        return iter(self.ops)

    def __len__(self) -> int:
        """Return the number of ops (not the length, see :meth:`length`)."""
        return len(self.ops)

    def to_json(self) -> list[Op]:
        """Return the ops as a new JSON-ready list the caller may change."""
        out: list[Op] = []
        for op in self.ops:
            copy = dict(op)
            if "attributes" in op:
                copy["attributes"] = dict(op["attributes"])
            out.append(copy)
        return out

    def length(self) -> int:
        """Return the total length of all ops (``length()``)."""
        return sum(map(op_length, self.ops))

    def change_length(self) -> int:
        """Return how much this change alters a document's length."""
        total = 0
        for op in self.ops:
            if "insert" in op:
                total += op_length(op)
            elif "delete" in op:
                total -= op["delete"]
        return total

    def is_document(self) -> bool:
        """Return whether every op is an insert (a document, not a change)."""
        return all("insert" in op for op in self.ops)

    # Algebra --------------------------------------------------------------

    def slice(self, start: int = 0, end: int | None = None) -> Delta:
        """Return the ops between two indexes (``slice``)."""
        stop = _INF if end is None else end
        ops: list[Op] = []
        it = _OpIterator(self.ops)
        index = 0
        while index < stop and it.cur is not None:
            if index < start:
                next_op = it.next(start - index)
            else:
                next_op = it.next(stop - index)
                ops.append(next_op)
            index += op_length(next_op)
        return Delta._wrap(ops)

    def concat(self, other: Delta) -> Delta:
        """Return this delta followed by ``other`` (``concat``)."""
        ops = list(self.ops)
        if other.ops:
            _push(ops, other.ops[0])
            ops.extend(other.ops[1:])
        return Delta._wrap(ops)

    def compose(self, other: Delta) -> Delta:
        """Return the delta equivalent to this one followed by ``other``."""
        this_iter = _OpIterator(self.ops)
        other_iter = _OpIterator(other.ops)
        ops: list[Op] = []
        first_other = other_iter.cur
        if first_other is not None and "retain" in first_other and "attributes" not in first_other:
            # Leading plain retain: take whole leading inserts of this as
            # they are.
            first_left = first_other["retain"]
            this_ops = self.ops
            count = len(this_ops)
            index = 0
            while index < count:
                value = this_ops[index].get("insert")
                if value is None:
                    break
                if type(value) is str:
                    length = len(value) if value.isascii() else utf16_len(value)
                else:
                    length = 1
                if length > first_left:
                    break
                first_left -= length
                index += 1
            if index:
                ops = this_ops[:index]
                this_iter.seek(index)
            if first_other["retain"] - first_left > 0:
                other_iter.next(first_other["retain"] - first_left)
        while this_iter.cur is not None or other_iter.cur is not None:
            if other_iter.peek_type() == "insert":
                _push(ops, other_iter.next())
            elif this_iter.peek_type() == "delete":
                _push(ops, this_iter.next())
            else:
                length = min(this_iter.peek_length(), other_iter.peek_length())
                this_op = this_iter.next(length)
                other_op = other_iter.next(length)
                if "retain" in other_op:
                    this_retains = "retain" in this_op
                    if this_retains:
                        new_op: Op = {"retain": length}
                    else:
                        new_op = {"insert": this_op["insert"]}
                    # Keep null when composing onto a retain, drop it on an insert.
                    attributes = attr_map.compose(
                        this_op.get("attributes"),
                        other_op.get("attributes"),
                        this_retains,
                    )
                    if attributes:
                        new_op["attributes"] = attributes
                    _push(ops, new_op)
                    # The rest of other is a plain retain: the rest of this
                    # passes through unchanged.
                    if other_iter.cur is None and ops[-1] is new_op:
                        rest = this_iter.rest()
                        if rest:
                            _push(ops, rest[0])
                            ops.extend(rest[1:])
                        return Delta._wrap(_chop(ops))
                elif "retain" in this_op:
                    # other deletes what this retained (an insert of this
                    # that other deletes cancels out).
                    _push(ops, other_op)
        return Delta._wrap(_chop(ops))

    def transform(self, other: Delta, priority: bool = False) -> Delta:
        """Return ``other`` rewritten to apply after this concurrent delta.

        With ``priority`` this delta is taken to have happened first, so its
        inserts win ties (come first) and its attributes win conflicts.
        """
        # quill-delta's loop over two OpIterators, with the iterators
        # inlined for speed (this is the server's hot path). Each side keeps
        # the op in hand, its kind and how much of it is left; past the end
        # a side is an endless retain (op None, kind _RETAIN, left inf).
        # Inserts are only ever taken whole, so only retains and deletes are
        # consumed piecemeal and no text is ever sliced here.
        priority = bool(priority)
        a_ops = self.ops
        b_ops = other.ops
        a_count = len(a_ops)
        b_count = len(b_ops)
        a_index = b_index = 0
        a_op: Op | None = None
        b_op: Op | None = None
        a_kind = b_kind = _RETAIN
        a_left: int = _INF
        b_left: int = _INF
        if a_count:
            a_op = a_ops[0]
            a_kind, a_left = _kind_and_length(a_op)
        if b_count:
            b_op = b_ops[0]
            b_kind, b_left = _kind_and_length(b_op)
        ops: list[Op] = []
        while a_op is not None or b_op is not None:
            if a_kind == _INSERT and (priority or b_kind != _INSERT):
                # Their side retains our insert.
                _retain(ops, a_left)
                a_index += 1
                if a_index < a_count:
                    a_op = a_ops[a_index]
                    a_kind, a_left = _kind_and_length(a_op)
                else:
                    a_op, a_kind, a_left = None, _RETAIN, _INF
            elif b_kind == _INSERT:
                _push(ops, b_op)  # type: ignore[arg-type]  # an insert kind has an op
                b_index += 1
                if b_index < b_count:
                    b_op = b_ops[b_index]
                    b_kind, b_left = _kind_and_length(b_op)
                else:
                    b_op, b_kind, b_left = None, _RETAIN, _INF
            else:
                length = a_left if a_left < b_left else b_left
                a_delete = a_kind == _DELETE
                b_delete = b_kind == _DELETE
                a_attrs = None if a_op is None else a_op.get("attributes")
                b_attrs = None if b_op is None else b_op.get("attributes")
                a_left -= length
                if a_left == 0:
                    a_index += 1
                    if a_index < a_count:
                        a_op = a_ops[a_index]
                        a_kind, a_left = _kind_and_length(a_op)
                    else:
                        a_op, a_kind, a_left = None, _RETAIN, _INF
                b_left -= length
                if b_left == 0:
                    b_index += 1
                    if b_index < b_count:
                        b_op = b_ops[b_index]
                        b_kind, b_left = _kind_and_length(b_op)
                    else:
                        b_op, b_kind, b_left = None, _RETAIN, _INF
                if a_delete:
                    # Our delete makes theirs redundant or removes their retain.
                    continue
                if b_delete:
                    _push(ops, {"delete": length})
                else:
                    # Retain their retain (or our insert).
                    _retain(
                        ops,
                        length,
                        attr_map.transform(a_attrs, b_attrs, priority),
                    )
        return Delta._wrap(_chop(ops))

    def transform_position(self, index: int, priority: bool = False) -> int:
        """Return where ``index`` moves to once this delta is applied.

        An insert exactly at ``index`` pushes it right unless ``priority``.
        """
        offset = 0
        for op in self.ops:
            if offset > index:
                break
            length = op_length(op)
            if "delete" in op:
                index -= min(length, index - offset)
                continue
            if "insert" in op and (offset < index or not priority):
                index += length
            offset += length
        return index

    def invert(self, base: Delta) -> Delta:
        """Return the change that undoes this one applied to document ``base``."""
        ops: list[Op] = []
        base_iter = _OpIterator(base.ops)
        base_pos = 0  # Where base_iter stands: the base index of this op.
        base_index = 0
        for op in self.ops:
            if "insert" in op:
                length = op_length(op)
                if length > 0:
                    _push(ops, {"delete": length})
                continue
            attributes = op.get("attributes")
            if "retain" in op and attributes is None:
                _retain(ops, op["retain"])
                base_index += op["retain"]
                continue
            is_delete = "delete" in op
            length = op["delete"] if is_delete else op["retain"]
            # Equivalent to base.slice(base_index, base_index + length), as
            # base_index never decreases.
            while base_pos < base_index and base_iter.cur is not None:
                base_pos += op_length(base_iter.next(base_index - base_pos))
            end = base_index + length
            while base_pos < end and base_iter.cur is not None:
                base_op = base_iter.next(end - base_pos)
                piece = op_length(base_op)
                base_pos += piece
                if is_delete:
                    _push(ops, base_op)
                else:
                    inverse = attr_map.invert(attributes, base_op.get("attributes"))
                    _retain(ops, piece, inverse)
            base_index = end
        return Delta._wrap(_chop(ops))

    def diff(self, other: Delta) -> Delta:
        """Return a change turning document ``self`` into document ``other``.

        The text diff is fast-diff's (a port, embeds as one placeholder
        character), so the result is quill-delta's.
        """
        if self.ops is other.ops:
            return Delta()
        texts = []
        for delta, prep in ((self, "with"), (other, "on")):
            parts = []
            for op in delta.ops:
                if "insert" not in op:
                    raise ValueError(f"diff() called {prep} non-document")
                value = op["insert"]
                parts.append(value if type(value) is str else _NUL)
            texts.append(to_units("".join(parts)))
        ops: list[Op] = []
        this_iter = _OpIterator(self.ops)
        other_iter = _OpIterator(other.ops)
        for kind, text in fastdiff.diff(texts[0], texts[1]):
            length = len(text)
            while length > 0:
                if kind == fastdiff.DIFF_INSERT:
                    op_len = min(other_iter.peek_length(), length)
                    _push(ops, other_iter.next(op_len))
                elif kind == fastdiff.DIFF_DELETE:
                    op_len = min(length, this_iter.peek_length())
                    this_iter.next(op_len)
                    _push(ops, {"delete": op_len})
                else:
                    op_len = min(this_iter.peek_length(), other_iter.peek_length(), length)
                    this_op = this_iter.next(op_len)
                    other_op = other_iter.next(op_len)
                    if js_equal(this_op["insert"], other_op["insert"]):
                        _retain(
                            ops,
                            op_len,
                            attr_map.diff(this_op.get("attributes"), other_op.get("attributes")),
                        )
                    else:
                        _push(ops, other_op)
                        _push(ops, {"delete": op_len})
                length -= op_len
        return Delta._wrap(_chop(ops))
