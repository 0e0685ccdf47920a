"""documents.selectors: the one access answer and the lists."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import ValidationError
from guardian.shortcuts import assign_perm, remove_perm

from documents import services
from documents.exceptions import DocumentNotFound
from documents.lists import document_list_owned, document_list_shared_with, document_list_trashed
from documents.models import Document, LinkMode
from documents.roles import Role
from documents.selectors import (
    NO_ACCESS,
    DocumentAccess,
    document_access,
    document_get_for_user,
    document_group_shares,
    document_people_shares,
    link_token_matches,
    user_find_for_sharing,
)
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def access(world: World, user: Any, token: str | None = None) -> DocumentAccess:
    return document_access(user=user, document=world.refresh(), link_token=token)


def test_owner_may_do_everything(world: World) -> None:
    got = access(world, world.owner)
    assert (got.can_view, got.can_edit, got.can_share, got.is_owner, got.role) == (
        True,
        True,
        True,
        True,
        "owner",
    )
    assert got.role_label == "Owner"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("viewer", (True, False, False, "viewer")),
        ("editor", (True, True, False, "editor")),
        ("sharer", (True, True, True, "editor")),
        ("member", (True, True, False, "editor")),
        ("stranger", (False, False, False, "none")),
        ("newcomer", (False, False, False, "none")),
    ],
)
def test_shares_direct_and_through_groups(world: World, persona: str, expected: tuple) -> None:
    got = access(world, getattr(world, persona))
    assert (got.can_view, got.can_edit, got.can_share, got.role) == expected
    assert not got.is_owner


def test_anonymous_and_none_get_nothing(world: World) -> None:
    assert access(world, AnonymousUser()) == NO_ACCESS
    assert access(world, None) == NO_ACCESS


def test_an_inactive_user_gets_nothing_even_as_owner(world: World) -> None:
    world.editor.is_active = False
    world.owner.is_active = False
    assert access(world, world.editor) == NO_ACCESS
    assert access(world, world.owner) == NO_ACCESS


def test_staff_and_superusers_get_nothing_special(world: World) -> None:
    """Global permissions and superuser status count only in the admin."""
    world.stranger.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="documents")
    )
    world.stranger.is_staff = True
    world.stranger.save()
    assert access(world, world.stranger) == NO_ACCESS
    assert access(world, world.superuser) == NO_ACCESS
    assert access(world, world.staff) == NO_ACCESS


def test_a_fresh_checker_sees_changes_at_once(world: World) -> None:
    """Guardian's checker caches; the selector must not."""
    assert not access(world, world.newcomer).can_view
    assign_perm("documents.view_document", world.newcomer, world.doc)
    assert access(world, world.newcomer).can_view
    remove_perm("documents.view_document", world.newcomer, world.doc)
    assert not access(world, world.newcomer).can_view


def test_share_without_view_gives_nothing(world: World) -> None:
    assign_perm("documents.share_document", world.newcomer, world.doc)
    assert access(world, world.newcomer) == NO_ACCESS


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(LinkMode.OFF, (False, False)), (LinkMode.VIEW, (True, False)), (LinkMode.EDIT, (True, True))],
)
def test_link_token_grants_what_the_link_mode_says(
    world: World, mode: str, expected: tuple
) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=mode)
    token = world.refresh().link_token
    got = access(world, world.stranger, token)
    assert (got.can_view, got.can_edit) == expected
    assert not got.can_share
    if got.can_view:
        assert got.via_link and got.role_label.endswith("(via link)")


def test_a_wrong_or_old_link_token_grants_nothing(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    old = world.refresh().link_token
    assert access(world, world.stranger, old + "x") == NO_ACCESS
    assert access(world, world.stranger, "") == NO_ACCESS
    services.link_set_mode(
        document=world.doc, actor=world.owner, mode=LinkMode.EDIT, regenerate=True
    )
    assert access(world, world.stranger, old) == NO_ACCESS
    assert link_token_matches(document=world.refresh(), link_token=world.doc.link_token)


def test_a_link_never_lowers_a_share(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.VIEW)
    got = access(world, world.editor, world.refresh().link_token)
    assert got.can_edit and not got.via_link


def test_a_link_raises_a_viewer_to_editor(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    got = access(world, world.viewer, world.refresh().link_token)
    assert got.can_edit and got.via_link


def test_anonymous_users_get_nothing_from_a_link(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    assert access(world, AnonymousUser(), world.refresh().link_token) == NO_ACCESS


def test_trashed_documents_are_the_owners_alone_and_read_only(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    services.document_trash(document=world.refresh(), actor=world.owner)
    owner = access(world, world.owner)
    assert owner.can_view and owner.is_owner and not owner.can_edit and not owner.can_share
    for user in (world.viewer, world.editor, world.sharer, world.member):
        assert access(world, user) == NO_ACCESS
    assert access(world, world.stranger, world.doc.link_token) == NO_ACCESS


# document_get_for_user ----------------------------------------------------


def test_get_for_user_returns_document_and_access(world: World) -> None:
    document, got = document_get_for_user(user=world.editor, public_id=str(world.doc.public_id))
    assert document.pk == world.doc.pk and got.can_edit


@pytest.mark.parametrize(
    "public_id", ["not-a-uuid", str(uuid.uuid4()), ""], ids=["malformed", "unknown", "empty"]
)
def test_get_for_user_missing_is_not_found(world: World, public_id: str) -> None:
    with pytest.raises(DocumentNotFound):
        document_get_for_user(user=world.owner, public_id=public_id)


def test_get_for_user_hidden_is_the_same_not_found(world: World) -> None:
    with pytest.raises(DocumentNotFound):
        document_get_for_user(user=world.stranger, public_id=world.doc.public_id)


def test_get_for_user_trashed_needs_include_trashed_and_ownership(world: World) -> None:
    services.document_trash(document=world.doc, actor=world.owner)
    with pytest.raises(DocumentNotFound):
        document_get_for_user(user=world.owner, public_id=world.doc.public_id)
    with pytest.raises(DocumentNotFound):
        document_get_for_user(
            user=world.editor, public_id=world.doc.public_id, include_trashed=True
        )
    _, got = document_get_for_user(
        user=world.owner, public_id=world.doc.public_id, include_trashed=True
    )
    assert got.is_owner and not got.can_edit


def test_get_for_user_with_link_token(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.VIEW)
    token = world.refresh().link_token
    _, got = document_get_for_user(
        user=world.stranger, public_id=world.doc.public_id, link_token=token
    )
    assert got.can_view and not got.can_edit


# Lists --------------------------------------------------------------


def test_owned_list_newest_first_without_trash(world: World) -> None:
    services.document_create(owner=world.owner, title="Older")
    services.document_create(owner=world.owner, title="Newer")
    gone = services.document_create(owner=world.owner, title="Gone")
    services.document_trash(document=gone, actor=world.owner)
    services.document_create(owner=world.editor, title="Not mine")
    titles = [doc.title for doc in document_list_owned(user=world.owner)]
    assert titles == ["Newer", "Older", "Quarterly plan"]


def test_owned_list_searches_titles_case_insensitively(world: World) -> None:
    services.document_create(owner=world.owner, title="Plan B")
    services.document_create(owner=world.owner, title="Recipes")
    assert {d.title for d in document_list_owned(user=world.owner, search="  PLAN ")} == {
        "Plan B",
        "Quarterly plan",
    }
    assert not document_list_owned(user=world.owner, search="nothing like it").exists()


def test_shared_list_has_direct_and_group_shares_only(world: World) -> None:
    for user in (world.viewer, world.editor, world.sharer, world.member):
        assert [d.title for d in document_list_shared_with(user=user)] == ["Quarterly plan"]
    assert not document_list_shared_with(user=world.owner).exists()
    assert not document_list_shared_with(user=world.stranger).exists()
    assert not document_list_shared_with(user=world.superuser).exists()
    assert not document_list_shared_with(user=world.staff).exists()


def test_shared_list_leaves_out_link_only_and_trashed(world: World) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    assert not document_list_shared_with(user=world.stranger).exists()
    services.document_trash(document=world.doc, actor=world.owner)
    assert not document_list_shared_with(user=world.viewer).exists()
    assert not document_list_shared_with(user=world.member).exists()


def test_shared_list_search_and_order(world: World) -> None:
    second = services.document_create(owner=world.editor, title="Second plan")
    services.share_grant(document=second, actor=world.editor, identifier="viewer", role=Role.VIEWER)
    third = services.document_create(owner=world.editor, title="Unrelated")
    services.share_grant(document=third, actor=world.editor, identifier="viewer", role=Role.VIEWER)
    assert [d.title for d in document_list_shared_with(user=world.viewer)] == [
        "Unrelated",
        "Second plan",
        "Quarterly plan",
    ]
    assert [d.title for d in document_list_shared_with(user=world.viewer, search="plan")] == [
        "Second plan",
        "Quarterly plan",
    ]


def test_lists_do_not_query_per_row(world: World, django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        doc = services.document_create(owner=world.editor, title=f"Doc {n}")
        services.share_grant(
            document=doc, actor=world.editor, identifier="viewer", role=Role.VIEWER
        )
    with django_assert_max_num_queries(2):
        rows = [
            (d.title, d.owner.username, d.last_edited_by and d.last_edited_by.username)
            for d in document_list_shared_with(user=world.viewer)
        ]
    assert len(rows) == 6


def test_trash_list(world: World) -> None:
    services.document_trash(document=world.doc, actor=world.owner)
    assert [d.pk for d in document_list_trashed(user=world.owner)] == [world.doc.pk]
    assert not document_list_trashed(user=world.editor).exists()
    assert not document_list_owned(user=world.owner).exists()


# Shares and people ---------------------------------------------------------


def test_people_and_group_shares(world: World) -> None:
    people = {
        share.user.username: (share.role, share.can_share)
        for share in document_people_shares(document=world.doc)
    }
    assert people == {
        "commenter": (Role.COMMENTER, False),
        "editor": (Role.EDITOR, False),
        "sharer": (Role.EDITOR, True),
        "target": (Role.VIEWER, False),
        "viewer": (Role.VIEWER, False),
    }
    assert [(s.group.name, s.role) for s in document_group_shares(document=world.doc)] == [
        ("reviewers", Role.COMMENTER),
        ("team", Role.EDITOR),
    ]


@pytest.mark.parametrize(
    "identifier", ["viewer", " viewer ", "VIEWER", "viewer@example.com", "Viewer@Example.COM"]
)
def test_user_find_by_username_or_email(world: World, identifier: str) -> None:
    assert user_find_for_sharing(identifier=identifier).pk == world.viewer.pk


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("", "Enter a username or an email address."),
        ("nobody", "No one here has the username or email address “nobody”."),
        (
            "nobody@example.com",
            "No one here has the username or email address “nobody@example.com”.",
        ),
    ],
)
def test_user_find_refusals(world: World, identifier: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        user_find_for_sharing(identifier=identifier)
    assert error.value.messages == [message]


def test_user_find_refuses_inactive_and_ambiguous(world: World, make_user: Any) -> None:
    world.newcomer.is_active = False
    world.newcomer.save()
    with pytest.raises(ValidationError):
        user_find_for_sharing(identifier="newcomer")
    make_user("twin1", email="twin@example.com")
    make_user("twin2", email="TWIN@example.com")
    with pytest.raises(ValidationError) as error:
        user_find_for_sharing(identifier="twin@example.com")
    assert "Several accounts" in error.value.messages[0]
