"""The operational-transformation core: quill-delta 5.1.0 in pure Python.

Standard library only: no Django, no asyncio, no I/O. See ``docs/ot.md``.

* :class:`Delta` -- ops with quill-delta's ``compose``, ``transform``,
  ``transform_position``, ``invert``, ``diff`` and ``slice``;
* :func:`parse_change` -- untrusted JSON to a :class:`Delta`, or
  :class:`InvalidDelta`, by the shape rules and the content schema
  (``schema.json``; :class:`ContentPolicy` for where embeds may come from);
* :class:`DocumentText` -- a document that applies changes in O(log n + k),
  checking them first (:class:`DocumentTooLarge` for the size limit);
* :func:`utf16_len` -- lengths as JavaScript counts them;
* :mod:`.review` -- suggestion marks and comment anchors (:mod:`.marks`),
  the commenter policy (:mod:`.review_policy`), deciding suggestions,
  exports without review marks.
"""

from __future__ import annotations

from .delta import Delta, Op, op_length
from .document import DocumentText
from .exceptions import DocumentTooLarge, InvalidDelta
from .schema import DEFAULT_POLICY, MAX_SAFE_INTEGER, ContentPolicy
from .utf16 import utf16_len
from .validate import parse_change

__all__ = [
    "DEFAULT_POLICY",
    "MAX_SAFE_INTEGER",
    "ContentPolicy",
    "Delta",
    "DocumentText",
    "DocumentTooLarge",
    "InvalidDelta",
    "Op",
    "op_length",
    "parse_change",
    "utf16_len",
]
