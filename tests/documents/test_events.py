"""documents.events: what reaches the channel layer, and when.

Failure modes covered: a rolled-back transaction sends nothing; an access
change superseded by the document's removal in the same transaction is not
sent; notifications of one transaction are sent once per document; and
outside a transaction each is sent at once (autocommit: already committed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from documents import events


class Layer:
    """A channel layer that records every group message."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Record one message."""
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> Layer:
    recorder = Layer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: recorder)
    return recorder


DOC = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_is_sent_at_once(layer: Layer) -> None:
    events.title_changed(public_id=DOC, title="Plans")
    events.access_changed(public_id=DOC)
    events.document_removed(public_id=DOC)
    events.users_access_changed([3, 2, 3], ended_session="tag")
    assert layer.sent == [
        (f"doc.{DOC}", {"type": "doc.title", "title": "Plans"}),
        (f"doc.{DOC}", {"type": "doc.access_changed"}),
        (f"doc.{DOC}", {"type": "doc.removed"}),
        ("user.2", {"type": "user.access_changed", "ended_session": "tag"}),
        ("user.3", {"type": "user.access_changed", "ended_session": "tag"}),
    ]


@pytest.mark.django_db
def test_nothing_is_sent_before_the_commit_and_all_of_it_after(
    layer: Layer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.title_changed(public_id=DOC, title="Plans")
        events.users_access_changed([5])
        # The same document twice in one transaction: one notice.
        events.access_changed(public_id=DOC)
        events.access_changed(public_id=str(DOC))
        assert layer.sent == []
    assert layer.sent == [
        (f"doc.{DOC}", {"type": "doc.title", "title": "Plans"}),
        ("user.5", {"type": "user.access_changed"}),
        (f"doc.{DOC}", {"type": "doc.access_changed"}),
    ]


@pytest.mark.django_db
def test_an_access_change_before_the_removal_is_not_sent(
    layer: Layer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.access_changed(public_id=DOC)
        events.document_removed(public_id=DOC)
    assert layer.sent == [(f"doc.{DOC}", {"type": "doc.removed"})]


@pytest.mark.django_db
def test_a_rolled_back_transaction_sends_nothing(
    layer: Layer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        events.title_changed(public_id=DOC, title="Plans")
        events.access_changed(public_id=DOC)
        events.document_removed(public_id=DOC)
        events.users_access_changed([5])
        raise RuntimeError("rolled back")
    assert callbacks == [] and layer.sent == []
