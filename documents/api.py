"""JSON endpoints for the page's scripts: rename and the share dialog.

Every endpoint answers JSON, including refusals: ``{"error": "<for people>"}``
with 400 (bad input), 401 (not signed in), 403 (may see but not change),
404 (no such document, or one the user may not see) or 405. Changes are POSTs
with a JSON (or form-encoded) body and need the CSRF token, sent by the
scripts in the ``X-CSRFToken`` header. A successful share change answers
``{"message": ..., "share": <state>}`` so the dialog redraws from the truth.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from documents import services
from documents.exceptions import DocumentNotFound
from documents.links import link_change_message, session_link_token
from documents.models import Document, LinkMode
from documents.people import display_name, user_color
from documents.roles import Role
from documents.selectors import (
    DocumentAccess,
    document_get_for_user,
    document_group_shares,
    document_people_shares,
)

MAX_BODY_BYTES = 64 * 1024

View = Callable[..., JsonResponse]


class BadRequest(Exception):
    """The request body is not what the endpoint expects."""


def error(message: str, status: int) -> JsonResponse:
    """Return a JSON refusal."""
    return JsonResponse({"error": message}, status=status)


def json_endpoint(*methods: str) -> Callable[[View], View]:
    """Wrap a view: sign-in, allowed methods, and refusals as JSON errors."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if not request.user.is_authenticated:
                return error("Sign in to continue.", 401)
            if request.method not in methods:
                response = error(f"Use {' or '.join(methods)}.", 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except DocumentNotFound:
                return error("Document not found.", 404)
            except PermissionDenied as exc:
                return error(str(exc) or "You can’t do that.", 403)
            except ValidationError as exc:
                return error(" ".join(exc.messages), 400)
            except BadRequest as exc:
                return error(str(exc), 400)

        return wrapper

    return decorate


def json_object(
    request: HttpRequest, *, required: bool = False, max_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """Return the request body's JSON object, or raise BadRequest saying what is wrong.

    The one parser of the JSON APIs (documents, review, notifications): at
    most ``max_bytes``; an empty body is ``{}`` unless ``required``.
    """
    if len(request.body) > max_bytes:
        raise BadRequest("The request is too large.")
    if required and not request.body:
        raise BadRequest("The request has no body; send a JSON object.")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def _body(request: HttpRequest) -> dict[str, Any]:
    """Return the request's JSON object, or its form fields."""
    if request.content_type == "application/json":
        return json_object(request)
    if len(request.body) > MAX_BODY_BYTES:
        raise BadRequest("The request is too large.")
    return request.POST.dict()


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"“{name}” must be text.")
    return value


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("true", "on", "1"):
        return True
    if value in ("", "false", "off", "0", None):
        return False
    raise BadRequest(f"“{name}” must be true or false.")


def _id(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None or isinstance(value, bool):
        raise BadRequest(f"“{name}” must be an id.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"“{name}” must be an id.") from None


def _document(
    request: HttpRequest, public_id: uuid.UUID
) -> tuple[Document, DocumentAccess, str | None]:
    token = session_link_token(request.session, public_id)
    document, access = document_get_for_user(
        user=request.user, public_id=public_id, link_token=token
    )
    return document, access, token


def _person(user: Any, *, with_email: bool) -> dict[str, Any]:
    person = {
        "id": user.pk,
        "username": user.get_username(),
        "name": display_name(user),
        # The person's one colour (their cursor's), for their dot in the dialog.
        "color": user_color(user.pk),
    }
    if with_email:
        person["email"] = user.email
    return person


def share_state(request: HttpRequest, document: Document, access: DocumentAccess) -> dict[str, Any]:
    """Return what the share dialog shows to this user.

    Email addresses go only to people who manage sharing. The link (which
    carries the token) goes to people who manage sharing, and to others only
    when it grants nothing they do not already have, so a viewer cannot pick
    up a comment or edit link, nor a commenter an edit link.
    """
    manage = access.can_share
    people = [
        {
            **_person(share.user, with_email=manage),
            "role": share.role.value,
            "can_share": share.can_share,
            "is_you": share.user.pk == request.user.pk,
        }
        for share in document_people_shares(document=document)
    ]
    groups = [
        {"id": share.group.pk, "name": share.group.name, "role": share.role.value}
        for share in document_group_shares(document=document)
    ]
    # What the link lets anyone do, against what this user may do already.
    link_allows = {
        LinkMode.OFF: False,
        LinkMode.VIEW: True,
        LinkMode.COMMENT: access.can_comment,
        LinkMode.EDIT: access.can_edit,
    }
    show_link = document.link_mode != LinkMode.OFF and (
        manage or link_allows.get(document.link_mode, False)
    )
    link_url = None
    if show_link:
        path = reverse("documents:detail", args=[document.public_id])
        link_url = request.build_absolute_uri(f"{path}?key={document.link_token}")
    return {
        "document": {
            "id": str(document.public_id),
            "title": document.title,
            "url": reverse("documents:detail", args=[document.public_id]),
        },
        "you": {
            "id": request.user.pk,
            "role": access.role,
            "role_label": access.role_label,
            "can_manage": manage,
            "is_owner": access.is_owner,
        },
        "owner": {
            **_person(document.owner, with_email=manage),
            "is_you": document.owner_id == request.user.pk,
        },
        "people": people,
        "groups": groups,
        "link": {"mode": document.link_mode, "url": link_url},
        "roles": [{"value": value, "label": label} for value, label in Role.choices],
        "link_modes": [{"value": value, "label": label} for value, label in LinkMode.choices],
    }


def _changed(request: HttpRequest, public_id: uuid.UUID, message: str) -> JsonResponse:
    """Answer a successful change with the new state, as the actor now sees it."""
    try:
        document, access, _ = _document(request, public_id)
    except DocumentNotFound:
        # The actor gave their own access away (left, or transferred and left).
        return JsonResponse({"message": message, "share": None})
    return JsonResponse({"message": message, "share": share_state(request, document, access)})


def _user(user_id: int) -> Any:
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        raise ValidationError("That person doesn’t exist.", code="unknown_user")
    return user


def _group(group_id: int) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise ValidationError("That group doesn’t exist.", code="unknown_group")
    return group


def _role_label(role: str, can_share: bool) -> str:
    label = Role(role).label
    return f"{label} who can share" if can_share else label


@json_endpoint("POST")
def rename(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Rename the document: ``{"title": "..."}`` → ``{"title": "<as stored>"}``."""
    document, _, token = _document(request, public_id)
    title = _text(_body(request), "title")
    document = services.document_rename(
        document=document, actor=request.user, title=title, link_token=token
    )
    return JsonResponse({"title": document.title})


@json_endpoint("GET", "POST")
def share(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """GET: the share state. POST ``{identifier, role, can_share}``: share with a person."""
    document, access, token = _document(request, public_id)
    if request.method == "GET":
        return JsonResponse(share_state(request, document, access))
    data = _body(request)
    role, can_share = _text(data, "role") or str(Role.VIEWER), _flag(data, "can_share")
    user = services.share_grant(
        document=document,
        actor=request.user,
        identifier=_text(data, "identifier"),
        role=role,
        can_share=can_share,
        link_token=token,
    )
    return _changed(
        request, public_id, f"Shared with {display_name(user)} as {_role_label(role, can_share)}."
    )


@json_endpoint("POST")
def share_role(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Change someone's role: ``{user, role, can_share}``."""
    document, _, token = _document(request, public_id)
    data = _body(request)
    user = _user(_id(data, "user"))
    role, can_share = _text(data, "role"), _flag(data, "can_share")
    services.share_change_role(
        document=document,
        actor=request.user,
        user=user,
        role=role,
        can_share=can_share,
        link_token=token,
    )
    return _changed(
        request, public_id, f"{display_name(user)} is now {_role_label(role, can_share)}."
    )


@json_endpoint("POST")
def share_revoke(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Remove someone's access: ``{user}``."""
    document, _, token = _document(request, public_id)
    user = _user(_id(_body(request), "user"))
    services.share_revoke(document=document, actor=request.user, user=user, link_token=token)
    return _changed(request, public_id, f"{display_name(user)} no longer has access.")


@json_endpoint("POST")
def share_group(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Share with a group: ``{group, role}`` where ``group`` is its name."""
    document, _, token = _document(request, public_id)
    data = _body(request)
    role = _text(data, "role") or str(Role.VIEWER)
    group = services.share_with_group(
        document=document,
        actor=request.user,
        group_name=_text(data, "group"),
        role=role,
        link_token=token,
    )
    return _changed(
        request, public_id, f"Shared with the group {group.name} as {_role_label(role, False)}."
    )


@json_endpoint("POST")
def share_group_revoke(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Stop sharing with a group: ``{group}`` where ``group`` is its id."""
    document, _, token = _document(request, public_id)
    group = _group(_id(_body(request), "group"))
    services.share_revoke_group(
        document=document, actor=request.user, group=group, link_token=token
    )
    return _changed(request, public_id, f"The group {group.name} no longer has access.")


@json_endpoint("POST")
def share_link(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Set link sharing: ``{mode: "off"|"view"|"comment"|"edit", regenerate}``."""
    document, _, token = _document(request, public_id)
    data = _body(request)
    regenerate = _flag(data, "regenerate")
    document = services.link_set_mode(
        document=document,
        actor=request.user,
        mode=_text(data, "mode"),
        regenerate=regenerate,
        link_token=token,
    )
    message = link_change_message(
        mode=document.link_mode,
        mode_label=str(LinkMode(document.link_mode).label),
        regenerated=regenerate,
    )
    return _changed(request, public_id, message)


@json_endpoint("POST")
def share_transfer(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Transfer ownership: ``{identifier}`` (username or email)."""
    document, _, token = _document(request, public_id)
    user = services.ownership_transfer(
        document=document,
        actor=request.user,
        identifier=_text(_body(request), "identifier"),
        link_token=token,
    )
    return _changed(
        request, public_id, f"{display_name(user)} now owns this document; you can still edit it."
    )
