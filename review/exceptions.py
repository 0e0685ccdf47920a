"""Exceptions raised by the review services and selectors."""

from __future__ import annotations


class ThreadNotFound(Exception):
    """No such thread on this document."""


class MessageNotFound(Exception):
    """No such message in this thread."""


class ReviewChangeFailed(Exception):
    """The document's authority could not apply the change now; nothing changed."""


class DecisionNotFound(Exception):
    """No decision on suggestions was stored at that revision of this document."""
