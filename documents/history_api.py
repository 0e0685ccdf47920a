"""The history panel's newer JSON endpoints: compare, the timeline, undoing a restore.

Like :mod:`documents.history_views` (the list, naming, restoring) they
follow :mod:`documents.api`: sign-in, ``{"error": "sentence"}`` refusals,
CSRF on POST, 404 to whoever cannot see the document, 403 to a viewer while
the owner keeps the history to editors. Times are ISO 8601 in UTC.

=====================================================  ======  =================================
URL                                                    Method  What
=====================================================  ======  =================================
``/api/docs/<id>/compare?from=&to=``                   GET     the redline between two revisions
  ``…?from_version=&to_version=``, ``…?since=last_visit``      (versions; "since you last opened")
``/api/docs/<id>/timeline``                            GET     range, version points, ``ops_from``
``/api/docs/<id>/timeline/content?rev=``               GET     content and authorship at ``rev``
``/api/docs/<id>/timeline/ops?after=&limit=``          GET     ops after ``after``, for playing
``/api/docs/<id>/history/restore/undo``                POST    ``{"revision"}``: undo a restore
=====================================================  ======  =================================

A malformed or out-of-range parameter is a 400 saying what is allowed; a
point of the history that can no longer be rebuilt (compacted away) is a
410; an undo that is too late or follows a later restore is a 409.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse

from documents import compare as comparing
from documents import history, timeline
from documents.api import _body, _document, error, json_endpoint
from documents.authorship import AuthorshipUnavailable
from documents.people import user_color


def _int(request: HttpRequest, name: str, *, required: bool = False) -> int | None:
    value = request.GET.get(name)
    if value is None or value == "":
        if required:
            raise comparing.BadCompare(f"Give {name}: a whole number.")
        return None
    try:
        number = int(value)
    except ValueError:
        raise comparing.BadCompare(f"{name} must be a whole number, not “{value[:40]}”.") from None
    if number < 0:
        raise comparing.BadCompare(f"{name} must be 0 or more, not {number}.")
    return number


def _browsing(request: HttpRequest, public_id: uuid.UUID) -> Any:
    document, _, token = _document(request, public_id)
    history.check_browse(actor=request.user, document=document, link_token=token)
    return document, token


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _refusals(view: Any) -> Any:
    """Turn this module's refusals into JSON errors (400, 409, 410)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except (comparing.BadCompare, timeline.BadTimelineRequest) as exc:
            return error(str(exc), 400)
        except (timeline.TimelineUnavailable, AuthorshipUnavailable) as exc:
            return error(
                f"That point of the history can no longer be rebuilt ({exc}); "
                "pick a saved version instead.",
                410,
            )
        except history.UndoRefused as exc:
            return error(str(exc), 409)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@json_endpoint("GET")
@_refusals
def compare(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Answer the redline and summary between two points of the history."""
    document, token = _browsing(request, public_id)
    since = request.GET.get("since")
    if since not in (None, "", "last_visit"):
        raise comparing.BadCompare("since can only be last_visit.")
    result = comparing.compare(
        document=document,
        actor=request.user,
        link_token=token,
        from_rev=_int(request, "from"),
        to_rev=_int(request, "to"),
        from_version=_int(request, "from_version"),
        to_version=_int(request, "to_version"),
        since_last_visit=since == "last_visit",
    )
    return JsonResponse(result.as_json(color=user_color))


@json_endpoint("GET")
@_refusals
def timeline_summary(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Answer the revisions the timeslider can show and the versions on the way."""
    document, _ = _browsing(request, public_id)
    summary = timeline.timeline_summary(document)
    return JsonResponse(
        {
            "first": summary.first,
            "head": summary.head,
            "points": [
                {"rev": p.revision, "at": _iso(p.at), "kind": p.kind, "version_id": p.version_id}
                for p in summary.points
            ],
            "ops_from": summary.ops_from,
        }
    )


@json_endpoint("GET")
@_refusals
def timeline_content(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Answer the content and authorship runs at ``rev``."""
    document, _ = _browsing(request, public_id)
    revision = _int(request, "rev", required=True)
    assert revision is not None
    state = timeline.state_at(document, revision)
    return JsonResponse(
        {
            "rev": state.revision,
            "at": _iso(state.at),
            "content": state.content,
            "runs": [[count, author] for count, author in state.runs],
        }
    )


@json_endpoint("GET")
@_refusals
def timeline_ops(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Answer a page of the stored ops after ``after``."""
    document, _ = _browsing(request, public_id)
    after = _int(request, "after", required=True)
    limit = _int(request, "limit") or 500
    assert after is not None
    played, following = timeline.ops_page(document, after=after, limit=limit)
    return JsonResponse(
        {
            "ops": [
                {"rev": op.revision, "delta": op.delta, "user": op.user, "at": _iso(op.at)}
                for op in played
            ],
            "next": following,
        }
    )


@json_endpoint("POST")
@_refusals
def restore_undo(request: HttpRequest, public_id: uuid.UUID) -> JsonResponse:
    """Undo a restore the person made: ``{"revision": R}`` (the restore's revision)."""
    document, _, token = _document(request, public_id)
    revision = _body(request).get("revision")
    if type(revision) is not int or revision <= 0:
        return error("Give revision: the revision of the restore to undo.", 400)
    try:
        record = history.restore_undo(
            document=document, actor=request.user, revision=revision, link_token=token
        )
    except history.RestoreFailed as exc:
        return error(f"The restore couldn’t be undone right now ({exc}). Try again.", 503)
    return JsonResponse(
        {
            "ok": True,
            "revision": record.revision,
            "id": record.pk,
            "message": "Undone: the document reads as it did before the restore.",
        }
    )
