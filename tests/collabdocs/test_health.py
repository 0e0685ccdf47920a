"""``/healthz`` and ``/readyz`` in this process (the worker's life: test_health_cluster).

Failure modes covered: a readiness check that lies while the database is
down or hangs (the balancer would keep sending requests to a worker that
fails them), one that sets a session cookie or redirects (HAProxy counts a
302 as up and a cookie per check fills the session table), and one that
reports ready while the worker drains or is fenced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application
from django.db import connections
from django.test import AsyncClient, override_settings

from collabdocs import health
from collabdocs.health import HealthEndpoints
from routing.readiness import (
    DRAINING,
    FENCED,
    STARTING,
    Readiness,
    install_readiness,
    uninstall_readiness,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _single_node() -> Iterator[None]:
    yield
    uninstall_readiness()


async def test_healthz_answers_without_session_or_database() -> None:
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json()["alive"] is True
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response["Cache-Control"]


async def test_readyz_is_ready_when_the_database_answers() -> None:
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ready"] is True and body["phase"] == "ready"
    assert body["checks"] == {"database": "ok", "worker": "ok"}
    assert "Set-Cookie" not in response.headers


@override_settings(SECURE_SSL_REDIRECT=True)
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_checks_and_scrapes_are_not_redirected_to_https(path: str) -> None:
    # The balancer and Prometheus speak plain HTTP to the workers; HAProxy
    # would count a 301 as up.
    assert (await AsyncClient().get(path)).status_code == 200
    assert (await AsyncClient().get("/accounts/login/")).status_code == 301


@pytest.mark.parametrize("phase", [STARTING, DRAINING, FENCED])
async def test_readyz_answers_503_naming_the_phase(phase: str) -> None:
    install_readiness(lambda: Readiness(phase=phase, worker_id="w1", cluster=True))
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["phase"] == phase and body["worker"] == "w1"
    assert body["not_ready"] == [Readiness(phase=phase).reason]
    assert response["Retry-After"] == "1"
    # Alive all the same: a supervisor must not restart a draining worker.
    assert (await AsyncClient().get("/healthz")).status_code == 200


def _ping_closed_port() -> None:
    """Ping a PostgreSQL that is not there (nothing listens on port 1)."""
    default = connections["default"]
    dead = type(default)({**default.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}, "dead")
    try:
        with dead.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        dead.close()


async def test_readyz_answers_503_when_the_database_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "_ping_database", _ping_closed_port)
    response = await AsyncClient().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("database: OperationalError")


async def asgi_get(app: Any, path: str, host: str, method: str = "GET") -> tuple[int, bytes]:
    """Send one HTTP request through the ASGI ``app``; return status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8001),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    return start["status"], body.get("body", b"")


async def test_the_asgi_wrapper_answers_checks_whatever_the_host() -> None:
    # A balancer asks with the worker's address as Host, which a
    # deployment's ALLOWED_HOSTS rarely lists: Django alone answers 400.
    django_app = get_asgi_application()
    app = HealthEndpoints(django_app)
    assert (await asgi_get(django_app, "/healthz", "10.9.9.9:8001"))[0] == 400
    status, body = await asgi_get(app, "/healthz", "10.9.9.9:8001")
    assert status == 200 and json.loads(body)["alive"] is True
    status, body = await asgi_get(app, "/readyz", "10.9.9.9:8001")
    assert status == 200 and json.loads(body)["ready"] is True
    assert await asgi_get(app, "/readyz", "10.9.9.9:8001", method="HEAD") == (200, b"")
    assert (await asgi_get(app, "/readyz", "10.9.9.9:8001", method="POST"))[0] == 405
    # Everything else is Django's, host check included.
    assert (await asgi_get(app, "/accounts/login/", "10.9.9.9:8001"))[0] == 400
    assert (await asgi_get(app, "/accounts/login/", "127.0.0.1:8001"))[0] == 200


async def test_the_asgi_wrapper_answers_503_with_retry_after_while_draining() -> None:
    install_readiness(lambda: Readiness(phase=DRAINING, worker_id="w1", cluster=True))
    status, body = await asgi_get(HealthEndpoints(get_asgi_application()), "/readyz", "x")
    assert status == 503 and json.loads(body)["phase"] == "draining"


async def test_the_served_application_answers_checks_whatever_the_host() -> None:
    from collabdocs.asgi import application  # builds the whole stack: only here

    status, body = await asgi_get(application, "/readyz", "10.9.9.9:8001")
    assert status == 200 and json.loads(body)["ready"] is True


# Last: its ping keeps the check's thread busy for a second after it ends.
async def test_readyz_gives_up_on_a_hanging_database_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "_ping_database", lambda: time.sleep(1.0))
    monkeypatch.setitem(health.settings.COLLABDOCS, "READY_DB_SECONDS", 0.2)
    started = time.monotonic()
    first, second = (await AsyncClient().get("/readyz")), (await AsyncClient().get("/readyz"))
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"]["database"] == "database: no answer within 0.2 s"
    # The second check shared the ping in flight instead of queueing another.
    assert time.monotonic() - started < 0.9
