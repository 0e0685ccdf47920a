"""HTTPS deployment settings come from the environment (README "Deploying over HTTPS").

``manage.py check --deploy`` runs in a subprocess with the environment a
production deploy sets, and a real daphne with that environment redirects
plain http, sends HSTS and marks its cookies secure.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

#: What a production deploy behind a TLS-terminating proxy sets.
PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "docs.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}
HTTPS_VARS = [name for name in PRODUCTION if name.startswith("SECURE_")] + [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
]


def check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The test run's own variables are not a deploy's: browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly reports.
    ignored = {*HTTPS_VARS, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in ignored}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_production_environment_passes_check_deploy_without_warnings(tmp_path: Path) -> None:
    result = check_deploy(tmp_path, **PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_without_the_https_variables_check_deploy_names_each_one(tmp_path: Path) -> None:
    result = check_deploy(tmp_path, DEBUG="0", ALLOWED_HOSTS="docs.example.com")
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output, output


def test_partial_hsts_is_still_reported(tmp_path: Path) -> None:
    env = {**PRODUCTION, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0", "SECURE_HSTS_PRELOAD": "0"}
    result = check_deploy(tmp_path, **env)
    output = result.stdout + result.stderr
    assert "security.W005" in output and "security.W021" in output, output


def test_a_bad_value_is_a_clear_error(tmp_path: Path) -> None:
    result = check_deploy(tmp_path, **{**PRODUCTION, "SECURE_HSTS_SECONDS": "a year"})
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS='a year' is not an integer" in result.stderr


def test_make_run_defaults_are_plain_http(tmp_path: Path) -> None:
    """With none of the HTTPS variables set (as ``make run``), nothing forces https."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in HTTPS_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="collabdocs.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[false, false, false, 0, null]"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_production_daphne_redirects_http_and_sends_hsts(daphne_factory: Any) -> None:
    env = {**PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1", "SECRET_KEY": secrets.token_urlsafe(50)}
    daphne = daphne_factory(**env)
    login = f"{daphne.url}/accounts/login/"
    status, headers = fetch(login, {})
    assert (
        status == 301 and headers["Location"] == f"https://127.0.0.1:{daphne.port}/accounts/login/"
    )
    status, headers = fetch(login, {"X-Forwarded-Proto": "https"})
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    cookies = headers.get_all("Set-Cookie") or []
    csrf = [c for c in cookies if c.startswith("csrftoken=")]
    assert csrf and all("Secure" in c for c in csrf), cookies
