"""Every persona against every page and endpoint, with the expected answer.

Outcomes: an HTTP status, ``"login"`` (redirect to the sign-in page),
``"admin_login"`` (redirect to the admin's sign-in page) or ``"redirect"``
(any other redirect: the action worked and moved on).

Personas (tests/documents/conftest.py): ``viewer``/``commenter``/``editor``/
``sharer`` hold direct shares (the sharer is an editor who can share),
``group_member`` is an editor through the group "team", ``group_commenter``
a commenter through the group "reviewers", ``link_viewer``/
``link_commenter``/``link_editor`` opened the share link while it granted
view/comment/edit, ``staff`` is staff with global
document permissions and ``superuser`` is a superuser: neither gets anything
in the pages, only in the admin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from documents import services
from tests.documents.conftest import PERSONAS, World, client_as

EDITORS = {"editor", "sharer", "owner", "link_editor", "group_member"}
#: Commenters by a direct share, a link and a group, and everyone who edits.
COMMENTERS = EDITORS | {"commenter", "link_commenter", "group_commenter"}
VIEWERS = COMMENTERS | {"viewer", "link_viewer"}
SHARERS = {"sharer", "owner"}
SIGNED_IN = set(PERSONAS) - {"anonymous"}
ADMINS = {"staff", "superuser"}


def page(everyone: Any, *, anonymous: Any = "login", **overrides: Any) -> dict[str, Any]:
    """Return one outcome for every signed-in persona, with exceptions."""
    expected = {persona: everyone for persona in SIGNED_IN}
    expected["anonymous"] = anonymous
    expected.update(overrides)
    return expected


def by_access(
    *, allowed: set[str], ok: Any, visible: Any, hidden: Any = 404, anonymous: Any
) -> dict[str, Any]:
    """Return the expected answer per persona.

    ``ok`` for ``allowed``, ``visible`` for others who see the document,
    else ``hidden``.
    """
    expected: dict[str, Any] = {"anonymous": anonymous}
    for persona in SIGNED_IN:
        if persona in allowed:
            expected[persona] = ok
        elif persona in VIEWERS:
            expected[persona] = visible
        else:
            expected[persona] = hidden
    return expected


def admin_page() -> dict[str, Any]:
    """Staff and superusers get the admin page; everyone else its sign-in page."""
    return {persona: 200 if persona in ADMINS else "admin_login" for persona in PERSONAS}


def trash(world: World) -> None:
    services.document_trash(document=world.doc, actor=world.owner)


@dataclass
class Endpoint:
    """One page or endpoint: how to call it and what each persona gets."""

    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, Any]
    data: Callable[[World], dict] | None = None
    json: bool = False
    setup: Callable[[World], None] = field(default=lambda world: None)

    def call(self, client: Client, world: World) -> Any:
        url = self.url(world)
        if self.method == "GET":
            return client.get(url)
        data = self.data(world) if self.data else {}
        if self.json:
            return client.post(url, json.dumps(data), content_type="application/json")
        return client.post(url, data)


def doc_url(name: str) -> Callable[[World], str]:
    return lambda world: reverse(f"documents:{name}", args=[world.doc.public_id])


def api(
    name: str, data: Callable[[World], dict], allowed: set[str], *, url_name: str = ""
) -> Endpoint:
    return Endpoint(
        name,
        "POST",
        doc_url(url_name or name),
        by_access(allowed=allowed, ok=200, visible=403, anonymous=401),
        data=data,
        json=True,
    )


ENDPOINTS = [
    Endpoint("list_mine", "GET", lambda w: reverse("documents:list"), page(200)),
    Endpoint("list_shared", "GET", lambda w: reverse("documents:shared"), page(200)),
    Endpoint("list_trash", "GET", lambda w: reverse("documents:trash"), page(200)),
    Endpoint("search", "GET", lambda w: reverse("documents:list") + "?q=plan", page(200)),
    Endpoint("create", "POST", lambda w: reverse("documents:create"), page("redirect")),
    Endpoint(
        "detail",
        "GET",
        doc_url("detail"),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous="login"),
    ),
    Endpoint(
        "detail_trashed",
        "GET",
        doc_url("detail"),
        by_access(allowed={"owner"}, ok=200, visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "rename",
        "POST",
        doc_url("rename"),
        by_access(allowed=EDITORS, ok=200, visible=403, anonymous=401),
        data=lambda w: {"title": "Renamed"},
        json=True,
    ),
    Endpoint(
        "trash",
        "POST",
        doc_url("trash_document"),
        by_access(allowed={"owner"}, ok="redirect", visible=403, anonymous="login"),
    ),
    Endpoint(
        "restore",
        "POST",
        doc_url("restore"),
        by_access(allowed={"owner"}, ok="redirect", visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "delete_forever",
        "POST",
        doc_url("delete"),
        by_access(allowed={"owner"}, ok="redirect", visible=404, anonymous="login"),
        setup=trash,
    ),
    Endpoint(
        "share_get",
        "GET",
        doc_url("share"),
        by_access(allowed=VIEWERS, ok=200, visible=200, anonymous=401),
    ),
    api("share", lambda w: {"identifier": "newcomer", "role": "viewer"}, SHARERS),
    api("share_role", lambda w: {"user": w.target.pk, "role": "editor"}, SHARERS),
    api("share_revoke", lambda w: {"user": w.target.pk}, SHARERS),
    api("share_group", lambda w: {"group": "outsiders", "role": "viewer"}, SHARERS),
    api("share_group_revoke", lambda w: {"group": w.group.pk}, SHARERS),
    api("share_link", lambda w: {"mode": "edit"}, SHARERS),
    api(
        "share_link_regenerate",
        lambda w: {"mode": "view", "regenerate": True},
        SHARERS,
        url_name="share_link",
    ),
    api("share_transfer", lambda w: {"identifier": "newcomer"}, {"owner"}),
    Endpoint("password_change", "GET", lambda w: reverse("password_change"), page(200)),
    Endpoint("admin_index", "GET", lambda w: reverse("admin:index"), admin_page()),
    Endpoint(
        "admin_documents",
        "GET",
        lambda w: reverse("admin:documents_document_changelist"),
        admin_page(),
    ),
    Endpoint(
        "admin_document",
        "GET",
        lambda w: reverse("admin:documents_document_change", args=[w.doc.pk]),
        admin_page(),
    ),
    Endpoint(
        "admin_document_permissions",
        "GET",
        lambda w: reverse("admin:documents_document_permissions", args=[w.doc.pk]),
        admin_page(),
    ),
    Endpoint(
        "admin_versions",
        "GET",
        lambda w: reverse("admin:documents_documentversion_changelist"),
        admin_page(),
    ),
    Endpoint(
        "admin_operations",
        "GET",
        lambda w: reverse("admin:documents_operation_changelist"),
        admin_page(),
    ),
]

CASES = [(endpoint, persona) for endpoint in ENDPOINTS for persona in PERSONAS]


def outcome(response: Any) -> Any:
    """Return the response as the matrix spells outcomes."""
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("admin:login")):
        return "admin_login"
    if location.startswith(reverse("login")):
        return "login"
    return "redirect"


def test_matrix_covers_every_persona() -> None:
    for endpoint in ENDPOINTS:
        assert set(endpoint.expected) == set(PERSONAS), endpoint.name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "persona"),
    CASES,
    ids=[f"{endpoint.name}-{persona}" for endpoint, persona in CASES],
)
def test_permission_matrix(endpoint: Endpoint, persona: str, world: World) -> None:
    client = client_as(world, persona)
    endpoint.setup(world)
    response = endpoint.call(client, world)
    expected = endpoint.expected[persona]
    assert outcome(response) == expected, response.content[:300]
    if (
        isinstance(expected, int)
        and 400 <= expected < 500
        and response.get("Content-Type", "").startswith("application/json")
    ):
        # JSON refusals always say why.
        assert response.json()["error"]
