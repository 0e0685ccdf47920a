"""``GET /api/people?q=``: the share dialog's autocomplete of people and groups.

Answers ``{"people": [{"id", "username", "name", "email"?}], "groups":
[{"id", "name"}]}`` with what :func:`teams.selectors.people_find` lets the
signed-in person find (its privacy rule is in that module). The share
endpoints stay the authority: a suggestion only fills the dialog's input.
Refusals are JSON ``{"error": <for people>}`` like the documents API, and
change nothing:

======  ==============================================
status  when
======  ==============================================
401     no session
405     not a GET
400     the query is longer than an email address
429     too many searches lately (``Retry-After``)
======  ==============================================
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse

from teams import throttle
from teams.selectors import people_find


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def people(request: HttpRequest) -> JsonResponse:
    """Return the people and groups matching ``q`` that the person may find."""
    if not request.user.is_authenticated:
        return _error("Sign in to continue.", 401)
    if request.method != "GET":
        response = _error("Use GET.", 405)
        response["Allow"] = "GET"
        return response
    seconds = throttle.hit(request, throttle.PEOPLE)
    if seconds is not None:
        response = _error(throttle.PEOPLE.message, 429)
        response["Retry-After"] = str(seconds)
        return response
    try:
        found = people_find(user=request.user, query=request.GET.get("q", ""))
    except ValidationError as exc:
        return _error(" ".join(exc.messages), 400)
    people_json: list[dict[str, Any]] = []
    for person in found.people:
        row: dict[str, Any] = {"id": person.id, "username": person.username, "name": person.name}
        if person.email:
            row["email"] = person.email
        people_json.append(row)
    response = JsonResponse(
        {
            "people": people_json,
            "groups": [{"id": group.pk, "name": group.name} for group in found.groups],
        }
    )
    # Answers depend on who asks and change as teams do: never cached.
    response["Cache-Control"] = "private, no-store"
    return response
