"""Fixtures for the review tests: one document, one person per role, their clients.

``review_world`` makes a document owned by ``owner`` and shared with an
editor, a commenter and a viewer; ``stranger`` has no access and ``linker``
reaches it only through its share link (see :func:`link_client`). Events
sent to sockets are recorded by ``review_events``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents import events as documents_events
from documents import services
from documents.models import Document, LinkMode
from documents.roles import Role

ROLES = ("owner", "editor", "commenter", "viewer", "stranger", "linker")


@dataclass
class ReviewWorld:
    """A document and one user per way of relating to it."""

    owner: Any
    editor: Any
    commenter: Any
    viewer: Any
    stranger: Any
    linker: Any
    doc: Document

    def url(self, tail: str = "threads") -> str:
        """Return the path of a review endpoint of the document."""
        return f"/api/docs/{self.doc.public_id}/{tail}"


@pytest.fixture
def review_world(django_user_model: Any) -> ReviewWorld:
    """Return a document shared with an editor, a commenter and a viewer."""

    def make(username: str, **extra: Any) -> Any:
        extra.setdefault("email", f"{username}@example.com")
        return django_user_model.objects.create_user(username=username, password=None, **extra)

    owner = make("olivia", first_name="Olivia", last_name="Owner")
    world = ReviewWorld(
        owner=owner,
        editor=make("eddie"),
        commenter=make("carla", first_name="Carla"),
        viewer=make("victor"),
        stranger=make("sam"),
        linker=make("lina"),
        doc=services.document_create(owner=owner, title="Plan"),
    )
    for user, role in (
        (world.editor, Role.EDITOR),
        (world.commenter, Role.COMMENTER),
        (world.viewer, Role.VIEWER),
    ):
        services.share_grant(document=world.doc, actor=owner, identifier=user.username, role=role)
    return world


def link_client(world: ReviewWorld, mode: LinkMode) -> Client:
    """Return ``linker``'s client after opening the share link in ``mode``."""
    Document.objects.filter(pk=world.doc.pk).update(link_mode=mode)
    world.doc.refresh_from_db()
    client = Client()
    client.force_login(world.linker)
    path = reverse("documents:detail", args=[world.doc.public_id])
    response = client.get(f"{path}?key={world.doc.link_token}")
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture
def as_user(review_world: ReviewWorld) -> Callable[[str], Client]:
    """Return ``as_user(role)``: a client signed in as that person."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(getattr(review_world, role))
        return client

    return make


def send(client: Client, method: str, path: str, body: Any = None) -> tuple[int, dict]:
    """Send JSON with ``method``; return ``(status, decoded answer)``."""
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    response = getattr(client, method.lower())(path, **kwargs)
    return response.status_code, json.loads(response.content or b"{}")


class _RecordingLayer:
    """A channel layer that records every group message."""

    def __init__(self, sent: list[tuple[str, dict]]) -> None:
        self.sent = sent

    async def group_send(self, group: str, message: dict) -> None:
        self.sent.append((group, message))


@pytest.fixture
def review_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict]]]:
    """Record what reaches the channel layer (after commit) as ``(group, message)``."""
    sent: list[tuple[str, dict]] = []
    layer = _RecordingLayer(sent)
    monkeypatch.setattr(documents_events, "get_channel_layer", lambda: layer)
    yield sent
