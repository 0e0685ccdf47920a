"""JSON endpoints for the bell: the latest notifications and marking them read.

Same conventions as :mod:`documents.api`: sign-in required, refusals as
``{"error": "<for people>"}`` with 400/401/405, changes are POSTs with the
CSRF token in ``X-CSRFToken``.

* ``GET /api/notifications[?limit=n&before=id]`` → ``{"notifications":
  [...], "unread": n}``, newest first, ``limit`` 1-50 (default 20),
  ``before`` an id for the next page.
* ``POST /api/notifications/read`` ``{"ids": [..]}`` or ``{"all": true}``
  → ``{"marked": n, "unread": n}``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from documents.api import BadRequest, json_endpoint, json_object
from notifications import services
from notifications.payloads import notification_json
from notifications.selectors import notification_list, notification_unread_count

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
#: Ids one read request may name (a page of the list is 50 at most).
MAX_IDS = 500
MAX_BODY_BYTES = 16 * 1024


def _positive_int(raw: str, name: str) -> int:
    # isdigit alone admits "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise BadRequest(f"“{name}” must be a positive whole number.")
    return int(raw)


@json_endpoint("GET")
def notifications_latest(request: HttpRequest) -> JsonResponse:
    """Return the user's latest notifications and their unread count."""
    limit = DEFAULT_LIMIT
    if "limit" in request.GET:
        limit = min(_positive_int(request.GET["limit"], "limit"), MAX_LIMIT)
    items = notification_list(user=request.user)
    if "before" in request.GET:
        items = items.filter(pk__lt=_positive_int(request.GET["before"], "before"))
    return JsonResponse(
        {
            "notifications": [notification_json(item) for item in items[:limit]],
            "unread": notification_unread_count(user=request.user),
        }
    )


def _read_ids(data: dict[str, Any]) -> list[int] | None:
    """Return the ids a read request names, or None for all."""
    if "all" in data:
        if data["all"] is not True or "ids" in data:
            raise BadRequest('Send {"all": true} or {"ids": [...]}, not both.')
        return None
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        raise BadRequest('Send {"ids": [...]} with at least one id, or {"all": true}.')
    if len(ids) > MAX_IDS:
        raise BadRequest(f"Mark at most {MAX_IDS} notifications at once.")
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in ids):
        raise BadRequest("Every id must be a whole number.")
    return ids


@json_endpoint("POST")
def notifications_read(request: HttpRequest) -> JsonResponse:
    """Mark some or all of the user's notifications read."""
    data = json_object(request, max_bytes=MAX_BODY_BYTES)
    marked = services.notification_mark_read(user=request.user, ids=_read_ids(data))
    return JsonResponse({"marked": marked, "unread": notification_unread_count(user=request.user)})
