"""The threads API over HTTP, for every role: who may do what, and bad input.

Failure modes covered: a stranger learning a document or thread exists
(404 like a missing document), a viewer or view-link visitor commenting
(403 naming why), anonymous callers (401), forged requests without the CSRF
token, malformed or oversized input (400, nothing stored), someone editing
or deleting another person's message, lost live events, and notifications
reaching people who cannot see the document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from documents.models import LinkMode
from notifications.models import Notification
from review.models import Message, Thread
from tests.review.conftest import ReviewWorld, link_client, send

pytestmark = pytest.mark.django_db

TID = "abcdefghij012345"


def start(client: Client, world: ReviewWorld, tid: str = TID, body: str = "Is this right?"):
    """Start a thread as ``client``; return ``(status, answer)``."""
    return send(client, "POST", world.url(), {"id": tid, "quote": "the plan", "body": body})


# -- reading -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("editor", 200), ("commenter", 200), ("viewer", 200), ("stranger", 404)],
)
def test_threads_are_listed_to_everyone_who_can_view_and_hidden_from_strangers(
    review_world: ReviewWorld, as_user: Callable[[str], Client], role: str, status: int
) -> None:
    assert start(as_user("commenter"), review_world)[0] == 201
    code, answer = send(as_user(role), "GET", review_world.url())
    assert code == status
    if status == 200:
        (thread,) = answer["threads"]
        assert thread["id"] == TID and thread["quote"] == "the plan"
        assert thread["created_by"]["name"] == "Carla"
        assert [m["body"] for m in thread["messages"]] == ["Is this right?"]
        assert thread["resolved"] is False and thread["resolved_by"] is None
    else:
        assert answer == {"error": "Document not found."}


def test_an_anonymous_caller_is_asked_to_sign_in(review_world: ReviewWorld) -> None:
    assert send(Client(), "GET", review_world.url())[0] == 401
    assert start(Client(), review_world)[0] == 401
    assert not Thread.objects.exists()


def test_a_link_visitor_reads_with_the_link_and_not_without(review_world: ReviewWorld) -> None:
    without = Client()
    without.force_login(review_world.linker)
    assert send(without, "GET", review_world.url())[0] == 404
    assert send(link_client(review_world, LinkMode.VIEW), "GET", review_world.url())[0] == 200


# -- starting a thread -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("editor", 201), ("commenter", 201), ("viewer", 403), ("stranger", 404)],
)
def test_commenters_and_editors_start_threads_viewers_may_not(
    review_world: ReviewWorld, as_user: Callable[[str], Client], role: str, status: int
) -> None:
    code, answer = start(as_user(role), review_world)
    assert code == status, answer
    assert Thread.objects.filter(public_id=TID).exists() == (status == 201)
    if status == 403:
        assert "not comment" in answer["error"]


@pytest.mark.parametrize(
    ("mode", "status"), [(LinkMode.VIEW, 403), (LinkMode.COMMENT, 201), (LinkMode.EDIT, 201)]
)
def test_a_link_grants_commenting_only_in_comment_and_edit_modes(
    review_world: ReviewWorld, mode: LinkMode, status: int
) -> None:
    code, answer = start(link_client(review_world, mode), review_world)
    assert code == status, answer


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": "SHOUTING12345", "body": "x"}, "thread id"),
        ({"id": "short", "body": "x"}, "thread id"),
        ({"id": TID + "\n", "body": "x"}, "thread id"),
        ({"id": TID}, "message must be text"),
        ({"id": TID, "body": "   "}, "Write something"),
        ({"id": TID, "body": "x" * 10_001}, "at most 10000"),
        ({"id": TID, "body": "ok", "quote": "q" * 1001}, "at most 1000"),
        ({"id": TID, "body": "ok", "quote": 7}, "quote must be text"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_stores_nothing(
    review_world: ReviewWorld, as_user: Callable[[str], Client], body: Any, message: str
) -> None:
    code, answer = send(as_user("commenter"), "POST", review_world.url(), body)
    assert code == 400
    assert message in answer["error"]
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_an_empty_or_broken_body_is_refused(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    client = as_user("commenter")
    empty = client.post(review_world.url(), data=b"", content_type="application/json")
    assert empty.status_code == 400 and "no body" in empty.json()["error"]
    broken = client.post(review_world.url(), data=b"{", content_type="application/json")
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    huge = client.post(
        review_world.url(),
        data=json.dumps({"id": TID, "body": "x" * 70_000}),
        content_type="application/json",
    )
    assert huge.status_code == 400 and "too large" in huge.json()["error"]


def test_a_thread_id_is_taken_once_per_document(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    assert start(as_user("commenter"), review_world)[0] == 201
    code, answer = start(as_user("editor"), review_world, body="mine now")
    assert code == 400 and "already exists" in answer["error"]
    assert list(Message.objects.values_list("body", flat=True)) == ["Is this right?"]


def test_a_request_without_the_csrf_token_is_refused(review_world: ReviewWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(review_world.commenter)
    response = client.post(
        review_world.url(),
        data=json.dumps({"id": TID, "body": "hi"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Thread.objects.exists()


def test_other_methods_are_refused(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    response = as_user("editor").put(review_world.url())
    assert response.status_code == 405 and response["Allow"] == "GET, POST"


# -- replies, edits, deletes ----------------------------------------------------


def test_replies_edits_and_deletes_follow_ownership(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    commenter, editor, viewer = as_user("commenter"), as_user("editor"), as_user("viewer")
    start(commenter, review_world)
    thread_url = review_world.url(f"threads/{TID}")
    code, answer = send(editor, "POST", f"{thread_url}/messages", {"body": "Yes, it is."})
    assert code == 201
    first, reply = answer["messages"]
    assert reply["author"]["name"] == "eddie" and reply["body"] == "Yes, it is."
    assert send(viewer, "POST", f"{thread_url}/messages", {"body": "me too"})[0] == 403

    reply_url = f"{thread_url}/messages/{reply['id']}"
    code, answer = send(commenter, "PATCH", reply_url, {"body": "forged"})
    assert code == 403 and "your own" in answer["error"]
    code, answer = send(editor, "PATCH", reply_url, {"body": "Yes, it is right."})
    assert code == 200
    assert answer["messages"][1]["body"] == "Yes, it is right."
    assert answer["messages"][1]["edited_at"] is not None
    assert send(editor, "PATCH", reply_url, {"body": ""})[0] == 400

    assert send(commenter, "DELETE", reply_url)[0] == 403
    code, answer = send(editor, "DELETE", reply_url)
    assert code == 200 and [m["id"] for m in answer["messages"]] == [first["id"]]
    assert send(editor, "DELETE", reply_url)[0] == 404


def test_unknown_threads_and_messages_are_404(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    commenter = as_user("commenter")
    start(commenter, review_world)
    for path, method, body in [
        ("threads/zzzzzzzzzzzzzzzz/messages", "POST", {"body": "hi"}),
        ("threads/NOT-AN-ID/resolve", "POST", None),
        (f"threads/{TID}/messages/999999", "PATCH", {"body": "x"}),
    ]:
        code, answer = send(commenter, method, review_world.url(path), body)
        assert code == 404, (path, answer)
        assert "doesn’t exist" in answer["error"]


def test_resolve_and_reopen(review_world: ReviewWorld, as_user: Callable[[str], Client]) -> None:
    start(as_user("editor"), review_world)
    url = review_world.url(f"threads/{TID}")
    assert send(as_user("viewer"), "POST", f"{url}/resolve")[0] == 403
    code, answer = send(as_user("commenter"), "POST", f"{url}/resolve")
    assert code == 200 and answer["resolved"] is True
    assert answer["resolved_by"]["name"] == "Carla" and answer["resolved_at"]
    code, answer = send(as_user("owner"), "POST", f"{url}/reopen")
    assert code == 200 and answer["resolved"] is False and answer["resolved_by"] is None
    send(as_user("commenter"), "POST", f"{url}/resolve")
    # A reply re-opens a resolved thread: the conversation goes on.
    code, answer = send(as_user("owner"), "POST", f"{url}/messages", {"body": "Not yet"})
    assert code == 201 and answer["resolved"] is False


# -- mentions and notifications -------------------------------------------------


def _notices(user: Any) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "url")
    )


def test_mentions_notify_only_people_who_can_see_the_document(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    link_client(review_world, LinkMode.VIEW)  # lina opened the link: still not mentionable
    body = "@Victor. please check; @sam and @lina too; mail eddie@example.com"
    code, answer = start(as_user("commenter"), review_world, body=body)
    assert code == 201, answer
    url = f"/d/{review_world.doc.public_id}/#thread-{TID}"
    assert _notices(review_world.viewer) == [("mention", url)]
    for outsider in (review_world.stranger, review_world.linker, review_world.editor):
        assert _notices(outsider) == []
    message = Message.objects.get()
    assert [u.username for u in message.mentions.all()] == ["victor"]


def test_a_reply_notifies_earlier_participants_once_each(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    start(as_user("commenter"), review_world)
    url = review_world.url(f"threads/{TID}/messages")
    send(as_user("viewer"), "POST", url, {"body": "viewers cannot"})
    send(as_user("editor"), "POST", url, {"body": "first reply"})
    assert _notices(review_world.commenter) == [
        ("reply", f"/d/{review_world.doc.public_id}/#thread-{TID}")
    ]
    # The owner mentions the commenter: a mention, not a second notice as a reply.
    send(as_user("owner"), "POST", url, {"body": "@carla see eddie's answer"})
    assert [kind for kind, _ in _notices(review_world.commenter)] == ["reply", "mention"]
    assert [kind for kind, _ in _notices(review_world.editor)] == ["reply"]
    assert _notices(review_world.owner) == []  # the actor hears nothing of their own


def test_an_edit_notifies_only_people_newly_mentioned(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    _, thread = start(as_user("commenter"), review_world, body="@victor look")
    path = review_world.url(f"threads/{TID}/messages/{thread['messages'][0]['id']}")
    send(as_user("commenter"), "PATCH", path, {"body": "@victor look, @eddie too"})
    assert [kind for kind, _ in _notices(review_world.viewer)] == ["mention"]
    assert [kind for kind, _ in _notices(review_world.editor)] == ["mention"]


# -- live events ------------------------------------------------------------------


def test_every_change_reaches_the_documents_sockets_after_commit(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    review_events: list[tuple[str, dict]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _, created = start(as_user("commenter"), review_world)
        send(as_user("editor"), "POST", review_world.url(f"threads/{TID}/resolve"))
    group = f"doc.{review_world.doc.public_id}"
    sent = [message for target, message in review_events if target == group]
    assert [m["type"] for m in sent] == ["doc.review", "doc.review"]
    assert sent[0]["payload"] == {"event": "thread", "thread": created}
    assert sent[1]["payload"]["thread"]["resolved"] is True


def test_a_refused_change_sends_nothing(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    review_events: list[tuple[str, dict]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start(as_user("viewer"), review_world)
        start(as_user("commenter"), review_world, body="")
    assert [m for _, m in review_events if m["type"] == "doc.review"] == []


# -- the mention picker -----------------------------------------------------------


def test_the_mention_picker_lists_people_who_can_see_the_document(
    review_world: ReviewWorld, as_user: Callable[[str], Client]
) -> None:
    link_client(review_world, LinkMode.COMMENT)
    code, answer = send(as_user("commenter"), "GET", review_world.url("people"))
    assert code == 200
    names = [p["username"] for p in answer["people"]]
    assert names == ["carla", "eddie", "olivia", "victor"]  # no stranger, no link visitor
    code, answer = send(as_user("commenter"), "GET", review_world.url("people?q=@Oli"))
    assert answer["people"] == [
        {"id": review_world.owner.pk, "username": "olivia", "name": "Olivia Owner"}
    ]
    assert send(as_user("viewer"), "GET", review_world.url("people"))[0] == 403
    assert send(as_user("stranger"), "GET", review_world.url("people"))[0] == 404


def test_posting_past_the_comment_throttle_is_refused_with_a_wait(
    review_world: ReviewWorld, as_user: Callable[[str], Client], settings: Any
) -> None:
    throttles = {**settings.COLLABDOCS["THROTTLES"], "comment": "2/h"}
    settings.COLLABDOCS = {**settings.COLLABDOCS, "THROTTLES": throttles}
    client = as_user("commenter")
    assert start(client, review_world)[0] == 201
    path = review_world.url(f"threads/{TID}/messages")
    assert send(client, "POST", path, {"body": "second"})[0] == 201
    response = client.post(path, data={"body": "third"}, content_type="application/json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "many comments" in response.json()["error"]
    assert Message.objects.count() == 2
    # Others are counted on their own.
    assert send(as_user("editor"), "POST", path, {"body": "mine"})[0] == 201


def test_a_mention_is_emailed_after_commit_with_a_link_back(
    review_world: ReviewWorld,
    as_user: Callable[[str], Client],
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start(as_user("commenter"), review_world, body="@victor can you check the figures?")
    mails = [mail for mail in mailoutbox if mail.to == ["victor@example.com"]]
    assert len(mails) == 1
    assert "Carla mentioned you in “Plan”" in mails[0].subject
    assert f"/d/{review_world.doc.public_id}/#thread-{TID}" in mails[0].body
