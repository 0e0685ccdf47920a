"""``GET /api/people``: whom the share dialog's autocomplete may suggest.

Failure modes: a stranger found by a prefix of their username, name or
email (enumeration); another person's groups suggested; inactive accounts
or the asker listed; emails shown for strangers found by prefix (never
found at all); more than 10 of each; an overlong query; anonymous access;
a POST; a search flood past the throttle.
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
from tests.teams.conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/api/people"


@pytest.fixture
def world() -> dict[str, Any]:
    """``me`` in team "Design" with ``mia``; ``stan`` a stranger; "Ops" not mine."""
    me = make_user("me")
    mia = make_user("mia", first_name="Mia", last_name="Moreau", email="mia.m@corp.test")
    stan = make_user("stanley", first_name="Stan", email="stan@corp.test")
    ghost = make_user("mick", is_active=False)
    design = services.team_create(creator=me, name="Design")
    for person in (mia, ghost):
        design.group.user_set.add(person)
    ops = services.team_create(creator=stan, name="Ops")
    admins = Group.objects.create(name="Designers (admin)")
    me.groups.add(admins)
    return {"me": me, "mia": mia, "stan": stan, "design": design, "ops": ops}


def ask(client: Client, query: str) -> dict[str, Any]:
    response = client.get(URL, {"q": query})
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "private, no-store"
    return response.json()


def usernames(data: dict[str, Any]) -> list[str]:
    return [person["username"] for person in data["people"]]


def test_the_url_is_named() -> None:
    assert reverse("teams:api_people") == URL


def test_a_co_member_is_found_by_a_prefix_of_any_name_or_email(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["me"])
    for query in ("mi", "MIA", "Moreau", "Mia Mo", "mia.m@"):
        data = ask(client, query)
        assert usernames(data) == ["mia"], query
    assert data["people"][0] == {
        "id": world["mia"].pk,
        "username": "mia",
        "name": "Mia Moreau",
        "email": "mia.m@corp.test",
    }


def test_a_stranger_is_not_found_by_any_prefix(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["me"])
    for query in ("s", "stan", "Stanley", "stan@corp", "stan@corp.tes", "corp.test"):
        assert usernames(ask(client, query)) == [], query


def test_a_stranger_is_found_by_their_exact_email_in_any_case(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    data = ask(login(world["me"]), "  Stan@Corp.TEST ")
    assert data["people"] == [
        {"id": world["stan"].pk, "username": "stanley", "name": "Stan", "email": "stan@corp.test"}
    ]


def test_inactive_people_and_the_asker_are_never_suggested(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["me"])
    assert usernames(ask(client, "m")) == ["mia"]  # not mick (inactive), not me
    assert usernames(ask(client, "me@example.com")) == []


def test_groups_found_are_only_my_own_admin_made_ones_included(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    client = login(world["me"])
    assert [group["name"] for group in ask(client, "des")["groups"]] == [
        "Design",
        "Designers (admin)",
    ]
    assert ask(client, "ops")["groups"] == []
    assert ask(login(world["stan"]), "d")["groups"] == []


def test_blank_query_finds_nothing_and_at_most_ten_of_each(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    me = world["me"]
    for n in range(12):
        person = make_user(f"mate{n:02d}")
        world["design"].group.user_set.add(person)
        group = Group.objects.create(name=f"mates {n:02d}")
        me.groups.add(group)
    client = login(me)
    assert ask(client, "   ") == {"people": [], "groups": []}
    data = ask(client, "mate")
    assert usernames(data) == [f"mate{n:02d}" for n in range(10)]
    assert len(data["groups"]) == 10


def test_refusals_are_json_and_say_why(
    world: dict[str, Any], login: Callable[[Any], Client]
) -> None:
    assert Client().get(URL, {"q": "mia"}).status_code == 401
    client = login(world["me"])
    response = client.post(URL, {"q": "mia"})
    assert response.status_code == 405 and response["Allow"] == "GET"
    response = client.get(URL, {"q": "x" * 255})
    assert response.status_code == 400
    assert "at most 254" in response.json()["error"]


def test_searches_past_the_throttle_get_429_with_retry_after(
    world: dict[str, Any], login: Callable[[Any], Client], settings: Any
) -> None:
    caches["throttle"].clear()
    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "THROTTLES": {**settings.COLLABDOCS["THROTTLES"], "people": "2/h"},
    }
    client = login(world["me"])
    try:
        assert [client.get(URL, {"q": "mi"}).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get(URL, {"q": "mi"})
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        assert "wait" in refused.json()["error"]
        # Counted per person: someone else still searches.
        assert login(world["mia"]).get(URL, {"q": "me"}).status_code == 200
    finally:
        caches["throttle"].clear()
