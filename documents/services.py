"""Writes: creating, renaming, trashing and sharing documents.

Every function takes keyword arguments, runs in one transaction and checks
the acting user's rights through :func:`documents.selectors.document_access`
itself, so a view cannot forget to. Refusals raise:

* :class:`documents.exceptions.DocumentNotFound` when the actor may not even
  see the document (callers answer 404);
* :class:`documents.exceptions.ActionNotAllowed` when they may see it but not
  do this (403);
* :class:`django.core.exceptions.ValidationError` for bad input (400), with a
  message written for people.

A refused call changes nothing. Open sockets hear about a change only after
it commits, through :mod:`documents.events`, the one boundary between
Django code and live sockets (it sends on commit itself).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from documents import events, search, signals
from documents.exceptions import ActionNotAllowed, DocumentNotFound
from documents.models import (
    INITIAL_CONTENT,
    Document,
    DocumentVersion,
    LinkMode,
    Operation,
    VersionKind,
    new_link_token,
)
from documents.people import display_name
from documents.roles import ALL_PERMS, ROLE_RANK, Role, perms_for, role_from_perms
from documents.selectors import DocumentAccess, document_access, user_find_for_sharing
from realtime.ot import op_length

DEFAULT_TITLE = "Untitled document"
NOT_ALLOWED_TO_SHARE = "Only the owner and people allowed to share can change who has access."


# Helpers ---------------------------------------------------------------


def _access(
    *, actor: AbstractBaseUser, document: Document, link_token: str | None
) -> DocumentAccess:
    """Return the actor's access, raising DocumentNotFound if they cannot see it."""
    access = document_access(user=actor, document=document, link_token=link_token)
    if not access.can_view:
        raise DocumentNotFound(document.public_id)
    return access


def _locked(document: Document) -> Document:
    """Return a fresh copy of the document's row, locked until the transaction ends."""
    try:
        return (
            Document.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=document.pk)
        )
    except Document.DoesNotExist:
        raise DocumentNotFound(document.public_id) from None


def _role(role: Any) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationError(
            "Choose a role: Viewer, Commenter or Editor.", code="invalid_role"
        ) from None


def _check_can_share(role: Role, can_share: bool) -> None:
    if can_share and role != Role.EDITOR:
        raise ValidationError("Only editors can be allowed to share.", code="invalid_role")


def clean_title(title: Any) -> str:
    """Return ``title`` tidied for storage, or raise ValidationError.

    Whitespace runs (newlines included) become single spaces, control
    characters are dropped, and the result must be non-empty and at most
    ``COLLABDOCS["TITLE_MAX_LENGTH"]`` characters.
    """
    if not isinstance(title, str):
        raise ValidationError("The title must be text.", code="invalid")
    title = "".join(
        " " if char.isspace() else char
        for char in title
        if char.isspace() or unicodedata.category(char) not in {"Cc", "Cs"}
    )
    title = " ".join(title.split())
    if not title:
        raise ValidationError("Give the document a title.", code="required")
    limit = settings.COLLABDOCS["TITLE_MAX_LENGTH"]
    if len(title) > limit:
        raise ValidationError(
            "Titles can be at most %(limit)d characters; this one has %(length)d.",
            code="max_length",
            params={"limit": limit, "length": len(title)},
        )
    return title


def _perm_filters(document: Document) -> dict[str, Any]:
    return {
        "content_type": ContentType.objects.get_for_model(Document),
        "object_pk": str(document.pk),
    }


def _user_codenames(document: Document, user: AbstractBaseUser) -> set[str]:
    """Return the permissions held directly, whether or not the user is active."""
    rows = UserObjectPermission.objects.filter(user=user, **_perm_filters(document))
    return set(rows.values_list("permission__codename", flat=True))


def _group_codenames(document: Document, group: Group) -> set[str]:
    rows = GroupObjectPermission.objects.filter(group=group, **_perm_filters(document))
    return set(rows.values_list("permission__codename", flat=True))


def _set_user_perms(document: Document, user: AbstractBaseUser, perms: frozenset[str]) -> bool:
    """Make the user's direct permissions exactly ``perms``; return whether the role changed."""
    held = _user_codenames(document, user)
    for perm in ALL_PERMS:
        if perm in perms and perm not in held:
            assign_perm(perm, user, document)
        elif perm not in perms and perm in held:
            remove_perm(perm, user, document)
    return role_from_perms(held)[0] != role_from_perms(perms)[0]


def _set_group_perms(document: Document, group: Group, perms: frozenset[str]) -> bool:
    """Make the group's permissions exactly ``perms``; return whether the role changed."""
    held = _group_codenames(document, group)
    for perm in ALL_PERMS:
        if perm in perms and perm not in held:
            assign_perm(perm, group, document)
        elif perm not in perms and perm in held:
            remove_perm(perm, group, document)
    return role_from_perms(held)[0] != role_from_perms(perms)[0]


def _gaining_members(document: Document, group: Group, role: Role) -> list[AbstractBaseUser]:
    """Return the group's active members for whom ``role`` through it is news.

    Left out: the owner, and members whose own share already allows at
    least as much (telling an editor "shared with you as viewer" would
    mislead). Two queries, whatever the group's size.
    """
    members = list(group.user_set.filter(is_active=True).exclude(pk=document.owner_id))
    direct: dict[int, set[str]] = {}
    rows = UserObjectPermission.objects.filter(
        user__in=members, **_perm_filters(document)
    ).values_list("user_id", "permission__codename")
    for user_id, codename in rows:
        direct.setdefault(user_id, set()).add(codename)
    gaining = []
    for member in members:
        own, _ = role_from_perms(direct.get(member.pk, ()))
        if own is None or ROLE_RANK[own.value] < ROLE_RANK[role.value]:
            gaining.append(member)
    return gaining


def _announce_share(document: Document, actor: AbstractBaseUser, users: Any, role: Role) -> None:
    """Send ``documents.signals.document_shared`` for each of ``users`` after commit."""
    for user in users:
        signals.send_on_commit(
            signals.document_shared,
            sender=Document,
            document=document,
            actor=actor,
            user=user,
            role=role,
        )


# Documents -------------------------------------------------------------


@transaction.atomic
def document_create(
    *,
    owner: AbstractBaseUser,
    title: str | None = None,
    content: list[dict] | Callable[[Document], list[dict]] | None = None,
) -> Document:
    """Create a document at revision 0 owned by ``owner``, empty or holding ``content``.

    ``content`` (an import's, office.importers) is ops that already passed
    ``parse_change`` and end with a newline, or a function of the new
    document returning them (so that images can be stored into it first;
    it may set ``document.title``; whatever it raises undoes the whole
    creation). ``owner`` is its author.
    """
    title = clean_title(title) if title and title.strip() else DEFAULT_TITLE
    document = Document.objects.create(owner=owner, title=title, last_edited_by=owner)
    if callable(content):
        content = content(document)
        document.title = clean_title(document.title)
    authorship = None
    if content is not None:
        if not content or not str(content[-1].get("insert", "")).endswith("\n"):
            raise ValueError("initial content must end with a newline")
        authorship = [[sum(op_length(op) for op in content), owner.pk]]
    version = DocumentVersion.objects.create(
        document=document,
        revision=0,
        content=[dict(op) for op in (INITIAL_CONTENT if content is None else content)],
        kind=VersionKind.INITIAL,
        author=owner,
        authorship=authorship,
    )
    document.snapshot = version
    document.save(update_fields=["snapshot", "title"])
    _set_user_perms(document, owner, frozenset(ALL_PERMS))
    # New and imported documents are found by their content within seconds.
    pk = document.pk
    transaction.on_commit(lambda: search.mark_changed(pk))
    return document


@transaction.atomic
def document_rename(
    *, document: Document, actor: AbstractBaseUser, title: str, link_token: str | None = None
) -> Document:
    """Rename the document; editors (and link editors) may."""
    access = _access(actor=actor, document=document, link_token=link_token)
    if not access.can_edit:
        raise ActionNotAllowed("Only editors can rename this document.")
    title = clean_title(title)
    document = _locked(document)
    if document.title != title:
        document.title = title
        document.save(update_fields=["title"])
        public_id = document.public_id
        events.title_changed(public_id=public_id, title=title)
    return document


def _owner_only(
    document: Document, actor: AbstractBaseUser, what: str, link_token: str | None
) -> None:
    access = _access(actor=actor, document=document, link_token=link_token)
    if not access.is_owner:
        raise ActionNotAllowed(f"Only the owner can {what}.")


@transaction.atomic
def document_trash(
    *, document: Document, actor: AbstractBaseUser, link_token: str | None = None
) -> Document:
    """Move the document to the trash: it disappears for everyone but its owner."""
    _owner_only(document, actor, "move this document to the trash", link_token)
    document = _locked(document)
    if document.trashed_at is None:
        document.trashed_at = timezone.now()
        document.save(update_fields=["trashed_at"])
        events.document_removed(public_id=document.public_id)
    return document


@transaction.atomic
def document_restore(
    *, document: Document, actor: AbstractBaseUser, link_token: str | None = None
) -> Document:
    """Bring the document back from the trash with its shares as they were."""
    _owner_only(document, actor, "restore this document", link_token)
    document = _locked(document)
    if document.trashed_at is not None:
        document.trashed_at = None
        document.save(update_fields=["trashed_at"])
        events.access_changed(public_id=document.public_id)
    return document


@transaction.atomic
def document_delete_forever(
    *, document: Document, actor: AbstractBaseUser, link_token: str | None = None
) -> None:
    """Delete a trashed document with its history and shares; there is no undo."""
    _owner_only(document, actor, "delete this document", link_token)
    document = _locked(document)
    if document.trashed_at is None:
        raise ValidationError(
            "Move the document to the trash before deleting it forever.", code="not_trashed"
        )
    delete_documents(Document.objects.filter(pk=document.pk))


def delete_documents(documents: QuerySet[Document]) -> None:
    """Delete documents with their versions, operations and object permissions.

    No permission check: the owner's path is :func:`document_delete_forever`;
    the admin calls this directly. Open sockets are told after commit.
    """
    with transaction.atomic():
        # Re-select plainly: the caller's queryset may carry annotations or
        # select_related, which FOR UPDATE does not accept.
        ids = documents.order_by().values("pk")
        doomed = list(
            Document.objects.filter(pk__in=ids).select_for_update().only("pk", "public_id")
        )
        pks = [document.pk for document in doomed]
        content_type = ContentType.objects.get_for_model(Document)
        object_pks = [str(pk) for pk in pks]
        UserObjectPermission.objects.filter(
            content_type=content_type, object_pk__in=object_pks
        ).delete()
        GroupObjectPermission.objects.filter(
            content_type=content_type, object_pk__in=object_pks
        ).delete()
        # The snapshot pointer protects versions: drop it, then the rows.
        Document.objects.filter(pk__in=pks).update(snapshot=None)
        Operation.objects.filter(document_id__in=pks).delete()
        DocumentVersion.objects.filter(document_id__in=pks).delete()
        Document.objects.filter(pk__in=pks).delete()
        for document in doomed:
            events.document_removed(public_id=document.public_id)


# Sharing ---------------------------------------------------------------


def _sharer(document: Document, actor: AbstractBaseUser, link_token: str | None) -> DocumentAccess:
    access = _access(actor=actor, document=document, link_token=link_token)
    if not access.can_share:
        raise ActionNotAllowed(NOT_ALLOWED_TO_SHARE)
    return access


def _check_target(document: Document, actor: AbstractBaseUser, target: AbstractBaseUser) -> None:
    if target.pk == actor.pk:
        raise ValidationError("You can’t share a document with yourself.", code="self")
    if target.pk == document.owner_id:
        raise ValidationError(
            "%(name)s owns this document and always has full access.",
            code="owner",
            params={"name": display_name(target)},
        )


@transaction.atomic
def share_grant(
    *,
    document: Document,
    actor: AbstractBaseUser,
    identifier: str,
    role: Role | str,
    can_share: bool = False,
    link_token: str | None = None,
) -> AbstractBaseUser:
    """Give the person with this username or email ``role`` on the document.

    Granting to someone who already has a share sets their role.
    """
    _sharer(document, actor, link_token)
    role = _role(role)
    _check_can_share(role, can_share)
    target = user_find_for_sharing(identifier=identifier)
    _check_target(document, actor, target)
    document = _locked(document)
    if _set_user_perms(document, target, perms_for(role, can_share=can_share)):
        _announce_share(document, actor, [target], role)
    events.access_changed(public_id=document.public_id)
    return target


@transaction.atomic
def share_change_role(
    *,
    document: Document,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    role: Role | str,
    can_share: bool = False,
    link_token: str | None = None,
) -> None:
    """Change the role of someone the document is already shared with."""
    _sharer(document, actor, link_token)
    role = _role(role)
    _check_can_share(role, can_share)
    if user.pk == document.owner_id:
        raise ValidationError(
            "The owner’s access can’t be changed; transfer ownership instead.", code="owner"
        )
    if user.pk == actor.pk:
        raise ValidationError("You can’t change your own access; ask the owner.", code="self")
    document = _locked(document)
    if not _user_codenames(document, user):
        raise ValidationError(
            "%(name)s doesn’t have access to this document.",
            code="not_shared",
            params={"name": display_name(user)},
        )
    if _set_user_perms(document, user, perms_for(role, can_share=can_share)):
        _announce_share(document, actor, [user], role)
    events.access_changed(public_id=document.public_id)


@transaction.atomic
def share_revoke(
    *,
    document: Document,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    link_token: str | None = None,
) -> None:
    """Remove someone's share; they lose access at once, open sockets included.

    Anyone may remove their own share (leave a document); removing others
    needs the share right.
    """
    if user.pk == document.owner_id:
        raise ValidationError("The owner’s access can’t be removed.", code="owner")
    if user.pk != actor.pk:
        _sharer(document, actor, link_token)
    else:
        _access(actor=actor, document=document, link_token=link_token)
    document = _locked(document)
    if not _user_codenames(document, user):
        raise ValidationError(
            "%(name)s doesn’t have access to this document.",
            code="not_shared",
            params={"name": display_name(user)},
        )
    _set_user_perms(document, user, frozenset())
    events.access_changed(public_id=document.public_id)


@transaction.atomic
def share_with_group(
    *,
    document: Document,
    actor: AbstractBaseUser,
    group_name: str,
    role: Role | str,
    link_token: str | None = None,
) -> Group:
    """Give every member of the named group ``role`` on the document."""
    _sharer(document, actor, link_token)
    role = _role(role)
    group_name = (group_name or "").strip()
    if not group_name:
        raise ValidationError("Enter the name of a group.", code="required")
    try:
        group = Group.objects.get(name=group_name)
    except Group.DoesNotExist:
        raise ValidationError(
            "There is no group called “%(name)s”.",
            code="unknown_group",
            params={"name": group_name},
        ) from None
    document = _locked(document)
    if _set_group_perms(document, group, perms_for(role)):
        _announce_share(document, actor, _gaining_members(document, group, role), role)
    events.access_changed(public_id=document.public_id)
    return group


@transaction.atomic
def share_revoke_group(
    *, document: Document, actor: AbstractBaseUser, group: Group, link_token: str | None = None
) -> None:
    """Stop sharing the document with a group."""
    _sharer(document, actor, link_token)
    document = _locked(document)
    if not _group_codenames(document, group):
        raise ValidationError(
            "The document isn’t shared with “%(name)s”.",
            code="not_shared",
            params={"name": group.name},
        )
    _set_group_perms(document, group, frozenset())
    events.access_changed(public_id=document.public_id)


@transaction.atomic
def link_set_mode(
    *,
    document: Document,
    actor: AbstractBaseUser,
    mode: LinkMode | str,
    regenerate: bool = False,
    link_token: str | None = None,
) -> Document:
    """Set who may open the document by its link; ``regenerate`` voids old links.

    Turning the link off, or on again, also makes a new token: a link that
    was turned off stays dead for everyone who had opened it (their sessions
    remember the old token), instead of coming back with the next "on".
    Switching between view, comment and edit keeps the token.
    """
    _sharer(document, actor, link_token)
    try:
        mode = LinkMode(mode)
    except ValueError:
        raise ValidationError(
            "Link sharing must be off, view, comment or edit.", code="invalid_link_mode"
        ) from None
    document = _locked(document)
    fields = []
    if document.link_mode != mode:
        # Off -> on also rotates, for rows turned off before off rotated.
        regenerate = regenerate or LinkMode.OFF in (document.link_mode, mode)
        document.link_mode = mode
        fields.append("link_mode")
    if regenerate:
        document.link_token = new_link_token()
        fields.append("link_token")
    if fields:
        document.save(update_fields=fields)
        events.access_changed(public_id=document.public_id)
    return document


@transaction.atomic
def ownership_transfer(
    *, document: Document, actor: AbstractBaseUser, identifier: str, link_token: str | None = None
) -> AbstractBaseUser:
    """Make someone else the owner; the previous owner stays on as an editor who can share."""
    _owner_only(document, actor, "transfer ownership", link_token)
    if document.is_trashed:
        raise ValidationError("Restore the document before transferring it.", code="trashed")
    target = user_find_for_sharing(identifier=identifier)
    if target.pk == document.owner_id:
        raise ValidationError("You already own this document.", code="self")
    document = _locked(document)
    previous = document.owner
    document.owner = target
    document.save(update_fields=["owner"])
    _set_user_perms(document, target, frozenset(ALL_PERMS))
    editor = Role(Role.EDITOR)  # the member, typed as a Role (see roles.role_from_perms)
    _set_user_perms(document, previous, perms_for(editor, can_share=True))
    events.access_changed(public_id=document.public_id)
    return target
