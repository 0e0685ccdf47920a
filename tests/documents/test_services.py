"""documents.services: creating, renaming, trashing and sharing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_group_perms, get_user_perms

from documents import services
from documents.exceptions import ActionNotAllowed, DocumentNotFound
from documents.models import Document, DocumentVersion, LinkMode, Operation, VersionKind
from documents.roles import Role
from documents.selectors import document_access
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def perms(user: Any, document: Document) -> set[str]:
    return set(get_user_perms(user, document))


# document_create -------------------------------------------------------


def test_create_starts_at_revision_zero_with_an_initial_version(make_user: Any) -> None:
    owner = make_user("alice")
    doc = services.document_create(owner=owner)
    doc.refresh_from_db()
    assert doc.title == "Untitled document"
    assert doc.head_revision == 0
    assert doc.link_mode == LinkMode.OFF and doc.link_token
    version = DocumentVersion.objects.get(document=doc)
    assert doc.snapshot_id == version.pk
    assert (version.revision, version.kind, version.content, version.author) == (
        0,
        VersionKind.INITIAL,
        [{"insert": "\n"}],
        owner,
    )
    assert perms(owner, doc) == {
        "view_document",
        "comment_document",
        "change_document",
        "share_document",
    }
    assert doc.last_edited_by == owner


def test_create_with_a_title_cleans_it(make_user: Any) -> None:
    doc = services.document_create(owner=make_user("alice"), title="  Road\n map\t2026 ")
    assert doc.title == "Road map 2026"


def test_create_refuses_an_over_long_title_and_stores_nothing(make_user: Any) -> None:
    with pytest.raises(ValidationError):
        services.document_create(owner=make_user("alice"), title="x" * 201)
    assert not Document.objects.exists()


# clean_title ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Plan", "Plan"),
        ("  Plan  ", "Plan"),
        ("a\nb\r\nc", "a b c"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07", "bell"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("emoji 😀", "emoji 😀"),
        ("x" * 200, "x" * 200),
    ],
)
def test_clean_title(raw: str, clean: str) -> None:
    assert services.clean_title(raw) == clean


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Give the document a title."),
        ("   \n ", "Give the document a title."),
        ("\x00", "Give the document a title."),
        ("x" * 201, "Titles can be at most 200 characters; this one has 201."),
        (None, "The title must be text."),
        (42, "The title must be text."),
    ],
)
def test_clean_title_refusals(raw: Any, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        services.clean_title(raw)
    assert error.value.messages == [message]


def test_title_limit_comes_from_settings(settings: Any) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "TITLE_MAX_LENGTH": 5}
    with pytest.raises(ValidationError):
        services.clean_title("sixsix")


# document_rename -------------------------------------------------------


def test_rename_by_an_editor_notifies_after_commit(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        doc = services.document_rename(document=world.doc, actor=world.editor, title=" New  name ")
    assert doc.title == "New name"
    assert world.refresh().title == "New name"
    assert events == [("title_changed", {"public_id": world.doc.public_id, "title": "New name"})]


def test_rename_to_the_same_title_sends_nothing(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.document_rename(document=world.doc, actor=world.owner, title="Quarterly plan")
    assert events == []


def test_rename_by_a_link_editor(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    doc = world.refresh()
    services.document_rename(
        document=doc, actor=world.stranger, title="Via link", link_token=doc.link_token
    )
    assert world.refresh().title == "Via link"


def test_rename_refusals(world: World) -> None:
    with pytest.raises(ActionNotAllowed):
        services.document_rename(document=world.doc, actor=world.viewer, title="Nope")
    with pytest.raises(DocumentNotFound):
        services.document_rename(document=world.doc, actor=world.stranger, title="Nope")
    with pytest.raises(ValidationError):
        services.document_rename(document=world.doc, actor=world.owner, title="x" * 201)
    assert world.refresh().title == "Quarterly plan"


# Trash, restore, delete -----------------------------------------------------


def test_trash_and_restore(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.document_trash(document=world.doc, actor=world.owner)
    assert world.refresh().trashed_at is not None
    assert events == [("document_removed", {"public_id": world.doc.public_id})]
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.document_restore(document=world.doc, actor=world.owner)
    assert world.refresh().trashed_at is None
    assert events == [("access_changed", {"public_id": world.doc.public_id})]
    # Shares survive the round trip.
    assert document_access(user=world.editor, document=world.doc).can_edit


@pytest.mark.parametrize("persona", ["editor", "sharer", "member"])
def test_only_the_owner_may_trash(world: World, persona: str) -> None:
    with pytest.raises(ActionNotAllowed, match="Only the owner"):
        services.document_trash(document=world.doc, actor=getattr(world, persona))
    assert world.refresh().trashed_at is None


def test_delete_forever_needs_the_trash_first(world: World) -> None:
    with pytest.raises(ValidationError, match="trash"):
        services.document_delete_forever(document=world.doc, actor=world.owner)
    assert Document.objects.filter(pk=world.doc.pk).exists()


def test_delete_forever_removes_history_and_permissions(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    doc = world.doc
    Operation.objects.create(
        document=doc, revision=1, op_id="c:1", delta=[{"insert": "x"}], author=world.owner
    )
    services.document_trash(document=doc, actor=world.owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete_forever(document=doc, actor=world.owner)
    assert not Document.objects.filter(pk=doc.pk).exists()
    assert not DocumentVersion.objects.filter(document_id=doc.pk).exists()
    assert not Operation.objects.filter(document_id=doc.pk).exists()
    assert not UserObjectPermission.objects.filter(object_pk=str(doc.pk)).exists()
    assert not GroupObjectPermission.objects.filter(object_pk=str(doc.pk)).exists()
    assert events == [("document_removed", {"public_id": doc.public_id})]


def test_delete_forever_by_others_is_refused(world: World) -> None:
    services.document_trash(document=world.doc, actor=world.owner)
    with pytest.raises(DocumentNotFound):
        services.document_delete_forever(document=world.refresh(), actor=world.sharer)
    assert Document.objects.filter(pk=world.doc.pk).exists()


# Sharing ---------------------------------------------------------------


def test_share_grant_by_username_and_email(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.share_grant(
            document=world.doc,
            actor=world.owner,
            identifier="newcomer@example.com",
            role=Role.EDITOR,
        )
    assert user == world.newcomer
    assert perms(world.newcomer, world.doc) == {
        "view_document",
        "comment_document",
        "change_document",
    }
    assert events == [("access_changed", {"public_id": world.doc.public_id})]


def test_share_grant_again_sets_the_role(world: World) -> None:
    services.share_grant(document=world.doc, actor=world.owner, identifier="editor", role="viewer")
    assert perms(world.editor, world.doc) == {"view_document"}


def test_a_sharer_may_share_and_grant_share(world: World) -> None:
    services.share_grant(
        document=world.doc, actor=world.sharer, identifier="newcomer", role="editor", can_share=True
    )
    assert perms(world.newcomer, world.doc) == {
        "view_document",
        "comment_document",
        "change_document",
        "share_document",
    }


@pytest.mark.parametrize("role", ["owner", "admin", "", None])
def test_share_grant_refuses_unknown_roles(world: World, role: Any) -> None:
    with pytest.raises(ValidationError, match="Choose a role"):
        services.share_grant(
            document=world.doc, actor=world.owner, identifier="newcomer", role=role
        )
    assert perms(world.newcomer, world.doc) == set()


def test_share_capability_is_for_editors_only(world: World) -> None:
    with pytest.raises(ValidationError, match="Only editors"):
        services.share_grant(
            document=world.doc,
            actor=world.owner,
            identifier="newcomer",
            role="viewer",
            can_share=True,
        )


def test_share_change_role(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.share_change_role(
            document=world.doc, actor=world.owner, user=world.target, role="editor"
        )
    assert perms(world.target, world.doc) == {
        "view_document",
        "comment_document",
        "change_document",
    }
    assert events == [("access_changed", {"public_id": world.doc.public_id})]


def test_share_change_role_of_someone_without_a_share(world: World) -> None:
    with pytest.raises(ValidationError, match="doesn’t have access"):
        services.share_change_role(
            document=world.doc, actor=world.owner, user=world.newcomer, role="editor"
        )
    assert perms(world.newcomer, world.doc) == set()


def test_share_change_own_role_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="your own access"):
        services.share_change_role(
            document=world.doc, actor=world.sharer, user=world.sharer, role="viewer"
        )


def test_share_revoke(world: World, events: list, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.share_revoke(document=world.doc, actor=world.sharer, user=world.target)
    assert perms(world.target, world.doc) == set()
    assert not document_access(user=world.target, document=world.doc).can_view
    assert events == [("access_changed", {"public_id": world.doc.public_id})]


def test_anyone_may_leave_a_document(world: World) -> None:
    services.share_revoke(document=world.doc, actor=world.viewer, user=world.viewer)
    assert not document_access(user=world.viewer, document=world.doc).can_view


def test_revoking_someone_without_a_share(world: World) -> None:
    with pytest.raises(ValidationError, match="doesn’t have access"):
        services.share_revoke(document=world.doc, actor=world.owner, user=world.newcomer)


def test_revoking_an_inactive_users_share_works(world: World) -> None:
    world.target.is_active = False
    world.target.save()
    services.share_revoke(document=world.doc, actor=world.owner, user=world.target)
    assert not UserObjectPermission.objects.filter(user=world.target).exists()


def test_share_with_group_and_revoke(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        group = services.share_with_group(
            document=world.doc, actor=world.owner, group_name=" outsiders ", role="viewer"
        )
    assert group == world.other_group
    assert set(get_group_perms(group, world.doc)) == {"view_document"}
    services.share_with_group(
        document=world.doc, actor=world.owner, group_name="team", role="viewer"
    )
    assert set(get_group_perms(world.group, world.doc)) == {"view_document"}
    with django_capture_on_commit_callbacks(execute=True):
        services.share_revoke_group(document=world.doc, actor=world.owner, group=world.group)
    assert not document_access(user=world.member, document=world.doc).can_view
    assert len(events) == 2


def test_group_refusals(world: World) -> None:
    with pytest.raises(ValidationError, match="no group called “ghosts”"):
        services.share_with_group(
            document=world.doc, actor=world.owner, group_name="ghosts", role="viewer"
        )
    with pytest.raises(ValidationError, match="Enter the name"):
        services.share_with_group(
            document=world.doc, actor=world.owner, group_name="  ", role="viewer"
        )
    with pytest.raises(ValidationError, match="isn’t shared"):
        services.share_revoke_group(document=world.doc, actor=world.owner, group=world.other_group)
    with pytest.raises(ActionNotAllowed):
        services.share_with_group(
            document=world.doc, actor=world.editor, group_name="outsiders", role="viewer"
        )
    assert not Group.objects.filter(name="ghosts").exists()


def test_link_set_mode_and_regenerate(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    off_token = world.doc.link_token
    with django_capture_on_commit_callbacks(execute=True):
        doc = services.link_set_mode(document=world.doc, actor=world.owner, mode="view")
    # Turning the link on makes a new token (an old one stays dead).
    assert doc.link_mode == LinkMode.VIEW and doc.link_token != off_token
    old = doc.link_token
    doc = services.link_set_mode(
        document=world.doc, actor=world.sharer, mode="edit", regenerate=True
    )
    assert doc.link_mode == LinkMode.EDIT and doc.link_token not in (old, off_token)
    assert world.refresh().link_token == doc.link_token
    assert events == [("access_changed", {"public_id": world.doc.public_id})]


def test_link_set_mode_refusals(world: World) -> None:
    with pytest.raises(ValidationError, match="off, view, comment or edit"):
        services.link_set_mode(document=world.doc, actor=world.owner, mode="public")
    with pytest.raises(ActionNotAllowed):
        services.link_set_mode(document=world.doc, actor=world.editor, mode="edit")
    assert world.refresh().link_mode == LinkMode.OFF


def test_ownership_transfer(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = services.ownership_transfer(
            document=world.doc, actor=world.owner, identifier="editor"
        )
    doc = world.refresh()
    assert user == world.editor and doc.owner == world.editor
    assert document_access(user=world.editor, document=doc).is_owner
    previous = document_access(user=world.owner, document=doc)
    assert (previous.is_owner, previous.can_edit, previous.can_share) == (False, True, True)
    assert events == [("access_changed", {"public_id": doc.public_id})]


def test_ownership_transfer_refusals(world: World) -> None:
    with pytest.raises(ActionNotAllowed, match="Only the owner"):
        services.ownership_transfer(document=world.doc, actor=world.sharer, identifier="sharer")
    with pytest.raises(ValidationError, match="already own"):
        services.ownership_transfer(document=world.doc, actor=world.owner, identifier="owner")
    with pytest.raises(ValidationError, match="No one here"):
        services.ownership_transfer(document=world.doc, actor=world.owner, identifier="ghost")
    services.document_trash(document=world.doc, actor=world.owner)
    with pytest.raises(ValidationError, match="Restore"):
        services.ownership_transfer(
            document=world.refresh(), actor=world.owner, identifier="editor"
        )
    assert world.refresh().owner == world.owner


def test_nothing_is_sent_when_the_transaction_rolls_back(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.share_revoke(document=world.doc, actor=world.owner, user=world.target)
        raise RuntimeError("boom")
    assert callbacks == [] and events == []
    assert perms(world.target, world.doc) == {"view_document"}


def test_one_transaction_notifies_each_document_once_in_order(
    world: World, events: list, django_capture_on_commit_callbacks: Any
) -> None:
    """Guardian's own notices join the service's; a later restore is not swallowed."""

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.share_with_group(
            document=world.doc, actor=world.owner, group_name="outsiders", role="viewer"
        )
        services.share_revoke_group(document=world.doc, actor=world.owner, group=world.other_group)
    assert events == [("access_changed", {"public_id": world.doc.public_id})]
    events.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.document_trash(document=world.doc, actor=world.owner)
        services.document_restore(document=world.doc, actor=world.owner)
    assert events == [
        ("document_removed", {"public_id": world.doc.public_id}),
        ("access_changed", {"public_id": world.doc.public_id}),
    ]
