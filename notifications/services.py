"""Writes: make a notification, mark notifications read, set the email choice.

:func:`notify` is the one way to tell a person something happened. It is
called by other apps' services (sharing, comments, decided suggestions)
inside their transaction, and everything it causes outside the database
happens only once that transaction commits:

* the live push to the recipient's open sockets
  (:func:`documents.events.notify_user`, frame ``{"type": "notify",
  "notification": {...}, "unread": n}``; marking read pushes
  ``{"type": "notify", "read": [ids] | "all", "unread": n}``);
* the email, if the recipient's choice asks for it
  (:mod:`notifications.mail`).

A rolled-back change therefore notifies no one, and a failing mail server
or channel layer never fails the change (both log and carry on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from documents import events
from documents.models import Document
from documents.selectors import document_access
from notifications.mail import send_notification_email
from notifications.models import (
    TEXT_MAX_LENGTH,
    URL_MAX_LENGTH,
    EmailChoice,
    Kind,
    Notification,
    NotificationSetting,
)
from notifications.payloads import notification_json
from notifications.selectors import notification_unread_count

#: A path on this site: one leading slash (never ``//host``), no backslash,
#: whitespace or control characters.
_SITE_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    if len(line) > TEXT_MAX_LENGTH:
        line = line[: TEXT_MAX_LENGTH - 1].rstrip() + "…"
    return line


def notify(
    *,
    recipient: AbstractBaseUser,
    kind: Kind | str,
    document: Document,
    actor: AbstractBaseUser | None,
    text: str,
    url: str,
) -> Notification | None:
    """Tell ``recipient`` that ``actor`` did something on ``document``.

    ``text`` is one line for the recipient, naming who did what, e.g.
    ``Alice mentioned you in “Plan”: can you check the figures?`` (white
    space is collapsed; it is cut to 300 characters). ``url`` is the path on
    this site that shows the place, e.g. ``/d/<id>/#thread-<tid>``.

    Return None, and store and send nothing, when the recipient is the
    actor, is inactive, or cannot view the document (owner, person or group
    share; a share link does not count). Otherwise store the notification
    and, after commit, push it to the recipient's sockets and email it
    (per their choice). Raise :class:`ValueError` for a kind that is not a
    :class:`Kind`, empty text, or a url that is not a path on this site:
    those are the caller's bugs, not the recipient's problem.
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    line = _one_line(text)
    if not line:
        raise ValueError("a notification needs text")
    if len(url) > URL_MAX_LENGTH or not _SITE_PATH.fullmatch(url):
        raise ValueError(f"notification url {url[:80]!r} is not a path on this site")
    if actor is not None and actor.pk == recipient.pk:
        return None
    if not recipient.is_active:
        return None
    if not document_access(user=recipient, document=document).can_view:
        return None

    notification = Notification.objects.create(
        recipient=recipient, kind=kind, document=document, actor=actor, text=line, url=url
    )
    payload = {
        "notification": notification_json(notification),
        "unread": notification_unread_count(user=recipient),
    }
    events.notify_user(user_id=recipient.pk, payload=payload)
    transaction.on_commit(partial(send_notification_email, notification.pk))
    return notification


def notification_mark_read(*, user: AbstractBaseUser, ids: Iterable[int] | None) -> int:
    """Mark the user's notifications with these ids read (all of them if None).

    Ids that are not the user's unread notifications are ignored (already
    read, someone else's, or gone with their document). Return how many
    changed. When some did, the user's other open pages hear it after
    commit (``{"read": [ids] | "all", "unread": n}`` on their sockets), so
    a bell read in one tab does not stay lit in another.
    """
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    read: list[int] | str = "all"
    if ids is not None:
        read = list(unread.filter(pk__in=list(ids)).values_list("pk", flat=True))
        unread = unread.filter(pk__in=read)
    marked = unread.update(read_at=timezone.now())
    if marked:
        payload = {"read": read, "unread": notification_unread_count(user=user)}
        events.notify_user(user_id=user.pk, payload=payload)
    return marked


def notification_setting_set(*, user: AbstractBaseUser, email: EmailChoice | str) -> EmailChoice:
    """Set which notifications ``user`` also gets by email; return the choice.

    Raise :class:`ValidationError` for a value that is not an
    :class:`EmailChoice`.
    """
    if email not in EmailChoice.values:
        raise ValidationError(
            "Choose all, mentions or none.", code="invalid_choice", params={"value": email}
        )
    choice = EmailChoice(email)
    NotificationSetting.objects.update_or_create(user=user, defaults={"email": choice})
    return choice
