"""Email settings come from the environment (collabdocs/settings.py, docs/notifications.md).

Each case imports the settings in a fresh interpreter with only the given
variables set. Failure modes covered: a deploy that sets EMAIL_HOST but
keeps printing mail to the console; EMAIL_BACKEND not honoured (the browser
tests' file backend); TLS and SSL both on; a site address mail readers
cannot follow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO

NAMES = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "EMAIL_FILE_PATH",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
)
READ = (
    "import json, collabdocs.settings as s; "
    f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
)


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """Import collabdocs.settings with the email variables set to ``env`` only."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EMAIL_")
        and key not in {"DEFAULT_FROM_EMAIL", "COLLABDOCS_SITE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", READ],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def read(**env: str) -> dict[str, Any]:
    done = settings_with(**env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_by_default_mail_is_printed_and_links_point_at_make_run() -> None:
    values = read()
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert values["SITE_URL"] == "http://127.0.0.1:8000"
    assert values["EMAIL_TIMEOUT"] == 10


def test_an_smtp_host_switches_to_smtp_with_its_login() -> None:
    values = read(
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="docs",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="1",
        DEFAULT_FROM_EMAIL="Docs <docs@example.com>",
        COLLABDOCS_SITE_URL="https://docs.example.com/",
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == ("docs", "s3cret")
    assert values["EMAIL_USE_TLS"] is True and values["EMAIL_USE_SSL"] is False
    assert values["DEFAULT_FROM_EMAIL"] == "Docs <docs@example.com>"
    assert values["SITE_URL"] == "https://docs.example.com"


def test_an_explicit_backend_wins() -> None:
    values = read(
        EMAIL_HOST="smtp.example.com",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH="/tmp/collabdocs-mail",
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["EMAIL_FILE_PATH"] == "/tmp/collabdocs-mail"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "not both"),
        ({"EMAIL_USE_TLS": "maybe"}, "is not a boolean"),
        ({"EMAIL_PORT": "smtp"}, "is not an integer"),
        ({"EMAIL_TIMEOUT": "0"}, "must be at least 1"),
        ({"COLLABDOCS_SITE_URL": "docs.example.com"}, "is not a site address"),
        ({"COLLABDOCS_SITE_URL": "ftp://docs.example.com"}, "is not a site address"),
    ],
)
def test_bad_values_stop_the_start_with_a_reason(env: dict[str, str], problem: str) -> None:
    done = settings_with(**env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and problem in done.stderr
