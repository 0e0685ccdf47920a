"""The teams pages: list, create, the team page and its POST actions.

Failure modes: a stranger seeing a team (must be 404, like a missing one);
a member who is not a manager changing it (403, nothing changed); GET on an
action (405); a POST without the CSRF token (403); bad input losing what
was typed; an admin-made group changed by people.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from teams import services
from teams.models import Team
from tests.teams.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    ann, bob, cid = make_user("ann", first_name="Ann"), make_user("bob"), make_user("cid")
    team = services.team_create(creator=ann, name="Design")
    services.team_add_member(team=team, actor=ann, identifier="bob")
    return {"ann": ann, "bob": bob, "cid": cid, "team": team}


def url(name: str, team: Team, *args: int) -> str:
    return reverse(f"teams:{name}", args=[team.group_id, *args])


def test_the_user_menu_links_to_teams_and_the_list_shows_mine(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["ann"])
    admins = Group.objects.create(name="Staff room")
    world["ann"].groups.add(admins)
    page = client.get(reverse("teams:list")).content.decode()
    assert f'href="{reverse("teams:list")}">Teams</a>' in page
    assert "Design" in page and "Manager" in page
    assert "Staff room" in page and "Managed by administrators" in page
    assert "Design" not in login(world["cid"]).get(reverse("teams:list")).content.decode()


def test_create_redirects_to_the_new_team_and_a_bad_name_keeps_the_input(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["cid"])
    response = client.post(reverse("teams:create"), {"name": "Research"})
    team = Team.objects.get(group__name="Research")
    assert response.status_code == 302 and response["Location"] == url("detail", team)
    response = client.post(reverse("teams:create"), {"name": "DESIGN"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is already a team or group called “DESIGN”." in page
    assert 'value="DESIGN"' in page and 'aria-invalid="true"' in page


def test_a_team_is_404_to_strangers_and_for_missing_ids(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["cid"])
    team = world["team"]
    assert client.get(url("detail", team)).status_code == 404
    assert client.get(reverse("teams:detail", args=[team.group_id + 999])).status_code == 404
    for name in ("rename", "add_member", "leave", "delete"):
        assert client.post(url(name, team), {"name": "x", "identifier": "cid"}).status_code == 404
    assert client.post(url("remove_member", team, world["bob"].pk)).status_code == 404
    assert set(team.group.user_set.values_list("username", flat=True)) == {"ann", "bob"}


def test_a_plain_member_sees_the_team_but_changing_it_is_403(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    team, bob = world["team"], world["bob"]
    client = login(bob)
    page = client.get(url("detail", team)).content.decode()
    assert "Ann" in page and "Leave team" in page
    assert "Delete team" not in page and "Make manager" not in page
    assert client.post(url("rename", team), {"name": "Bob's"}).status_code == 403
    assert client.post(url("add_member", team), {"identifier": "cid"}).status_code == 403
    assert client.post(url("delete", team)).status_code == 403
    response = client.post(url("set_manager", team, bob.pk), {"manager": "1"})
    assert response.status_code == 403
    team.group.refresh_from_db()
    assert team.group.name == "Design" and list(team.managers.all()) == [world["ann"]]


def test_a_manager_adds_promotes_removes_renames_and_deletes(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    team, ann, bob, cid = world["team"], world["ann"], world["bob"], world["cid"]
    client = login(ann)
    detail = url("detail", team)
    assert client.post(url("add_member", team), {"identifier": "cid@example.com"})["Location"] == (
        detail
    )
    assert client.post(url("set_manager", team, bob.pk), {"manager": "1"}).status_code == 302
    assert set(team.managers.values_list("username", flat=True)) == {"ann", "bob"}
    assert client.post(url("remove_member", team, cid.pk)).status_code == 302
    assert client.post(url("rename", team), {"name": "Design team"}).status_code == 302
    page = client.get(detail).content.decode()
    assert "Design team" in page and "cid is no longer a member." in page
    assert f'data-user-id="{cid.pk}"' not in page and f'data-user-id="{bob.pk}"' in page
    assert client.post(url("delete", team))["Location"] == reverse("teams:list")
    assert not Group.objects.filter(pk=team.group_id).exists()


def test_bad_input_on_the_team_page_says_why_and_keeps_what_was_typed(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    team = world["team"]
    client = login(world["ann"])
    response = client.post(url("add_member", team), {"identifier": "zed@nowhere.test"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No one here has the username or email address “zed@nowhere.test”." in page
    assert 'value="zed@nowhere.test"' in page
    response = client.post(url("rename", team), {"name": ""})
    assert response.status_code == 400 and "Enter a name for the team." in response.content.decode()
    response = client.post(
        url("set_manager", team, world["ann"].pk), {"manager": "maybe"}, follow=True
    )
    assert "Choose whether to make them a manager or not." in response.content.decode()
    response = client.post(url("leave", team), follow=True)
    assert "make someone else a manager first" in response.content.decode()
    assert set(team.group.user_set.values_list("username", flat=True)) == {"ann", "bob"}


def test_actions_need_post_and_the_csrf_token(world: dict[str, Any]) -> None:
    team = world["team"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["ann"])
    assert client.get(url("delete", team)).status_code == 405
    assert client.post(url("delete", team)).status_code == 403
    assert Group.objects.filter(pk=team.group_id).exists()


def test_an_admin_made_group_is_read_only_to_its_members(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    group = Group.objects.create(name="Staff room")
    world["ann"].groups.add(group)
    client = login(world["ann"])
    page = client.get(reverse("teams:detail", args=[group.pk])).content.decode()
    assert "only they can change it" in page and "Leave team" not in page
    response = client.post(reverse("teams:leave", args=[group.pk]))
    assert response.status_code == 403
    assert world["ann"].groups.filter(pk=group.pk).exists()


def test_anonymous_people_are_sent_to_sign_in(world: dict[str, Any]) -> None:
    response = Client().get(reverse("teams:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_deleting_a_team_deleted_a_moment_ago_says_so(
    world: dict[str, Any], login: Callable[[Any], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second manager's delete racing the first: a message, never a 500."""
    from teams import views

    team = world["team"]
    services.team_set_manager(team=team, actor=world["ann"], user=world["bob"], manager=True)
    # The team as bob's request read it, just before ann's delete committed.
    stale = Team.objects.select_related("group").get(pk=team.pk)
    services.team_delete(team=team, actor=world["ann"])
    monkeypatch.setattr(views, "_team", lambda request, group_id: stale)
    response = login(world["bob"]).post(url("delete", team), follow=True)
    assert response.status_code == 200
    assert "This team no longer exists." in response.content.decode()


def test_the_admin_lists_teams_with_their_size(world: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", None)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:teams_team_changelist")).content.decode()
    assert "Design" in page and ">2<" in page
    response = client.get(reverse("admin:teams_team_change", args=[world["team"].pk]))
    assert response.status_code == 200


def test_creating_teams_past_the_throttle_is_429_and_creates_nothing(
    world: dict[str, Any], login: Callable[[Any], Client], settings: Any
) -> None:
    caches["throttle"].clear()
    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "THROTTLES": {**settings.COLLABDOCS["THROTTLES"], "team": "1/h"},
    }
    client = login(world["cid"])
    try:
        assert client.post(reverse("teams:create"), {"name": "One"}).status_code == 302
        response = client.post(reverse("teams:create"), {"name": "Two"})
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
        assert "created many teams" in response.content.decode()
        assert not Group.objects.filter(name="Two").exists()
    finally:
        caches["throttle"].clear()
