"""Exceptions of the OT core."""

from __future__ import annotations

__all__ = ["DocumentTooLarge", "InvalidDelta"]


class InvalidDelta(ValueError):
    """A change or document breaks the rules of a valid delta (``bad_op``)."""


class DocumentTooLarge(InvalidDelta):
    """Applying a change would make the document longer than allowed (``too_large``)."""
