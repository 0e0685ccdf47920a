"""Throttles on sign-in, sign-up and document creation, on a real daphne.

Each daphne gets small limits through the environment. Rates are per day
so that a window boundary (django-ratelimit counts in fixed windows) cannot
fall inside a test. Every refusal is a 429 with ``Retry-After`` and changes
nothing.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.conftest import REPO
from tests.realtime.conftest import db, session_cookie

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Quite-long-passphrase-42"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_form(base: str, path: str, data: dict[str, str], cookie: str = "") -> tuple[int, Any, str]:
    """POST a form as a browser on ``base`` would (CSRF cookie and field); no redirects."""
    token = secrets.token_hex(16)
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(
        base + path,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(filter(None, [cookie, f"csrftoken={token}"])),
            "Origin": base,
            "Referer": base + path,
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def login(base: str, username: str, password: str) -> tuple[int, Any, str]:
    return post_form(base, "/accounts/login/", {"username": username, "password": password})


def signed_in(headers: Any) -> bool:
    return any(c.startswith("sessionid=") for c in headers.get_all("Set-Cookie") or [])


def make_user(username: str, password: str | None = PASSWORD) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=username, password=password, email=f"{username}@example.com"
    )


def assert_refused(status: int, headers: Any, body: str) -> int:
    assert status == 429, body[:500]
    assert "Nothing was changed. Try again in" in body
    wait = int(headers["Retry-After"])
    assert 0 < wait <= 86400
    return wait


async def test_failed_sign_ins_lock_the_account_from_that_address(daphne_factory: Any) -> None:
    daphne = daphne_factory(COLLABDOCS_THROTTLE_LOGIN="3/d", COLLABDOCS_THROTTLE_LOGIN_IP="5/d")
    base = daphne.url
    await db(lambda: [make_user(name) for name in ("carol", "dave", "erin")])
    for _ in range(3):
        status, headers, body = login(base, "carol", "wrong")
        assert status == 200 and not signed_in(headers)
        assert "Please enter a correct username and password" in body
    # Locked: even the right password is not checked, and no session is made.
    for password in ("wrong", PASSWORD):
        status, headers, body = login(base, "Carol ", password)
        assert_refused(status, headers, body)
        assert not signed_in(headers)
    assert "Too many failed sign-ins for this account" in body
    # Another account from the same address is not locked by carol's failures.
    status, headers, _ = login(base, "dave", PASSWORD)
    assert status == 302 and signed_in(headers)
    # Failures across accounts add up per address: 3 + 2 = the 5 allowed.
    for _ in range(2):
        assert login(base, "dave", "wrong")[0] == 200
    status, headers, body = login(base, "erin", PASSWORD)
    assert_refused(status, headers, body)
    assert not signed_in(headers)


async def test_sign_ups_per_address_are_limited_and_a_refusal_creates_nothing(
    daphne_factory: Any,
) -> None:
    from django.contrib.auth import get_user_model

    daphne = daphne_factory(COLLABDOCS_THROTTLE_SIGNUP="2/d")

    def signup(name: str, password: str = PASSWORD) -> tuple[int, Any, str]:
        return post_form(
            daphne.url,
            "/accounts/signup/",
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": password,
                "password2": password,
            },
        )

    # A form with errors creates nothing and uses no slot.
    assert signup("weak", password="123")[0] == 200
    assert signup("first")[0] == 302
    assert signup("second")[0] == 302
    assert_refused(*signup("third"))
    names = await db(lambda: set(get_user_model().objects.values_list("username", flat=True)))
    assert names == {"first", "second"}


async def test_documents_per_user_are_limited_and_a_refusal_creates_nothing(
    daphne_factory: Any,
) -> None:
    from documents.models import Document

    daphne = daphne_factory(COLLABDOCS_THROTTLE_DOCUMENT="3/d")
    frank, grace = await db(lambda: (make_user("frank", None), make_user("grace", None)))
    frank_cookie, grace_cookie = await db(lambda: (session_cookie(frank), session_cookie(grace)))
    for i in range(3):
        status, headers, _ = post_form(daphne.url, "/new/", {"title": f"Doc {i}"}, frank_cookie)
        assert status == 302 and "/d/" in headers["Location"]
    status, headers, body = post_form(daphne.url, "/new/", {"title": "One too many"}, frank_cookie)
    assert_refused(status, headers, body)
    assert "You have created many documents in a short time." in body
    assert post_form(daphne.url, "/new/", {"title": "Grace's"}, grace_cookie)[0] == 302
    titles = await db(
        lambda: sorted(Document.objects.filter(owner=frank).values_list("title", flat=True))
    )
    assert titles == ["Doc 0", "Doc 1", "Doc 2"]


async def test_workers_sharing_redis_count_together(daphne_factory: Any, redis_server: Any) -> None:
    redis_url = redis_server.extra["url"]
    env = {"REDIS_URL": redis_url, "COLLABDOCS_THROTTLE_LOGIN": "2/d"}
    first, second = daphne_factory(**env), daphne_factory(**env)
    await db(lambda: make_user("heidi"))
    assert login(first.url, "heidi", "wrong")[0] == 200
    assert login(second.url, "heidi", "wrong")[0] == 200
    assert_refused(*login(first.url, "heidi", PASSWORD))
    assert_refused(*login(second.url, "heidi", PASSWORD))


async def test_an_unreachable_throttle_cache_does_not_stop_sign_in(daphne_factory: Any) -> None:
    from collabdocs.devservers import free_port

    daphne = daphne_factory(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", COLLABDOCS_THROTTLE_LOGIN="1/d"
    )
    await db(lambda: make_user("ivan"))
    assert login(daphne.url, "ivan", "wrong")[0] == 200
    status, headers, _ = login(daphne.url, "ivan", PASSWORD)  # not counted: let through
    assert status == 302 and signed_in(headers)
    assert "throttle login not applied: its cache is unreachable" in daphne.log()


def test_a_malformed_rate_is_refused_at_start() -> None:
    import os

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
        "COLLABDOCS_THROTTLE_SIGNUP": "often",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "COLLABDOCS_THROTTLE_SIGNUP='often' is not a rate such as 10/5m" in result.stderr


async def test_the_admin_sign_in_shares_the_throttle(daphne_factory: Any) -> None:
    daphne = daphne_factory(COLLABDOCS_THROTTLE_LOGIN="2/d")
    await db(make_user, "judy")

    def admin_login(password: str) -> tuple[int, Any, str]:
        return post_form(daphne.url, "/admin/login/", {"username": "judy", "password": password})

    from django.contrib.auth import get_user_model

    await db(lambda: get_user_model().objects.filter(username="judy").update(is_staff=True))
    assert admin_login("wrong")[0] == 200
    assert login(daphne.url, "judy", "wrong")[0] == 200  # the site's form counts too
    # Used up: the admin refuses the right password without checking it.
    status, headers, body = admin_login(PASSWORD)
    assert status == 200 and not signed_in(headers)
    assert "Please enter the correct username and password" in body
    assert_refused(*login(daphne.url, "judy", PASSWORD))


async def test_behind_a_proxy_the_client_address_comes_from_its_header(daphne_factory: Any) -> None:
    daphne = daphne_factory(
        COLLABDOCS_THROTTLE_LOGIN_IP="1/d",
        COLLABDOCS_THROTTLE_LOGIN="9/d",
        COLLABDOCS_CLIENT_IP_HEADER="X-Real-IP",
    )
    await db(make_user, "kim")

    def login_from(address: str, password: str) -> tuple[int, Any, str]:
        token = secrets.token_hex(16)
        body = urllib.parse.urlencode(
            {"username": "kim", "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            f"{daphne.url}/accounts/login/",
            data=body,
            headers={
                "Cookie": f"csrftoken={token}",
                "Origin": daphne.url,
                "X-Real-IP": address,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        try:
            with urllib.request.build_opener(_NoRedirect).open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read().decode()

    assert login_from("203.0.113.7", "wrong")[0] == 200
    assert_refused(*login_from("203.0.113.7", PASSWORD))
    # Another client behind the same proxy is not refused for the first one's failure.
    assert login_from("198.51.100.9", PASSWORD)[0] == 302
