"""Every way of losing access reaches the open sockets: the signal receivers.

The services announce the changes they make (sharing, trash, titles) through
:mod:`documents.events`. Access also changes outside them: in the admin (groups,
``is_active``, object permissions, passwords, deleting users and groups), on
logout, on a password change, and when a session is deleted. These receivers
turn each of those into one :mod:`documents.events` message, which it
sends after the transaction commits:

* ``user.access_changed`` to the users concerned (for a group: its members),
  whose sockets re-check their session and access (realtime.access);
* ``doc.access_changed`` to a document whose object permissions changed
  for a group (its members may be many; the document's sockets are few);
* ``user.access_changed`` with ``ended_session`` on logout or when a
  session is deleted: sockets opened with it close 4401 at once.

Bulk queryset deletes send ``post_delete`` per row once a receiver is
connected (Django's collector then skips the fast path), so clearing
permissions in bulk is covered too. ``QuerySet.update`` sends nothing: the
sockets' re-check on their next op (``ACCESS_RECHECK_SECONDS``) covers it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.models import Session
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from documents import events
from documents.models import Document

logger = logging.getLogger(__name__)

#: Attribute where a group's members are kept between pre_ and post_ signals.
_MEMBERS_ATTR = "_revocation_members"


def _notify_users(user_ids: Iterable[Any], *, ended_session: str | None = None) -> None:
    ids = sorted({int(pk) for pk in user_ids if pk is not None})
    if ids or ended_session is not None:
        events.users_access_changed(ids, ended_session=ended_session)


def _members(group: Group) -> list[int]:
    return list(group.user_set.values_list("pk", flat=True))


def _user_saved(
    sender: Any,
    instance: Any,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    # is_active, is_staff, the password (its hash signs other sessions
    # out): any of them may end a socket; the re-check is cheap. A login
    # only stamps last_login, which changes nobody's access.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    _notify_users([instance.pk])


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _notify_users([instance.pk])


def _groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    """Handle ``user.groups`` (forward) and ``group.user_set`` (reverse) changes."""
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            _notify_users([instance.pk])
        return
    if action == "pre_clear":
        setattr(instance, _MEMBERS_ATTR, _members(instance))
    elif action == "post_clear":
        _notify_users(getattr(instance, _MEMBERS_ATTR, []))
    elif action in ("post_add", "post_remove"):
        _notify_users(pk_set or [])


def _group_deleting(sender: Any, instance: Group, **kwargs: Any) -> None:
    setattr(instance, _MEMBERS_ATTR, _members(instance))


def _group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
    _notify_users(getattr(instance, _MEMBERS_ATTR, []))


def _user_permission_changed(sender: Any, instance: UserObjectPermission, **kwargs: Any) -> None:
    _notify_users([instance.user_id])


def _group_permission_changed(sender: Any, instance: GroupObjectPermission, **kwargs: Any) -> None:
    if instance.content_type.model_class() is not Document:
        return
    public_id = (
        Document.objects.filter(pk=instance.object_pk).values_list("public_id", flat=True).first()
    )
    if public_id is not None:
        # Once per document and transaction, with the service's own notice.
        events.access_changed(public_id=public_id)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Sent before the session is flushed: name the session, so its
    # sockets close without racing the flush.
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if user is not None and key:
        _notify_users([user.pk], ended_session=events.session_tag(key))


def _session_deleted(sender: Any, instance: Session, **kwargs: Any) -> None:
    if instance.expire_date <= timezone.now():
        return  # already expired: its sockets stopped at their next op
    try:
        user_pk = instance.get_decoded().get("_auth_user_id")
    except Exception:  # noqa: BLE001 - undecodable data logs nobody in
        return
    if user_pk is not None:
        _notify_users([user_pk], ended_session=events.session_tag(instance.session_key))


def connect() -> None:
    """Connect the receivers (called once from ``DocumentsConfig.ready``)."""
    user_model = get_user_model()
    uid = "documents.revocation"
    post_save.connect(_user_saved, sender=user_model, dispatch_uid=f"{uid}.user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid=f"{uid}.user_deleted")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid=f"{uid}.groups"
    )
    pre_delete.connect(_group_deleting, sender=Group, dispatch_uid=f"{uid}.group_deleting")
    post_delete.connect(_group_deleted, sender=Group, dispatch_uid=f"{uid}.group_deleted")
    for signal in (post_save, post_delete):
        signal.connect(
            _user_permission_changed,
            sender=UserObjectPermission,
            dispatch_uid=f"{uid}.uop.{id(signal)}",
        )
        signal.connect(
            _group_permission_changed,
            sender=GroupObjectPermission,
            dispatch_uid=f"{uid}.gop.{id(signal)}",
        )
    user_logged_out.connect(_logged_out, dispatch_uid=f"{uid}.logged_out")
    post_delete.connect(_session_deleted, sender=Session, dispatch_uid=f"{uid}.session")
