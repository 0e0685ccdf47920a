"""Writes of the teams app: create, rename, members, managers, leave, delete.

Every function checks before it changes anything, so a refusal
(:class:`ValidationError` for bad input, :class:`PermissionDenied` for a
person who may not) leaves the team as it was. Changes lock the team's row
first (``SELECT ... FOR UPDATE``): two managers stepping down at once
cannot both pass the "someone must stay manager" check.

Membership is the group's ``user_set``; changing it sends Django's
``m2m_changed`` and deleting the group ``pre_/post_delete``, which
``documents.revocation`` turns into access re-checks on the members' open
sockets. So removing someone, or deleting a team that documents were
shared with, cuts them off live without this app knowing about documents.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from teams.models import Team
from teams.selectors import user_find_by_identifier

#: ``auth.Group.name``'s length.
NAME_MAX_LENGTH = 150

NOT_MANAGER = "Only the team’s managers can change it."


def clean_team_name(name: str, *, exclude_group: Group | None = None) -> str:
    """Return ``name`` stripped, or raise ValidationError saying what is wrong.

    A name must be non-blank, at most 150 characters, free of control
    characters, and unlike every other group's name ignoring case
    ("Design" and "design" would be the same team to people typing it
    into the share dialog).
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("Enter a name for the team.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            "A team name has at most %(limit)d characters.",
            code="too_long",
            params={"limit": NAME_MAX_LENGTH},
        )
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise ValidationError("A team name can’t contain control characters.", code="invalid")
    taken = Group.objects.filter(name__iexact=name)
    if exclude_group is not None:
        taken = taken.exclude(pk=exclude_group.pk)
    if taken.exists():
        raise ValidationError(
            "There is already a team or group called “%(name)s”.",
            code="taken",
            params={"name": name},
        )
    return name


def _locked(team: Team) -> Team:
    """Return ``team`` re-read under a row lock (inside the caller's transaction)."""
    try:
        return Team.objects.select_for_update().select_related("group").get(pk=team.pk)
    except Team.DoesNotExist:
        raise ValidationError("This team no longer exists.", code="gone") from None


def _is_member(team: Team, user: Any) -> bool:
    return team.group.user_set.filter(pk=user.pk).exists()


def _check_manager(team: Team, actor: Any) -> None:
    if not team.managers.filter(pk=actor.pk).exists():
        raise PermissionDenied(NOT_MANAGER)


def _check_member(team: Team, user: Any) -> None:
    if not _is_member(team, user):
        raise ValidationError(
            "%(name)s isn’t a member of this team.",
            code="not_member",
            params={"name": user.get_username()},
        )


def _check_a_manager_stays(team: Team, leaving: Any) -> None:
    """Refuse to leave the team's members without a manager once ``leaving`` goes."""
    others = team.group.user_set.exclude(pk=leaving.pk)
    if others.exists() and not team.managers.exclude(pk=leaving.pk).exists():
        raise ValidationError(
            "The team needs a manager: make someone else a manager first.",
            code="last_manager",
        )


@transaction.atomic
def team_create(*, creator: Any, name: str) -> Team:
    """Create a team called ``name`` with ``creator`` as its first member and manager."""
    name = clean_team_name(name)
    group = Group.objects.create(name=name)
    team = Team.objects.create(group=group, created_by=creator)
    group.user_set.add(creator)
    team.managers.add(creator)
    return team


@transaction.atomic
def team_rename(*, team: Team, actor: Any, name: str) -> Team:
    """Rename the team (managers only); documents shared with it stay shared."""
    team = _locked(team)
    _check_manager(team, actor)
    name = clean_team_name(name, exclude_group=team.group)
    team.group.name = name
    team.group.save(update_fields=["name"])
    return team


@transaction.atomic
def team_add_member(*, team: Team, actor: Any, identifier: str) -> Any:
    """Add the active person with this exact username or email (managers only)."""
    team = _locked(team)
    _check_manager(team, actor)
    user = user_find_by_identifier(identifier=identifier)
    if _is_member(team, user):
        raise ValidationError(
            "%(name)s is already a member.",
            code="already_member",
            params={"name": user.get_username()},
        )
    team.group.user_set.add(user)
    return user


@transaction.atomic
def team_remove_member(*, team: Team, actor: Any, user: Any) -> None:
    """Remove ``user`` from the team (managers only); they lose its shares at once."""
    team = _locked(team)
    _check_manager(team, actor)
    _check_member(team, user)
    _check_a_manager_stays(team, user)
    team.managers.remove(user)
    team.group.user_set.remove(user)


@transaction.atomic
def team_set_manager(*, team: Team, actor: Any, user: Any, manager: bool) -> None:
    """Make a member a manager, or not (managers only; one must remain)."""
    team = _locked(team)
    _check_manager(team, actor)
    _check_member(team, user)
    if manager:
        team.managers.add(user)
        return
    if not team.managers.exclude(pk=user.pk).exists():
        raise ValidationError(
            "The team needs a manager: make someone else a manager first.",
            code="last_manager",
        )
    team.managers.remove(user)


@transaction.atomic
def team_leave(*, team: Team, user: Any) -> None:
    """Take ``user`` out of the team, unless they would leave it without a manager.

    The last member cannot leave either: an empty team nobody can reach
    would keep its name taken; they delete it instead.
    """
    team = _locked(team)
    _check_member(team, user)
    if not team.group.user_set.exclude(pk=user.pk).exists():
        raise ValidationError(
            "You are the team’s only member: delete the team instead.", code="last_member"
        )
    _check_a_manager_stays(team, user)
    team.managers.remove(user)
    team.group.user_set.remove(user)


@transaction.atomic
def team_delete(*, team: Team, actor: Any) -> None:
    """Delete the team and its group (managers only).

    Every share made with the group goes with it (guardian's group
    permissions cascade), and its members' open sockets re-check access.
    """
    team = _locked(team)
    _check_manager(team, actor)
    # The Team row cascades with its group.
    team.group.delete()
