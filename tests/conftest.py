"""Suite-wide fixtures: throwaway real servers and a live daphne.

PostgreSQL is the suite's default database: ``django_db_modify_db_settings``
points Django at a throwaway cluster before pytest-django creates the test
database. Redis and ZooKeeper start on first use. A server that cannot start
raises, so every test that needs it errors instead of skipping.

Two markers are set here from the fixtures a test uses, so that no test
file has to remember them: ``browser`` (it launches Chromium) and
``cluster`` (it starts ``runworker`` processes). ``make test-fast``
deselects both.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collabdocs.devservers import (
    PostgresServer,
    Server,
    free_port,
    start_postgres,
    start_redis,
    start_zookeeper,
    wait_for_port,
)

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


#: Fixture name -> the marker every test using it gets.
MARK_BY_FIXTURE = {"chromium_browser": "browser", "cluster_factory": "cluster"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the expensive fixtures it uses (see ``MARK_BY_FIXTURE``)."""
    for item in items:
        used = getattr(item, "fixturenames", ())
        for fixture, marker in MARK_BY_FIXTURE.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Store uploads of the whole run, in-process and in every daphne, in a throwaway directory.

    Never the checkout's ``media/``. ``override_settings`` sends
    ``setting_changed``, which makes Django drop a storage built earlier.
    """
    from django.conf import settings
    from django.test import override_settings

    root = tmp_path_factory.mktemp("media")
    previous = os.environ.get("COLLABDOCS_MEDIA_ROOT")
    os.environ["COLLABDOCS_MEDIA_ROOT"] = str(root)
    if settings.configured:
        with override_settings(MEDIA_ROOT=root):
            yield root
    else:  # `make check` runs the contract tests without Django (-p no:django).
        yield root
    if previous is None:
        os.environ.pop("COLLABDOCS_MEDIA_ROOT", None)
    else:
        os.environ["COLLABDOCS_MEDIA_ROOT"] = previous


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL cluster for the whole run."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres_server: PostgresServer) -> None:
    """Point the default database at the throwaway PostgreSQL cluster."""
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    config = dj_database_url.parse(postgres_server.url("collabdocs"), conn_max_age=0)
    default = settings.DATABASES["default"]
    default.clear()
    default.update(config)
    default.setdefault("TEST", {})["NAME"] = "test_collabdocs"
    # clear() dropped the defaults Django filled in at start-up (AUTOCOMMIT,
    # TIME_ZONE, TEST.MIRROR...); fill them in again.
    connections.configure_settings(settings.DATABASES)
    # Drop any wrapper created from the SQLite default before this ran.
    with contextlib.suppress(AttributeError, KeyError):
        del connections["default"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    """Start a throwaway Redis server on first use."""
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def zookeeper_server() -> Iterator[Server]:
    """Start a throwaway ZooKeeper server on first use."""
    server = start_zookeeper()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def test_database_url(django_db_setup: None, postgres_server: PostgresServer) -> str:
    """Return the URL of the test database that pytest-django created."""
    from django.conf import settings

    return postgres_server.url(settings.DATABASES["default"]["NAME"])


def _daphne_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra or {})
    return env


class DaphneProcess:
    """A real daphne process serving the project's ASGI app."""

    def __init__(
        self,
        database_url: str,
        extra_env: dict[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log_path = (log_dir or Path("/tmp")) / f"daphne-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "collabdocs.asgi:application",
            ],
            cwd=REPO,
            env=_daphne_env(database_url, extra_env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_port(self.port, timeout=60, proc=self.proc):
            self.stop()
            raise RuntimeError(f"daphne did not start:\n{self.log()}")

    def log(self) -> str:
        """Return what the process has printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()


@pytest.fixture
def daphne_factory(
    test_database_url: str, tmp_path: Path
) -> Iterator[Callable[..., DaphneProcess]]:
    """Start real daphne processes on the test database; stop them after the test.

    Tests that use it must commit their data (``transactional_db``) so the
    server process sees it.
    """
    started: list[DaphneProcess] = []

    def start(**extra_env: str) -> DaphneProcess:
        proc = DaphneProcess(test_database_url, extra_env, tmp_path)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def live_daphne(
    daphne_factory: Callable[..., DaphneProcess], transactional_db: None
) -> DaphneProcess:
    """Return one running daphne on the test database (data committed per test)."""
    return daphne_factory()


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[object]:
    """Launch Debian's Chromium through Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API keeps an event loop running in this
    thread while it is open, and async tests collected after the browser
    tests (pytest-asyncio) cannot start their own loop until it is closed.
    """
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls made by the same test are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
