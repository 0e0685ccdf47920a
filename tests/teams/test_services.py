"""The team services: create, rename, members, managers, leave, delete.

Failure modes: a duplicate name differing only in case, blank, overlong or
control-character names; a non-manager changing the team; adding an
inactive, unknown or already-present person; a team left without a manager
by removal, demotion or leaving; the last member leaving. Each refusal
changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from teams import services
from teams.models import Team
from tests.teams.conftest import make_user

pytestmark = pytest.mark.django_db


def members(team: Team) -> set[str]:
    return set(team.group.user_set.values_list("username", flat=True))


def managers(team: Team) -> set[str]:
    return set(team.managers.values_list("username", flat=True))


@pytest.fixture
def people() -> dict[str, Any]:
    return {name: make_user(name) for name in ("ann", "bob", "cid")}


@pytest.fixture
def team(people: dict[str, Any]) -> Team:
    team = services.team_create(creator=people["ann"], name="Design")
    services.team_add_member(team=team, actor=people["ann"], identifier="bob")
    return team


def test_create_makes_a_group_with_its_creator_as_member_and_manager(
    people: dict[str, Any],
) -> None:
    team = services.team_create(creator=people["ann"], name="  Platform  ")
    assert team.group.name == "Platform"
    assert team.created_by == people["ann"]
    assert members(team) == {"ann"} and managers(team) == {"ann"}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("x" * 151, "too_long"),
        ("Tab\there", "invalid"),
        ("design", "taken"),  # "Design" exists: case does not make a new team
        ("Admins", "taken"),  # a group made in the admin
    ],
)
def test_create_refuses_bad_or_taken_names_and_creates_nothing(
    people: dict[str, Any], team: Team, name: str, code: str
) -> None:
    Group.objects.create(name="Admins")
    before = Group.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.team_create(creator=people["cid"], name=name)
    assert caught.value.code == code
    assert Group.objects.count() == before


def test_add_member_by_username_or_email_case_insensitively(
    people: dict[str, Any], team: Team
) -> None:
    services.team_add_member(team=team, actor=people["ann"], identifier="CID@example.com")
    assert members(team) == {"ann", "bob", "cid"}


@pytest.mark.parametrize("identifier", ["nobody", "", "ci", "cid@example"])
def test_add_member_refuses_unknown_and_partial_identifiers(
    people: dict[str, Any], team: Team, identifier: str
) -> None:
    with pytest.raises(ValidationError):
        services.team_add_member(team=team, actor=people["ann"], identifier=identifier)
    assert members(team) == {"ann", "bob"}


def test_add_member_refuses_an_inactive_person_and_a_present_member(
    people: dict[str, Any], team: Team
) -> None:
    people["cid"].is_active = False
    people["cid"].save()
    with pytest.raises(ValidationError):
        services.team_add_member(team=team, actor=people["ann"], identifier="cid")
    with pytest.raises(ValidationError) as caught:
        services.team_add_member(team=team, actor=people["ann"], identifier="bob")
    assert caught.value.code == "already_member"
    assert members(team) == {"ann", "bob"}


def test_a_member_who_is_not_a_manager_can_change_nothing(
    people: dict[str, Any], team: Team
) -> None:
    bob, ann = people["bob"], people["ann"]
    attempts = [
        lambda: services.team_rename(team=team, actor=bob, name="Mine"),
        lambda: services.team_add_member(team=team, actor=bob, identifier="cid"),
        lambda: services.team_remove_member(team=team, actor=bob, user=ann),
        lambda: services.team_set_manager(team=team, actor=bob, user=bob, manager=True),
        lambda: services.team_delete(team=team, actor=bob),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    team.group.refresh_from_db()
    assert team.group.name == "Design"
    assert members(team) == {"ann", "bob"} and managers(team) == {"ann"}


def test_rename_keeps_the_group_and_refuses_a_taken_name(
    people: dict[str, Any], team: Team
) -> None:
    group_id = team.group_id
    services.team_create(creator=people["cid"], name="Ops")
    with pytest.raises(ValidationError):
        services.team_rename(team=team, actor=people["ann"], name="OPS")
    services.team_rename(team=team, actor=people["ann"], name="design")  # its own name, recased
    assert Group.objects.get(pk=group_id).name == "design"


def test_managers_rules_a_team_always_keeps_a_manager(people: dict[str, Any], team: Team) -> None:
    ann, bob = people["ann"], people["bob"]
    with pytest.raises(ValidationError) as caught:
        services.team_set_manager(team=team, actor=ann, user=ann, manager=False)
    assert caught.value.code == "last_manager"
    with pytest.raises(ValidationError):
        services.team_leave(team=team, user=ann)
    assert managers(team) == {"ann"} and members(team) == {"ann", "bob"}

    services.team_set_manager(team=team, actor=ann, user=bob, manager=True)
    services.team_set_manager(team=team, actor=bob, user=ann, manager=False)
    assert managers(team) == {"bob"}
    # Removing the last manager is refused too.
    services.team_set_manager(team=team, actor=bob, user=ann, manager=True)
    services.team_remove_member(team=team, actor=ann, user=bob)
    assert members(team) == {"ann"} and managers(team) == {"ann"}


def test_remove_and_leave_take_people_out_of_the_group(people: dict[str, Any], team: Team) -> None:
    ann, bob, cid = people["ann"], people["bob"], people["cid"]
    services.team_add_member(team=team, actor=ann, identifier="cid")
    services.team_leave(team=team, user=cid)
    services.team_remove_member(team=team, actor=ann, user=bob)
    assert members(team) == {"ann"}
    with pytest.raises(ValidationError) as caught:
        services.team_remove_member(team=team, actor=ann, user=bob)
    assert caught.value.code == "not_member"


def test_the_last_member_cannot_leave_but_may_delete(people: dict[str, Any], team: Team) -> None:
    ann, bob = people["ann"], people["bob"]
    services.team_remove_member(team=team, actor=ann, user=bob)
    with pytest.raises(ValidationError) as caught:
        services.team_leave(team=team, user=ann)
    assert caught.value.code == "last_member"
    group_id = team.group_id
    services.team_delete(team=team, actor=ann)
    assert not Group.objects.filter(pk=group_id).exists()
    assert not Team.objects.filter(pk=team.pk).exists()
