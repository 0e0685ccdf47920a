"""Fixtures for the documents tests: people, a shared document, sign-in as anyone.

``world`` builds one document owned by ``owner`` and shared every way the
product allows, so each test can act as any persona of the permission
matrix (see ``PERSONAS``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from documents import events as documents_events
from documents import services
from documents.models import Document, LinkMode
from documents.roles import Role

PERSONAS = (
    "anonymous",
    "stranger",
    "viewer",
    "editor",
    "sharer",
    "owner",
    "link_viewer",
    "link_editor",
    "group_member",
    "commenter",
    "link_commenter",
    "group_commenter",
    "staff",
    "superuser",
)


@dataclass
class World:
    """A document and one user per way of relating to it."""

    owner: Any
    viewer: Any
    editor: Any
    sharer: Any
    stranger: Any
    linker: Any
    member: Any
    commenter: Any  # a commenter by a direct share
    team_commenter: Any  # a commenter through the group "reviewers"
    staff: Any
    superuser: Any
    target: Any  # a viewer the matrix changes and removes
    newcomer: Any  # someone with no access, to share with
    group: Group  # "team": editors, with ``member`` in it
    other_group: Group  # "outsiders": not shared yet
    reviewers: Group  # "reviewers": commenters, with ``team_commenter`` in it
    doc: Document

    def refresh(self) -> Document:
        """Reload and return the document."""
        self.doc.refresh_from_db()
        return self.doc


@pytest.fixture
def make_user(django_user_model: Any) -> Callable[..., Any]:
    """Return a factory of active users with an email address and no password."""

    def make(username: str, **extra: Any) -> Any:
        extra.setdefault("email", f"{username}@example.com")
        return django_user_model.objects.create_user(username=username, password=None, **extra)

    return make


@pytest.fixture
def world(db: None, make_user: Callable[..., Any]) -> World:
    """Return a document shared with a viewer, an editor, a sharer and a group."""
    owner = make_user("owner", first_name="Olivia", last_name="Owner")
    staff = make_user("staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="documents",
            codename__in=[
                "view_document",
                "change_document",
                "view_documentversion",
                "view_operation",
            ],
        )
    )
    world = World(
        owner=owner,
        viewer=make_user("viewer"),
        editor=make_user("editor"),
        sharer=make_user("sharer"),
        stranger=make_user("stranger"),
        linker=make_user("linker"),
        member=make_user("member"),
        commenter=make_user("commenter"),
        team_commenter=make_user("reviewer"),
        staff=staff,
        superuser=make_user("root", is_staff=True, is_superuser=True),
        target=make_user("target"),
        newcomer=make_user("newcomer"),
        group=Group.objects.create(name="team"),
        other_group=Group.objects.create(name="outsiders"),
        reviewers=Group.objects.create(name="reviewers"),
        doc=services.document_create(owner=owner, title="Quarterly plan"),
    )
    world.member.groups.add(world.group)
    world.team_commenter.groups.add(world.reviewers)
    doc = world.doc
    services.share_grant(document=doc, actor=owner, identifier="viewer", role=Role.VIEWER)
    services.share_grant(document=doc, actor=owner, identifier="editor", role=Role.EDITOR)
    services.share_grant(
        document=doc, actor=owner, identifier="sharer", role=Role.EDITOR, can_share=True
    )
    services.share_grant(document=doc, actor=owner, identifier="target", role=Role.VIEWER)
    services.share_grant(document=doc, actor=owner, identifier="commenter", role=Role.COMMENTER)
    services.share_with_group(document=doc, actor=owner, group_name="team", role=Role.EDITOR)
    services.share_with_group(
        document=doc, actor=owner, group_name="reviewers", role=Role.COMMENTER
    )
    world.refresh()
    return world


def open_link(client: Client, document: Document) -> None:
    """Open the document's share link with ``client`` (remembers the token)."""
    url = reverse("documents:detail", args=[document.public_id])
    response = client.get(f"{url}?key={document.link_token}")
    assert response.status_code == 302, response.content[:500]


def persona_user(world: World, persona: str) -> Any:
    """Return the user a persona signs in as (None for ``anonymous``)."""
    if persona == "anonymous":
        return None
    if persona.startswith("link_"):
        return world.linker
    named = {"group_member": world.member, "group_commenter": world.team_commenter}
    return named.get(persona) or getattr(world, persona)


def client_as(world: World, persona: str, *, client: Client | None = None) -> Client:
    """Return a client signed in as ``persona`` (link personas open the link)."""
    client = client or Client()
    if persona == "anonymous":
        return client
    link_modes = {
        "link_viewer": LinkMode.VIEW,
        "link_commenter": LinkMode.COMMENT,
        "link_editor": LinkMode.EDIT,
    }
    if persona in link_modes:
        mode = link_modes[persona]
        Document.objects.filter(pk=world.doc.pk).update(link_mode=mode)
        world.refresh()
        client.force_login(world.linker)
        open_link(client, world.doc)
        return client
    client.force_login(persona_user(world, persona))
    return client


@pytest.fixture
def login(world: World) -> Callable[..., Client]:
    """Return ``login(persona)`` giving a signed-in client."""
    return lambda persona, **kwargs: client_as(world, persona, **kwargs)


#: What each document message on the channel layer is called in ``events``.
_DOC_MESSAGE_NAMES = {
    "doc.access_changed": "access_changed",
    "doc.removed": "document_removed",
    "doc.title": "title_changed",
}


class _RecordingLayer:
    """A channel layer that records the document messages sent to it."""

    def __init__(self, sent: list[tuple[str, dict]]) -> None:
        self.sent = sent

    async def group_send(self, group: str, message: dict) -> None:
        """Record a ``doc.<id>`` message as ``(name, {"public_id": id, ...})``."""
        kind, _, target = group.partition(".")
        if kind != "doc":
            return  # user.<id> messages: revocation's tests cover those
        fields = {key: value for key, value in message.items() if key != "type"}
        self.sent.append(
            (_DOC_MESSAGE_NAMES[message["type"]], {"public_id": uuid.UUID(target), **fields})
        )


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict]]]:
    """Record the document notifications that reach the channel layer (after commit)."""
    sent: list[tuple[str, dict]] = []
    layer = _RecordingLayer(sent)
    monkeypatch.setattr(documents_events, "get_channel_layer", lambda: layer)
    yield sent
