"""Roles on a document and the guardian permissions that encode them.

A share is a set of object permissions on the document, held by a user or a
group (django-guardian):

==========  =====================================  ==========================
Role        Permissions                            May
==========  =====================================  ==========================
viewer      ``view_document``                      read, see who has access
editor      ``view_document``, ``change_document``  also edit and rename
+ share     ``share_document`` (editors only)       also change who has access
==========  =====================================  ==========================

The owner (``Document.owner``) holds all three and more: only the owner may
trash, restore, delete forever and transfer ownership.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

VIEW = "view_document"
EDIT = "change_document"
SHARE = "share_document"
ALL_PERMS: tuple[str, ...] = (VIEW, EDIT, SHARE)


class Role(models.TextChoices):
    """What a person or group may do with a document they were given."""

    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"


def perms_for(role: Role | str, *, can_share: bool = False) -> frozenset[str]:
    """Return the permission codenames that make up ``role``."""
    perms = {VIEW} if role == Role.VIEWER else {VIEW, EDIT}
    if can_share:
        perms.add(SHARE)
    return frozenset(perms)


def role_from_perms(perms: Iterable[str]) -> tuple[Role | None, bool]:
    """Return ``(role, can_share)`` for a set of codenames; role None if none."""
    held = set(perms)
    if EDIT in held:
        # Role(member) is the member; without django-stubs mypy types a
        # bare ``Role.EDITOR`` as its (value, label) tuple.
        return Role(Role.EDITOR), SHARE in held
    if VIEW in held:
        return Role(Role.VIEWER), SHARE in held
    return None, False
