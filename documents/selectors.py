"""Reads: who may do what with a document, and the lists people see.

:func:`document_access` is the one answer to "what may this user do with this
document". Every page, JSON endpoint and (through
``database_sync_to_async``) every socket asks it, so the rules live here only:

* The owner may do everything. A trashed document is visible to its owner
  alone, read-only, from the trash.
* Object permissions from django-guardian (``documents.view_document``,
  ``documents.comment_document``, ``documents.change_document``,
  ``documents.share_document``), held directly or through a group, give
  viewer, commenter, editor and share rights (see :mod:`documents.roles`).
  Editing implies commenting, whether or not the row for it exists.
* Link sharing: while ``Document.link_mode`` is ``view``, ``comment`` or
  ``edit``, any logged-in user presenting the document's current
  ``link_token`` may view, comment or edit. A link only ever adds rights to a
  share, and never grants the right to share.
* Staff and superusers get nothing special here: they act on documents in
  the Django admin, where every change is deliberate and visible. Model-level
  (global) permissions are ignored for the same reason.
* Anonymous and inactive users get nothing.

A fresh :class:`guardian.core.ObjectPermissionChecker` is made on every call:
a checker caches what it has read, and a long-lived socket must see a share
revoked a second ago.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.crypto import constant_time_compare
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

from documents.exceptions import DocumentNotFound
from documents.models import Document, LinkMode
from documents.people import display_name
from documents.roles import COMMENT, EDIT, SHARE, VIEW, Role, role_from_perms, role_label
from teams.selectors import user_find_by_identifier

AnyUser: TypeAlias = "AbstractBaseUser | AnonymousUser"


@dataclass(frozen=True)
class DocumentAccess:
    """What one user may do with one document."""

    can_view: bool = False
    #: Add comments and make suggestions (editors may too).
    can_comment: bool = False
    can_edit: bool = False
    can_share: bool = False
    is_owner: bool = False
    #: ``"owner"``, ``"editor"``, ``"commenter"``, ``"viewer"`` or ``"none"``.
    role: str = "none"
    #: True when the rights come from the share link rather than a share.
    via_link: bool = False

    @property
    def role_label(self) -> str:
        """Return the role as people read it ("Owner", "Commenter (via link)"...)."""
        return role_label(self.role, via_link=self.via_link)


NO_ACCESS = DocumentAccess()
OWNER_ACCESS = DocumentAccess(
    can_view=True, can_comment=True, can_edit=True, can_share=True, is_owner=True, role="owner"
)
#: The owner looking at their document in the trash: read-only.
OWNER_TRASHED_ACCESS = DocumentAccess(can_view=True, is_owner=True, role="owner")


def link_token_matches(*, document: Document, link_token: str | None) -> bool:
    """Return whether ``link_token`` opens ``document`` through its share link."""
    if not link_token or document.link_mode == LinkMode.OFF:
        return False
    return constant_time_compare(str(link_token), document.link_token)


#: How far each link mode opens a document (0: not at all); ranks grow with
#: rights: 1 view, 2 comment, 3 edit.
#: Keys are the LinkMode values (plain strings: mypy reads bare members as
#: their (value, label) tuples without django-stubs).
_LINK_RANK: dict[str, int] = {"off": 0, "view": 1, "comment": 2, "edit": 3}
_RANK_ROLE = {1: "viewer", 2: "commenter", 3: "editor"}


def _object_perms(user: AbstractBaseUser, document: Document) -> set[str]:
    # get_user_perms/get_group_perms read object permissions only: unlike
    # has_perm they do not hand superusers everything.
    checker = ObjectPermissionChecker(user)
    return set(checker.get_user_perms(document)) | set(checker.get_group_perms(document))


def document_access(
    *, user: AnyUser | None, document: Document, link_token: str | None = None
) -> DocumentAccess:
    """Return what ``user`` may do with ``document`` (see the module docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    if document.owner_id == user.pk:
        return OWNER_TRASHED_ACCESS if document.is_trashed else OWNER_ACCESS
    if document.is_trashed:
        return NO_ACCESS

    perms = _object_perms(user, document)
    # Rights only ever widen down this list: edit > comment > view.
    rank = 3 if EDIT in perms else 2 if COMMENT in perms else 1 if VIEW in perms else 0
    share_rank = rank
    if link_token_matches(document=document, link_token=link_token):
        rank = max(rank, _LINK_RANK.get(document.link_mode, 0))
    if rank == 0:
        return NO_ACCESS
    return DocumentAccess(
        can_view=True,
        can_comment=rank >= 2,
        can_edit=rank >= 3,
        can_share=SHARE in perms and share_rank > 0,
        role=_RANK_ROLE[rank],
        via_link=rank > share_rank,
    )


def _parse_public_id(public_id: uuid.UUID | str) -> uuid.UUID:
    if isinstance(public_id, uuid.UUID):
        return public_id
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        raise DocumentNotFound(public_id) from None


def document_get_for_user(
    *,
    user: AnyUser | None,
    public_id: uuid.UUID | str,
    link_token: str | None = None,
    include_trashed: bool = False,
) -> tuple[Document, DocumentAccess]:
    """Return the document and the user's access to it.

    Raise :class:`DocumentNotFound` for a document that does not exist, that
    the user may not view, or that is in the trash (unless
    ``include_trashed``, which only ever lets the owner through). Callers
    answer 404 (or close 4404) without saying which.
    """
    try:
        document = Document.objects.select_related("owner", "last_edited_by", "snapshot").get(
            public_id=_parse_public_id(public_id)
        )
    except Document.DoesNotExist:
        raise DocumentNotFound(public_id) from None
    if document.is_trashed and not include_trashed:
        raise DocumentNotFound(public_id)
    access = document_access(user=user, document=document, link_token=link_token)
    if not access.can_view:
        raise DocumentNotFound(public_id)
    return document, access


def document_roles_for_user(
    *, user: AbstractBaseUser, documents: Iterable[Document]
) -> dict[int, Role]:
    """Return the role each document is shared with ``user`` in, by document pk.

    Direct and group shares count (the stronger wins, as in
    :func:`document_access`); links and ownership do not. Two queries
    whatever the number of documents: for the lists, not for access checks.
    """
    object_pks = [str(document.pk) for document in documents]
    where = {
        "content_type": ContentType.objects.get_for_model(Document),
        "object_pk__in": object_pks,
    }
    held: dict[str, set[str]] = {}
    rows = [
        UserObjectPermission.objects.filter(user=user, **where),
        GroupObjectPermission.objects.filter(group__user=user, **where),
    ]
    for queryset in rows:
        for object_pk, codename in queryset.values_list("object_pk", "permission__codename"):
            held.setdefault(object_pk, set()).add(codename)
    roles = {}
    for object_pk, perms in held.items():
        role, _ = role_from_perms(perms)
        if role is not None:
            roles[int(object_pk)] = role
    return roles


@dataclass(frozen=True)
class PersonShare:
    """A user's direct share of a document."""

    user: Any
    role: Role
    can_share: bool


@dataclass(frozen=True)
class GroupShare:
    """A group's share of a document."""

    group: Group
    role: Role


def document_people_shares(*, document: Document) -> list[PersonShare]:
    """Return the direct shares of ``document`` (owner excluded), by name."""
    shares = []
    # With attach_perms, guardian returns {user: [codename, ...]}; its hint
    # (``Any | list[str]``) does not say so.
    users = cast(
        "dict[Any, list[str]]",
        get_users_with_perms(document, attach_perms=True, with_group_users=False),
    )
    for user, perms in users.items():
        role, can_share = role_from_perms(perms)
        if role is None or user.pk == document.owner_id:
            continue
        shares.append(PersonShare(user=user, role=role, can_share=can_share))
    return sorted(shares, key=lambda share: share.user.get_username().lower())


def document_group_shares(*, document: Document) -> list[GroupShare]:
    """Return the groups ``document`` is shared with, by name."""
    shares = []
    for group, perms in get_groups_with_perms(document, attach_perms=True).items():
        role, _ = role_from_perms(perms)
        if role is not None:
            shares.append(GroupShare(group=group, role=role))
    return sorted(shares, key=lambda share: share.group.name.lower())


def document_viewers(*, document: Document) -> QuerySet[Any]:
    """Return the active users who can view ``document`` through a share.

    That is its owner and everyone holding a view, comment or edit
    permission on it directly or through a group. People who only opened
    its share link are not included: a link is not a share, and listing
    them would tell strangers who else visited. A trashed document is
    visible to its owner alone. Used for the mention picker and to decide
    who may be notified.
    """
    users = get_user_model()._default_manager.filter(is_active=True)
    if document.is_trashed:
        return users.filter(pk=document.owner_id)
    where = {
        "content_type": ContentType.objects.get_for_model(Document),
        "object_pk": str(document.pk),
        "permission__codename__in": (VIEW, COMMENT, EDIT),
    }
    direct = UserObjectPermission.objects.filter(**where).values("user_id")
    groups = GroupObjectPermission.objects.filter(**where).values("group_id")
    members = get_user_model().groups.through.objects.filter(group_id__in=groups)
    return users.filter(
        Q(pk=document.owner_id) | Q(pk__in=direct) | Q(pk__in=members.values("user_id"))
    )


def user_display_names(*, ids: Iterable[int]) -> dict[int, str]:
    """Return ``{user id: display name}`` for the users that exist among ``ids``."""
    wanted = {int(pk) for pk in ids}
    if not wanted:
        return {}
    users = get_user_model()._default_manager.filter(pk__in=wanted)
    return {user.pk: display_name(user) for user in users}


def user_find_for_sharing(*, identifier: str) -> AbstractBaseUser:
    """Return the active user whose username or email is ``identifier``.

    The username matches exactly first, then case-insensitively; an
    identifier with ``@`` also matches an email address. Raise
    :class:`ValidationError` with a message for people when no single
    account matches. The one lookup of the project: teams add members by it
    too (:func:`teams.selectors.user_find_by_identifier`).
    """
    user: AbstractBaseUser = user_find_by_identifier(identifier=identifier)
    return user
