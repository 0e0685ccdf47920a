"""notifications.services.notify: who is told, what is stored, what is sent when.

Failure modes covered: notifying the actor themselves, an inactive account,
someone who cannot see the document (a stranger, a link-only visitor, a
share on a trashed document); a rolled-back change (nothing stored, pushed
or mailed); a caller's bad kind, empty text or a url that leaves the site
(refused, nothing stored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from documents import services as documents_services
from documents.models import Document
from notifications.models import Kind, Notification
from notifications.services import notify
from tests.notifications.conftest import Cast, UserLayer


def tell(cast: Cast, recipient: Any, **overrides: Any) -> Notification | None:
    """Notify ``recipient`` that the owner mentioned them (or as overridden), and commit.

    The test database wraps each test in a transaction that never commits:
    the on-commit callbacks are run as a commit would run them.
    """
    fields: dict[str, Any] = {
        "recipient": recipient,
        "kind": Kind.MENTION,
        "document": cast.doc,
        "actor": cast.owner,
        "text": "Olivia Owner mentioned you in “Quarterly plan”: see the figures",
        "url": cast.doc_url + "#thread-abcdefghij123456",
    }
    fields.update(overrides)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return notify(**fields)


@pytest.mark.parametrize("who", ["editor", "commenter", "viewer", "member"])
def test_everyone_who_can_view_is_notified_and_pushed_after_commit(
    cast: Cast,
    layer: UserLayer,
    who: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    recipient = getattr(cast, who)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = notify(
            recipient=recipient,
            kind=Kind.MENTION,
            document=cast.doc,
            actor=cast.owner,
            text="Olivia Owner mentioned you in “Quarterly plan”: see the figures",
            url=cast.doc_url + "#thread-abcdefghij123456",
        )
        assert notification is not None
        assert layer.notified(recipient) == [], "nothing is pushed before the commit"
    stored = Notification.objects.get()
    assert (stored.recipient, stored.kind, stored.actor) == (recipient, "mention", cast.owner)
    assert stored.read_at is None
    [payload] = layer.notified(recipient)
    assert payload["unread"] == 1
    pushed = payload["notification"]
    assert pushed["id"] == stored.pk
    assert pushed["kind"] == "mention"
    assert pushed["url"] == cast.doc_url + "#thread-abcdefghij123456"
    assert pushed["document"] == {"id": str(cast.doc.public_id), "title": "Quarterly plan"}
    assert pushed["actor"] == {"id": cast.owner.pk, "name": "Olivia Owner"}
    assert pushed["read"] is False
    assert pushed["created_at"].endswith("Z")


def test_the_unread_count_pushed_counts_only_unread(cast: Cast, layer: UserLayer) -> None:
    first = tell(cast, cast.editor)
    tell(cast, cast.editor, kind=Kind.REPLY)
    assert first is not None
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    tell(cast, cast.editor, kind=Kind.SUGGESTION_ACCEPTED)
    assert [payload["unread"] for payload in layer.notified(cast.editor)] == [1, 2, 2]


def test_the_actor_is_never_notified_of_their_own_doing(cast: Cast, layer: UserLayer) -> None:
    assert tell(cast, cast.editor, actor=cast.editor) is None
    assert not Notification.objects.exists()
    assert layer.sent == [] and mail.outbox == []


def test_an_inactive_account_is_not_notified(cast: Cast, layer: UserLayer) -> None:
    assert tell(cast, cast.inactive) is None
    assert not Notification.objects.exists() and layer.sent == [] and mail.outbox == []


def test_people_who_cannot_view_the_document_are_not_notified(cast: Cast, layer: UserLayer) -> None:
    # Stan opened the share link (edit mode, even) but holds no share: a
    # link is not a share, and a notification would tell him who else is there.
    assert tell(cast, cast.stranger) is None
    Document.objects.filter(pk=cast.doc.pk).update(trashed_at=timezone.now())
    cast.doc.refresh_from_db()
    assert tell(cast, cast.editor) is None
    assert not Notification.objects.exists() and layer.sent == [] and mail.outbox == []


def test_the_owner_of_a_trashed_document_still_hears(cast: Cast) -> None:
    Document.objects.filter(pk=cast.doc.pk).update(trashed_at=timezone.now())
    cast.doc.refresh_from_db()
    assert tell(cast, cast.owner, actor=cast.editor) is not None


def test_a_rolled_back_change_stores_pushes_and_mails_nothing(
    cast: Cast, layer: UserLayer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification = notify(
            recipient=cast.editor,
            kind=Kind.REPLY,
            document=cast.doc,
            actor=cast.owner,
            text="Olivia replied",
            url=cast.doc_url,
        )
        assert notification is not None
        raise RuntimeError("the comment failed after all")
    assert callbacks == []
    assert not Notification.objects.exists() and layer.sent == [] and mail.outbox == []


def test_without_an_actor_the_notification_names_no_one(cast: Cast, layer: UserLayer) -> None:
    assert tell(cast, cast.editor, actor=None) is not None
    assert layer.notified(cast.editor)[0]["notification"]["actor"] is None


def test_text_becomes_one_line_of_at_most_300_characters(cast: Cast) -> None:
    notification = tell(cast, cast.editor, text="  Olivia said:\n\n  " + "long " * 100)
    assert notification is not None
    assert "\n" not in notification.text and notification.text.startswith("Olivia said: long")
    assert len(notification.text) == 300 and notification.text.endswith("…")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"kind": "liked"}, "unknown notification kind"),
        ({"text": " \n "}, "needs text"),
        ({"url": "https://evil.example/phish"}, "not a path on this site"),
        ({"url": "//evil.example/phish"}, "not a path on this site"),
        ({"url": "/\\evil.example"}, "not a path on this site"),
        ({"url": "javascript:alert(1)"}, "not a path on this site"),
        ({"url": ""}, "not a path on this site"),
        ({"url": "/d/x y/"}, "not a path on this site"),
        ({"url": "/d/x\n"}, "not a path on this site"),
        ({"url": "/" + "a" * 500}, "not a path on this site"),
    ],
)
def test_a_callers_mistake_is_refused_and_stores_nothing(
    cast: Cast, layer: UserLayer, overrides: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        tell(cast, cast.editor, **overrides)
    assert not Notification.objects.exists() and layer.sent == [] and mail.outbox == []


def test_deleting_the_document_deletes_its_notifications(cast: Cast) -> None:
    assert tell(cast, cast.editor) is not None
    documents_services.document_trash(document=cast.doc, actor=cast.owner)
    documents_services.document_delete_forever(document=cast.doc, actor=cast.owner)
    assert not Notification.objects.exists()
