"""The live port: how documents asks for a change to a live document.

A restore must reach everyone connected and be undoable like any edit, so
documents does not write the content itself: it asks the document's
authority, which lives in :mod:`realtime` (and, with several workers, on
the owning worker, :mod:`routing`). Both sit above documents, so documents
names what it needs here (:class:`LiveDocuments`) and the composition root
(``collabdocs``' app config, at start-up) installs the implementation with
:func:`install_live`. ot.js's server works the same way: the caller is
handed in, the core never reaches up for it.

Failure modes:

* no port installed (a process whose composition root never ran):
  :func:`live_documents` raises ``ImproperlyConfigured`` saying so, rather
  than a restore failing later with an ``AttributeError``;
* the change was refused or storage stayed down: the port raises
  :class:`ServerChangeFailed` (or a :class:`documents.store.StoreError`);
* no such document: the port raises :class:`documents.store.DocumentMissing`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class ServerChangeFailed(Exception):
    """The authority refused the change or storage stayed down; see the message."""


@dataclass(frozen=True)
class AppliedChange:
    """A server-made change as stored: its revision, op id and the delta sent."""

    revision: int
    op_id: str
    delta: list[dict[str, Any]]


class LiveDocuments(Protocol):
    """Change live documents as one of their editors would."""

    def apply_content(
        self,
        *,
        public_id: uuid.UUID,
        target: list[dict[str, Any]],
        user_id: int | None,
        user_name: str,
    ) -> AppliedChange | None:
        """Make the document's content ``target`` with one change, live.

        Block until the change is stored. Return it, or None when the
        document already matches ``target``. Call from synchronous code
        (not from an event loop's thread) and outside a transaction.

        :raises ServerChangeFailed: refused, or storage stayed down.
        :raises documents.store.DocumentMissing: no such document.
        """
        ...


_port: LiveDocuments | None = None


def install_live(port: LiveDocuments | None) -> None:
    """Make ``port`` the one :func:`live_documents` returns (None removes it)."""
    global _port
    _port = port


def live_documents() -> LiveDocuments:
    """Return the installed port.

    :raises ImproperlyConfigured: nothing installed one.
    """
    if _port is None:
        raise ImproperlyConfigured(
            "No live-document port is installed: the composition root "
            "(collabdocs' AppConfig.ready()) must call documents.live.install_live() "
            "before documents can change a live document (restore a version)."
        )
    return _port
