"""Fixtures shared by the browser tests: the built bundle and a third-party server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.thirdparty import Recorder

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "static" / "dist"
SRC = REPO / "static" / "src"
# What the bundles are built from: every file under static/src (modules in
# subdirectories too) and the schema that editor/schema.js imports.
SOURCES = [
    *sorted(p for p in SRC.rglob("*") if p.is_file()),
    REPO / "realtime" / "ot" / "schema.json",
]


@pytest.fixture(scope="session")
def editor_bundle() -> None:
    """Build static/dist when it is missing or older than its sources."""
    built = [DIST / "editor.js", DIST / "editor.css"]
    newest = max(p.stat().st_mtime for p in SOURCES if p.exists())
    if all(p.exists() and p.stat().st_mtime >= newest for p in built):
        return
    done = subprocess.run(
        ["npm", "run", "--silent", "build"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"npm run build failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Return a running third-party server on another loopback port."""
    server = Recorder()
    yield server
    server.close()
