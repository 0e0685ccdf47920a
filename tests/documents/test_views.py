"""Pages: lists, create, the document page, trash actions and rename."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents import services
from documents.links import SESSION_KEY
from documents.models import Document, LinkMode, Operation
from documents.templatetags import collabdocs
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def detail_url(doc: Document) -> str:
    return reverse("documents:detail", args=[doc.public_id])


def titles(response: Any) -> list[str]:
    return re.findall(r'<span class="doc-title">([^<]*)</span>', response.content.decode())


# Lists ---------------------------------------------------------------------


def test_my_documents_newest_first_with_owner_and_last_editor(
    world: World, login: Callable[..., Client]
) -> None:
    services.document_create(owner=world.owner, title="Second")
    client = login("owner")
    response = client.get(reverse("documents:list"))
    assert response.status_code == 200
    assert titles(response) == ["Second", "Quarterly plan"]
    body = response.content.decode()
    assert "New document" in body and 'aria-current="page">My documents' in body
    assert "by me" in body


def test_shared_with_me_lists_what_others_shared(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("member").get(reverse("documents:shared"))
    assert titles(response) == ["Quarterly plan"]
    assert "Olivia Owner" in response.content.decode()
    assert titles(login("stranger").get(reverse("documents:shared"))) == []


@pytest.mark.parametrize(
    ("persona", "label"),
    [
        ("commenter", "Commenter"),
        ("group_commenter", "Commenter"),
        ("viewer", "Viewer"),
        ("group_member", "Editor"),
    ],
)
def test_shared_with_me_says_each_role(
    world: World, login: Callable[..., Client], persona: str, label: str
) -> None:
    body = login(persona).get(reverse("documents:shared")).content.decode()
    assert (
        f'<span class="badge badge-role" data-role-label title="Your role">{label}</span>' in body
    )


def test_role_labels_cost_the_same_queries_for_many_documents(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("commenter")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("documents:shared"))
    for n in range(5):
        doc = services.document_create(owner=world.owner, title=f"More {n}")
        services.share_grant(document=doc, actor=world.owner, identifier="commenter", role="viewer")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("documents:shared"))
    assert response.content.decode().count("data-role-label") == 6
    assert len(many.captured_queries) == len(one.captured_queries)


def test_search_by_title(world: World, login: Callable[..., Client]) -> None:
    services.document_create(owner=world.owner, title="Recipes")
    client = login("owner")
    assert titles(client.get(reverse("documents:list"), {"q": "recipe"})) == ["Recipes"]
    empty = client.get(reverse("documents:list"), {"q": "zzz"})
    assert titles(empty) == [] and "No documents match “zzz”." in empty.content.decode()


def test_lists_paginate(world: World, login: Callable[..., Client]) -> None:
    for n in range(55):
        services.document_create(owner=world.owner, title=f"Doc {n:02}")
    client = login("owner")
    first = client.get(reverse("documents:list"))
    assert len(titles(first)) == 50 and "Page 1 of 2" in first.content.decode()
    second = client.get(reverse("documents:list"), {"page": 2})
    assert len(titles(second)) == 6


def test_trash_lists_trashed_documents_with_restore_and_delete(
    world: World, login: Callable[..., Client]
) -> None:
    services.document_trash(document=world.doc, actor=world.owner)
    client = login("owner")
    assert titles(client.get(reverse("documents:list"))) == []
    response = client.get(reverse("documents:trash"))
    assert titles(response) == ["Quarterly plan"]
    body = response.content.decode()
    assert reverse("documents:restore", args=[world.doc.public_id]) in body
    assert reverse("documents:delete", args=[world.doc.public_id]) in body


def test_empty_lists_say_so(make_user: Any, client: Client) -> None:
    client.force_login(make_user("alice"))
    assert "You have no documents yet." in client.get(reverse("documents:list")).content.decode()
    assert (
        "Nothing has been shared with you yet."
        in client.get(reverse("documents:shared")).content.decode()
    )
    assert "The trash is empty." in client.get(reverse("documents:trash")).content.decode()


# Create ---------------------------------------------------------------


def test_create_goes_straight_to_the_new_document(make_user: Any, client: Client) -> None:
    client.force_login(make_user("alice"))
    response = client.post(reverse("documents:create"))
    doc = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(doc)
    assert doc.title == "Untitled document"


def test_create_only_by_post(make_user: Any, client: Client) -> None:
    client.force_login(make_user("alice"))
    assert client.get(reverse("documents:create")).status_code == 405
    assert not Document.objects.exists()


def test_create_with_an_over_long_title_shows_a_message(make_user: Any, client: Client) -> None:
    client.force_login(make_user("alice"))
    response = client.post(reverse("documents:create"), {"title": "x" * 300}, follow=True)
    assert response.status_code == 200
    assert "Titles can be at most 200 characters" in response.content.decode()
    assert not Document.objects.exists()


# The document page -------------------------------------------------------


def editor_app(response: Any) -> dict[str, str]:
    match = re.search(r'<div id="editor-app" ([^>]*)>', response.content.decode())
    assert match, "the page has no #editor-app"
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', match.group(1)))


def test_document_page_carries_the_editor_contract(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("editor").get(detail_url(world.doc))
    uid = str(world.doc.public_id)
    assert editor_app(response) == {
        "data-doc-id": uid,
        "data-ws-path": f"/ws/docs/{uid}/",
        "data-can-edit": "true",
        "data-can-comment": "true",
        "data-can-share": "false",
        "data-rename-url": f"/api/docs/{uid}/rename",
        "data-route-url": f"/api/docs/{uid}/route",
        "data-user-id": str(world.editor.pk),
        "data-user-name": "editor",
        # The embed policy the editor keeps pastes inside (collabdocs/csp.py).
        "data-video-hosts": "",
        "data-image-data-max-bytes": "262144",
        "data-image-path-prefix": "/media/",
        "data-image-max-bytes": str(10 * 1024 * 1024),
        # Larger changes are sent in pieces (MAX_CHANGE_OPS).
        "data-max-change-ops": "1000",
    }
    body = response.content.decode()
    for element in (
        '<div id="toolbar"',
        '<div id="editor"',
        '<ul id="people"',
        '<span id="connection-status"',
    ):
        assert element in body
    start = body.index('<div id="editor-app"')
    for element in ('id="toolbar"', 'id="editor"', 'id="people"', 'id="connection-status"'):
        assert body.index(element) > start
    assert 'id="share-dialog"' in body


@pytest.mark.parametrize(
    ("persona", "can_edit", "can_comment", "can_share", "role"),
    [
        ("viewer", "false", "false", "false", "Viewer"),
        ("commenter", "false", "true", "false", "Commenter"),
        ("group_commenter", "false", "true", "false", "Commenter"),
        ("link_commenter", "false", "true", "false", "Commenter (via link)"),
        ("sharer", "true", "true", "true", "Editor"),
        ("owner", "true", "true", "true", "Owner"),
        ("link_viewer", "false", "false", "false", "Viewer (via link)"),
    ],
)
def test_document_page_flags(
    world: World,
    login: Callable[..., Client],
    persona: str,
    can_edit: str,
    can_comment: str,
    can_share: str,
    role: str,
) -> None:
    response = login(persona).get(detail_url(world.doc))
    attrs = editor_app(response)
    assert (attrs["data-can-edit"], attrs["data-can-comment"], attrs["data-can-share"]) == (
        can_edit,
        can_comment,
        can_share,
    )
    assert f'<span class="role-pill" id="role-pill">{role}</span>' in response.content.decode()


def test_viewers_get_a_plain_title_editors_an_input(
    world: World, login: Callable[..., Client]
) -> None:
    assert '<h1 id="doc-title"' in login("viewer").get(detail_url(world.doc)).content.decode()
    assert '<input id="doc-title"' in login("editor").get(detail_url(world.doc)).content.decode()


def test_document_page_shows_the_current_content(
    world: World, login: Callable[..., Client]
) -> None:
    Operation.objects.create(
        document=world.doc,
        revision=1,
        op_id="c:1",
        delta=[
            {"insert": "Hello"},
            {"insert": "\n", "attributes": {"header": 1}},
            {"insert": "bold", "attributes": {"bold": True}},
        ],
    )
    body = login("viewer").get(detail_url(world.doc)).content.decode()
    assert (
        '<div id="editor" class="doc-content"><h1>Hello</h1><p><strong>bold</strong></p></div>'
        in body
    )


def test_editor_bundle_is_loaded_only_when_built(
    world: World, login: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login("owner")
    monkeypatch.setattr(collabdocs.finders, "find", lambda path: None)
    body = client.get(detail_url(world.doc)).content.decode()
    assert "dist/editor.js" not in body and "dist/editor.css" not in body
    assert "/static/src/app.js" in body  # the module source stands in for the bundle
    monkeypatch.setattr(collabdocs.finders, "find", lambda path: f"/fake/{path}")
    body = client.get(detail_url(world.doc)).content.decode()
    assert '<script src="/static/dist/editor.js" defer></script>' in body
    assert '<link rel="stylesheet" href="/static/dist/editor.css">' in body
    assert "/static/dist/app.js" in body


def test_trashed_document_page_is_read_only_with_restore(
    world: World, login: Callable[..., Client]
) -> None:
    services.document_trash(document=world.doc, actor=world.owner)
    body = login("owner").get(detail_url(world.doc)).content.decode()
    assert "This document is in the trash." in body
    assert 'id="editor-app"' not in body and "dist/editor.js" not in body
    assert reverse("documents:restore", args=[world.doc.public_id]) in body


def test_not_found_page_is_the_same_for_missing_and_hidden(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("stranger")
    hidden = client.get(detail_url(world.doc))
    missing = client.get(reverse("documents:detail", args=["00000000-0000-0000-0000-000000000000"]))
    assert hidden.status_code == missing.status_code == 404

    def without_csrf(response: Any) -> str:  # the masked token differs per response
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())

    assert without_csrf(hidden) == without_csrf(missing)
    assert "Document not found" in hidden.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_keeping_the_link(
    world: World, client: Client
) -> None:
    url = detail_url(world.doc) + "?key=abc"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert "key%3Dabc" in response["Location"]


# Link sharing ------------------------------------------------------------------


def test_opening_a_share_link_remembers_it_and_cleans_the_address(
    world: World, login: Callable[..., Client]
) -> None:
    Document.objects.filter(pk=world.doc.pk).update(link_mode=LinkMode.EDIT)
    doc = world.refresh()
    client = login("stranger")
    response = client.get(detail_url(doc) + f"?key={doc.link_token}")
    assert response.status_code == 302 and response["Location"] == detail_url(doc)
    assert client.session[SESSION_KEY] == {str(doc.public_id): doc.link_token}
    page = client.get(detail_url(doc))
    assert page.status_code == 200 and editor_app(page)["data-can-edit"] == "true"
    assert "Editor (via link)" in page.content.decode()


def test_link_access_ends_when_the_link_is_turned_off(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("link_viewer")
    assert client.get(detail_url(world.doc)).status_code == 200
    services.link_set_mode(document=world.doc, actor=world.owner, mode=LinkMode.OFF)
    assert client.get(detail_url(world.doc)).status_code == 404


def test_link_access_ends_when_the_link_is_reset(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("link_editor")
    services.link_set_mode(
        document=world.refresh(), actor=world.owner, mode=LinkMode.EDIT, regenerate=True
    )
    assert client.get(detail_url(world.doc)).status_code == 404


def test_a_stale_link_for_someone_with_a_share_just_warns(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("viewer")
    response = client.get(detail_url(world.doc) + "?key=stale", follow=True)
    assert response.status_code == 200
    assert "That link no longer works" in response.content.decode()
    assert SESSION_KEY not in client.session


# Trash actions -------------------------------------------------------------


def test_trash_restore_delete_round_trip(world: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    pid = world.doc.public_id
    response = client.post(reverse("documents:trash_document", args=[pid]), follow=True)
    assert "“Quarterly plan” was moved to the trash." in response.content.decode()
    assert world.refresh().is_trashed
    response = client.post(reverse("documents:restore", args=[pid]), follow=True)
    assert "“Quarterly plan” was restored." in response.content.decode()
    assert not world.refresh().is_trashed
    client.post(reverse("documents:trash_document", args=[pid]))
    response = client.post(reverse("documents:delete", args=[pid]), follow=True)
    assert "“Quarterly plan” was deleted forever." in response.content.decode()
    assert not Document.objects.filter(pk=world.doc.pk).exists()


def test_delete_forever_outside_the_trash_is_refused_with_a_message(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("owner").post(
        reverse("documents:delete", args=[world.doc.public_id]), follow=True
    )
    assert "Move the document to the trash before deleting it forever." in response.content.decode()
    assert Document.objects.filter(pk=world.doc.pk).exists()


def test_trash_by_an_editor_is_refused_with_a_reason(
    world: World, login: Callable[..., Client]
) -> None:
    response = login("editor").post(reverse("documents:trash_document", args=[world.doc.public_id]))
    assert response.status_code == 403
    assert "Only the owner can move this document to the trash." in response.content.decode()


def test_trash_actions_only_by_post(world: World, login: Callable[..., Client]) -> None:
    client = login("owner")
    for name in ("trash_document", "restore", "delete"):
        assert (
            client.get(reverse(f"documents:{name}", args=[world.doc.public_id])).status_code == 405
        )


# Rename ----------------------------------------------------------------


def rename(client: Client, doc: Document, body: Any, content_type: str = "application/json") -> Any:
    data = json.dumps(body) if content_type == "application/json" else body
    return client.post(
        reverse("documents:rename", args=[doc.public_id]), data, content_type=content_type
    )


def test_rename_answers_the_stored_title(world: World, login: Callable[..., Client]) -> None:
    response = rename(login("editor"), world.doc, {"title": "  Plan\nfor 2027 "})
    assert response.status_code == 200 and response.json() == {"title": "Plan for 2027"}
    assert world.refresh().title == "Plan for 2027"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "x" * 201}, "Titles can be at most 200 characters; this one has 201."),
        ({"title": "   "}, "Give the document a title."),
        ({}, "Give the document a title."),
        ({"title": 5}, "“title” must be text."),
        ([], "The request body must be a JSON object."),
    ],
)
def test_rename_refusals_are_json_400(
    world: World, login: Callable[..., Client], body: Any, message: str
) -> None:
    response = rename(login("owner"), world.doc, body)
    assert response.status_code == 400 and response.json() == {"error": message}
    assert world.refresh().title == "Quarterly plan"


def test_rename_with_broken_json(world: World, login: Callable[..., Client]) -> None:
    response = login("owner").post(
        reverse("documents:rename", args=[world.doc.public_id]),
        "{not json",
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json() == {
        "error": "The request body is not valid JSON."
    }


def test_rename_accepts_a_form_post(world: World, login: Callable[..., Client]) -> None:
    response = login("owner").post(
        reverse("documents:rename", args=[world.doc.public_id]), {"title": "Form"}
    )
    assert response.status_code == 200 and world.refresh().title == "Form"


def test_rename_by_get_is_405_json(world: World, login: Callable[..., Client]) -> None:
    response = login("owner").get(reverse("documents:rename", args=[world.doc.public_id]))
    assert response.status_code == 405 and response["Allow"] == "POST" and response.json()["error"]
