"""Roles on a document and the guardian permissions that encode them.

A share is a set of object permissions on the document, held by a user or a
group (django-guardian):

==========  ==================================================  ==========================
Role        Permissions                                         May
==========  ==================================================  ==========================
viewer      ``view_document``                                   read, see who has access
commenter   ``view_document``, ``comment_document``             also comment and suggest
editor      ``view_document``, ``comment_document``,            also edit, rename, decide
            ``change_document``                                 suggestions
+ share     ``share_document`` (editors only)                   also change who has access
==========  ==================================================  ==========================

The owner (``Document.owner``) holds them all and more: only the owner may
trash, restore, delete forever and transfer ownership.

``change_document`` alone still means editor: shares made before the
commenter role existed hold no ``comment_document``, and editing implies
commenting (:func:`role_from_perms`, ``selectors.document_access``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

VIEW = "view_document"
COMMENT = "comment_document"
EDIT = "change_document"
SHARE = "share_document"
ALL_PERMS: tuple[str, ...] = (VIEW, COMMENT, EDIT, SHARE)


class Role(models.TextChoices):
    """What a person or group may do with a document they were given."""

    VIEWER = "viewer", "Viewer"
    COMMENTER = "commenter", "Commenter"
    EDITOR = "editor", "Editor"


_ROLE_PERMS: dict[str, frozenset[str]] = {
    "viewer": frozenset({VIEW}),
    "commenter": frozenset({VIEW, COMMENT}),
    "editor": frozenset({VIEW, COMMENT, EDIT}),
}


#: How people read each access role (``DocumentAccess.role``), owner included.
ROLE_LABELS: dict[str, str] = {
    "owner": "Owner",
    "editor": "Editor",
    "commenter": "Commenter",
    "viewer": "Viewer",
}


def role_label(role: str, *, via_link: bool = False) -> str:
    """Return ``role`` as people read it: "Owner", "Commenter (via link)"...

    The one wording of the role pill on the document page, the share
    dialog's "you" and the realtime ``access`` frame, so that a label sent
    live never differs from the one a reload would render. A role that is
    none of :data:`ROLE_LABELS` (``"none"``) reads "No access".
    """
    label = ROLE_LABELS.get(role, "No access")
    return f"{label} (via link)" if via_link else label


#: How much each role allows, for comparing them (a higher rank allows more).
ROLE_RANK: dict[str, int] = {"viewer": 1, "commenter": 2, "editor": 3}


def perms_for(role: Role | str, *, can_share: bool = False) -> frozenset[str]:
    """Return the permission codenames that make up ``role``.

    Raise :class:`ValueError` for a string that names no role; ``can_share``
    is honoured for editors only (callers refuse it for other roles first).
    """
    perms = _ROLE_PERMS[Role(role).value]
    return perms | {SHARE} if can_share and Role(role) == Role.EDITOR else perms


def role_from_perms(perms: Iterable[str]) -> tuple[Role | None, bool]:
    """Return ``(role, can_share)`` for a set of codenames; role None if none.

    The strongest right decides: EDIT makes an editor (with or without
    COMMENT), else COMMENT a commenter, else VIEW a viewer.
    """
    held = set(perms)
    # Role(member) is the member; without django-stubs mypy types a bare
    # ``Role.EDITOR`` as its (value, label) tuple.
    if EDIT in held:
        return Role(Role.EDITOR), SHARE in held
    if COMMENT in held:
        return Role(Role.COMMENTER), SHARE in held
    if VIEW in held:
        return Role(Role.VIEWER), SHARE in held
    return None, False
