"""Attribute maps as quill-delta's ``AttributeMap`` treats them.

An attribute map is a ``dict`` from attribute name to a JSON value, or
``None`` for "no attributes" (quill-delta's ``undefined``). A key that is
absent is ``undefined`` in JavaScript; a key whose value is ``None`` is
``null``, which on a retain means "remove this attribute".

Maps are never mutated once built: every function returns a new dict (or one
of its arguments unchanged, exactly where quill-delta returns its argument),
so ops may share them freely.

Equality follows lodash ``isEqual`` (used by quill-delta), which differs from
Python ``==`` in one way that matters: ``true`` is not ``1``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

__all__ = [
    "Attributes",
    "compose",
    "diff",
    "invert",
    "js_equal",
    "attrs_equal",
    "transform",
]

#: An attribute map; ``None`` stands for quill-delta's ``undefined``.
Attributes: TypeAlias = "dict[str, Any] | None"

_MISSING: Any = object()


def js_equal(a: Any, b: Any) -> bool:
    """Return whether two JSON values are equal as lodash ``isEqual`` says.

    Booleans never equal numbers, ``1`` equals ``1.0`` (one JavaScript
    number), and containers compare deeply.
    """
    if a is b:
        return True
    ta = type(a)
    tb = type(b)
    if ta is str or tb is str:
        return ta is tb and a == b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is dict:
        if tb is not dict or len(a) != len(b):
            return False
        for key, value in a.items():
            other = b.get(key, _MISSING)
            if other is _MISSING or not js_equal(value, other):
                return False
        return True
    if ta is list:
        if tb is not list or len(a) != len(b):
            return False
        return all(map(js_equal, a, b))
    if a is None or b is None or tb is dict or tb is list:
        return False
    return bool(a == b)


def attrs_equal(a: Attributes, b: Attributes) -> bool:
    """Return whether two attribute maps are ``isEqual`` (``None`` too)."""
    if a is b:
        return True
    if a is None or b is None or len(a) != len(b):
        return False
    for key, value in a.items():
        other = b.get(key, _MISSING)
        if value is other:
            continue
        if type(value) is str:
            if type(other) is not str or value != other:
                return False
        elif other is _MISSING or not js_equal(value, other):
            return False
    return True


def _strict_equal(a: Any, b: Any) -> bool:
    """Return ``a === b`` for values taken from two different ops.

    quill-delta deep-clones every op it stores, so two container values from
    different ops are never the same object and ``===`` is false for them.
    """
    ta = type(a)
    if ta is dict or ta is list or type(b) is dict or type(b) is list:
        return False
    if ta is bool or type(b) is bool:
        return ta is type(b) and a == b
    if ta is str or type(b) is str:
        return ta is type(b) and a == b
    if a is None or b is None:
        return a is b
    return bool(a == b)


def compose(a: Attributes, b: Attributes, keep_null: bool = False) -> Attributes:
    """Return ``b`` applied over ``a`` (``AttributeMap.compose``).

    ``null`` values of ``b`` survive only when ``keep_null`` (composing onto
    a retain); keys of ``a`` that ``b`` does not mention are kept as they are,
    nulls included.
    """
    if b:
        result = dict(b) if keep_null else {k: v for k, v in b.items() if v is not None}
        if a:
            for key, value in a.items():
                if key not in b:
                    result[key] = value
    elif a:
        result = dict(a)
    else:
        return None
    return result or None


def diff(a: Attributes, b: Attributes) -> Attributes:
    """Return the map that turns ``a`` into ``b`` (``AttributeMap.diff``)."""
    a = a or {}
    b = b or {}
    result: dict[str, Any] = {}
    for key in (*a, *b):
        if not js_equal(a.get(key, _MISSING), b.get(key, _MISSING)):
            result[key] = b.get(key)  # absent in b: null removes it
    return result or None


def invert(attr: Attributes, base: Attributes) -> dict[str, Any]:
    """Return the map that undoes ``attr`` over ``base`` (``AttributeMap.invert``).

    The result may be empty (never ``None``), as in quill-delta.
    """
    attr = attr or {}
    base = base or {}
    result: dict[str, Any] = {}
    for key, value in base.items():
        if key in attr and not _strict_equal(value, attr[key]):
            result[key] = value
    for key in attr:
        if key not in base:
            result[key] = None
    return result


def transform(a: Attributes, b: Attributes, priority: bool = False) -> Attributes:
    """Return ``b`` transformed against concurrent ``a`` (``AttributeMap.transform``).

    With ``priority`` ``a`` happened first and its keys win; without it ``b``
    simply overwrites.
    """
    if a is None:
        return b
    if b is None:
        return None
    if not priority:
        return b
    result = {k: v for k, v in b.items() if k not in a}
    return result or None
