"""``/healthz`` and ``/readyz`` in this process (the worker's life: test_health_cluster).

Failure modes covered: a readiness check that lies while the database is
down or hangs (the balancer would keep sending requests to a worker that
fails them), one that sets a session cookie or redirects (HAProxy counts a
302 as up and a cookie per check fills the session table), and one that
reports ready while the worker drains or is fenced.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connections
from django.test import AsyncClient, override_settings

from collabdocs import health
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
