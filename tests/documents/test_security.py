"""CSRF on every state change; people's text escaped everywhere; size limits."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from documents import services
from documents.models import Document, Operation
from tests.documents.conftest import World, client_as
from tests.documents.test_share_flows import sharing_state

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NAME_PAYLOAD = '<img src=x onerror="alert(2)">'


# CSRF ------------------------------------------------------------------------


def doc_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(f"documents:{name}", args=[w.doc.public_id])


def trash(world: World) -> None:
    services.document_trash(document=world.doc, actor=world.owner)


CSRF_CASES = [
    # (id, persona, url, body, setup)
    ("create", "owner", lambda w: reverse("documents:create"), {}, None),
    ("trash", "owner", doc_url("trash_document"), {}, None),
    ("restore", "owner", doc_url("restore"), {}, trash),
    ("delete_forever", "owner", doc_url("delete"), {}, trash),
    ("rename", "owner", doc_url("rename"), {"title": "Hijacked"}, None),
    ("share", "owner", doc_url("share"), {"identifier": "newcomer", "role": "editor"}, None),
    ("share_role", "owner", doc_url("share_role"), {"user": "TARGET", "role": "editor"}, None),
    ("share_revoke", "owner", doc_url("share_revoke"), {"user": "TARGET"}, None),
    (
        "share_group",
        "owner",
        doc_url("share_group"),
        {"group": "outsiders", "role": "viewer"},
        None,
    ),
    ("share_group_revoke", "owner", doc_url("share_group_revoke"), {"group": "GROUP"}, None),
    ("share_link", "owner", doc_url("share_link"), {"mode": "edit"}, None),
    ("share_transfer", "owner", doc_url("share_transfer"), {"identifier": "newcomer"}, None),
    (
        "password_change",
        "owner",
        lambda w: reverse("password_change"),
        {
            "old_password": "x",
            "new_password1": "Very-long-pass-123",
            "new_password2": "Very-long-pass-123",
        },
        None,
    ),
    ("logout", "owner", lambda w: reverse("logout"), {}, None),
    (
        "admin_change",
        "superuser",
        lambda w: reverse("admin:documents_document_change", args=[w.doc.pk]),
        {"title": "Hijacked", "link_mode": "edit"},
        None,
    ),
    (
        "signup",
        "anonymous",
        lambda w: reverse("signup"),
        {
            "username": "mallory",
            "email": "m@example.com",
            "password1": "Very-long-pass-123",
            "password2": "Very-long-pass-123",
        },
        None,
    ),
    (
        "login",
        "anonymous",
        lambda w: reverse("login"),
        {"username": "owner", "password": "x"},
        None,
    ),
]


def world_state(world: World) -> tuple:
    return (
        sharing_state(world.doc),
        sorted(Document.objects.values_list("public_id", "title", "trashed_at")),
        sorted(get_user_model().objects.values_list("username", "password")),
    )


def fill(body: dict, world: World) -> dict:
    values = {"TARGET": world.target.pk, "GROUP": world.group.pk}
    return {
        key: values.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }


@pytest.mark.parametrize(
    ("persona", "url", "body", "setup"), [c[1:] for c in CSRF_CASES], ids=[c[0] for c in CSRF_CASES]
)
@pytest.mark.parametrize("encoding", ["form", "json"])
def test_state_changes_need_the_csrf_token(
    world: World, persona: str, url: Callable, body: dict, setup: Callable | None, encoding: str
) -> None:
    client = client_as(world, persona, client=Client(enforce_csrf_checks=True))
    if setup:
        setup(world)
    before = world_state(world)
    data = fill(body, world)
    if encoding == "json":
        response = client.post(url(world), json.dumps(data), content_type="application/json")
    else:
        response = client.post(url(world), data)
    assert response.status_code == 403
    assert world_state(world) == before
    if persona != "anonymous":
        # Still signed in: the logout without a token did nothing.
        assert "_auth_user_id" in client.session


def test_with_the_csrf_token_the_same_request_works(world: World) -> None:
    client = client_as(world, "owner", client=Client(enforce_csrf_checks=True))
    client.get(reverse("documents:detail", args=[world.doc.public_id]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("documents:rename", args=[world.doc.public_id]),
        json.dumps({"title": "With token"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200 and world.refresh().title == "With token"


def test_pages_with_forms_carry_the_token(world: World, login: Callable[..., Client]) -> None:
    body = login("owner").get(reverse("documents:list")).content.decode()
    forms = re.findall(r'<form method="post".*?</form>', body, flags=re.S)
    assert forms and all("csrfmiddlewaretoken" in form for form in forms)


# Escaping ----------------------------------------------------------------


@pytest.fixture
def hostile(world: World) -> World:
    """Give the document a script title and HTML content, and the owner a hostile name."""
    Document.objects.filter(pk=world.doc.pk).update(title=PAYLOAD)
    world.owner.first_name = NAME_PAYLOAD
    world.owner.last_name = ""
    world.owner.save()
    Operation.objects.create(
        document=world.doc,
        revision=1,
        op_id="evil:1",
        delta=[
            {"insert": "<img src=x onerror=alert(3)>"},
            {"insert": "click", "attributes": {"link": "javascript:alert(4)"}},
            {"insert": "\n", "attributes": {"header": "1><script>alert(5)</script"}},
            {"insert": {"<svg onload=alert(6)>": "x"}},
            {"insert": "\n"},
        ],
    )
    world.refresh()
    return world


def assert_escaped(body: str) -> None:
    assert PAYLOAD not in body
    assert "<img src=x" not in body and NAME_PAYLOAD not in body
    assert "javascript:" not in body
    assert "<svg onload" not in body
    assert not re.search(r"<script>alert", body)


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("owner", lambda w: reverse("documents:list")),
        ("viewer", lambda w: reverse("documents:shared")),
        ("owner", lambda w: reverse("documents:list") + "?q=%3Cscript%3E"),
        ("viewer", lambda w: reverse("documents:detail", args=[w.doc.public_id])),
        ("owner", lambda w: reverse("documents:detail", args=[w.doc.public_id])),
        ("superuser", lambda w: reverse("admin:documents_document_changelist")),
        ("superuser", lambda w: reverse("admin:documents_document_change", args=[w.doc.pk])),
        ("superuser", lambda w: reverse("admin:documents_document_permissions", args=[w.doc.pk])),
        ("superuser", lambda w: reverse("admin:documents_documentversion_changelist")),
        ("superuser", lambda w: reverse("admin:documents_operation_changelist")),
    ],
    ids=[
        "list",
        "shared",
        "search",
        "detail_viewer",
        "detail_owner",
        "admin_list",
        "admin_change",
        "admin_permissions",
        "admin_versions",
        "admin_operations",
    ],
)
def test_titles_names_and_content_are_escaped(hostile: World, persona: str, url: Callable) -> None:
    response = client_as(hostile, persona).get(url(hostile))
    assert response.status_code == 200
    body = response.content.decode()
    assert_escaped(body)
    assert ESCAPED in body


def test_escaped_in_the_trash_and_in_messages(hostile: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    response = client.post(
        reverse("documents:trash_document", args=[hostile.doc.public_id]), follow=True
    )
    body = response.content.decode()
    assert_escaped(body)
    assert f"“{ESCAPED}” was moved to the trash." in body
    for url in (
        reverse("documents:trash"),
        reverse("documents:detail", args=[hostile.doc.public_id]),
    ):
        body = client.get(url).content.decode()
        assert_escaped(body)
        assert ESCAPED in body


def test_share_json_carries_text_not_markup(hostile: World, login: Callable[..., Client]) -> None:
    response = login("viewer").get(reverse("documents:share", args=[hostile.doc.public_id]))
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = response.json()
    # The raw text goes to the dialog, which shows it with textContent.
    assert data["document"]["title"] == PAYLOAD
    assert data["owner"]["name"] == NAME_PAYLOAD


def test_the_page_scripts_never_write_html() -> None:
    """app.js builds the dialog with DOM calls and textContent only."""
    source = (REPO / "static" / "src" / "app.js").read_text()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
    ):
        assert sink not in source, sink


def test_rendered_content_keeps_text_but_drops_active_markup(
    hostile: World, login: Callable[..., Client]
) -> None:
    body = (
        login("viewer")
        .get(reverse("documents:detail", args=[hostile.doc.public_id]))
        .content.decode()
    )
    editor = re.search(r'<div id="editor" class="doc-content">(.*?)</div>', body, flags=re.S).group(
        1
    )
    assert editor == (
        "<p>&lt;img src=x onerror=alert(3)&gt;click</p>"
        '<p><span class="ql-embed" data-embed="&lt;svg onload=alert(6)&gt;">'
        "[&lt;svg onload=alert(6)&gt;]</span></p>"
        "<p><br></p>"  # the document's own final newline
    )


# Limits --------------------------------------------------------------------


@pytest.mark.parametrize("length", [201, 5000, 60000])
def test_over_long_titles_are_refused_with_a_message(
    world: World, login: Callable[..., Client], length: int
) -> None:
    response = login("owner").post(
        reverse("documents:rename", args=[world.doc.public_id]),
        json.dumps({"title": "x" * length}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (
        response.json()["error"] == f"Titles can be at most 200 characters; this one has {length}."
    )
    assert world.refresh().title == "Quarterly plan"


def test_huge_bodies_are_refused(world: World, login: Callable[..., Client]) -> None:
    response = login("owner").post(
        reverse("documents:rename", args=[world.doc.public_id]),
        json.dumps({"title": "x" * 70000}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json() == {"error": "The request is too large."}


def test_over_long_title_in_the_admin_is_a_form_error(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("superuser").post(
        reverse("admin:documents_document_change", args=[world.doc.pk]),
        {
            "title": "x" * 201,
            "link_mode": "off",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.content.decode()
    assert world.refresh().title == "Quarterly plan"


def test_control_characters_in_titles_do_not_reach_the_database(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("owner").post(
        reverse("documents:rename", args=[world.doc.public_id]),
        '{"title": "a\\u0000b\\ud800c"}',
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json() == {"title": "abc"}
