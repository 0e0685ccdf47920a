"""When the document's authority cannot change the content, nothing changes.

A thread delete removes the anchors first, through the live port; deciding
suggestions is only the port's change. These tests put a port in place
that refuses (storage down, no worker), or reports the document gone, and
check the answer is a clear 503 (or 404) and that no row changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from documents import live
from documents.live import AppliedChange, ServerChangeFailed
from documents.store import DocumentMissing
from notifications.models import Notification
from review.models import Decision, Message, Thread
from tests.review.conftest import ReviewWorld, send

pytestmark = pytest.mark.django_db

TID = "failfailfail0001"


class RefusingPort:
    """A live port that records each edit asked for and raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.edits: list[dict[str, Any]] = []

    def apply_edit(
        self, *, public_id: uuid.UUID, edit: dict[str, Any], user_id: int | None, user_name: str
    ) -> AppliedChange | None:
        self.edits.append(edit)
        raise self.error


@pytest.fixture
def install_port() -> Iterator[Callable[[Any], None]]:
    """Return ``install(port)``; the port in place before is put back after the test."""
    before = live.live_documents()

    def install(port: Any) -> None:
        live.install_live(port)

    yield install
    live.install_live(before)


def _thread(world: ReviewWorld, client: Client) -> None:
    code, _ = send(client, "POST", world.url(), {"id": TID, "quote": "q", "body": "first"})
    assert code == 201


def test_a_thread_stays_whole_when_its_anchors_cannot_be_removed(
    review_world: ReviewWorld, as_user: Callable[[str], Client], install_port: Any
) -> None:
    port = RefusingPort(ServerChangeFailed("storage is unavailable"))
    install_port(port)
    _thread(review_world, as_user("commenter"))
    code, answer = send(as_user("editor"), "DELETE", review_world.url(f"threads/{TID}"))
    assert code == 503 and "storage is unavailable" in answer["error"]
    assert port.edits == [{"kind": "uncomment", "threads": [TID]}]
    assert Thread.objects.filter(public_id=TID).exists()
    # Deleting the first message deletes the thread: the same road, the same refusal.
    first = Message.objects.get()
    path = review_world.url(f"threads/{TID}/messages/{first.pk}")
    assert send(as_user("commenter"), "DELETE", path)[0] == 503
    assert Message.objects.filter(pk=first.pk).exists()


def test_a_refused_decision_changes_nothing_and_notifies_no_one(
    review_world: ReviewWorld, as_user: Callable[[str], Client], install_port: Any
) -> None:
    port = RefusingPort(ServerChangeFailed("no server is serving documents right now"))
    install_port(port)
    mark = f"{review_world.commenter.pk}:lx3k9a1:abcd"
    code, answer = send(
        as_user("editor"),
        "POST",
        review_world.url("suggestions/decide"),
        {"accept": True, "ids": [mark]},
    )
    assert code == 503 and "no server" in answer["error"]
    assert port.edits == [{"kind": "decide", "accept": True, "ids": [mark], "author": None}]
    assert not Notification.objects.exists()


def test_a_document_gone_meanwhile_is_404(
    review_world: ReviewWorld, as_user: Callable[[str], Client], install_port: Any
) -> None:
    install_port(RefusingPort(DocumentMissing("gone")))
    code, answer = send(
        as_user("owner"),
        "POST",
        review_world.url("suggestions/decide"),
        {"accept": False, "all": True},
    )
    assert code == 404 and answer == {"error": "Document not found."}


def test_an_undo_the_authority_refuses_can_be_tried_again(
    review_world: ReviewWorld, as_user: Callable[[str], Client], install_port: Any
) -> None:
    port = RefusingPort(ServerChangeFailed("too much has changed since to undo that change"))
    install_port(port)
    record = Decision.objects.create(
        document=review_world.doc,
        revision=7,
        op_id="srv-7",
        actor=review_world.editor,
        accept=True,
        decided=2,
    )
    path = review_world.url("suggestions/undo")
    code, answer = send(as_user("editor"), "POST", path, {"revision": 7})
    assert code == 409 and "too much has changed" in answer["error"]
    assert port.edits == [{"kind": "revert", "revision": 7}]
    record.refresh_from_db()
    assert record.undone_at is None  # released: the next try is not "undone already"
    code, answer = send(as_user("editor"), "POST", path, {"revision": 7})
    assert code == 409


def test_who_may_undo_a_decision(
    review_world: ReviewWorld, as_user: Callable[[str], Client], install_port: Any
) -> None:
    port = RefusingPort(ServerChangeFailed("not reached"))
    install_port(port)
    Decision.objects.create(
        document=review_world.doc,
        revision=3,
        op_id="a",
        actor=review_world.commenter,
        accept=False,
        decided=1,
    )
    Decision.objects.create(
        document=review_world.doc,
        revision=4,
        op_id="b",
        actor=review_world.viewer,  # an editor then, a viewer now
        accept=True,
        decided=1,
    )
    path = review_world.url("suggestions/undo")
    assert send(as_user("editor"), "POST", path, {"revision": 3})[0] == 403
    assert send(as_user("viewer"), "POST", path, {"revision": 4})[0] == 403
    assert send(as_user("stranger"), "POST", path, {"revision": 3})[0] == 404
    assert port.edits == []
    # The commenter may undo her own rejection (it puts her own marks back).
    assert send(as_user("commenter"), "POST", path, {"revision": 3})[0] == 409
    assert port.edits == [{"kind": "revert", "revision": 3}]
