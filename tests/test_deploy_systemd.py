"""The systemd units in deploy/systemd are ones systemd accepts, as shipped.

``systemd-analyze verify`` loads each unit as systemd would and reports
unknown keys, bad values and an ``ExecStart`` that is not executable. It
prints most of these as warnings and still exits 0, so any output fails the
test. The units point at /opt/collabdocs; verify checks that the command
exists, so the units are copied with that path pointed at a temporary
install (the venv's python, the repository's manage.py) and nothing else
changed. The worker is a template: it is verified as an instance
(``collabdocs-worker@8001.service``), so that ``%i`` is expanded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
