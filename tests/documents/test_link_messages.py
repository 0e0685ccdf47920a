"""The share dialog's link reports say who is cut off, and it is true.

The report after turning the link off, and after making a new link, name
who loses access: people who only had the link (even with the document
open), never people it is shared with directly or through a group. Each
test makes the change through the API and then checks the claim against
what the selector allows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents.links import LINK_OFF_MESSAGE, NEW_LINK_MESSAGE, link_change_message
from documents.models import LinkMode
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def _link(client: Client, world: World, body: dict[str, Any]) -> str:
    url = reverse("documents:share_link", args=[world.doc.public_id])
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return str(response.json()["message"])


def _opens(client: Client, world: World) -> bool:
    url = reverse("documents:detail", args=[world.doc.public_id])
    return client.get(url).status_code == 200


def test_messages_for_each_change() -> None:
    """Off says who is cut off; a new link says so before the mode; a mode alone is its label."""
    assert link_change_message(mode="off", mode_label="Off", regenerated=False) == (
        "Link sharing is off. People who only had the link can no longer open it; "
        "people it was shared with directly keep access."
    )
    label = "Anyone with the link can view"
    assert link_change_message(mode="view", mode_label=label, regenerated=False) == f"{label}."
    assert link_change_message(mode="view", mode_label=label, regenerated=True) == (
        f"{NEW_LINK_MESSAGE} {label}."
    )


@pytest.mark.parametrize("change", [{"mode": "off"}, {"mode": "view", "regenerate": True}])
def test_the_people_the_report_names_lose_access_and_direct_shares_keep_it(
    world: World, login: Callable[..., Client], change: dict[str, Any]
) -> None:
    """Off and a new link: the link's visitor is out, the direct viewer is not."""
    owner = login("owner")
    _link(owner, world, {"mode": "view"})
    visitor = login("link_viewer")  # opened the document through the link
    viewer = login("viewer")  # a direct share
    assert _opens(visitor, world) and _opens(viewer, world)
    message = _link(owner, world, change)
    expected = LINK_OFF_MESSAGE if change["mode"] == "off" else NEW_LINK_MESSAGE
    assert message.startswith(expected)
    assert not _opens(visitor, world), "the report says people who only had the link are out"
    assert _opens(viewer, world), "the report says direct shares keep access"
    assert world.refresh().link_mode == change["mode"]


def test_a_mode_change_alone_keeps_the_link(world: World, login: Callable[..., Client]) -> None:
    """View → edit keeps the token: the report says only what the link allows now."""
    owner = login("owner")
    _link(owner, world, {"mode": "view"})
    token = world.refresh().link_token
    assert _link(owner, world, {"mode": "edit"}) == f"{LinkMode.EDIT.label}."
    assert world.refresh().link_token == token
