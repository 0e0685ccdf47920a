"""The live port: how documents asks for a change to a live document.

A restore, a decision on suggestions or the removal of a comment thread's
anchors must reach everyone connected and be undoable like any edit, so
documents (and review) do not write the content themselves: they ask the
document's authority, which lives in :mod:`realtime` (and, with several workers, on
the owning worker, :mod:`routing`). Both sit above documents, so documents
names what it needs here (:class:`LiveDocuments`) and the composition root
(``collabdocs``' app config, at start-up) installs the implementation with
:func:`install_live`. ot.js's server works the same way: the caller is
handed in, the core never reaches up for it.

The request is an *edit*, a JSON-ready dict (it may travel to the owning
worker over the channel layer), which the authority turns into one change
from the content it holds at that moment:

* ``{"kind": "content", "target": [...]}``: make the content ``target``
  (a restore); :func:`content_edit`;
* ``{"kind": "decide", "accept": bool, "ids": [...] | None, "author": int
  | None}``: accept or reject suggestions (by mark; None = any; both given:
  the marks among ``ids`` by ``author``); :func:`decide_edit`;
* ``{"kind": "uncomment", "threads": [...]}``: remove these comment
  threads' anchors; :func:`uncomment_edit`;
* ``{"kind": "revert", "revision": r}``: undo the change stored at
  revision ``r``, which the same user made (a decision, say): its inverse,
  transformed over everything after it; :func:`revert_edit`. The caller
  decides who may undo what; the port refuses a change by someone else.

Failure modes:

* no port installed (a process whose composition root never ran):
  :func:`live_documents` raises ``ImproperlyConfigured`` saying so, rather
  than a restore failing later with an ``AttributeError``;
* the change was refused or storage stayed down: the port raises
  :class:`ServerChangeFailed` (or a :class:`documents.store.StoreError`);
* no such document: the port raises :class:`documents.store.DocumentMissing`;
* a malformed edit: :class:`InvalidEdit` (a ``ValueError``) before anything
  is sent anywhere.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

#: Most suggestion ids or thread ids one edit may name.
MAX_EDIT_IDS = 10_000

_MARK = re.compile(r"[1-9][0-9]{0,11}:[0-9a-z]{1,10}:[0-9a-z]{4,12}")
_THREAD = re.compile(r"[0-9a-z]{10,24}")


class ServerChangeFailed(Exception):
    """The authority refused the change or storage stayed down; see the message."""


class InvalidEdit(ValueError):
    """An edit of no known kind, or with a field of the wrong shape."""


@dataclass(frozen=True)
class AppliedChange:
    """A server-made change as stored: its revision, op id and the delta sent.

    ``decided`` lists, for a ``decide`` edit, the suggestions it decided as
    the content held them (``realtime.ot.review.Suggestion.as_json``: id,
    kind, author, at_ms, index, length, text, formats), so that the caller
    can tell their authors; empty for other edits.
    """

    revision: int
    op_id: str
    delta: list[dict[str, Any]]
    decided: list[dict[str, Any]] = field(default_factory=list)


def content_edit(target: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the edit that makes the content ``target`` (a restore)."""
    return check_edit({"kind": "content", "target": target})


def decide_edit(
    *, accept: bool, ids: list[str] | None = None, author: int | None = None
) -> dict[str, Any]:
    """Return the edit that accepts (or rejects) suggestions.

    ``ids`` (suggestion marks) None and ``author`` None: every suggestion;
    ``author``: every suggestion by that user; both: those of ``ids`` by
    ``author``.
    """
    return check_edit({"kind": "decide", "accept": accept, "ids": ids, "author": author})


def uncomment_edit(threads: list[str]) -> dict[str, Any]:
    """Return the edit that removes these comment threads' anchors."""
    return check_edit({"kind": "uncomment", "threads": threads})


def revert_edit(revision: int) -> dict[str, Any]:
    """Return the edit that undoes the change stored at ``revision``."""
    return check_edit({"kind": "revert", "revision": revision})


def _ids(value: Any, name: str, pattern: re.Pattern[str]) -> None:
    if type(value) is not list or len(value) > MAX_EDIT_IDS:
        raise InvalidEdit(f"{name} must be a list of at most {MAX_EDIT_IDS} ids")
    for item in value:
        if type(item) is not str or not pattern.fullmatch(item):
            raise InvalidEdit(f"{name} holds {item!r:.40}, which is not an id")


def check_edit(edit: Any) -> dict[str, Any]:
    """Return ``edit`` if it is a well-formed edit (module docstring).

    :raises InvalidEdit: naming what is wrong.
    """
    if type(edit) is not dict:
        raise InvalidEdit("an edit must be an object")
    kind = edit.get("kind")
    if kind == "content":
        if type(edit.get("target")) is not list:
            raise InvalidEdit("a content edit needs a target: a list of ops")
    elif kind == "decide":
        if type(edit.get("accept")) is not bool:
            raise InvalidEdit("a decide edit needs accept: true or false")
        if edit.get("ids") is not None:
            _ids(edit["ids"], "ids", _MARK)
        author = edit.get("author")
        if author is not None and (type(author) is not int or author <= 0):
            raise InvalidEdit("author must be a user id")
    elif kind == "uncomment":
        _ids(edit.get("threads"), "threads", _THREAD)
        if not edit["threads"]:
            raise InvalidEdit("an uncomment edit needs at least one thread id")
    elif kind == "revert":
        revision = edit.get("revision")
        if type(revision) is not int or revision <= 0:
            raise InvalidEdit("a revert edit needs the revision of the change to undo")
    else:
        raise InvalidEdit(f"unknown edit kind {kind!r:.40}")
    return edit


class LiveDocuments(Protocol):
    """Change live documents as one of their editors would."""

    def apply_edit(
        self,
        *,
        public_id: uuid.UUID,
        edit: dict[str, Any],
        user_id: int | None,
        user_name: str,
    ) -> AppliedChange | None:
        """Apply ``edit`` (module docstring) to the document with one change, live.

        The change is computed from the content the document's authority
        holds, applied as ``user_id`` and trusted (no review policy).
        Block until the change is stored. Return it, or None when there is
        nothing to do (the content matches the target, no suggestion or
        anchor is selected). Call from synchronous code (not from an event
        loop's thread) and outside a transaction.

        :raises InvalidEdit: a malformed ``edit``.
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
