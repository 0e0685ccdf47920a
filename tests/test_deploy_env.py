"""The environment a deployment sets: documented, exemplified, and deploy-clean.

Every variable ``collabdocs/settings.py`` reads must be named in
docs/deploy.md, so an operator never meets a knob only the source
mentions. deploy/collabdocs.env.example (the /etc/collabdocs/env the
systemd units read) may set only variables that something reads, must
define every ``${VAR}`` the units expand, and with a real secret key
passes ``manage.py check --deploy``; as shipped, its placeholder key does
not.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETTINGS = REPO / "collabdocs" / "settings.py"
GUIDE = REPO / "docs" / "deploy.md"
EXAMPLE = REPO / "deploy" / "collabdocs.env.example"
UNITS = REPO / "deploy" / "systemd"
#: Read by the units themselves, not by Django.
UNIT_VARIABLES = {"COLLABDOCS_WORKER_HOST"}


def _settings_variables() -> set[str]:
    return set(re.findall(r'\benv_\w+\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS.read_text()))


def _example() -> dict[str, str]:
    """Parse the example as systemd's EnvironmentFile= does (KEY=value, quotes)."""
    env: dict[str, str] = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        env[key.strip()] = value
    return env


def test_the_guide_names_every_variable_settings_reads() -> None:
    guide = GUIDE.read_text()
    missing = sorted(name for name in _settings_variables() if f"`{name}`" not in guide)
    assert not missing, f"docs/deploy.md does not name {missing}"


def test_the_example_sets_only_what_is_read_and_all_the_units_expand() -> None:
    env = _example()
    unknown = sorted(set(env) - _settings_variables() - UNIT_VARIABLES)
    assert not unknown, unknown
    expanded = {
        name
        for unit in UNITS.glob("collabdocs-*.service")
        for name in re.findall(r"\$\{(\w+)\}", unit.read_text())
    }
    assert expanded and expanded <= set(env), expanded - set(env)
    assert all(value.strip() == value and " #" not in value for value in env.values())


def _check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_ALLOW_ASYNC"))
    }
    base.update(env)
    base["DJANGO_SETTINGS_MODULE"] = "collabdocs.settings"
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_example_passes_check_deploy_once_given_a_real_key(tmp_path: Path) -> None:
    env = _example()
    shipped = _check_deploy(env, tmp_path)
    assert shipped.returncode != 0 and "security.W009" in shipped.stdout + shipped.stderr
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = _check_deploy(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
