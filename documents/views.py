"""Pages: the document lists, the document page and the trash actions.

Views stay thin: they read with :mod:`documents.selectors`, write with
:mod:`documents.services`, and turn refusals into answers. A document the
user may not see is a 404 with the same page whether or not it exists.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from documents import search, services, throttle
from documents.content import document_content
from documents.copying import CopyRefused
from documents.copying import document_copy as copy_document
from documents.exceptions import DocumentNotFound
from documents.linkopens import record_link_open
from documents.links import remember_link_token, session_link_token
from documents.lists import (
    SORTS,
    clean_search,
    clean_sort,
    document_list_owned,
    document_list_shared_with,
    document_list_starred,
    document_list_trashed,
    starred_ids,
)
from documents.models import Document, LinkMode
from documents.people import display_name
from documents.render import render_html
from documents.selectors import (
    DocumentAccess,
    document_get_for_user,
    document_roles_for_user,
    link_token_matches,
)
from documents.stars import star_set
from documents.visits import record_visit

PAGE_SIZE = 50

SECTIONS = {
    "mine": ("My documents", document_list_owned),
    "shared": ("Shared with me", document_list_shared_with),
    "starred": ("Starred", document_list_starred),
    "trash": ("Trash", document_list_trashed),
}
#: The role a link gives, as the "Shared with me" list labels it.
_LINK_ROLE_LABELS = {
    LinkMode.VIEW: "Viewer (via link)",
    LinkMode.COMMENT: "Commenter (via link)",
    LinkMode.EDIT: "Editor (via link)",
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


def _list_query(*, query: str, sort: str, page: int | None = None) -> str:
    """Return the query string of a list address (search, sort, page kept together)."""
    params: dict[str, str | int] = {}
    if query:
        params["q"] = query
    if sort != clean_sort(None, search=query):
        params["sort"] = sort
    if page is not None and page > 1:
        params["page"] = page
    return "?" + urlencode(params) if params else "?"


def _sort_links(*, query: str, sort: str) -> dict[str, dict[str, str]]:
    """Return, per sortable column, the address that sorts by it and its state.

    A column sorted one way links to the other way; ``aria`` is the
    column's ``aria-sort`` value.
    """
    links = {}
    for column in ("title", "owner", "edited"):
        ascending = column != "edited"  # newest first is how people read "edited"
        if sort == column:
            target, aria = f"-{column}", "ascending" if ascending else "descending"
        elif sort == f"-{column}":
            target, aria = column, "descending" if ascending else "ascending"
        else:
            target, aria = column, "none"
        links[column] = {"href": _list_query(query=query, sort=target), "aria": aria}
    return links


_SORT_LABELS = {
    "relevance": "Best match",
    "edited": "Edited: newest",
    "-edited": "Edited: oldest",
    "title": "Title: A–Z",
    "-title": "Title: Z–A",
    "owner": "Owner: A–Z",
    "-owner": "Owner: Z–A",
}


def _sort_choices(*, query: str, sort: str, trash: bool) -> list[tuple[str, str, bool]]:
    """Return the sort menu: ``(value, label, selected)`` per sort.

    The default sort's value is empty, so a new search from a list in its
    default order is ordered by relevance, not by the list's default.
    """
    default = clean_sort(None, search=query)
    choices = []
    for name in SORTS:
        if name == "relevance" and not query:
            continue
        label = _SORT_LABELS[name]
        if trash:
            label = label.replace("Edited", "Trashed")
        choices.append(("" if name == default else name, label, name == sort))
    return choices


def _label_roles(request: HttpRequest, documents: list[Document]) -> None:
    """Set ``shared_role_label`` on each document shared with the user (a link's too)."""
    roles = document_roles_for_user(user=request.user, documents=documents)
    for document in documents:
        role = roles.get(document.pk)
        if role is not None:
            document.shared_role_label = role.label
        elif document.owner_id != request.user.pk:
            document.shared_role_label = _LINK_ROLE_LABELS.get(document.link_mode, "")
        else:
            document.shared_role_label = ""


@login_required
@require_GET
def document_list(request: HttpRequest, section: str = "mine") -> HttpResponse:
    """Show one of the lists (mine, shared, starred, trash), searched and sorted.

    ``?q=`` searches titles and content (:mod:`documents.search`), ``?sort=``
    is one of :data:`documents.lists.SORTS` (an unknown one is the default),
    ``?page=`` pages; each keeps the others in the links it makes.
    """
    heading, selector = SECTIONS[section]
    query = clean_search(request.GET.get("q"))
    sort = clean_sort(request.GET.get("sort"), search=query)
    page = Paginator(selector(user=request.user, search=query, sort=sort), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    documents = list(page.object_list)
    if section in ("shared", "starred"):
        # The role each document was shared in, shown as a label per row.
        _label_roles(request, documents)
    stars = starred_ids(user=request.user, documents=documents)
    snippets = search.snippets(document_pks=[d.pk for d in documents], search=query)
    for document in documents:
        document.starred = document.pk in stars
        document.snippet = snippets.get(document.pk, "")
    return render(
        request,
        "documents/list.html",
        {
            "section": section,
            "heading": heading,
            "query": query,
            "sort": sort,
            "sort_links": _sort_links(query=query, sort=sort),
            "sort_choices": _sort_choices(query=query, sort=sort, trash=section == "trash"),
            "previous_query": page.has_previous()
            and _list_query(query=query, sort=sort, page=page.previous_page_number()),
            "next_query": page.has_next()
            and _list_query(query=query, sort=sort, page=page.next_page_number()),
            "page": page,
            "documents": documents,
        },
    )


def _back(request: HttpRequest, fallback: str) -> str:
    """Return the page to go back to: ``next`` if it is on this site, else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _starred_value(request: HttpRequest) -> str | None:
    """Return ``"1"``/``"0"`` from a form's ``starred`` or a JSON ``{"starred": bool}``."""
    if request.content_type != "application/json":
        return request.POST.get("starred")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    value = body.get("starred") if isinstance(body, dict) else None
    return {True: "1", False: "0"}.get(value) if isinstance(value, bool) else None


@login_required
@require_POST
def document_star(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Star (``starred=1``) or unstar (``starred=0``) a document the user can view.

    The page's script sends ``{"starred": bool}`` as JSON and gets JSON
    ``{"starred": bool}`` back (``Accept: application/json``); the form
    without a script goes back to ``next``. 400 for any other ``starred``,
    404 for a document the user cannot view.
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    value = _starred_value(request)
    if value not in ("0", "1"):
        message = "Say starred=1 to star or starred=0 to unstar."
        if wants_json:
            return JsonResponse({"error": message}, status=400)
        return HttpResponseBadRequest(message)
    try:
        document, _ = get_document(request, public_id)
    except DocumentNotFound:
        if wants_json:
            return JsonResponse({"error": "No such document."}, status=404)
        return not_found(request)
    starred = star_set(user=request.user, document=document, starred=value == "1")
    if wants_json:
        return JsonResponse({"starred": starred})
    return redirect(_back(request, reverse("documents:list")))


@login_required
@require_POST
def document_copy(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Make a copy the user owns of a document they can view, and open it."""
    wait = throttle.hit(request, throttle.DOCUMENT)
    if wait is not None:
        return throttle.refusal(request, throttle.DOCUMENT, wait)
    try:
        source, _ = get_document(request, public_id)
        copy = copy_document(
            source=source,
            actor=request.user,
            link_token_for=lambda pid: session_link_token(request.session, pid),
        )
    except DocumentNotFound:
        return not_found(request)
    except CopyRefused as refused:  # a quota the copy's images would pass
        messages.error(request, f"Couldn’t make a copy of “{source.title}”: {refused.message}")
        return redirect(_back(request, reverse("documents:list")))
    messages.success(request, f"This is your copy of “{source.title}”.")
    return redirect("documents:detail", public_id=copy.public_id)


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
        # Listed under "Shared with me" while this link stays on.
        record_link_open(user=request.user, document=document, token=key)
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
