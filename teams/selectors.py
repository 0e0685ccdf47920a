"""Reads of the teams app: my teams, one team, and the people I may find.

Privacy rule of :func:`people_find` (issue 16, docs/teams.md): a person
finds only people who share a group with them (by a prefix of their
username, first or last name, full name or email) and anyone whose *exact*
email address they typed. A prefix of a stranger's name or address finds
nothing, so the endpoint cannot list the site's accounts. Groups found are
only the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Concat

from teams.exceptions import TeamNotFound
from teams.models import Team

#: Most people and most groups one search returns.
FIND_LIMIT = 10
#: Longest query accepted: an email address's longest (RFC 5321).
MAX_QUERY_LENGTH = 254


@dataclass(frozen=True)
class Membership:
    """One group the person belongs to, as the "my teams" page lists it."""

    group: Group
    team: Team | None
    member_count: int
    is_manager: bool

    @property
    def admin_managed(self) -> bool:
        """Return whether the group is run from the admin (no ``Team`` row)."""
        return self.team is None


@dataclass(frozen=True)
class FoundPerson:
    """A person a search found; ``email`` is None where it may not be shown."""

    id: int
    username: str
    name: str
    email: str | None


@dataclass(frozen=True)
class Found:
    """What :func:`people_find` returns."""

    people: list[FoundPerson] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


def display_name(user: Any) -> str:
    """Return the user's full name, else their username (as documents shows people)."""
    return (user.get_full_name() or "").strip() or str(user.get_username())


def team_memberships_for_user(*, user: Any) -> list[Membership]:
    """Return every group ``user`` belongs to, by name, with its team if it has one."""
    # Filter by id, not by ``user=``: a filter on the same relation before
    # the annotation would count only ``user`` in every group.
    groups = (
        Group.objects.filter(pk__in=user.groups.values("pk"))
        .select_related("team")
        .annotate(member_count=Count("user", distinct=True))
        .order_by("name")
    )
    managed = set(user.managed_teams.values_list("pk", flat=True))
    rows = []
    for group in groups:
        # The reverse one-to-one raises when the group has no Team row.
        team = group.team if hasattr(group, "team") else None
        rows.append(
            Membership(
                group=group,
                team=team,
                member_count=group.member_count,
                is_manager=team is not None and team.pk in managed,
            )
        )
    return rows


def team_get_for_member(*, user: Any, group_id: int) -> Membership:
    """Return the group ``group_id`` if ``user`` is a member, else raise TeamNotFound.

    A group the person is not in is "not found" whether or not it exists,
    so a stranger learns nothing from its id.
    """
    for row in team_memberships_for_user(user=user):
        if row.group.pk == group_id:
            return row
    raise TeamNotFound(group_id)


def team_members(*, group: Group) -> list[Any]:
    """Return the group's members, active or not, by username."""
    return list(group.user_set.order_by(get_user_model().USERNAME_FIELD))


def team_manager_ids(*, team: Team | None) -> set[int]:
    """Return the ids of the team's managers (none for an admin-made group)."""
    if team is None:
        return set()
    return set(team.managers.values_list("pk", flat=True))


def user_find_by_identifier(*, identifier: str) -> Any:
    """Return the active user whose username or email is exactly ``identifier``.

    The username matches exactly first, then case-insensitively; an
    identifier with ``@`` also matches an email address (case-insensitive).
    Raise :class:`ValidationError` with a message for people when no single
    active account matches.
    """
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValidationError("Enter a username or an email address.", code="required")
    model = get_user_model()
    users = model._default_manager.filter(is_active=True)
    name_field = model.USERNAME_FIELD
    for lookup in ("exact", "iexact"):
        matches = list(users.filter(**{f"{name_field}__{lookup}": identifier})[:2])
        if len(matches) == 1:
            return matches[0]
    if "@" in identifier:
        matches = list(users.filter(email__iexact=identifier)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValidationError(
                "Several accounts use that email address; enter a username instead.",
                code="ambiguous",
            )
    raise ValidationError(
        "No one here has the username or email address “%(identifier)s”.",
        code="unknown_user",
        params={"identifier": identifier},
    )


def _co_members(user: Any) -> Any:
    """Return the active people other than ``user`` who share a group with them."""
    return (
        get_user_model()
        ._default_manager.filter(is_active=True, groups__user=user)
        .exclude(pk=user.pk)
        .distinct()
    )


def people_find(*, user: Any, query: str, limit: int = FIND_LIMIT) -> Found:
    """Return the people and groups ``user`` may find for ``query`` (see the module).

    People: the exact-email matches first (any active account), then
    co-members whose username, first name, last name, full name or email
    starts with ``query`` (case-insensitive), each at most once and never
    ``user``. Groups: ``user``'s own whose name starts with ``query``. At
    most ``limit`` of each. A blank query finds nothing; one longer than
    :data:`MAX_QUERY_LENGTH` raises :class:`ValidationError`.
    """
    query = (query or "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError(
            "Search for at most %(limit)d characters.",
            code="too_long",
            params={"limit": MAX_QUERY_LENGTH},
        )
    if not query:
        return Found()
    model = get_user_model()
    people: list[FoundPerson] = []
    seen: set[int] = set()
    if "@" in query:
        exact = (
            model._default_manager.filter(is_active=True, email__iexact=query)
            .exclude(pk=user.pk)
            .order_by(model.USERNAME_FIELD)[:limit]
        )
        for person in exact:
            people.append(_found(person))
            seen.add(person.pk)
    prefix = (
        Q(**{f"{model.USERNAME_FIELD}__istartswith": query})
        | Q(first_name__istartswith=query)
        | Q(last_name__istartswith=query)
        | Q(full_name__istartswith=query)
        | Q(email__istartswith=query)
    )
    co_members = (
        _co_members(user)
        .annotate(full_name=Concat("first_name", Value(" "), "last_name", output_field=CharField()))
        .filter(prefix)
        .exclude(pk__in=seen)
        .order_by(model.USERNAME_FIELD)[: max(0, limit - len(people))]
    )
    people.extend(_found(person) for person in co_members)
    groups = list(user.groups.filter(name__istartswith=query).order_by("name")[:limit])
    return Found(people=people, groups=groups)


def _found(person: Any) -> FoundPerson:
    # Everyone found may see the address: a co-member, or the one typed.
    return FoundPerson(
        id=int(person.pk),
        username=str(person.get_username()),
        name=display_name(person),
        email=person.email or None,
    )
