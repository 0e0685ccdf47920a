"""The bell's JSON API: the latest notifications, the unread count, marking read.

Failure modes covered: signed out (401), wrong method (405), a missing CSRF
token (403), bad query values and bad bodies (400, nothing changed),
someone else's notification ids (ignored: never read, never marked), a
bell left lit on the person's other pages (they are told what was read).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Kind, Notification
from tests.notifications.conftest import Cast, UserLayer

LIST = reverse("notifications:api_list")
READ = reverse("notifications:api_read")


def make(cast: Cast, recipient: Any, count: int) -> list[Notification]:
    """Store ``count`` replies for ``recipient``, oldest first."""
    return [
        Notification.objects.create(
            recipient=recipient,
            kind=Kind.REPLY,
            document=cast.doc,
            actor=cast.owner,
            text=f"Olivia replied ({n})",
            url=cast.doc_url,
        )
        for n in range(count)
    ]


def signed_in(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post(client: Client, body: Any) -> Any:
    return client.post(READ, json.dumps(body), content_type="application/json")


def test_the_latest_come_newest_first_with_the_unread_count(cast: Cast) -> None:
    mine = make(cast, cast.viewer, 3)
    make(cast, cast.editor, 2)  # someone else's
    answer = signed_in(cast.viewer).get(LIST).json()
    assert [item["id"] for item in answer["notifications"]] == [n.pk for n in reversed(mine)]
    assert answer["unread"] == 3
    first = answer["notifications"][0]
    assert set(first) == {"id", "kind", "text", "url", "document", "actor", "created_at", "read"}
    assert first["text"] == "Olivia replied (2)" and first["read"] is False


def test_limit_and_before_page_through_the_list(cast: Cast) -> None:
    mine = make(cast, cast.viewer, 5)
    client = signed_in(cast.viewer)
    first = client.get(LIST, {"limit": 2}).json()["notifications"]
    assert [item["id"] for item in first] == [mine[4].pk, mine[3].pk]
    rest = client.get(LIST, {"limit": 50, "before": first[-1]["id"]}).json()["notifications"]
    assert [item["id"] for item in rest] == [mine[2].pk, mine[1].pk, mine[0].pk]
    assert len(client.get(LIST, {"limit": 999}).json()["notifications"]) == 5


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "-3"}, {"limit": "x"}, {"limit": "²"}, {"before": "1e3"}],
)
def test_bad_query_values_are_refused(cast: Cast, query: dict[str, str]) -> None:
    response = signed_in(cast.viewer).get(LIST, query)
    assert response.status_code == 400
    assert "positive whole number" in response.json()["error"]


def test_marking_some_read_leaves_others_and_other_peoples_alone(cast: Cast) -> None:
    mine = make(cast, cast.viewer, 3)
    theirs = make(cast, cast.editor, 1)
    client = signed_in(cast.viewer)
    answer = post(client, {"ids": [mine[0].pk, mine[2].pk, theirs[0].pk, 987654]}).json()
    assert answer == {"marked": 2, "unread": 1}
    read = set(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True))
    assert read == {mine[0].pk, mine[2].pk}
    # Marking again changes nothing and says so.
    assert post(client, {"ids": [mine[0].pk]}).json() == {"marked": 0, "unread": 1}


def test_marking_all_read(cast: Cast) -> None:
    make(cast, cast.viewer, 3)
    make(cast, cast.editor, 1)
    client = signed_in(cast.viewer)
    assert post(client, {"all": True}).json() == {"marked": 3, "unread": 0}
    assert client.get(LIST).json()["unread"] == 0
    assert Notification.objects.filter(recipient=cast.editor, read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": "1"},
        {"ids": [1, "2"]},
        {"ids": [True]},
        {"ids": [1.5]},
        {"all": False},
        {"all": "yes"},
        {"all": True, "ids": [1]},
        {"ids": list(range(1, 502))},
        [1, 2],
        "all",
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(cast: Cast, body: Any) -> None:
    make(cast, cast.viewer, 2)
    response = post(signed_in(cast.viewer), body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_a_body_that_is_not_json_is_refused(cast: Cast) -> None:
    response = signed_in(cast.viewer).post(READ, "{ids:", content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]


def test_signed_out_wrong_method_and_missing_csrf(cast: Cast) -> None:
    make(cast, cast.viewer, 1)
    assert Client().get(LIST).status_code == 401
    assert Client().post(READ, "{}", content_type="application/json").status_code == 401
    assert signed_in(cast.viewer).get(READ).status_code == 405
    assert signed_in(cast.viewer).post(LIST).status_code == 405
    strict = signed_in(cast.viewer, enforce_csrf_checks=True)
    assert post(strict, {"all": True}).status_code == 403
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_ids_past_the_databases_range_match_nothing(cast: Cast) -> None:
    make(cast, cast.viewer, 1)
    client = signed_in(cast.viewer)
    huge = 10**20
    assert client.get(LIST, {"before": str(huge)}).json()["notifications"] != []
    assert post(client, {"ids": [huge]}).json() == {"marked": 0, "unread": 1}
    assert client.get(reverse("notifications:open", args=[huge])).status_code == 404


def test_marking_read_tells_the_persons_other_pages_after_commit(
    cast: Cast, layer: UserLayer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mine = make(cast, cast.viewer, 3)
    client = signed_in(cast.viewer)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, {"ids": [mine[1].pk, 987654]})
    with django_capture_on_commit_callbacks(execute=True):
        post(client, {"ids": [mine[1].pk]})  # nothing changes: nothing to tell
    with django_capture_on_commit_callbacks(execute=True):
        post(client, {"all": True})
    assert layer.notified(cast.viewer) == [
        {"read": [mine[1].pk], "unread": 2},
        {"read": "all", "unread": 0},
    ]
    assert layer.notified(cast.editor) == []
