"""Error pages a person can read, also under ``DEBUG`` (``make run``).

:Maintainer: the composition root (``MIDDLEWARE`` in collabdocs/settings.py)
:Status: 404, 403 and 500 in the app's look; JSON under ``/api/``

Without DEBUG, Django already answers an error with the site's
``404.html``, ``403.html`` or ``500.html`` (its default handlers render
them). With DEBUG on, which is how ``make run`` starts and so what a new
user meets first, it shows its technical pages instead: an unknown URL
lists every URL pattern of the project and a crash shows a yellow
traceback page. :class:`ErrorPagesMiddleware` turns those into the site's
pages:

* an address no URL pattern matches (``Resolver404``: the response comes
  back with no ``request.resolver_match``) and an ``Http404`` raised by a
  view answer the 404 handler's page;
* ``PermissionDenied`` already answers the 403 page in every mode (Django
  has no technical 403), so nothing is done for it outside ``/api/``;
* any other exception a view raises answers ``500.html``, after the same
  log line and ``got_request_exception`` signal Django would send: the
  traceback is in the terminal (the ``django.request`` logger), not in the
  browser. ``COLLABDOCS_DEBUG_TRACEBACKS=1`` (``COLLABDOCS["DEBUG_
  TRACEBACKS"]``) brings Django's traceback page back for a developer who
  asks for it; it changes nothing when DEBUG is off.

Under ``/api/`` (the JSON endpoints the pages' scripts call) every error
this middleware answers is JSON in the endpoints' own shape,
``{"error": "<for people>"}``, in every mode: an unknown endpoint is a
404, a refusal a 403 and a crash a 500, never an HTML page the scripts
cannot read. The endpoints' own refusals (``documents.api.json_endpoint``)
are responses already and pass through untouched.

It sits last in ``MIDDLEWARE``: its ``process_exception`` runs first, and
the page it makes still passes through every other middleware on the way
out (the CSRF cookie for the user menu's sign-out form, the session, the
security headers). Exceptions raised by other middleware are not views'
and keep Django's handling.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import get_resolver, get_urlconf
from django.utils.deprecation import MiddlewareMixin
from django.utils.log import log_response

__all__ = ["API_PREFIX", "ErrorPagesMiddleware", "is_api", "tracebacks_wanted"]

#: Paths under this prefix answer JSON errors.
API_PREFIX = "/api/"

#: The JSON errors, in the words the endpoints use.
_API_MESSAGES = {
    403: "You can’t do that.",
    404: "Not found.",
    500: "Something went wrong on the server. Nothing was changed; please try again.",
}


def is_api(request: HttpRequest) -> bool:
    """Return whether ``request`` is for a JSON endpoint."""
    return request.path_info.startswith(API_PREFIX)


def _api_error(status: int, message: str | None = None) -> JsonResponse:
    return JsonResponse({"error": message or _API_MESSAGES[status]}, status=status)


def _page(request: HttpRequest, status: int, exception: Exception | None) -> HttpResponse:
    """Return the URLconf's handler page for ``status`` (404.html, 403.html, 500.html)."""
    handler = get_resolver(get_urlconf()).resolve_error_handler(status)
    # Django's own 500 handler takes no exception and renders 500.html
    # without a request: it must render when the rest is broken.
    response: HttpResponse = (
        handler(request) if status == 500 else handler(request, exception=exception)
    )
    return response


def tracebacks_wanted() -> bool:
    """Return whether a developer asked for Django's traceback pages (DEBUG only)."""
    return bool(settings.DEBUG and settings.COLLABDOCS.get("DEBUG_TRACEBACKS", False))


class ErrorPagesMiddleware(MiddlewareMixin):
    """Answer errors with the site's pages under DEBUG, and JSON under /api/."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Return the error page for a view's exception, or None for Django's handling."""
        api = is_api(request)
        if not (api or settings.DEBUG):
            return None  # Django's handlers render the site's pages.
        if isinstance(exception, Http404):
            return _api_error(404) if api else _page(request, 404, exception)
        if isinstance(exception, PermissionDenied):
            return _api_error(403, str(exception) or None) if api else None
        if isinstance(exception, BadRequest | SuspiciousOperation):
            # Bad requests keep Django's handling and its django.security
            # log lines.
            return None
        if tracebacks_wanted() and not api:
            return None  # Django's technical 500 page, by request.
        signals.got_request_exception.send(sender=None, request=request)
        response = _api_error(500) if api else _page(request, 500, exception)
        log_response(
            "%s: %s",
            response.reason_phrase,
            request.path,
            response=response,
            request=request,
            exception=exception,
        )
        return response

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Replace the 404 of an address no URL pattern matches, under DEBUG or /api/."""
        unmatched = response.status_code == 404 and request.resolver_match is None
        if not unmatched:
            return response
        if is_api(request):
            return _api_error(404)
        if settings.DEBUG:
            # The only 404 that reaches here without a match is Django's
            # answer to Resolver404: under DEBUG, the URL-pattern listing.
            return _page(request, 404, Http404(request.path))
        return response
