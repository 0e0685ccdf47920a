"""The systemd units in deploy/systemd are ones systemd accepts, as shipped.

``systemd-analyze verify`` loads each unit as systemd would and reports
unknown keys, bad values and an ``ExecStart`` that is not executable. It
prints most of these as warnings and still exits 0, so any output fails the
test. The units point at /opt/collabdocs; verify checks that the command
exists, so the units are copied with that path pointed at a temporary
install (the venv's python, the repository's manage.py) and nothing else
changed. The worker is a template: it is verified as an instance
(``collabdocs-worker@8001.service``), so that ``%i`` is expanded.

Then the worker unit's own command line, expanded as systemd would with the
example environment file (the suite's PostgreSQL in place of the
example's servers), must start a worker that answers the balancer's check
(public host, https) and exit 0 on the unit's stop signal within its stop
timeout, logging JSON lines.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from collabdocs.devservers import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "deploy" / "systemd"
INSTALL = "/opt/collabdocs"


def _install(tmp_path: Path, edit: dict[str, str] | None = None) -> Path:
    """Copy the units into ``tmp_path/units``, /opt/collabdocs made a real install."""
    root = tmp_path / "opt-collabdocs"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / "manage.py").symlink_to(REPO / "manage.py")
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS.glob("collabdocs-*"):
        text = unit.read_text().replace(INSTALL, str(root))
        for old, new in (edit or {}).items():
            text = text.replace(old, new)
        (units / unit.name).write_text(text)
    return units


def _verify(units: Path) -> subprocess.CompletedProcess[str]:
    systemd_analyze = shutil.which("systemd-analyze")
    assert systemd_analyze, "systemd-analyze not found (apt-get install systemd)"
    return subprocess.run(
        [
            systemd_analyze,
            "verify",
            "--man=no",
            str(units / "collabdocs-worker@8001.service"),
            str(units / "collabdocs-compact.service"),
            str(units / "collabdocs-compact.timer"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    result = _verify(_install(tmp_path))
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("KillMode=mixed", "KillMode=gently", "kill mode"),
        ("/.venv/bin/python /", "/.venv/bin/pyhton /", "not executable"),
    ],
    ids=["bad value", "missing ExecStart"],
)
def test_a_broken_unit_is_caught(tmp_path: Path, old: str, new: str, complaint: str) -> None:
    """The check itself: a typo (a warning, exit status 0) fails it."""
    result = _verify(_install(tmp_path, {old: new}))
    assert complaint in result.stdout + result.stderr


def _directives(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().replace("\\\n", " ").splitlines():
        match = re.match(r"^(\w+)=(.*)$", line)
        if match:
            found.setdefault(match[1], []).append(match[2].strip())
    return found


def test_the_worker_hands_over_on_stop_and_runs_confined() -> None:
    """What the operator relies on: SIGTERM hand-over with time to finish, restarts, a user."""
    unit = _directives("collabdocs-worker@.service")
    assert unit["KillSignal"] == ["SIGTERM"] and unit["KillMode"] == ["mixed"]
    # Longer than the longest hand-over runworker allows (DRAIN_SECONDS, 20 s).
    assert int(unit["TimeoutStopSec"][0]) > 20
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["collabdocs"] and unit["EnvironmentFile"] == ["/etc/collabdocs/env"]
    assert "--port %i" in re.sub(r"\s+", " ", unit["ExecStart"][0])
    for key in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "CapabilityBoundingSet"):
        assert key in unit, key
    timer = _directives("collabdocs-compact.timer")
    assert timer["OnCalendar"] and timer["Persistent"] == ["true"]
    compact = _directives("collabdocs-compact.service")
    assert compact["Type"] == ["oneshot"] and "compact_docs" in compact["ExecStart"][0]


# -- the worker unit's command, run as systemd would --------------------------


def _unit_command(port: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Return the worker unit's ExecStart and Environment=, expanded as systemd does."""
    unit = _directives("collabdocs-worker@.service")
    command = unit["ExecStart"][0].replace("%i", str(port)).replace(INSTALL, str(REPO))
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m[1]], command)
    extra = dict(pair.split("=", 1) for pair in shlex.split(" ".join(unit["Environment"])))
    return shlex.split(command.replace(f"{REPO}/.venv/bin/python", sys.executable)), extra


@pytest.mark.e2e
def test_the_worker_unit_serves_with_the_example_environment_and_stops_on_sigterm(
    test_database_url: str, transactional_db: None, tmp_path: Path
) -> None:
    """ExecStart with /etc/collabdocs/env's example: ready behind TLS headers; SIGTERM exits 0."""
    from tests.test_deploy_env import _example

    env = _example()
    env.update(
        {
            # This machine and the suite's servers in place of the example's.
            "COLLABDOCS_WORKER_HOST": "127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": test_database_url,
            "REDIS_URL": "",
            "ZOOKEEPER_HOSTS": "",
            "EMAIL_HOST": "",
        }
    )
    port = free_port()
    args, unit_env = _unit_command(port, env)
    assert args[1:3] == [str(REPO / "manage.py"), "runworker"]
    # EnvironmentFile= wins over Environment= in systemd.
    process_env = {"PATH": os.environ["PATH"], **unit_env, **env}
    err, out = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with open(err, "wb") as log, open(out, "wb") as printed:
        proc = subprocess.Popen(
            args, cwd=REPO, env=process_env, stdout=printed, stderr=log, start_new_session=True
        )
    try:
        assert wait_for_port(port, timeout=60, proc=proc), err.read_text()
        # As HAProxy's check asks: the public host, https.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/readyz",
            headers={"Host": "docs.example.com", "X-Forwarded-Proto": "https"},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                    break
            except urllib.error.HTTPError as exc:  # 503 while starting
                why = exc.read().decode(errors="replace")
                assert exc.code == 503 and time.monotonic() < deadline, why + err.read_text()
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)  # KillSignal=
        stop_timeout = int(_directives("collabdocs-worker@.service")["TimeoutStopSec"][0])
        assert proc.wait(timeout=stop_timeout) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    # The unit asks for JSON logs: the journal (stdout and stderr) gets one
    # object per line, Python's warnings (WhiteNoise's about STATIC_ROOT)
    # and the start-up banner included.
    lines = [line for line in err.read_text().splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] for line in lines)
    assert not out.read_text().strip(), out.read_text()
    assert any("serving http://127.0.0.1:" in json.loads(line)["message"] for line in lines)
    assert "Traceback" not in err.read_text() + out.read_text()
