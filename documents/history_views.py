"""The history panel's JSON endpoints and the export downloads.

Compare, the timeline and undoing a restore are in
:mod:`documents.history_api`. JSON endpoints follow :mod:`documents.api`
(``{"error": ...}`` refusals, CSRF on POST). Downloads are plain GETs
answering an attachment; a version is downloadable by whoever may browse
the history.

====================================================  ======  ==============================
URL                                                   Method  What
====================================================  ======  ==============================
``/api/docs/<id>/history?before=&limit=``             GET     a page of the list, what you may do
``/api/docs/<id>/history/<version>``                  GET     one version, with safe HTML
``/api/docs/<id>/history/name``                       POST    ``{"name"}``: name the current
``/api/docs/<id>/history/<version>/restore``          POST    restore it (a new change)
``/api/docs/<id>/history/settings``                   POST    ``{"visible_to_viewers"}``
``/d/<id>/export/<format>``                           GET     the current document
``/d/<id>/history/<version>/export/<format>``         GET     a version
====================================================  ======  ==============================

Downloads and previews show the document as accepted so far (pending
suggestions left out, comment anchors never shown); a download with
``?suggestions=markup`` shows the suggestions marked up, with who and when
(:mod:`documents.export`). Any other value of the option is a 404, like an
unknown format.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from documents import history
from documents.api import _body, _document, _flag, _text, error, json_endpoint
from documents.content import document_content
from documents.exceptions import ActionNotAllowed, DocumentNotFound
from documents.export import FORMATS, export_document
from documents.history import HistoryAccess, history_access
from documents.links import session_link_token
from documents.models import Document
from documents.proposals import ACCEPTED, MARKUP, SUGGESTION_MODES
from documents.render import render_html
from documents.views import get_document, not_found

# One item shape for the list and the live events (documents.history).
_person = history.person_json
_export_urls = history.export_urls
_entry_json = history.entry_json


def _permissions(rights: HistoryAccess) -> dict[str, bool]:
    return {
        "can_browse": rights.can_browse,
        "can_restore": rights.can_change,
        "can_name": rights.can_change,
        "can_configure": rights.can_configure,
    }


def _browsable(
    request: HttpRequest, public_id: uuid.UUID
) -> tuple[Document, HistoryAccess, str | None]:
    document, access, token = _document(request, public_id)
    rights = history_access(access=access, document=document)
    return document, rights, token


def _page_parameter(request: HttpRequest, name: str, default: int | None) -> int | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise ValidationError(f"{name} must be a whole number, not “{value[:40]}”.")
    return int(value)


@json_endpoint("GET")
def history_list(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Answer a page of the versions newest first (when allowed) and what the user may do.

    ``?before=<version id>&limit=<1..100>`` (default 50): the versions older
    than that one; ``next`` is the ``before`` of the following page, or null.
    """
    document, rights, _ = _browsable(request, public_id)
    data: dict[str, Any] = {
        "permissions": _permissions(rights),
        "visible_to_viewers": document.history_visible_to_viewers,
        "export": _export_urls(document, None),
        "versions": [],
        "next": None,
    }
    if rights.can_browse:
        entries, following = history.version_page(
            document=document,
            before=_page_parameter(request, "before", None),
            limit=_page_parameter(request, "limit", 50) or 0,
        )
        data["versions"] = [_entry_json(document, e) for e in entries]
        data["next"] = following
    else:
        data["message"] = history.NOT_SHARED_WITH_VIEWERS
    return JsonResponse(data)


@json_endpoint("GET")
def history_version(request: HttpRequest, public_id: uuid.UUID, version_id: int) -> JsonResponse:
    """Answer one version with its content rendered as sanitised HTML."""
    document, _, token = _document(request, public_id)
    version = history.version_for_user(
        actor=request.user, document=document, version_id=version_id, link_token=token
    )
    return JsonResponse(
        {
            "id": version.pk,
            "revision": version.revision,
            "kind": version.kind,
            "label": history.version_label(version),
            "created_at": version.created_at.isoformat() if version.created_at else None,
            "html": render_html(version.content),
            "export": _export_urls(document, version.pk),
        }
    )


@json_endpoint("POST")
def history_name(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Name the current version: ``{"name"}``."""
    document, _, token = _document(request, public_id)
    version = history.version_name(
        document=document, actor=request.user, name=_text(_body(request), "name"), link_token=token
    )
    return JsonResponse({"message": f"Saved this version as “{version.name}”.", "id": version.pk})


@json_endpoint("POST")
def history_restore(request: HttpRequest, public_id: uuid.UUID, version_id: int) -> JsonResponse:
    """Restore a version as a new change everyone sees."""
    document, _, token = _document(request, public_id)
    try:
        restore = history.version_restore(
            document=document, actor=request.user, version_id=version_id, link_token=token
        )
    except history.RestoreFailed as exc:
        return error(f"The version couldn’t be restored right now ({exc}). Try again.", 503)
    return JsonResponse(
        {
            "message": "Restored. Everyone sees this version now; you can undo it for 15 minutes.",
            "id": restore.pk,
            "revision": restore.revision,
            "undo_until": history.undo_deadline(restore).isoformat(),
        }
    )


@json_endpoint("POST")
def history_settings(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Let viewers see the history or not: ``{"visible_to_viewers"}``."""
    document, _, token = _document(request, public_id)
    visible = _flag(_body(request), "visible_to_viewers")
    history.history_set_visibility(
        document=document, actor=request.user, visible=visible, link_token=token
    )
    message = (
        "Viewers can now see the version history."
        if visible
        else ("Only editors can see the version history now.")
    )
    return JsonResponse({"message": message, "visible_to_viewers": visible})


# --------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------


def _suggestions(request: HttpRequest) -> str:
    """Return the download's suggestions option; 404 for a value that is not one."""
    suggestions = request.GET.get("suggestions", ACCEPTED)
    if suggestions not in SUGGESTION_MODES:
        raise Http404("unknown suggestions option")
    return suggestions


def _download(
    document: Document, content: list[dict], fmt: str, *, suggestions: str, suffix: str = ""
) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("unknown format")
    extension, mime = FORMATS[fmt]
    body = export_document(
        content, fmt=fmt, title=document.title, suggestions=suggestions, document=document
    )
    stem = slugify(document.title)[:80] or "document"
    if suggestions == MARKUP:
        suffix += "-suggestions"
    response = HttpResponse(body, content_type=mime)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{stem}{suffix}.{extension}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def export_current(request: HttpRequest, public_id: uuid.UUID, fmt: str) -> HttpResponse:
    """Download the current document as text, HTML or Markdown."""
    try:
        document, _ = get_document(request, public_id, include_trashed=True)
    except DocumentNotFound:
        return not_found(request)
    return _download(document, document_content(document), fmt, suggestions=_suggestions(request))


@login_required
@require_GET
def export_version(
    request: HttpRequest, public_id: uuid.UUID, version_id: int, fmt: str
) -> HttpResponse:
    """Download a version as text, HTML or Markdown (if the history is visible)."""
    try:
        document, _ = get_document(request, public_id, include_trashed=True)
        version = history.version_for_user(
            actor=request.user,
            document=document,
            version_id=version_id,
            link_token=session_link_token(request.session, public_id),
        )
    except DocumentNotFound:
        return not_found(request)
    except ActionNotAllowed as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    except ValidationError:
        return not_found(request, message="That version doesn’t exist.")
    return _download(
        document,
        list(version.content),
        fmt,
        suggestions=_suggestions(request),
        suffix=f"-r{version.revision}",
    )
