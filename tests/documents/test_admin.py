"""The Django admin for documents, versions and operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.models import UserObjectPermission

from documents import services
from documents.models import Document, DocumentVersion, LinkMode, Operation
from tests.documents.conftest import World

pytestmark = pytest.mark.django_db


def add_ops(doc: Document, count: int) -> None:
    Operation.objects.bulk_create(
        Operation(document=doc, revision=r, op_id=f"c:{r}", delta=[{"insert": "x"}])
        for r in range(1, count + 1)
    )


def test_changelist_shows_revision_last_edit_and_op_count(
    world: World, login: Callable[..., Client]
) -> None:
    add_ops(world.doc, 3)
    Document.objects.filter(pk=world.doc.pk).update(head_revision=3)
    body = login("superuser").get(reverse("admin:documents_document_changelist")).content.decode()
    for column in (
        "Title",
        "Owner",
        "Head revision",
        "Updated at",
        "Last edited by",
        "Ops",
        "Link mode",
        "In trash",
    ):
        assert column in body
    assert '<td class="field-op_count">3</td>' in body
    assert '<td class="field-head_revision">3</td>' in body


def test_changelist_queries_do_not_grow_with_rows(
    world: World, login: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = login("superuser")
    url = reverse("admin:documents_document_changelist")
    client.get(url)  # warm caches (content types, sessions)

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(10):
        doc = services.document_create(owner=world.editor, title=f"Doc {n}")
        add_ops(doc, 2)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(one.captured_queries)


def test_search_and_filters(world: World, login: Callable[..., Client]) -> None:
    trashed = services.document_create(owner=world.owner, title="Old notes")
    services.document_trash(document=trashed, actor=world.owner)
    linked = services.document_create(owner=world.editor, title="Public notes")
    services.link_set_mode(document=linked, actor=world.editor, mode=LinkMode.VIEW)
    client = login("superuser")
    url = reverse("admin:documents_document_changelist")

    def titles(params: dict) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {doc.title for doc in response.context["cl"].result_list}

    assert titles({"q": "notes"}) == {"Old notes", "Public notes"}
    assert titles({"q": "editor"}) == {"Public notes"}  # by owner username
    assert titles({"q": str(world.doc.public_id)}) == {"Quarterly plan"}
    assert titles({"trashed": "yes"}) == {"Old notes"}
    assert titles({"trashed": "no"}) == {"Quarterly plan", "Public notes"}
    assert titles({"link_mode__exact": "view"}) == {"Public notes"}


def test_change_page_has_versions_inline_read_only_and_a_content_preview(
    world: World, login: Callable[..., Client]
) -> None:
    Operation.objects.create(
        document=world.doc, revision=1, op_id="c:1", delta=[{"insert": "Hello <b>there</b>"}]
    )
    response = login("superuser").get(
        reverse("admin:documents_document_change", args=[world.doc.pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Initial" in body  # the initial version, inline
    inline = response.context["inline_admin_formsets"][0]
    assert inline.formset.model is DocumentVersion
    assert (
        not inline.has_add_permission
        and not inline.has_change_permission
        and not inline.has_delete_permission
    )
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in body
    assert (
        reverse("admin:documents_document_permissions", args=[world.doc.pk]) in body
    )  # guardian's link


def test_object_permissions_page_lists_shares(world: World, login: Callable[..., Client]) -> None:
    body = (
        login("superuser")
        .get(reverse("admin:documents_document_permissions", args=[world.doc.pk]))
        .content.decode()
    )
    for name in ("viewer", "editor", "sharer", "team"):
        assert name in body


def test_change_page_names_every_role_and_the_comment_link_mode(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("superuser")
    url = reverse("admin:documents_document_change", args=[world.doc.pk])
    body = client.get(url).content.decode()
    for share in (
        "commenter (Commenter)",
        "editor (Editor)",
        "sharer (Editor, can share)",
        "viewer (Viewer)",
        "group reviewers (Commenter)",
        "group team (Editor)",
    ):
        assert share in body
    assert '<option value="comment">Anyone with the link can comment</option>' in body
    manage = reverse(
        "admin:documents_document_permissions_manage_user", args=[world.doc.pk, world.commenter.pk]
    )
    page = client.get(manage).content.decode()
    assert "Can comment on and suggest changes to document" in page


def test_change_page_links_to_the_documents_comment_threads(
    world: World, login: Callable[..., Client]
) -> None:
    client = login("superuser")
    url = reverse("admin:documents_document_change", args=[world.doc.pk])
    threads = reverse("admin:review_thread_changelist") + f"?document__id__exact={world.doc.pk}"
    body = client.get(url).content.decode()
    assert f'<a href="{threads}">Comment threads (0)</a>' in body
    world.doc.review_threads.create(public_id="a" * 16, quote="Quarterly", created_by=world.owner)
    body = client.get(url).content.decode()
    assert "Comment threads (1)" in body
    assert client.get(threads).status_code == 200


def test_the_admin_sets_a_comment_link_and_sockets_hear(
    world: World,
    login: Callable[..., Client],
    events: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("admin:documents_document_change", args=[world.doc.pk])
    data = {"title": world.doc.title, "link_mode": "comment", "versions-TOTAL_FORMS": "0"}
    data |= {"versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0"}
    data |= {"versions-MAX_NUM_FORMS": "1000"}
    with django_capture_on_commit_callbacks(execute=True):
        response = login("superuser").post(url, data)
    assert response.status_code == 302, response.content[:2000]
    assert world.refresh().link_mode == "comment"
    assert ("access_changed", {"public_id": world.doc.public_id}) in events


def test_versions_and_operations_are_read_only(world: World, login: Callable[..., Client]) -> None:
    Operation.objects.create(document=world.doc, revision=1, op_id="c:1", delta=[{"insert": "x"}])
    client = login("superuser")
    version = DocumentVersion.objects.get(document=world.doc)
    op = Operation.objects.get(document=world.doc)
    assert client.get(reverse("admin:documents_documentversion_changelist")).status_code == 200
    assert client.get(reverse("admin:documents_operation_changelist")).status_code == 200
    assert client.get(reverse("admin:documents_documentversion_add")).status_code == 403
    assert client.get(reverse("admin:documents_operation_add")).status_code == 403
    assert (
        client.get(reverse("admin:documents_documentversion_delete", args=[version.pk])).status_code
        == 403
    )
    assert client.get(reverse("admin:documents_operation_delete", args=[op.pk])).status_code == 403
    view = client.get(reverse("admin:documents_operation_change", args=[op.pk]))
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    response = client.post(
        reverse("admin:documents_operation_change", args=[op.pk]), {"op_id": "changed"}
    )
    assert response.status_code == 403
    assert Operation.objects.get(pk=op.pk).op_id == "c:1"


def test_staff_without_document_permissions_see_nothing(world: World, make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("plainstaff", is_staff=True))
    assert client.get(reverse("admin:documents_document_changelist")).status_code == 403


def test_admin_edits_notify_sockets_after_commit(
    world: World,
    login: Callable[..., Client],
    events: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = login("superuser").post(
            reverse("admin:documents_document_change", args=[world.doc.pk]),
            {
                "title": "Renamed by staff",
                "link_mode": "view",
                "versions-TOTAL_FORMS": "1",
                "versions-INITIAL_FORMS": "1",
                "versions-MIN_NUM_FORMS": "0",
                "versions-MAX_NUM_FORMS": "1000",
                "versions-0-id": str(world.doc.snapshot_id),
                "versions-0-document": str(world.doc.pk),
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    doc = world.refresh()
    assert (doc.title, doc.link_mode) == ("Renamed by staff", LinkMode.VIEW)
    assert sorted(name for name, _ in events) == ["access_changed", "title_changed"]


def test_admin_delete_removes_history_and_permissions(
    world: World,
    login: Callable[..., Client],
    events: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    add_ops(world.doc, 2)
    client = login("superuser")
    url = reverse("admin:documents_document_delete", args=[world.doc.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Document.objects.filter(pk=world.doc.pk).exists()
    assert not Operation.objects.exists() and not DocumentVersion.objects.exists()
    assert not UserObjectPermission.objects.filter(object_pk=str(world.doc.pk)).exists()
    assert events == [("document_removed", {"public_id": world.doc.public_id})]


def test_admin_bulk_delete_action(world: World, login: Callable[..., Client]) -> None:
    other = services.document_create(owner=world.editor, title="Other")
    response = login("superuser").post(
        reverse("admin:documents_document_changelist"),
        {"action": "delete_selected", "_selected_action": [world.doc.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Document.objects.exists()


def test_documents_are_not_added_in_the_admin(world: World, login: Callable[..., Client]) -> None:
    assert login("superuser").get(reverse("admin:documents_document_add")).status_code == 403


def test_admin_titles_are_cleaned_like_the_pages_do(
    world: World, login: Callable[..., Client]
) -> None:
    data = {
        "title": "  Tidied\n title ",
        "link_mode": "off",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    response = login("superuser").post(
        reverse("admin:documents_document_change", args=[world.doc.pk]), data
    )
    assert response.status_code == 302
    assert world.refresh().title == "Tidied title"
