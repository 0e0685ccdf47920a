""" "Shared with you": documents' share services reach the notifications app
through ``documents.signals.document_shared``, after commit.

Failure modes covered: the sharer is not told of their own share; a share
that fails validation or rolls back notifies no one; re-granting the same
role is not news; a group share tells each active member (not inactive
ones, not the sharer if a member).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import TestCase

from documents import services as documents_services
from documents.roles import Role
from notifications.models import Notification
from notifications.receivers import shared_text
from tests.notifications.conftest import Cast, UserLayer


def texts(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind="shared")
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_a_person_share_tells_them_live_and_by_email(cast: Cast, layer: UserLayer) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        documents_services.share_grant(
            document=cast.doc, actor=cast.owner, identifier="stan", role=Role.COMMENTER
        )
    assert texts(cast.stranger) == ["Olivia Owner gave you comment access to “Quarterly plan”."]
    notification = Notification.objects.get(recipient=cast.stranger)
    assert notification.url == cast.doc_url and notification.actor == cast.owner
    [payload] = layer.notified(cast.stranger)
    assert payload["notification"]["kind"] == "shared" and payload["unread"] == 1
    [message] = mail.outbox
    assert message.to == ["stan@example.com"] and cast.doc_url in message.body
    assert not Notification.objects.filter(recipient=cast.owner).exists()


def test_a_role_change_is_news_and_the_same_role_again_is_not(cast: Cast) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        documents_services.share_change_role(
            document=cast.doc, actor=cast.owner, user=cast.viewer, role=Role.EDITOR
        )
    with TestCase.captureOnCommitCallbacks(execute=True):
        documents_services.share_grant(
            document=cast.doc, actor=cast.owner, identifier="vic", role=Role.EDITOR
        )
    assert texts(cast.viewer) == ["Olivia Owner gave you edit access to “Quarterly plan”."]


def test_a_group_share_tells_each_active_member_but_the_sharer(
    cast: Cast, make_user: Callable[..., Any]
) -> None:
    readers = Group.objects.create(name="readers")
    alice, bert = make_user("alice"), make_user("bert")
    gone = make_user("gone", is_active=False)
    for user in (alice, bert, gone, cast.owner):
        user.groups.add(readers)
    with TestCase.captureOnCommitCallbacks(execute=True):
        documents_services.share_with_group(
            document=cast.doc, actor=cast.owner, group_name="readers", role=Role.VIEWER
        )
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"alice", "bert"}
    assert texts(alice) == ["Olivia Owner gave you view access to “Quarterly plan”."]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@example.com",
        "bert@example.com",
    ]


def test_a_refused_share_notifies_no_one(cast: Cast) -> None:
    with (
        TestCase.captureOnCommitCallbacks(execute=True),
        pytest.raises(ValidationError),
    ):
        documents_services.share_grant(
            document=cast.doc, actor=cast.owner, identifier="olivia", role=Role.VIEWER
        )
    assert not Notification.objects.exists() and mail.outbox == []


def test_a_rolled_back_share_notifies_no_one(cast: Cast, layer: UserLayer) -> None:
    with (
        TestCase.captureOnCommitCallbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        documents_services.share_grant(
            document=cast.doc, actor=cast.owner, identifier="stan", role=Role.EDITOR
        )
        raise RuntimeError("the request failed later")
    assert callbacks == []
    assert not Notification.objects.exists() and layer.sent == [] and mail.outbox == []


@pytest.mark.parametrize(
    ("role", "access"), [(Role.VIEWER, "view"), (Role.COMMENTER, "comment"), (Role.EDITOR, "edit")]
)
def test_the_text_names_what_the_role_allows(cast: Cast, role: Role, access: str) -> None:
    assert shared_text(actor=cast.editor, role=role, title="Plan") == (
        f"Eddie gave you {access} access to “Plan”."
    )
    assert shared_text(actor=None, role=role.value, title="Plan") == (
        f"You now have {access} access to “Plan”."
    )
