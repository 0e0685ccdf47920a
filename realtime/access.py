"""What an open socket may still do: its session and its document access.

A socket is opened with a session cookie and keeps running long after the
handshake. :func:`recheck` answers, from the database and the session store
as they are now, whether the session that opened it still logs its user in
(as ``django.contrib.auth.get_user`` decides for every HTTP request) and
what the one selector ``document_get_for_user`` lets that user do. It is
synchronous and touches the database: call it through the store runner.

:class:`Standing` is what the client is told of that access (the
``access`` frame, docs/protocol.md "Access"): its rights and the labels the
page shows, so that a change to any of them (a role changed, ownership
transferred, a link share replaced by a direct one) reaches open pages.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.utils.crypto import constant_time_compare

from documents.exceptions import DocumentNotFound
from documents.people import display_name
from documents.selectors import DocumentAccess, document_get_for_user


class Verdict(enum.Enum):
    """What a re-check found."""

    OK = "ok"
    #: The session is gone, expired, for someone else, or its user may no
    #: longer log in (inactive, deleted, password changed): close 4401.
    SIGNED_OUT = "signed_out"
    #: The user may no longer open the document: close 4403.
    NO_ACCESS = "no_access"


@dataclass(frozen=True)
class Standing:
    """A socket's rights and the labels its page shows for them.

    Two standings are equal exactly when the client has nothing to update:
    the consumer sends ``access`` whenever a re-check finds a different one.
    """

    can_edit: bool
    can_comment: bool
    #: ``"owner"``, ``"editor"``, ``"commenter"`` or ``"viewer"``.
    role: str
    #: As the page's role pill reads it (documents.roles.role_label).
    role_label: str
    is_owner: bool
    owner_id: int
    owner_name: str


def standing_of(document: Any, access: DocumentAccess) -> Standing:
    """Return the standing ``access`` gives on ``document`` (owner loaded)."""
    return Standing(
        can_edit=access.can_edit,
        can_comment=access.can_comment,
        role=access.role,
        role_label=access.role_label,
        is_owner=access.is_owner,
        owner_id=int(document.owner_id),
        owner_name=display_name(document.owner),
    )


@dataclass(frozen=True)
class Recheck:
    """A re-check's verdict and, when OK, the access and standing it found."""

    verdict: Verdict
    access: DocumentAccess | None = None
    standing: Standing | None = None


def access_for(*, user: Any, public_id: uuid.UUID, session: Any) -> tuple[Any, DocumentAccess]:
    """Return ``(document, access)`` for ``user``, with the session's link tokens."""
    # Share-link tokens the pages remembered (documents.links): {id: token}.
    links = session.get("doc_links") if session is not None else None
    token = links.get(str(public_id)) if isinstance(links, dict) else None
    return document_get_for_user(
        user=user, public_id=public_id, link_token=token if isinstance(token, str) else None
    )


def session_user(session_key: str | None, user_pk: Any) -> tuple[Any, Any] | None:
    """Return ``(user, session)`` if the session still logs ``user_pk`` in, else None.

    The same tests as ``django.contrib.auth.get_user``: the session exists
    and has not expired, names this user, the user's backend still returns
    them (``ModelBackend`` refuses inactive users) and the session's auth
    hash matches the user's current one (a password change signs out every
    other session). Nothing is written: the next HTTP request on that
    session flushes it as Django always does.
    """
    if not session_key:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(session_key)
    data = session.load()  # {} when missing or expired
    if str(data.get(SESSION_KEY, "")) != str(user_pk):
        return None
    backend_path = data.get(BACKEND_SESSION_KEY)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_pk)
    if user is None or not getattr(user, "is_active", True):
        return None
    session_hash = data.get(HASH_SESSION_KEY)
    if not session_hash or not hasattr(user, "get_session_auth_hash"):
        return None
    if not constant_time_compare(session_hash, user.get_session_auth_hash()):
        # Sessions signed with a retired SECRET_KEY stay valid, as in get_user.
        fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", [])
        if not any(
            constant_time_compare(session_hash, user._get_session_auth_hash(secret=key))
            for key in fallbacks
        ):
            return None
    return user, session


def recheck(*, session_key: str | None, user_pk: Any, public_id: uuid.UUID) -> Recheck:
    """Return whether the socket's session is valid and what its user may do now.

    :raises django.db.DatabaseError: storage is down (the caller decides).
    """
    found = session_user(session_key, user_pk)
    if found is None:
        return Recheck(Verdict.SIGNED_OUT)
    user, session = found
    try:
        document, access = access_for(user=user, public_id=public_id, session=session)
    except DocumentNotFound:
        return Recheck(Verdict.NO_ACCESS)
    if not access.can_view:
        return Recheck(Verdict.NO_ACCESS)
    return Recheck(Verdict.OK, access, standing_of(document, access))
