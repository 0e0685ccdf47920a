"""The share dialog's flows through its JSON endpoints.

Every refusal answers a clear message and leaves the database exactly as it
was (``sharing_state`` before and after).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse
from guardian.models import GroupObjectPermission, UserObjectPermission
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from documents.links import SESSION_KEY
from documents.models import Document, LinkMode
from documents.people import user_color
from documents.services import NOT_ALLOWED_TO_SHARE
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def sharing_state(doc: Document) -> tuple:
    """Return everything sharing can change about a document."""
    filters = {
        "content_type": ContentType.objects.get_for_model(Document),
        "object_pk": str(doc.pk),
    }
    users = sorted(
        UserObjectPermission.objects.filter(**filters).values_list(
            "user__username", "permission__codename"
        )
    )
    groups = sorted(
        GroupObjectPermission.objects.filter(**filters).values_list(
            "group__name", "permission__codename"
        )
    )
    row = Document.objects.values_list(
        "owner_id", "link_mode", "link_token", "title", "trashed_at"
    ).get(pk=doc.pk)
    return users, groups, row


def post(client: Client, doc: Document, name: str, body: Any) -> Any:
    url = reverse(f"documents:{name}", args=[doc.public_id])
    return client.post(url, json.dumps(body), content_type="application/json")


def share_state(client: Client, doc: Document) -> dict:
    response = client.get(reverse("documents:share", args=[doc.public_id]))
    assert response.status_code == 200
    return response.json()


# What the dialog shows ------------------------------------------------------


def test_state_for_the_owner(world: World, login: Callable[..., Client]) -> None:
    state = share_state(login("owner"), world.doc)
    assert state["document"] == {
        "id": str(world.doc.public_id),
        "title": "Quarterly plan",
        "url": reverse("documents:detail", args=[world.doc.public_id]),
    }
    assert state["you"] == {
        "id": world.owner.pk,
        "role": "owner",
        "role_label": "Owner",
        "can_manage": True,
        "is_owner": True,
    }
    assert state["owner"] == {
        "id": world.owner.pk,
        "username": "owner",
        "name": "Olivia Owner",
        "email": "owner@example.com",
        "color": user_color(world.owner.pk),
        "is_you": True,
    }
    assert [(p["username"], p["role"], p["can_share"]) for p in state["people"]] == [
        ("commenter", "commenter", False),
        ("editor", "editor", False),
        ("sharer", "editor", True),
        ("target", "viewer", False),
        ("viewer", "viewer", False),
    ]
    assert state["groups"] == [
        {"id": world.reviewers.pk, "name": "reviewers", "role": "commenter"},
        {"id": world.group.pk, "name": "team", "role": "editor"},
    ]
    assert state["link"] == {"mode": "off", "url": None}
    assert [r["value"] for r in state["roles"]] == ["viewer", "commenter", "editor"]
    assert [m["value"] for m in state["link_modes"]] == ["off", "view", "comment", "edit"]


def test_state_for_a_viewer_is_read_only_without_emails(
    world: World, login: Callable[..., Client]
) -> None:
    state = share_state(login("viewer"), world.doc)
    assert state["you"]["can_manage"] is False and state["you"]["role"] == "viewer"
    assert "email" not in state["owner"]
    assert all("email" not in person for person in state["people"])
    assert [p["is_you"] for p in state["people"] if p["username"] == "viewer"] == [True]


@pytest.mark.parametrize(
    ("mode", "persona", "sees_link"),
    [
        ("view", "viewer", True),
        ("edit", "viewer", False),  # an edit link would raise a viewer to editor
        ("comment", "viewer", False),  # a comment link would let a viewer comment
        ("comment", "commenter", True),
        ("comment", "group_commenter", True),
        ("view", "commenter", True),
        ("edit", "commenter", False),  # an edit link would raise a commenter to editor
        ("comment", "editor", True),
        ("edit", "editor", True),
        ("edit", "sharer", True),
        ("edit", "group_member", True),
    ],
)
def test_link_url_only_for_those_it_gives_nothing_new(
    world: World, login: Callable[..., Client], mode: str, persona: str, sees_link: bool
) -> None:
    client = login(persona)
    Document.objects.filter(pk=world.doc.pk).update(link_mode=mode)
    state = share_state(client, world.refresh())
    if sees_link:
        assert (
            state["link"]["url"]
            == f"http://testserver/d/{world.doc.public_id}/?key={world.doc.link_token}"
        )
    else:
        assert state["link"]["url"] is None
        assert world.doc.link_token not in json.dumps(state)


# Successful flows ------------------------------------------------------------


def test_share_with_a_person_by_email(world: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    response = post(
        client,
        world.doc,
        "share",
        {"identifier": "newcomer@example.com", "role": "editor", "can_share": True},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["message"] == "Shared with newcomer as Editor who can share."
    assert ("newcomer", "editor", True) in [
        (p["username"], p["role"], p["can_share"]) for p in data["share"]["people"]
    ]
    assert (
        login("newcomer").get(reverse("documents:detail", args=[world.doc.public_id])).status_code
        == 200
    )


def test_change_a_role(world: World, login: Callable[..., Client]) -> None:
    response = post(
        login("sharer"), world.doc, "share_role", {"user": world.target.pk, "role": "editor"}
    )
    assert response.status_code == 200 and response.json()["message"] == "target is now Editor."


def test_revoking_takes_access_away_at_once(world: World, login: Callable[..., Client]) -> None:
    target = login("viewer")
    assert target.get(reverse("documents:detail", args=[world.doc.public_id])).status_code == 200
    response = post(login("owner"), world.doc, "share_revoke", {"user": world.viewer.pk})
    assert (
        response.status_code == 200 and response.json()["message"] == "viewer no longer has access."
    )
    assert target.get(reverse("documents:detail", args=[world.doc.public_id])).status_code == 404
    assert target.get(reverse("documents:share", args=[world.doc.public_id])).status_code == 404
    assert "viewer" not in [p["username"] for p in response.json()["share"]["people"]]


def test_leaving_a_document_answers_no_state(world: World, login: Callable[..., Client]) -> None:
    response = post(login("viewer"), world.doc, "share_revoke", {"user": world.viewer.pk})
    assert response.status_code == 200 and response.json()["share"] is None


def test_share_with_a_group_and_remove_it(
    world: World, login: Callable[..., Client], make_user: Any
) -> None:
    outsider = make_user("outsider")
    outsider.groups.add(world.other_group)
    client = login("owner")
    response = post(client, world.doc, "share_group", {"group": "outsiders", "role": "viewer"})
    assert response.status_code == 200
    assert response.json()["message"] == "Shared with the group outsiders as Viewer."
    reader = Client()
    reader.force_login(outsider)
    assert reader.get(reverse("documents:detail", args=[world.doc.public_id])).status_code == 200
    response = post(client, world.doc, "share_group_revoke", {"group": world.other_group.pk})
    assert response.status_code == 200
    assert reader.get(reverse("documents:detail", args=[world.doc.public_id])).status_code == 404


def test_link_sharing_off_view_edit_and_reset(world: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    response = post(client, world.doc, "share_link", {"mode": "view"})
    assert response.json()["message"] == "Anyone with the link can view."
    url = response.json()["share"]["link"]["url"]
    assert url.endswith(f"?key={world.refresh().link_token}")
    response = post(client, world.doc, "share_link", {"mode": "edit", "regenerate": True})
    assert response.json()["message"].startswith("Made a new link; the old one no longer works.")
    assert response.json()["share"]["link"]["url"] != url
    response = post(client, world.doc, "share_link", {"mode": "off"})
    assert response.json()["share"]["link"] == {"mode": "off", "url": None}


def test_share_with_a_person_as_commenter(world: World, login: Callable[..., Client]) -> None:
    response = post(
        login("sharer"), world.doc, "share", {"identifier": "newcomer", "role": "commenter"}
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Shared with newcomer as Commenter."
    assert ("newcomer", "commenter", False) in [
        (p["username"], p["role"], p["can_share"]) for p in response.json()["share"]["people"]
    ]
    state = share_state(login("newcomer"), world.doc)
    assert state["you"] == {
        "id": world.newcomer.pk,
        "role": "commenter",
        "role_label": "Commenter",
        "can_manage": False,
        "is_owner": False,
    }


def test_a_commenter_and_a_group_of_commenters_change_role(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("owner")
    response = post(client, world.doc, "share_role", {"user": world.editor.pk, "role": "commenter"})
    assert response.json()["message"] == "editor is now Commenter."
    response = post(client, world.doc, "share_group", {"group": "team", "role": "commenter"})
    assert response.json()["message"] == "Shared with the group team as Commenter."
    groups = {g["name"]: g["role"] for g in response.json()["share"]["groups"]}
    assert groups == {"team": "commenter", "reviewers": "commenter"}
    editor_state = share_state(login("editor"), world.doc)
    assert editor_state["you"]["role"] == "commenter"


def test_link_sharing_for_commenters(world: World, login: Callable[..., Client]) -> None:
    response = post(login("owner"), world.doc, "share_link", {"mode": "comment"})
    assert response.status_code == 200
    assert response.json()["message"] == "Anyone with the link can comment."
    assert response.json()["share"]["link"]["mode"] == "comment"
    state = share_state(login("link_commenter"), world.refresh())
    assert state["you"]["role_label"] == "Commenter (via link)"


def test_transfer_ownership(world: World, login: Callable[..., Client]) -> None:
    response = post(
        login("owner"), world.doc, "share_transfer", {"identifier": "editor@example.com"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["message"] == "editor now owns this document; you can still edit it."
    assert data["share"]["you"]["is_owner"] is False and data["share"]["you"]["can_manage"] is True
    assert data["share"]["owner"]["username"] == "editor"
    assert world.refresh().owner == world.editor


# Refusals: a clear message, and nothing changes -------------------------------


REFUSALS = [
    (
        "commenter_who_can_share",
        "owner",
        "share",
        lambda w: {"identifier": "newcomer", "role": "commenter", "can_share": True},
        400,
        "Only editors can be allowed to share.",
    ),
    (
        "commenter_shares",
        "commenter",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "link_commenter_sets_the_link",
        "link_commenter",
        "share_link",
        lambda w: {"mode": "edit"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "group_commenter_changes_a_role",
        "group_commenter",
        "share_role",
        lambda w: {"user": w.viewer.pk, "role": "editor"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "unknown_username",
        "owner",
        "share",
        lambda w: {"identifier": "ghost", "role": "viewer"},
        400,
        "No one here has the username or email address “ghost”.",
    ),
    (
        "unknown_email",
        "owner",
        "share",
        lambda w: {"identifier": "ghost@example.com", "role": "viewer"},
        400,
        "No one here has the username or email address “ghost@example.com”.",
    ),
    (
        "empty_identifier",
        "owner",
        "share",
        lambda w: {"identifier": "  ", "role": "viewer"},
        400,
        "Enter a username or an email address.",
    ),
    (
        "share_with_yourself",
        "owner",
        "share",
        lambda w: {"identifier": "owner", "role": "editor"},
        400,
        "You can’t share a document with yourself.",
    ),
    (
        "sharer_shares_with_yourself",
        "sharer",
        "share",
        lambda w: {"identifier": "sharer@example.com", "role": "viewer"},
        400,
        "You can’t share a document with yourself.",
    ),
    (
        "share_with_the_owner",
        "sharer",
        "share",
        lambda w: {"identifier": "owner", "role": "viewer"},
        400,
        "Olivia Owner owns this document and always has full access.",
    ),
    (
        "unknown_role",
        "owner",
        "share",
        lambda w: {"identifier": "newcomer", "role": "owner"},
        400,
        "Choose a role: Viewer, Commenter or Editor.",
    ),
    (
        "viewer_who_can_share",
        "owner",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer", "can_share": True},
        400,
        "Only editors can be allowed to share.",
    ),
    (
        "bad_flag",
        "owner",
        "share",
        lambda w: {"identifier": "newcomer", "role": "editor", "can_share": "maybe"},
        400,
        "“can_share” must be true or false.",
    ),
    (
        "viewer_tries_to_share",
        "viewer",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "editor_tries_to_share",
        "editor",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "group_member_tries_to_share",
        "group_member",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "link_editor_tries_to_share",
        "link_editor",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "stranger_tries_to_share",
        "stranger",
        "share",
        lambda w: {"identifier": "newcomer", "role": "viewer"},
        404,
        "Document not found.",
    ),
    (
        "change_the_owners_role",
        "owner",
        "share_role",
        lambda w: {"user": w.owner.pk, "role": "viewer"},
        400,
        "The owner’s access can’t be changed; transfer ownership instead.",
    ),
    (
        "sharer_changes_the_owners_role",
        "sharer",
        "share_role",
        lambda w: {"user": w.owner.pk, "role": "viewer"},
        400,
        "The owner’s access can’t be changed; transfer ownership instead.",
    ),
    (
        "change_your_own_role",
        "sharer",
        "share_role",
        lambda w: {"user": w.sharer.pk, "role": "viewer"},
        400,
        "You can’t change your own access; ask the owner.",
    ),
    (
        "change_role_of_non_member",
        "owner",
        "share_role",
        lambda w: {"user": w.newcomer.pk, "role": "viewer"},
        400,
        "newcomer doesn’t have access to this document.",
    ),
    (
        "change_role_of_missing_user",
        "owner",
        "share_role",
        lambda w: {"user": 999999, "role": "viewer"},
        400,
        "That person doesn’t exist.",
    ),
    (
        "change_role_bad_id",
        "owner",
        "share_role",
        lambda w: {"user": "abc", "role": "viewer"},
        400,
        "“user” must be an id.",
    ),
    (
        "editor_changes_a_role",
        "editor",
        "share_role",
        lambda w: {"user": w.target.pk, "role": "editor"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "revoke_the_owner",
        "owner",
        "share_revoke",
        lambda w: {"user": w.owner.pk},
        400,
        "The owner’s access can’t be removed.",
    ),
    (
        "sharer_revokes_the_owner",
        "sharer",
        "share_revoke",
        lambda w: {"user": w.owner.pk},
        400,
        "The owner’s access can’t be removed.",
    ),
    (
        "revoke_a_non_member",
        "owner",
        "share_revoke",
        lambda w: {"user": w.newcomer.pk},
        400,
        "newcomer doesn’t have access to this document.",
    ),
    (
        "viewer_revokes_someone",
        "viewer",
        "share_revoke",
        lambda w: {"user": w.target.pk},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "unknown_group",
        "owner",
        "share_group",
        lambda w: {"group": "ghosts", "role": "viewer"},
        400,
        "There is no group called “ghosts”.",
    ),
    (
        "editor_shares_with_a_group",
        "editor",
        "share_group",
        lambda w: {"group": "outsiders", "role": "viewer"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "revoke_an_unshared_group",
        "owner",
        "share_group_revoke",
        lambda w: {"group": w.other_group.pk},
        400,
        "The document isn’t shared with “outsiders”.",
    ),
    (
        "revoke_a_missing_group",
        "owner",
        "share_group_revoke",
        lambda w: {"group": 999999},
        400,
        "That group doesn’t exist.",
    ),
    (
        "invalid_link_mode",
        "owner",
        "share_link",
        lambda w: {"mode": "public"},
        400,
        "Link sharing must be off, view, comment or edit.",
    ),
    (
        "editor_sets_the_link",
        "editor",
        "share_link",
        lambda w: {"mode": "edit"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "link_viewer_sets_the_link",
        "link_viewer",
        "share_link",
        lambda w: {"mode": "edit"},
        403,
        NOT_ALLOWED_TO_SHARE,
    ),
    (
        "sharer_transfers",
        "sharer",
        "share_transfer",
        lambda w: {"identifier": "sharer"},
        403,
        "Only the owner can transfer ownership.",
    ),
    (
        "transfer_to_unknown",
        "owner",
        "share_transfer",
        lambda w: {"identifier": "ghost@example.com"},
        400,
        "No one here has the username or email address “ghost@example.com”.",
    ),
    (
        "transfer_to_yourself",
        "owner",
        "share_transfer",
        lambda w: {"identifier": "owner"},
        400,
        "You already own this document.",
    ),
]


@pytest.mark.parametrize(
    ("persona", "endpoint", "body", "status", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refusals_say_why_and_change_nothing(
    world: World,
    login: Callable[..., Client],
    persona: str,
    endpoint: str,
    body: Callable,
    status: int,
    message: str,
) -> None:
    client = login(persona)
    before = sharing_state(world.refresh())
    response = post(client, world.doc, endpoint, body(world))
    assert response.status_code == status
    assert response.json() == {"error": message}
    assert sharing_state(world.doc) == before


@pytest.mark.parametrize(
    "endpoint",
    ["share", "share_role", "share_revoke", "share_group", "share_link", "share_transfer"],
)
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{oops", "The request body is not valid JSON."),
        ('"text"', "The request body must be a JSON object."),
    ],
)
def test_malformed_bodies_are_refused(
    world: World, login: Callable[..., Client], endpoint: str, raw: str, message: str
) -> None:
    before = sharing_state(world.doc)
    url = reverse(f"documents:{endpoint}", args=[world.doc.public_id])
    response = login("owner").post(url, raw, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"error": message}
    assert sharing_state(world.doc) == before


def test_an_invalid_link_token_is_refused_and_remembered_nowhere(
    world: World, login: Callable[..., Client]
) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.VIEW)
    client = login("stranger")
    before = sharing_state(world.refresh())
    response = client.get(
        reverse("documents:detail", args=[world.doc.public_id]) + "?key=not-the-token"
    )
    assert response.status_code == 404
    assert "This link doesn’t work" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert client.get(reverse("documents:share", args=[world.doc.public_id])).status_code == 404
    assert sharing_state(world.doc) == before


def test_a_token_of_a_link_that_is_off_is_refused(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("stranger")
    response = client.get(
        reverse("documents:detail", args=[world.doc.public_id]) + f"?key={world.doc.link_token}"
    )
    assert response.status_code == 404 and "This link doesn’t work" in response.content.decode()
    assert SESSION_KEY not in client.session


# Turning the link off and on ------------------------------------------------


def open_link(client: Client, doc: Document, token: str) -> int:
    """Open the link; return 302 (on to the page, token remembered) or 404."""
    url = reverse("documents:detail", args=[doc.public_id])
    response = client.get(url + f"?key={token}")
    assert response.status_code == 404 or response["Location"] == url
    return response.status_code


def test_a_link_turned_off_and_on_again_does_not_come_back(
    world: World, login: Callable[..., Client]
) -> None:
    owner, stranger = login("owner"), login("stranger")
    post(owner, world.doc, "share_link", {"mode": "view"})
    old = world.refresh().link_token
    assert open_link(stranger, world.doc, old) == 302
    detail = reverse("documents:detail", args=[world.doc.public_id])
    assert stranger.get(detail).status_code == 200  # remembered in the session

    post(owner, world.doc, "share_link", {"mode": "off"})
    off_token = world.refresh().link_token
    response = post(owner, world.doc, "share_link", {"mode": "view"})
    new = world.refresh().link_token
    assert len({old, off_token, new}) == 3
    assert response.json()["share"]["link"]["url"].endswith(f"?key={new}")
    # The person who had opened the old link lost it, by session and by key.
    assert stranger.get(detail).status_code == 404
    assert open_link(stranger, world.doc, old) == 404
    assert open_link(login("viewer"), world.doc, old) == 302  # a share still works
    assert open_link(stranger, world.doc, new) == 302


def test_switching_between_view_and_edit_keeps_the_link(
    world: World, login: Callable[..., Client]
) -> None:
    owner = login("owner")
    post(owner, world.doc, "share_link", {"mode": "view"})
    token = world.refresh().link_token
    post(owner, world.doc, "share_link", {"mode": "edit"})
    post(owner, world.doc, "share_link", {"mode": "view"})
    assert world.refresh().link_token == token
    assert open_link(login("stranger"), world.doc, token) == 302


def test_a_link_turned_off_before_rotation_existed_gets_a_new_token_when_on(
    world: World, login: Callable[..., Client]
) -> None:
    # Rows switched off by older code kept their token: "on" must still rotate.
    token = world.refresh().link_token
    assert world.doc.link_mode == LinkMode.OFF
    post(login("owner"), world.doc, "share_link", {"mode": "edit"})
    assert world.refresh().link_token != token
    assert open_link(login("stranger"), world.doc, token) == 404


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_of_the_old_link_is_closed_when_the_link_is_turned_off(
    live_daphne: Any,
) -> None:
    from tests.realtime.conftest import create_document, create_user, db, session_cookie
    from tests.realtime.test_restore_live import http_post

    def setup() -> tuple[str, str, str]:
        owner, stranger = create_user("linkowner"), create_user("linkstranger")
        document = create_document(owner)
        Document.objects.filter(pk=document.pk).update(link_mode=LinkMode.EDIT)
        doc_id = str(document.public_id)
        cookie = session_cookie(stranger)
        # The stranger opened the edit link: their session remembers its token.
        session = SessionStore(session_key=cookie.split("=", 1)[1])
        session[SESSION_KEY] = {doc_id: document.link_token}
        session.save()
        return doc_id, session_cookie(owner), cookie

    doc_id, owner_cookie, cookie = await db(setup)
    base = live_daphne.url
    url = f"{live_daphne.ws_url}/ws/docs/{doc_id}/"
    async with connect(url, origin=base, additional_headers={"Cookie": cookie}) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["can_edit"] is True, hello
        status, _ = await asyncio.to_thread(
            http_post, base, f"/api/docs/{doc_id}/share/link", owner_cookie, {"mode": "off"}
        )
        assert status == 200
        frames = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, frames
        assert any(f.get("code") == "denied" for f in frames), frames
    # Turned on again, the remembered token is still dead: the handshake is refused.
    status, _ = await asyncio.to_thread(
        http_post, base, f"/api/docs/{doc_id}/share/link", owner_cookie, {"mode": "edit"}
    )
    assert status == 200
    async with connect(url, origin=base, additional_headers={"Cookie": cookie}) as ws:
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (error["type"], error["code"]) == ("error", "denied"), error
