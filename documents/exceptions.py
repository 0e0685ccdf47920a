"""Exceptions raised by the documents services and selectors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class DocumentNotFound(Exception):
    """The document does not exist, or the user may not know that it does."""


class ActionNotAllowed(PermissionDenied):
    """The user may see the document but may not do this to it."""
