"""The dashboard's queries answered by a real Prometheus scraping a real worker.

A worker (``runworker --single-node`` on the test database) serves one
person typing; Debian's Prometheus scrapes its ``/metrics`` every second.
Every query of deploy/grafana/collabdocs.json must then evaluate without an
error, and the panels an operator looks at first must show the typing: ops
stored per second, an open socket and document, a commit latency. This is
what "No data" on the night it matters would have caught: a wrong label, a
histogram queried as a counter, a rate over too few samples.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collabdocs.devservers import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "collabdocs.json"
#: What Grafana substitutes for its variables here (1 s scrapes).
RATE_INTERVAL = "10s"


def _queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def _promql(expr: str) -> str:
    return expr.replace("$__rate_interval", RATE_INTERVAL).replace("$worker", ".*")


def _query(port: int, expr: str) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def worker(test_database_url: str, transactional_db: None, tmp_path: Path) -> Iterator[int]:
    """Start one single-node worker on the test database; yield its port."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "DATABASE_URL": test_database_url,
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.pop("ZOOKEEPER_HOSTS", None)
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runworker", "--single-node", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        assert wait_for_port(port, timeout=60, proc=proc), (tmp_path / "worker.log").read_text()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def prometheus(worker: int, tmp_path: Path) -> Iterator[int]:
    """Start Prometheus scraping the worker every second; yield its port."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus not found (apt-get install prometheus)"
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: collabdocs\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{worker}']\n"
    )
    with open(tmp_path / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        assert wait_for_port(port, timeout=30, proc=proc), (tmp_path / "prometheus.log").read_text()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _until(port: int, expr: str, timeout: float = 20) -> list[dict[str, Any]]:
    """Return the first non-empty result of ``expr`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = _query(port, expr)["data"]["result"]
        if result or time.monotonic() > deadline:
            return list(result)
        time.sleep(0.5)


@pytest.mark.e2e
def test_every_dashboard_query_answers_and_shows_the_typing(
    worker: int, prometheus: int, tmp_path: Path
) -> None:
    from tests.realtime.conftest import create_document, create_user, session_cookie
    from tests.realtime.revocation_harness import LiveSocket

    user = create_user("typist")
    document = create_document(user)
    cookie = session_cookie(user)
    base = f"http://127.0.0.1:{worker}"

    async def type_and_query() -> None:
        sock = await LiveSocket.open(base, str(document.public_id), cookie)
        try:
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:  # bounded: about 6 s of typing
                await sock.edit("a")
                await asyncio.sleep(0.05)
            # Prometheus has scraped the typing; the socket is still open.
            await asyncio.to_thread(_check_panels, prometheus)
        finally:
            await sock.close()

    asyncio.run(type_and_query())


def _check_panels(port: int) -> None:
    # The first panels an operator reads, with the typing in them.
    ops = _until(port, _promql(dict(_queries())["Ops stored /s"]))
    assert ops and float(ops[0]["value"][1]) > 0, ops
    sockets = _until(port, _promql(dict(_queries())["Open sockets"]))
    assert sockets and float(sockets[0]["value"][1]) >= 1, sockets
    documents = _until(port, _promql(dict(_queries())["Open documents"]))
    assert documents and float(documents[0]["value"][1]) >= 1, documents
    commit = _until(port, _promql(dict(_queries())["Commit p95"]))
    assert commit and float(commit[0]["value"][1]) > 0, commit
    # Every query evaluates (an empty answer is fine: no fencing, no errors).
    failed = []
    for title, expr in _queries():
        answer = _query(port, _promql(expr))
        if answer.get("status") != "success":
            failed.append((title, expr, answer))
    assert not failed, failed
