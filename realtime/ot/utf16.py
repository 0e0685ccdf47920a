"""UTF-16 code unit arithmetic on Python strings.

JavaScript strings, and therefore quill-delta, measure and index text in
UTF-16 code units: a character outside the Basic Multilingual Plane ("astral",
e.g. most emoji) counts as two. Python strings count code points. This module
bridges the two without per-character Python loops.

Canonical form: every ``str`` handled by the OT core holds astral characters
as single code points. A string may still contain a *lone* surrogate code
point, but only where quill-delta itself would have split a surrogate pair
(never for valid changes, see :mod:`realtime.ot.validate`); when two halves
meet again they are recombined (:func:`join`), so equal JavaScript strings are
equal Python strings.

The "code-unit form" of a string (:func:`to_units`) spells every astral
character as two surrogate code points, so that Python indexing equals
JavaScript indexing. :func:`from_units` is its inverse.
"""

from __future__ import annotations

import re

__all__ = [
    "from_units",
    "join",
    "to_units",
    "utf16_len",
    "utf16_slice",
]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as JavaScript."""
    if text.isascii():  # O(1) in CPython
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) >> 1


def _split_pair(match: re.Match[str]) -> str:
    """Return the surrogate pair spelling the matched astral character."""
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def to_units(text: str) -> str:
    """Return ``text`` with every astral character spelled as two surrogates.

    In the result ``len`` and indexing count UTF-16 code units.
    """
    if text.isascii():
        return text
    return _ASTRAL.sub(_split_pair, text)


def from_units(units: str) -> str:
    """Return the canonical string for code-unit form ``units``.

    Adjacent high and low surrogates combine into one code point; a lone
    surrogate stays as it is.
    """
    if units.isascii():
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def utf16_slice(text: str, start: int, end: int | None = None) -> str:
    """Return ``text[start:end]`` with ``start``/``end`` in UTF-16 code units.

    Behave as JavaScript's ``String.prototype.substr``/``slice`` for
    non-negative indexes: a bound inside a surrogate pair splits it and the
    halves come back as lone surrogates.
    """
    if text.isascii():
        return text[start:end]
    units = to_units(text)
    if len(units) == len(text):  # BMP only: code points are code units
        return text[start:end]
    return from_units(units[start:end])


def join(left: str, right: str) -> str:
    """Concatenate two canonical strings, recombining a split surrogate pair.

    The result is canonical too: when ``left`` ends with a lone high surrogate
    and ``right`` starts with a lone low surrogate they become one code point,
    which is what the same concatenation means in JavaScript.
    """
    if left and right and "\ud800" <= left[-1] <= "\udbff" and "\udc00" <= right[0] <= "\udfff":
        return left[:-1] + from_units(left[-1] + right[0]) + right[1:]
    return left + right
