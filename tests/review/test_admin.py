"""The thread admin: find threads by document, remove an abusive message.

Failure modes: a removed message still shown to people (API or live), a
moderator's removal not reaching open sockets, staff without the
permission removing messages, a GET (a prefetch, a crawler) removing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from documents import services
from review.models import Message, Thread
from tests.review.conftest import ReviewWorld, send

pytestmark = pytest.mark.django_db

TID = "modmodmodmod0001"


@pytest.fixture
def moderator(django_user_model: Any) -> Client:
    """Return a client of staff who may view threads and change messages."""
    staff = django_user_model.objects.create_user(username="mod", password=None, is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="review",
            codename__in=["view_thread", "view_message", "change_message"],
        )
    )
    client = Client()
    client.force_login(staff)
    return client


def _thread(world: ReviewWorld, client: Client, body: str = "something abusive") -> dict:
    code, thread = send(client, "POST", world.url(), {"id": TID, "quote": "q", "body": body})
    assert code == 201, thread
    return thread


def test_threads_are_listed_per_document_with_their_messages(
    review_world: ReviewWorld, as_user: Callable[[str], Client], moderator: Client
) -> None:
    _thread(review_world, as_user("commenter"))
    other = services.document_create(owner=review_world.owner, title="Other")
    Thread.objects.create(document=other, public_id="otherotherother1")
    url = reverse("admin:review_thread_changelist")
    page = moderator.get(f"{url}?document__id__exact={review_world.doc.pk}")
    assert page.status_code == 200
    assert TID in page.content.decode() and "otherotherother1" not in page.content.decode()
    thread = Thread.objects.get(public_id=TID)
    detail = moderator.get(reverse("admin:review_thread_change", args=[thread.pk]))
    assert "something abusive" in detail.content.decode()
    assert "Remove message" in detail.content.decode()


def test_removing_a_message_hides_it_everywhere_and_tells_sockets(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    moderator: Client,
    review_events: list[tuple[str, dict]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    thread = _thread(review_world, as_user("commenter"))
    message = Message.objects.get()
    url = reverse("admin:review_message_remove", args=[message.pk])
    confirm = moderator.get(url)
    assert confirm.status_code == 200 and "something abusive" in confirm.content.decode()
    assert not Message.objects.get().is_removed  # a GET only asks
    with django_capture_on_commit_callbacks(execute=True):
        assert moderator.post(url).status_code == 302
    stored = Message.objects.get()
    assert stored.is_removed and stored.removed_by.username == "mod"
    assert stored.body == "something abusive"  # kept for moderators only
    (sent,) = [m for _, m in review_events if m["type"] == "doc.review"]
    shown = sent["payload"]["thread"]["messages"][0]
    assert shown["removed"] is True and shown["body"] == ""
    _, listing = send(as_user("viewer"), "GET", review_world.url())
    assert listing["threads"][0]["messages"][0] == {**shown}
    assert thread["messages"][0]["id"] == shown["id"]
    # Its author can no longer edit it back.
    path = review_world.url(f"threads/{TID}/messages/{stored.pk}")
    code, answer = send(as_user("commenter"), "PATCH", path, {"body": "innocent"})
    assert code == 403 and "moderator" in answer["error"]


def test_staff_without_the_permission_cannot_remove(
    review_world: ReviewWorld, as_user: Callable[[str], Client], django_user_model: Any
) -> None:
    _thread(review_world, as_user("commenter"))
    staff = django_user_model.objects.create_user(username="look", password=None, is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="review", codename="view_thread")
    )
    client = Client()
    client.force_login(staff)
    message = Message.objects.get()
    client.post(reverse("admin:review_message_remove", args=[message.pk]))
    assert not Message.objects.get().is_removed


def test_the_bulk_action_removes_selected_messages(
    review_world: ReviewWorld, as_user: Callable[[str], Client], moderator: Client
) -> None:
    _thread(review_world, as_user("commenter"))
    send(as_user("editor"), "POST", review_world.url(f"threads/{TID}/messages"), {"body": "ok"})
    first = Message.objects.order_by("id").first()
    assert first is not None
    response = moderator.post(
        reverse("admin:review_message_changelist"),
        {"action": "remove_messages", "_selected_action": [first.pk]},
    )
    assert response.status_code == 302
    assert [m.is_removed for m in Message.objects.order_by("id")] == [True, False]


def test_staff_deleting_a_thread_tells_the_open_sockets(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    django_user_model: Any,
    review_events: list[tuple[str, dict]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    _thread(review_world, as_user("commenter"))
    root = django_user_model.objects.create_superuser(username="root", password=None)
    client = Client()
    client.force_login(root)
    thread = Thread.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:review_thread_delete", args=[thread.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Thread.objects.exists() and not Message.objects.exists()
    payloads = [m["payload"] for _, m in review_events if m["type"] == "doc.review"]
    assert payloads == [{"event": "thread_removed", "id": TID}]
