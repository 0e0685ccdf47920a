"""Pages: the document lists, the document page and the trash actions.

Views stay thin: they read with :mod:`documents.selectors`, write with
:mod:`documents.services`, and turn refusals into answers. A document the
user may not see is a 404 with the same page whether or not it exists.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from documents import services, throttle
from documents.content import document_content
from documents.exceptions import DocumentNotFound
from documents.links import remember_link_token, session_link_token
from documents.models import Document
from documents.people import display_name
from documents.render import render_html
from documents.selectors import (
    DocumentAccess,
    document_get_for_user,
    document_list_owned,
    document_list_shared_with,
    document_list_trashed,
    document_roles_for_user,
    link_token_matches,
)
from documents.visits import record_visit

PAGE_SIZE = 50

SECTIONS = {
    "mine": ("My documents", document_list_owned),
    "shared": ("Shared with me", document_list_shared_with),
    "trash": ("Trash", document_list_trashed),
}


def not_found(request: HttpRequest, *, message: str | None = None) -> HttpResponse:
    """Return the page for a document that is missing or not visible to the user."""
    context = {
        "message": message
        or (
            "It may have been deleted, or you may not have access. "
            "Ask its owner to share it with you."
        )
    }
    return render(request, "documents/not_found.html", context, status=404)


def get_document(
    request: HttpRequest, public_id: uuid.UUID, *, include_trashed: bool = False
) -> tuple[Document, DocumentAccess]:
    """Return the document and the request user's access, using a remembered link."""
    return document_get_for_user(
        user=request.user,
        public_id=public_id,
        link_token=session_link_token(request.session, public_id),
        include_trashed=include_trashed,
    )


@login_required
@require_GET
def document_list(request: HttpRequest, section: str = "mine") -> HttpResponse:
    """Show one of the lists: my documents, shared with me, or the trash."""
    heading, selector = SECTIONS[section]
    query = request.GET.get("q", "").strip()
    page = Paginator(selector(user=request.user, search=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    documents = list(page.object_list)
    if section == "shared":
        # The role each document was shared in, shown as a label per row.
        roles = document_roles_for_user(user=request.user, documents=documents)
        for document in documents:
            role = roles.get(document.pk)
            document.shared_role_label = role.label if role is not None else ""
    return render(
        request,
        "documents/list.html",
        {
            "section": section,
            "heading": heading,
            "query": query,
            "page": page,
            "documents": documents,
        },
    )


@login_required
@require_POST
def document_create(request: HttpRequest) -> HttpResponse:
    """Create a document and open it (429 past the creation throttle)."""
    # The slot is taken atomically before anything is created.
    wait = throttle.hit(request, throttle.DOCUMENT)
    if wait is not None:
        return throttle.refusal(request, throttle.DOCUMENT, wait)
    try:
        document = services.document_create(owner=request.user, title=request.POST.get("title"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("documents:list")
    return redirect("documents:detail", public_id=document.public_id)


@login_required
@require_GET
def document_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Show the document: the live editor's page, or a read-only copy in the trash.

    ``?key=<token>`` opens a document shared by link: a valid token is
    remembered in the session and the address is cleaned of it.
    """
    key = request.GET.get("key")
    if key is not None:
        return _open_link(request, public_id, key)
    try:
        document, access = get_document(request, public_id, include_trashed=True)
    except DocumentNotFound:
        return not_found(request)
    html = render_html(document_content(document))
    context = {"document": document, "access": access, "content_html": html}
    if document.is_trashed:
        return render(request, "documents/trashed.html", context)
    context["user_name"] = display_name(request.user)
    # For "changes since you last opened" (documents.visits).
    record_visit(user=request.user, document=document, revision=document.head_revision)
    return render(request, "documents/detail.html", context)


def _open_link(request: HttpRequest, public_id: uuid.UUID, key: str) -> HttpResponse:
    try:
        document, access = document_get_for_user(
            user=request.user, public_id=public_id, link_token=key
        )
    except DocumentNotFound:
        return not_found(
            request,
            message="This link doesn’t work: it may have been turned off or replaced by a new one. "
            "Ask the person who sent it for a new link.",
        )
    if link_token_matches(document=document, link_token=key):
        remember_link_token(request, document.public_id, key)
    else:
        messages.warning(
            request,
            "That link no longer works, but you have access to this document through a share.",
        )
    return redirect("documents:detail", public_id=document.public_id)


def _owner_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    token = session_link_token(request.session, public_id)
    try:
        document, _ = get_document(request, public_id, include_trashed=action != "trash")
        title = document.title
        if action == "trash":
            services.document_trash(document=document, actor=request.user, link_token=token)
            messages.success(request, f"“{title}” was moved to the trash.")
            return redirect("documents:list")
        if action == "restore":
            services.document_restore(document=document, actor=request.user, link_token=token)
            messages.success(request, f"“{title}” was restored.")
            return redirect("documents:detail", public_id=document.public_id)
        services.document_delete_forever(document=document, actor=request.user, link_token=token)
        messages.success(request, f"“{title}” was deleted forever.")
        return redirect("documents:trash")
    except DocumentNotFound:
        return not_found(request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("documents:detail", args=[public_id]))


@login_required
@require_POST
def document_trash(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Move a document to the trash (owner only)."""
    return _owner_action(request, public_id, "trash")


@login_required
@require_POST
def document_restore(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Restore a document from the trash (owner only)."""
    return _owner_action(request, public_id, "restore")


@login_required
@require_POST
def document_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Delete a trashed document forever (owner only)."""
    return _owner_action(request, public_id, "delete")
