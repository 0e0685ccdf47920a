"""Parse untrusted JSON into a :class:`Delta`, or refuse it.

This is the single gate for changes that come from clients. It enforces the
shape rules of ``docs/protocol.md`` ("A valid change") and the content
schema of ``docs/schema.md`` (``schema.json``, through :mod:`.schema`); the
rules that need the document (reach, surrogate pairs, the final newline,
size) are checked by :meth:`realtime.ot.document.DocumentText.apply`,
atomically.

A valid change is a list, possibly empty, of ops, each holding exactly one of
``insert`` / ``retain`` / ``delete`` and nothing else but ``attributes``:

* ``insert``: a non-empty string, or an embed: an object with exactly one
  key, an embed type of the schema, whose value is a string the deployment's
  :class:`ContentPolicy` allows (an image's or video's source), or, for a
  marker (``divider``, ``pagebreak``), exactly ``true``;
* ``retain`` / ``delete``: a positive JSON integer (not ``1.0``, not
  ``true``) of at most 2^53 - 1; a retain of an object is not supported;
* ``attributes``: only on insert and retain; an object whose names are
  formats of the schema and whose values are of the format's kind, or
  ``null`` on a retain (to remove the attribute); ``{}`` means none;
  ``"attributes": null`` is refused; the review marks (``suggest-format``'s
  JSON object, ``comment``'s thread ids) are checked further by
  :func:`realtime.ot.review.value_problem`. A format's scope (inline, line, embed)
  is not enforced: a retain's scope depends on the document, and
  ``compose`` of two accepted changes must stay acceptable (a client
  composes its pending edits), so an insert may not be held to more;
* every string anywhere (text, attribute values, embed sources) is free of
  lone surrogates and U+0000.

Errors are :class:`InvalidDelta` whose message names the op (by index) and
the problem, e.g. ``"op 2: attribute 'color' must be #rrggbb, got 'red'"``.
"""

from __future__ import annotations

from typing import Any

from .delta import Delta, Op
from .exceptions import InvalidDelta
from .marks import value_problem
from .schema import (
    DEFAULT_POLICY,
    MAX_SAFE_INTEGER,
    ContentPolicy,
    Embed,
    describe,
    embed_problem,
    embeds,
    formats,
)
from .schema import string_problem as check_string  # the name callers know

__all__ = ["parse_change", "check_string"]

_ACTIONS = ("insert", "retain", "delete")
_KEYS = frozenset(("insert", "retain", "delete", "attributes"))


def _count(value: Any, action: str, where: str) -> int:
    """Return a retain or delete count, or refuse it."""
    if type(value) is int:
        if 0 < value <= MAX_SAFE_INTEGER:
            return value
        if value > 0:
            raise InvalidDelta(
                f"{where}: {action} must be at most {MAX_SAFE_INTEGER}, got {describe(value)}"
            )
        raise InvalidDelta(f"{where}: {action} must be a positive integer, got {describe(value)}")
    if action == "retain" and isinstance(value, dict):
        raise InvalidDelta(f"{where}: retain of an object (embed change) is not supported")
    raise InvalidDelta(f"{where}: {action} must be a positive integer, got {describe(value)}")


def _attributes(value: Any, action: str, where: str) -> dict[str, Any] | None:
    """Return checked attributes (None for ``{}``), or refuse them."""
    if action == "delete":
        raise InvalidDelta(f"{where}: attributes are not allowed on a delete")
    if type(value) is not dict:
        raise InvalidDelta(f"{where}: attributes must be an object, got {describe(value)}")
    for key, item in value.items():
        if type(key) is not str:
            raise InvalidDelta(f"{where}: attribute name {describe(key)} is not a string")
        spec = formats.get(key)
        if spec is None:
            raise InvalidDelta(f"{where}: unknown attribute {describe(key)}")
        if item is None:
            if action != "retain":
                raise InvalidDelta(f"{where}: attribute {key!r} is null on an insert")
            continue
        problem = spec.check(item) or value_problem(key, item)
        if problem:
            raise InvalidDelta(f"{where}: attribute {key!r} {problem}")
    return value or None


def _embed(value: dict[Any, Any], where: str, policy: ContentPolicy) -> Embed:
    """Return the schema's embed for an inserted embed object, or refuse it."""
    if len(value) != 1:
        raise InvalidDelta(f"{where}: an embed must have exactly one key, got {len(value)}")
    ((name, source),) = value.items()
    embed = embeds.get(name) if type(name) is str else None
    if embed is None:
        raise InvalidDelta(f"{where}: unknown embed type {describe(name)}")
    problem = embed_problem(embed, source, policy)
    if problem:
        raise InvalidDelta(f"{where}: embed {name!r} {problem}")
    return embed


def _parse_op(raw: Any, index: int, policy: ContentPolicy) -> Op:
    """Return a clean copy of op number ``index``, or refuse it."""
    where = f"op {index}"
    if type(raw) is not dict:
        raise InvalidDelta(f"{where}: must be an object, got {describe(raw)}")
    for key in raw:
        if key not in _KEYS:
            raise InvalidDelta(f"{where}: unknown key {describe(key)}")
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
            _embed(value, where, policy)
            op = {"insert": dict(value)}
        else:
            raise InvalidDelta(
                f"{where}: insert must be a string or an embed object, got {describe(value)}"
            )
    else:
        op = {action: _count(value, action, where)}
    if "attributes" in raw:
        attributes = _attributes(raw["attributes"], action, where)
        if attributes:
            op["attributes"] = attributes  # Delta() copies it
    return op


def parse_change(raw: object, policy: ContentPolicy = DEFAULT_POLICY) -> Delta:
    """Return the :class:`Delta` for an untrusted, JSON-decoded change.

    ``policy`` says where embeds may come from (``realtime.content_policy``
    builds the deployment's from settings).

    :raises InvalidDelta: naming the first offending op and its problem.
    """
    if type(raw) is not list:
        raise InvalidDelta(f"a change must be a list of ops, got {type(raw).__name__}")
    change = Delta([_parse_op(op, index, policy) for index, op in enumerate(raw)])
    # Each count is safe; their sum must be too, or quill-delta in the
    # browser (IEEE doubles) would merge or offset them inexactly. Only two
    # counts or more can add up past it, merged by Delta() or not: a
    # keystroke (one retain, one insert, nothing merged) skips the sum.
    ops = change.ops
    if (
        len(ops) != len(raw)
        or len(ops) > 2
        or (len(ops) == 2 and "insert" not in ops[0] and "insert" not in ops[1])
    ):
        reach = 0
        for op in ops:
            reach += op.get("retain", 0) + op.get("delete", 0)
        if reach > MAX_SAFE_INTEGER:
            raise InvalidDelta(
                f"the change's retains and deletes add up to more than {MAX_SAFE_INTEGER}"
            )
    return change
