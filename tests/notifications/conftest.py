"""Fixtures for the notifications tests: people around one document, and a
channel layer that records what reaches a user's sockets.

``cast`` is one document owned by Olivia and shared directly with an
editor, a commenter and a viewer, with a group ("team", editors) holding
Gus, and with a share link nobody needs; Stan is a stranger who only
opened that link, Ina an inactive user who once had a share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from guardian.shortcuts import assign_perm

from documents import events
from documents import services as documents_services
from documents.models import Document, LinkMode
from documents.roles import Role, perms_for
from notifications.mail import MailPause


@pytest.fixture(autouse=True)
def _mail_not_paused() -> Iterator[None]:
    """Start and end every test with the mail server considered reachable."""
    MailPause.clear()
    yield
    MailPause.clear()


@dataclass
class Cast:
    """One document and one user per way of relating to it."""

    owner: Any
    editor: Any
    commenter: Any
    viewer: Any
    member: Any  # editor through the group "team"
    stranger: Any  # opened the share link; no share
    inactive: Any  # had a viewer share, account disabled
    doc: Document

    @property
    def doc_url(self) -> str:
        """Return the document's page."""
        return reverse("documents:detail", args=[self.doc.public_id])


def grant(document: Document, who: Any, role: Role) -> None:
    """Give a user or group ``role`` directly (no signal: no notification)."""
    for perm in perms_for(role):
        assign_perm(perm, who, document)


@pytest.fixture
def make_user(django_user_model: Any) -> Callable[..., Any]:
    """Return a factory of active users with an email address and no password."""

    def make(username: str, **extra: Any) -> Any:
        extra.setdefault("email", f"{username}@example.com")
        return django_user_model.objects.create_user(username=username, password=None, **extra)

    return make


@pytest.fixture
def cast(db: None, make_user: Callable[..., Any]) -> Cast:
    """Return the document and its people (see the module docstring)."""
    owner = make_user("olivia", first_name="Olivia", last_name="Owner")
    doc = documents_services.document_create(owner=owner, title="Quarterly plan")
    Document.objects.filter(pk=doc.pk).update(link_mode=LinkMode.EDIT)
    doc.refresh_from_db()
    people = Cast(
        owner=owner,
        editor=make_user("eddie", first_name="Eddie"),
        commenter=make_user("connie"),
        viewer=make_user("vic"),
        member=make_user("gus"),
        stranger=make_user("stan"),
        inactive=make_user("ina", is_active=False),
        doc=doc,
    )
    grant(doc, people.editor, Role.EDITOR)
    grant(doc, people.commenter, Role.COMMENTER)
    grant(doc, people.viewer, Role.VIEWER)
    grant(doc, people.inactive, Role.VIEWER)
    team = Group.objects.create(name="team")
    people.member.groups.add(team)
    grant(doc, team, Role.EDITOR)
    return people


class UserLayer:
    """A channel layer that records the messages sent to users' sockets."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Record a ``user.<id>`` message as ``(id, message)``; ignore the rest."""
        kind, _, target = group.partition(".")
        if kind == "user":
            self.sent.append((int(target), message))

    def notified(self, user: Any) -> list[dict[str, Any]]:
        """Return the notify payloads sent to ``user``, in order."""
        return [
            message["payload"]
            for user_id, message in self.sent
            if user_id == user.pk and message["type"] == "user.notify"
        ]


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> UserLayer:
    """Record what reaches users' sockets (``documents.events`` sends it)."""
    recorder = UserLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: recorder)
    return recorder
