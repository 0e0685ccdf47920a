"""The commenter role: permissions, access, links, who can see, share signals.

Failure modes covered: a commenter treated as an editor (or as a mere
viewer); an editor shared before the role existed losing the right to
comment; a comment link handing out edit rights, or a viewer's share hiding
a link's wider rights; link-only visitors leaking into the mention list;
share announcements sent before commit, for no change, or once per group
instead of once per member.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from documents import services, signals
from documents.exceptions import ActionNotAllowed
from documents.models import LinkMode
from documents.roles import COMMENT, EDIT, SHARE, VIEW, Role, perms_for, role_from_perms
from documents.selectors import _LINK_RANK, document_access, document_viewers
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "can_share", "perms"),
    [
        ("viewer", False, {VIEW}),
        ("commenter", False, {VIEW, COMMENT}),
        ("editor", False, {VIEW, COMMENT, EDIT}),
        ("editor", True, {VIEW, COMMENT, EDIT, SHARE}),
    ],
)
def test_roles_and_permissions_round_trip(role: str, can_share: bool, perms: set[str]) -> None:
    assert perms_for(role, can_share=can_share) == perms
    assert role_from_perms(perms) == (Role(role), can_share)


def test_an_old_editor_without_comment_is_still_an_editor() -> None:
    assert role_from_perms({VIEW, EDIT}) == (Role.EDITOR, False)
    assert role_from_perms({EDIT}) == (Role.EDITOR, False)
    assert role_from_perms({COMMENT}) == (Role.COMMENTER, False)
    assert role_from_perms(set()) == (None, False)


def test_perms_for_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError):
        perms_for("admin")


def test_every_link_mode_has_a_rank() -> None:
    assert set(_LINK_RANK) == {mode.value for mode in LinkMode}


def _grant(world: World, role: str) -> Any:
    services.share_grant(document=world.doc, actor=world.owner, identifier="newcomer", role=role)
    return document_access(user=world.newcomer, document=world.doc)


def test_a_commenter_may_comment_but_not_edit_or_share(world: World) -> None:
    access = _grant(world, "commenter")
    assert (access.can_view, access.can_comment, access.can_edit, access.can_share) == (
        True,
        True,
        False,
        False,
    )
    assert (access.role, access.role_label) == ("commenter", "Commenter")


def test_a_viewer_may_not_comment_and_an_editor_may(world: World) -> None:
    assert not _grant(world, "viewer").can_comment
    assert _grant(world, "editor").can_comment


def test_an_editor_row_without_comment_can_comment(world: World) -> None:
    remove_perm(COMMENT, world.editor, world.doc)
    access = document_access(user=world.editor, document=world.doc)
    assert access.can_edit and access.can_comment and access.role == "editor"


def test_a_comment_permission_through_a_group_counts(world: World) -> None:
    world.other_group.user_set.add(world.newcomer)
    services.share_with_group(
        document=world.doc, actor=world.owner, group_name="outsiders", role="commenter"
    )
    access = document_access(user=world.newcomer, document=world.doc)
    assert access.can_comment and not access.can_edit and access.role == "commenter"


@pytest.mark.parametrize(
    ("mode", "role", "can_comment", "can_edit"),
    [("view", "viewer", False, False), ("comment", "commenter", True, False)],
)
def test_a_link_grants_its_mode_and_no_more(
    world: World, mode: str, role: str, can_comment: bool, can_edit: bool
) -> None:
    doc = services.link_set_mode(document=world.doc, actor=world.owner, mode=mode)
    access = document_access(user=world.newcomer, document=doc, link_token=doc.link_token)
    assert (access.role, access.can_comment, access.can_edit, access.can_share) == (
        role,
        can_comment,
        can_edit,
        False,
    )
    assert access.via_link
    assert access.role_label.endswith("(via link)")


def test_a_comment_link_widens_a_viewer_and_never_narrows_an_editor(world: World) -> None:
    doc = services.link_set_mode(document=world.doc, actor=world.owner, mode="comment")
    viewer = document_access(user=world.viewer, document=doc, link_token=doc.link_token)
    assert viewer.role_label == "Commenter (via link)" and viewer.can_comment
    editor = document_access(user=world.editor, document=doc, link_token=doc.link_token)
    assert editor.can_edit and not editor.via_link and editor.role_label == "Editor"


def test_a_comment_link_is_dead_once_turned_off(world: World) -> None:
    doc = services.link_set_mode(document=world.doc, actor=world.owner, mode="comment")
    token = doc.link_token
    doc = services.link_set_mode(document=doc, actor=world.owner, mode="off")
    assert not document_access(user=world.newcomer, document=doc, link_token=token).can_view


def test_document_viewers_are_owner_people_and_group_members(world: World) -> None:
    doc = services.link_set_mode(document=world.doc, actor=world.owner, mode="edit")
    viewers = set(document_viewers(document=doc))
    assert {world.owner, world.viewer, world.editor, world.sharer, world.member} <= viewers
    assert world.stranger not in viewers and world.newcomer not in viewers
    # Opening the link is not a share: link visitors are not listed.
    assert world.linker not in viewers
    assert len(document_viewers(document=doc)) == len(viewers)  # no duplicates


def test_document_viewers_leave_out_inactive_people_and_revoked_shares(world: World) -> None:
    world.viewer.is_active = False
    world.viewer.save()
    services.share_revoke(document=world.doc, actor=world.owner, user=world.editor)
    viewers = set(document_viewers(document=world.doc))
    assert world.viewer not in viewers and world.editor not in viewers


def test_document_viewers_of_a_trashed_document_is_the_owner(world: World) -> None:
    doc = services.document_trash(document=world.doc, actor=world.owner)
    assert list(document_viewers(document=doc)) == [world.owner]


def test_document_viewers_count_an_old_edit_only_row(world: World) -> None:
    assign_perm(EDIT, world.newcomer, world.doc)
    assert world.newcomer in set(document_viewers(document=world.doc))


@pytest.fixture
def shared() -> Any:
    """Record every document_shared signal as (user, role, actor, document)."""
    heard: list[tuple[Any, Any, Any, Any]] = []

    def receiver(sender: Any, *, document: Any, actor: Any, user: Any, role: Any, **_: Any) -> None:
        heard.append((user, role, actor, document))

    signals.document_shared.connect(receiver, dispatch_uid="test_roles")
    yield heard
    signals.document_shared.disconnect(dispatch_uid="test_roles")


def test_sharing_with_a_person_announces_after_commit(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.share_grant(
            document=world.doc, actor=world.owner, identifier="newcomer", role="commenter"
        )
        assert shared == []  # nothing before the commit
    assert shared == [(world.newcomer, Role.COMMENTER, world.owner, world.doc)]


def test_a_role_change_announces_and_a_repeat_does_not(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.share_change_role(
            document=world.doc, actor=world.owner, user=world.target, role="commenter"
        )
        services.share_change_role(
            document=world.doc, actor=world.owner, user=world.target, role="commenter"
        )
    assert shared == [(world.target, Role.COMMENTER, world.owner, world.doc)]


def test_a_refused_share_announces_nothing(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ActionNotAllowed):
        services.share_grant(
            document=world.doc, actor=world.viewer, identifier="newcomer", role="commenter"
        )
    assert shared == []


def test_a_group_share_announces_once_per_member_it_gives_something(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    users = get_user_model().objects
    alice = users.create_user("alice-g", password=None)
    gone = users.create_user("gone-g", password=None, is_active=False)
    # The owner, an editor and a viewer are in the group too.
    world.other_group.user_set.add(alice, gone, world.owner, world.editor, world.viewer)
    with django_capture_on_commit_callbacks(execute=True):
        services.share_with_group(
            document=world.doc, actor=world.sharer, group_name="outsiders", role="commenter"
        )
    # Not the inactive, not the owner, not the editor who may already do more;
    # the viewer gains commenting.
    assert sorted(entry[0].username for entry in shared) == ["alice-g", "viewer"]
    assert {entry[1] for entry in shared} == {Role.COMMENTER}
    assert {entry[2] for entry in shared} == {world.sharer}
    assert gone.username not in {entry[0].username for entry in shared}


def test_a_group_share_announcement_costs_the_same_for_a_big_group(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    users = get_user_model().objects

    def share_and_count(group: str, size: int) -> int:
        members = [users.create_user(f"{group}-{n}", password=None) for n in range(size)]
        created = Group.objects.create(name=group)
        created.user_set.add(*members)
        with CaptureQueriesContext(connection) as queries:
            services.share_with_group(
                document=world.doc, actor=world.owner, group_name=group, role="viewer"
            )
        return len(queries.captured_queries)

    assert share_and_count("small", 2) == share_and_count("big", 20)


def test_a_failing_receiver_neither_fails_the_share_nor_silences_others(
    world: World, shared: list, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("listener bug")

    signals.document_shared.connect(broken, dispatch_uid="broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.share_grant(
                document=world.doc, actor=world.owner, identifier="newcomer", role="viewer"
            )
    finally:
        signals.document_shared.disconnect(dispatch_uid="broken")
    assert [entry[0] for entry in shared] == [world.newcomer]
