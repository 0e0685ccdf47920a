"""Pages of the teams app: my teams, a new team, one team and its changes.

Views stay thin: they read with :mod:`teams.selectors`, write with
:mod:`teams.services` and turn refusals into answers. A group the person is
not in is a 404 whether or not it exists; a change by a member who is not
a manager is a 403 (``PermissionDenied`` from the service) and changes
nothing; bad input re-renders the page with the error (400) or, for the
buttons, returns to the team page with the error as a message. Creating
teams is throttled per person (``teams.throttle.TEAM``: 429, the list page
saying why, ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from teams import services, throttle
from teams.exceptions import TeamNotFound
from teams.models import Team
from teams.selectors import (
    Membership,
    display_name,
    team_get_for_member,
    team_manager_ids,
    team_members,
    team_memberships_for_user,
)

ADMIN_MANAGED = "This group is managed by the site’s administrators."


def _membership(request: HttpRequest, group_id: int) -> Membership:
    try:
        return team_get_for_member(user=request.user, group_id=group_id)
    except TeamNotFound:
        raise Http404("No such team.") from None


def _team(request: HttpRequest, group_id: int) -> Team:
    """Return the team of ``group_id`` for a change by a member; admin groups refuse."""
    row = _membership(request, group_id)
    if row.team is None:
        raise PermissionDenied(ADMIN_MANAGED)
    return row.team


def _member(team: Team, user_id: int) -> Any:
    """Return the member ``user_id`` of ``team``, else 404 (no one to change)."""
    user = team.group.user_set.filter(pk=user_id).first()
    if user is None:
        raise Http404("No such member.")
    return user


def _list_page(
    request: HttpRequest, *, name: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "memberships": team_memberships_for_user(user=request.user),
        "name": name,
        "error": error,
        "section": "teams",
    }
    return render(request, "teams/list.html", context, status=status)


def _detail_page(
    request: HttpRequest,
    row: Membership,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    managers = team_manager_ids(team=row.team)
    members = [
        {"user": user, "name": display_name(user), "is_manager": user.pk in managers}
        for user in team_members(group=row.group)
    ]
    context = {
        "row": row,
        "group": row.group,
        "members": members,
        "is_manager": row.is_manager,
        "errors": errors or {},
        "values": values or {},
        "section": "teams",
    }
    return render(request, "teams/detail.html", context, status=status)


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    """List the groups the person is in, and offer to create a team."""
    return _list_page(request)


@login_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    """Create a team with the person as its manager, then show it."""
    name = request.POST.get("name", "")
    seconds = throttle.hit(request, throttle.TEAM)
    if seconds is not None:
        response = _list_page(request, name=name, error=throttle.TEAM.message, status=429)
        response["Retry-After"] = str(seconds)
        return response
    try:
        team = services.team_create(creator=request.user, name=name)
    except ValidationError as exc:
        return _list_page(request, name=name, error=" ".join(exc.messages), status=400)
    messages.success(request, f"Team “{team.group.name}” created.")
    return redirect("teams:detail", group_id=team.group_id)


@login_required
@require_GET
def team_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """Show a team's members and, to its managers, the ways to change it."""
    return _detail_page(request, _membership(request, group_id))


@login_required
@require_POST
def team_rename(request: HttpRequest, group_id: int) -> HttpResponse:
    """Rename the team (managers)."""
    team = _team(request, group_id)
    name = request.POST.get("name", "")
    try:
        services.team_rename(team=team, actor=request.user, name=name)
    except ValidationError as exc:
        row = _membership(request, group_id)
        errors = {"rename": " ".join(exc.messages)}
        return _detail_page(request, row, errors=errors, values={"name": name}, status=400)
    messages.success(request, f"The team is now called “{name.strip()}”.")
    return redirect("teams:detail", group_id=group_id)


@login_required
@require_POST
def member_add(request: HttpRequest, group_id: int) -> HttpResponse:
    """Add a member by exact username or email (managers)."""
    team = _team(request, group_id)
    identifier = request.POST.get("identifier", "")
    try:
        user = services.team_add_member(team=team, actor=request.user, identifier=identifier)
    except ValidationError as exc:
        row = _membership(request, group_id)
        errors = {"add": " ".join(exc.messages)}
        values = {"identifier": identifier}
        return _detail_page(request, row, errors=errors, values=values, status=400)
    messages.success(request, f"{display_name(user)} is now a member.")
    return redirect("teams:detail", group_id=group_id)


@login_required
@require_POST
def member_remove(request: HttpRequest, group_id: int, user_id: int) -> HttpResponse:
    """Remove a member (managers); they lose what was shared with the team at once."""
    team = _team(request, group_id)
    user = _member(team, user_id)
    if user.pk == request.user.pk:
        # Removing oneself is leaving, with its own rules and page.
        return team_leave(request, group_id)
    try:
        services.team_remove_member(team=team, actor=request.user, user=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{display_name(user)} is no longer a member.")
    return redirect("teams:detail", group_id=group_id)


@login_required
@require_POST
def member_manager(request: HttpRequest, group_id: int, user_id: int) -> HttpResponse:
    """Make a member a manager (``manager=1``) or not (``manager=0``)."""
    team = _team(request, group_id)
    user = _member(team, user_id)
    flag = request.POST.get("manager", "")
    if flag not in ("0", "1"):
        messages.error(request, "Choose whether to make them a manager or not.")
        return redirect("teams:detail", group_id=group_id)
    manager = flag == "1"
    try:
        services.team_set_manager(team=team, actor=request.user, user=user, manager=manager)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        state = "a manager" if manager else "no longer a manager"
        messages.success(request, f"{display_name(user)} is now {state}.")
    return redirect("teams:detail", group_id=group_id)


@login_required
@require_POST
def team_leave(request: HttpRequest, group_id: int) -> HttpResponse:
    """Leave the team (any member; a last manager must hand over first)."""
    team = _team(request, group_id)
    try:
        services.team_leave(team=team, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("teams:detail", group_id=group_id)
    messages.success(request, f"You left “{team.group.name}”.")
    return redirect("teams:list")


@login_required
@require_POST
def team_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    """Delete the team (managers); documents shared with it are no longer shared."""
    team = _team(request, group_id)
    name = team.group.name
    try:
        services.team_delete(team=team, actor=request.user)
    except ValidationError as exc:
        # Deleted by another manager a moment ago: the outcome they wanted.
        messages.info(request, " ".join(exc.messages))
        return redirect("teams:list")
    messages.success(request, f"Team “{name}” deleted.")
    return redirect("teams:list")
