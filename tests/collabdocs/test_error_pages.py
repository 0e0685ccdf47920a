"""Error pages in the app's look with DEBUG on and off; JSON under /api/; the favicon.

Failure modes: an address no URL pattern matches (never Django's
URL-pattern listing), a view's Http404, PermissionDenied and crash (never
the yellow traceback page unless COLLABDOCS_DEBUG_TRACEBACKS asks for it,
and always logged with its traceback), a failed CSRF check, the same under
/api/ (JSON, never HTML), and a missing trailing slash (still redirected,
not a 404).

This module is also the test URLconf: the site's URLs plus views that fail.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, path

import collabdocs.urls
from collabdocs.favicon import CONTENT_TYPE

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such thing")


def _denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Only the owner can do that.")


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom in a view")


urlpatterns: list[URLPattern | URLResolver] = [
    path("test-errors/missing/", _missing),
    path("test-errors/denied/", _denied),
    path("test-errors/crash/", _crash),
    path("api/test-errors/missing", _missing),
    path("api/test-errors/denied", _denied),
    path("api/test-errors/crash", _crash),
    *collabdocs.urls.urlpatterns,
]


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture
def browser() -> Client:
    # As a browser sees it: an exception is the page Django answers, not raised here.
    return Client(raise_request_exception=False)


def assert_app_page(response: Any, status: int, heading: str) -> str:
    body: str = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f'data-error-page="{status}"' in body and f"<h1>{heading}</h1>" in body
    assert "src/app.css" in body and 'class="brand"' in body
    assert "Using the URLconf" not in body and "Traceback" not in body
    assert "technical_500" not in body and "DEBUG = True" not in body
    return body


def test_unknown_address_is_the_app_404(browser: Client, debug: bool) -> None:
    body = assert_app_page(browser.get("/no/such/page/"), 404, "Page not found")
    assert 'href="/accounts/login/"' in body and "Sign in" in body


def test_the_404_leads_a_signed_in_person_to_their_documents(
    browser: Client, debug: bool, django_user_model: Any
) -> None:
    browser.force_login(django_user_model.objects.create_user("alice", "a@example.com", "x"))
    body = assert_app_page(browser.get("/no/such/page/"), 404, "Page not found")
    assert "Back to my documents" in body


def test_a_views_http404_is_the_app_404(browser: Client, debug: bool) -> None:
    assert_app_page(browser.get("/test-errors/missing/"), 404, "Page not found")


def test_permission_denied_is_the_app_403(browser: Client, debug: bool) -> None:
    body = assert_app_page(browser.get("/test-errors/denied/"), 403, "You can’t do that")
    assert "Only the owner can do that." in body


def test_a_failed_csrf_check_is_the_app_403(debug: bool) -> None:
    client = Client(enforce_csrf_checks=True)
    body = assert_app_page(client.post("/accounts/login/", {}), 403, "Please try again")
    assert "Nothing was changed." in body


def test_a_crash_is_the_app_500_and_is_logged(
    browser: Client, debug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = browser.get("/test-errors/crash/")
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-error-page="500"' in body and "Something went wrong" in body
    assert "src/app.css" in body and "boom in a view" not in body
    logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert len(logged) == 1 and "boom in a view" in str(logged[0].exc_info[1])


def test_tracebacks_only_when_a_developer_asks(browser: Client, settings: Any) -> None:
    settings.DEBUG = True
    settings.COLLABDOCS = {**settings.COLLABDOCS, "DEBUG_TRACEBACKS": True}
    body = browser.get("/test-errors/crash/").content.decode()
    assert "boom in a view" in body and 'data-error-page="500"' not in body
    # Not a 404: the URL-pattern listing stays hidden even then.
    assert_app_page(browser.get("/no/such/page/"), 404, "Page not found")
    settings.DEBUG = False
    body = browser.get("/test-errors/crash/").content.decode()
    assert 'data-error-page="500"' in body and "boom in a view" not in body


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/api/no/such/endpoint", 404, "Not found."),
        ("/api/test-errors/missing", 404, "Not found."),
        ("/api/test-errors/denied", 403, "Only the owner can do that."),
        ("/api/test-errors/crash", 500, "Something went wrong on the server."),
    ],
)
def test_api_errors_are_json(
    browser: Client, debug: bool, url: str, status: int, error: str
) -> None:
    response = browser.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith(error)


def test_a_missing_slash_still_redirects(browser: Client, debug: bool) -> None:
    response = browser.get("/accounts/login")
    assert response.status_code == 301 and response["Location"] == "/accounts/login/"


def test_favicon_is_an_icon(browser: Client) -> None:
    response = browser.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == CONTENT_TYPE
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age=86400" in response["Cache-Control"]
    assert browser.head("/favicon.ico").status_code == 200
    assert browser.post("/favicon.ico").status_code == 405


def test_pages_link_the_svg_icon(browser: Client) -> None:
    body = browser.get("/accounts/login/").content.decode()
    assert 'href="/static/favicon.svg" type="image/svg+xml"' in body
    svg = browser.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in b"".join(svg.streaming_content)
