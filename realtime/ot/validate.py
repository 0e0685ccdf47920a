"""Parse untrusted JSON into a :class:`Delta`, or refuse it.

This is the single gate for changes that come from clients. It enforces the
shape rules of ``docs/protocol.md`` ("A valid change"); the rules that need
the document (reach, surrogate pairs, the final newline, size) are checked by
:meth:`realtime.ot.document.DocumentText.apply`, atomically.

A valid change is a list, possibly empty, of ops, each holding exactly one of
``insert`` / ``retain`` / ``delete`` and nothing else but ``attributes``:

* ``insert``: a non-empty string, or an embed (an object with exactly one
  key, whose value is any JSON value);
* ``retain`` / ``delete``: a positive JSON integer (not ``1.0``, not
  ``true``); a retain of an object is not supported;
* ``attributes``: only on insert and retain; an object whose values are
  strings, numbers or booleans, or ``null`` on a retain (to remove the
  attribute); ``{}`` means none; ``"attributes": null`` is refused;
* every string anywhere (text, attribute names and values, embed keys and
  values) is free of lone surrogates and U+0000, and every number is finite.

Errors are :class:`InvalidDelta` whose message names the op (by index) and
the problem, e.g. ``"op 2: delete must be a positive integer, got 1.0"``.
"""
from __future__ import annotations

import math
import re
from typing import Any

from .delta import Delta, Op
from .exceptions import InvalidDelta

__all__ = ["parse_change", "check_string"]

_ACTIONS = ("insert", "retain", "delete")
_KEYS = frozenset(("insert", "retain", "delete", "attributes"))
# Any surrogate code point: a Python str from a JSON decoder holds a valid
# pair as one astral code point, so a surrogate here is a lone one.
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def check_string(text: str) -> str | None:
    """Return what is wrong with a string (U+0000, a lone surrogate) or None."""
    if text.isascii():
        return "contains U+0000" if "\x00" in text else None
    match = _BAD_CHAR.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains U+0000"
    return f"contains a lone surrogate U+{ord(match.group()):04X}"


def _describe(value: Any) -> str:
    """Return a short, safe rendering of an offending value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_number(value: float) -> str | None:
    """Return what is wrong with a number (not finite) or None."""
    if type(value) is float and not math.isfinite(value):
        return f"number {value!r} is not finite"
    return None


def _check_json(value: Any, where: str) -> None:
    """Refuse anything in an embed value that is not clean JSON."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            problem = check_string(item)
        elif kind is bool or item is None:
            problem = None
        elif kind is int or kind is float:
            problem = _check_number(item)
        elif kind is list:
            stack.extend(item)
            problem = None
        elif kind is dict:
            problem = None
            for key, child in item.items():
                if type(key) is not str:
                    problem = f"key {_describe(key)} is not a string"
                    break
                key_problem = check_string(key)
                if key_problem:
                    problem = f"key {_describe(key)} {key_problem}"
                    break
                stack.append(child)
        else:
            problem = f"{kind.__name__} is not a JSON value"
        if problem:
            raise InvalidDelta(f"{where}: {problem}")


def _count(value: Any, action: str, where: str) -> int:
    """Return a retain or delete count, or refuse it."""
    if type(value) is int:
        if value > 0:
            return value
        raise InvalidDelta(f"{where}: {action} must be a positive integer, got {value}")
    if action == "retain" and isinstance(value, dict):
        raise InvalidDelta(
            f"{where}: retain of an object (embed change) is not supported"
        )
    raise InvalidDelta(
        f"{where}: {action} must be a positive integer, got {_describe(value)}"
    )


def _attributes(value: Any, action: str, where: str) -> dict[str, Any] | None:
    """Return checked attributes (None for ``{}``), or refuse them."""
    if action == "delete":
        raise InvalidDelta(f"{where}: attributes are not allowed on a delete")
    if not isinstance(value, dict) or type(value) is not dict:
        raise InvalidDelta(
            f"{where}: attributes must be an object, got {_describe(value)}"
        )
    for key, item in value.items():
        if type(key) is not str:
            raise InvalidDelta(
                f"{where}: attribute name {_describe(key)} is not a string"
            )
        problem = check_string(key)
        if problem:
            raise InvalidDelta(f"{where}: attribute name {_describe(key)} {problem}")
        kind = type(item)
        if kind is str:
            problem = check_string(item)
        elif kind is bool:
            problem = None
        elif kind is int or kind is float:
            problem = _check_number(item)
        elif item is None:
            problem = None if action == "retain" else "is null on an insert"
        else:
            problem = "must be a string, number, boolean or null"
        if problem:
            raise InvalidDelta(f"{where}: attribute {key!r} {problem}")
    return value or None


def _parse_op(raw: Any, index: int) -> Op:
    """Return a clean copy of op number ``index``, or refuse it."""
    where = f"op {index}"
    if type(raw) is not dict:
        raise InvalidDelta(f"{where}: must be an object, got {_describe(raw)}")
    for key in raw:
        if key not in _KEYS:
            raise InvalidDelta(f"{where}: unknown key {_describe(key)}")
    actions = [name for name in _ACTIONS if name in raw]
    if not actions:
        raise InvalidDelta(f"{where}: needs one of insert, retain or delete")
    if len(actions) > 1:
        raise InvalidDelta(f"{where}: has more than one action ({', '.join(actions)})")
    action = actions[0]
    value = raw[action]
    op: Op
    if action == "insert":
        if type(value) is str:
            if not value:
                raise InvalidDelta(f"{where}: insert of an empty string")
            problem = check_string(value)
            if problem:
                raise InvalidDelta(f"{where}: inserted text {problem}")
            op = {"insert": value}
        elif type(value) is dict:
            if len(value) != 1:
                raise InvalidDelta(
                    f"{where}: an embed must have exactly one key, got {len(value)}"
                )
            _check_json(value, f"{where}: embed")
            op = {"insert": value}
        else:
            raise InvalidDelta(
                f"{where}: insert must be a string or an embed object, got "
                f"{_describe(value)}"
            )
    else:
        op = {action: _count(value, action, where)}
    if "attributes" in raw:
        attributes = _attributes(raw["attributes"], action, where)
        if attributes:
            op["attributes"] = attributes
    return op


def parse_change(raw: object) -> Delta:
    """Return the :class:`Delta` for an untrusted, JSON-decoded change.

    :raises InvalidDelta: naming the first offending op and its problem.
    """
    if type(raw) is not list:
        raise InvalidDelta(f"a change must be a list of ops, got {type(raw).__name__}")
    return Delta([_parse_op(op, index) for index, op in enumerate(raw)])
