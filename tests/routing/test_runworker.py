"""``manage.py runworker``: ours wins over Channels', says what it does, fails clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from collabdocs.devcluster import REPO
from collabdocs.devservers import free_port, wait_for_port


def manage(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_our_runworker_wins_over_channels() -> None:
    from django.core.management import get_commands

    assert get_commands()["runworker"] == "routing"
    done = manage("help", "runworker")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "Run one CollabDocs worker: daphne serving the pages" in text
    for option in ("--host", "--port", "--advertise", "--id", "--single-node"):
        assert option in text
    assert "channel layer" not in text.lower()  # Channels' help is about consumers


def test_unreachable_zookeeper_fails_with_a_clear_message() -> None:
    dead = f"127.0.0.1:{free_port()}"
    done = manage(
        "runworker",
        "--port",
        str(free_port()),
        env={"ZOOKEEPER_HOSTS": dead, "COLLABDOCS_ZK_CONNECT_TIMEOUT": "1"},
    )
    assert done.returncode != 0
    message = done.stderr
    assert f"could not reach ZooKeeper at {dead}" in message
    assert "--single-node" in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--advertise", "ftp://nowhere"], "is not an http(s):// URL of a worker"),
        (["--id", "a/b"], "worker id 'a/b': use 1-100 letters"),
    ],
)
def test_bad_addresses_are_refused(args: list[str], says: str) -> None:
    done = manage("runworker", "--port", str(free_port()), *args, env={"ZOOKEEPER_HOSTS": ""})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert says in done.stderr


def test_single_node_serves_without_zookeeper_and_stops_cleanly_on_sigterm(tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runworker", "--port", str(port), "--single-node"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "ZOOKEEPER_HOSTS": f"127.0.0.1:{free_port()}",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    try:
        assert wait_for_port(port, timeout=60, proc=proc)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert f"serving http://127.0.0.1:{port} (single node)" in out
