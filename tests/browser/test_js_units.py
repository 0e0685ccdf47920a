"""Run the node unit tests of the browser client (tests/js/*.test.mjs).

They import the ES modules of static/src/editor/ directly (a package.json
there marks them as modules) and the real quill-delta from node_modules, so
``make test`` covers the OT client and the connection without a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JS_TESTS = REPO / "tests" / "js"


def test_node_unit_tests_pass() -> None:
    """The OT client and connection suites pass under ``node --test``."""
    node = shutil.which("node")
    assert node is not None, "node is required for the browser client's unit tests"
    assert (REPO / "node_modules" / "quill-delta").is_dir(), "run npm install first"
    files = sorted(str(p.relative_to(REPO)) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, "no node tests found"
    done = subprocess.run(
        [node, "--test", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NODE_OPTIONS": ""},
        check=False,
    )
    summary = "\n".join(line for line in done.stdout.splitlines() if line.startswith("# "))
    assert done.returncode == 0, (
        f"node --test failed:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
    )
    assert "# fail 0" in summary, summary
    print(summary)
