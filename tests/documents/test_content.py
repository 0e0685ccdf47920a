"""documents.content: snapshot composed with the later ops."""

from __future__ import annotations

from typing import Any

import pytest

from documents import services
from documents.content import document_content, document_state
from documents.models import DocumentVersion, Operation, VersionKind

pytestmark = pytest.mark.django_db


def add_op(doc: Any, revision: int, delta: list[dict]) -> None:
    Operation.objects.create(
        document=doc, revision=revision, op_id=f"client:{revision}", delta=delta
    )


def test_a_new_document_is_one_newline(make_user: Any) -> None:
    doc = services.document_create(owner=make_user("alice"))
    assert document_state(doc).revision == 0
    assert document_content(doc) == [{"insert": "\n"}]


def test_ops_compose_in_revision_order(make_user: Any) -> None:
    doc = services.document_create(owner=make_user("alice"))
    # Stored out of order on purpose: revision order is what counts.
    add_op(doc, 2, [{"retain": 5}, {"insert": " world"}])
    add_op(doc, 1, [{"insert": "Hello"}])
    add_op(doc, 3, [{"retain": 6}, {"retain": 5, "attributes": {"bold": True}}])
    state = document_state(doc)
    assert state.revision == 3
    assert state.content == [
        {"insert": "Hello "},
        {"insert": "world", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


def test_only_ops_after_the_snapshot_count(make_user: Any) -> None:
    owner = make_user("alice")
    doc = services.document_create(owner=owner)
    add_op(doc, 1, [{"insert": "old"}])
    version = DocumentVersion.objects.create(
        document=doc, revision=1, content=[{"insert": "Snapshot\n"}], kind=VersionKind.COMPACTION
    )
    doc.snapshot = version
    doc.save()
    add_op(doc, 2, [{"retain": 8}, {"insert": "!"}])
    assert document_content(doc) == [{"insert": "Snapshot!\n"}]
    assert document_state(doc).revision == 2


def test_emoji_and_embeds_survive(make_user: Any) -> None:
    doc = services.document_create(owner=make_user("alice"))
    add_op(doc, 1, [{"insert": "a😀b"}, {"insert": {"image": "https://example.com/x.png"}}])
    add_op(doc, 2, [{"retain": 1}, {"delete": 2}])  # 😀 is two UTF-16 units
    assert document_content(doc) == [
        {"insert": "ab"},
        {"insert": {"image": "https://example.com/x.png"}},
        {"insert": "\n"},
    ]
