"""JSON endpoints of the review app, under ``/api/docs/<id>/``.

Thin: each view reads the request, calls one service or selector and
answers JSON. The rules are documents/api.py's (its ``json_endpoint``):
sign-in, CSRF, the session's share-link token, ``{"error": ...}`` with 400
(bad input), 401, 403 (may see but not do this), 404 (no such document,
thread or message, or a document the user may not see: a stranger cannot
tell which), 405; plus 409 when a decision can no longer be undone, 429
past the comment throttle and 503 when the document's authority cannot
apply a content change now (nothing changed).
Bodies are JSON objects of at most ``MAX_BODY_BYTES``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, JsonResponse

from documents.api import BadRequest, View, error, json_endpoint, json_object
from documents.exceptions import ActionNotAllowed
from documents.links import session_link_token
from documents.models import Document
from documents.people import display_name, user_color
from documents.selectors import DocumentAccess, document_get_for_user, document_viewers
from review import decisions, services, throttle
from review.exceptions import (
    DecisionNotFound,
    MessageNotFound,
    ReviewChangeFailed,
    ThreadNotFound,
)
from review.presenters import thread_json
from review.selectors import AUTHORS_MAX, document_contributors, thread_list

#: People listed by the mention picker.
PEOPLE_LIMIT = 10
PEOPLE_QUERY_MAX = 100


def review_endpoint(*methods: str) -> Callable[[View], View]:
    """Wrap a view as ``json_endpoint`` does, answering review's own refusals too."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                return view(request, *args, **kwargs)
            except ThreadNotFound:
                return error("That comment thread doesn’t exist (it may have been deleted).", 404)
            except MessageNotFound:
                return error("That message doesn’t exist (it may have been deleted).", 404)
            except DecisionNotFound:
                return error("No decision on suggestions was made at that revision.", 404)
            except ReviewChangeFailed as exc:
                return error(f"The document couldn’t be changed right now ({exc}). Try again.", 503)
            except throttle.Throttled as exc:
                response = error(str(exc), 429)
                response["Retry-After"] = str(exc.seconds)
                return response

        return json_endpoint(*methods)(inner)

    return decorate


def _payload(request: HttpRequest) -> dict[str, Any]:
    """Return the request's JSON object (a body is required)."""
    return json_object(request, required=True)


def _document(request: HttpRequest, public_id: uuid.UUID) -> tuple[Document, DocumentAccess]:
    token = session_link_token(request.session, public_id)
    return document_get_for_user(user=request.user, public_id=public_id, link_token=token)


@review_endpoint("GET", "POST")
def threads(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """GET: every thread of the document. POST ``{id, quote, body}``: start one (201)."""
    document, access = _document(request, public_id)
    if request.method == "GET":
        return JsonResponse({"threads": [thread_json(t) for t in thread_list(document=document)]})
    data = _payload(request)
    throttle.check(request, access)
    thread = services.thread_create(
        document=document,
        access=access,
        actor=request.user,
        thread_id=data.get("id"),
        quote=data.get("quote", ""),
        body=data.get("body"),
    )
    return JsonResponse(thread, status=201)


@review_endpoint("DELETE")
def thread(request: HttpRequest, public_id: uuid.UUID, thread_id: str) -> JsonResponse:
    """Delete the thread and its anchors: ``{"deleted": id}``."""
    document, access = _document(request, public_id)
    services.thread_delete(
        document=document, access=access, actor=request.user, thread_id=thread_id
    )
    return JsonResponse({"deleted": thread_id})


@review_endpoint("POST")
def messages(request: HttpRequest, public_id: uuid.UUID, thread_id: str) -> JsonResponse:
    """Reply ``{body}``: the thread (201)."""
    document, access = _document(request, public_id)
    data = _payload(request)
    throttle.check(request, access)
    updated = services.message_add(
        document=document,
        access=access,
        actor=request.user,
        thread_id=thread_id,
        body=data.get("body"),
    )
    return JsonResponse(updated, status=201)


@review_endpoint("PATCH", "DELETE")
def message(
    request: HttpRequest, public_id: uuid.UUID, thread_id: str, message_id: int
) -> JsonResponse:
    """PATCH ``{body}``: edit one's message. DELETE: delete it (the first: the thread)."""
    document, access = _document(request, public_id)
    if request.method == "PATCH":
        data = _payload(request)
        updated = services.message_edit(
            document=document,
            access=access,
            actor=request.user,
            thread_id=thread_id,
            message_id=message_id,
            body=data.get("body"),
        )
        return JsonResponse(updated)
    remaining = services.message_delete(
        document=document,
        access=access,
        actor=request.user,
        thread_id=thread_id,
        message_id=message_id,
    )
    if remaining is None:
        return JsonResponse({"deleted": thread_id})
    return JsonResponse(remaining)


@review_endpoint("POST")
def resolve(request: HttpRequest, public_id: uuid.UUID, thread_id: str) -> JsonResponse:
    """Resolve the thread: the thread."""
    document, access = _document(request, public_id)
    return JsonResponse(
        services.thread_resolve(
            document=document, access=access, actor=request.user, thread_id=thread_id
        )
    )


@review_endpoint("POST")
def reopen(request: HttpRequest, public_id: uuid.UUID, thread_id: str) -> JsonResponse:
    """Re-open the thread: the thread."""
    document, access = _document(request, public_id)
    return JsonResponse(
        services.thread_reopen(
            document=document, access=access, actor=request.user, thread_id=thread_id
        )
    )


@review_endpoint("GET")
def people(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """The mention picker: ``?q=`` → up to 10 people who can see the document."""
    document, access = _document(request, public_id)
    if not access.can_comment:
        raise ActionNotAllowed("You can view this document but not comment on it.")
    query = request.GET.get("q", "").strip().lstrip("@")[:PEOPLE_QUERY_MAX]
    viewers = document_viewers(document=document)
    if query:
        viewers = viewers.filter(
            Q(username__istartswith=query)
            | Q(first_name__istartswith=query)
            | Q(last_name__istartswith=query)
        )
    found = viewers.order_by("username")[:PEOPLE_LIMIT]
    return JsonResponse(
        {
            "people": [
                {"id": user.pk, "username": user.get_username(), "name": display_name(user)}
                for user in found
            ]
        }
    )


@review_endpoint("GET")
def authors(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Names of suggestion authors: ``?ids=1,2`` → those who took part in the document.

    Anyone who may view the document sees who suggested what; ids of
    people who never took part in it are left out (see
    :func:`review.selectors.document_contributors`).
    """
    document, _ = _document(request, public_id)
    raw = request.GET.get("ids", "")
    parts = [part for part in raw.split(",") if part]
    if len(parts) > AUTHORS_MAX or not all(part.isascii() and part.isdigit() for part in parts):
        raise BadRequest(f"ids must be up to {AUTHORS_MAX} comma-separated user ids.")
    people = document_contributors(document=document, ids=[int(part) for part in parts])
    # "color": the person's presence colour (their cursor's; Show authors).
    return JsonResponse(
        {
            "people": [
                {"id": user.pk, "name": display_name(user), "color": user_color(user.pk)}
                for user in people
            ]
        }
    )


@review_endpoint("POST")
def decide(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Accept or reject suggestions: ``{accept, ids | all | author}``."""
    document, access = _document(request, public_id)
    data = _payload(request)
    selection = decisions.parse_selection(
        ids=data.get("ids"), all_=data.get("all"), author=data.get("author")
    )
    decision = decisions.suggestions_decide(
        document=document,
        access=access,
        actor=request.user,
        accept=data.get("accept"),
        selection=selection,
    )
    return _decision_json(decision)


def _decision_json(decision: decisions.Decision) -> JsonResponse:
    return JsonResponse(
        {
            "revision": decision.revision,
            "op_id": decision.op_id,
            "delta": decision.delta,
            "decided": decision.decided,
        }
    )


@review_endpoint("POST")
def undo(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Undo one's decision: ``{revision}`` (the decision's) → the same shape as decide."""
    document, access = _document(request, public_id)
    data = _payload(request)
    try:
        decision = decisions.decision_undo(
            document=document, access=access, actor=request.user, revision=data.get("revision")
        )
    except ReviewChangeFailed as exc:
        return error(f"That decision can’t be undone ({exc}).", 409)
    return _decision_json(decision)
