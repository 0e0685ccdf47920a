"""deploy/prometheus/collabdocs-alerts.yml: valid, about real metrics, and right.

Prometheus's own ``promtool`` checks the rules, then runs the unit tests in
collabdocs-alerts.test.yml (synthetic series: a draining worker warns, no
ready worker pages, database errors page, a single-node worker's missing
ZooKeeper is no alert, fencing and a split ring warn). Every CollabDocs
metric a rule reads must be one the workers export.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.collabdocs.test_dashboard import METRIC, _exported

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "collabdocs-alerts.yml"
UNIT_TESTS = RULES.with_name("collabdocs-alerts.test.yml")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found (apt-get install prometheus)"
    return subprocess.run(
        [promtool, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=RULES.parent,
        check=False,
    )


def test_the_rules_are_valid() -> None:
    result = _promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_fire_when_they_should_and_only_then() -> None:
    result = _promtool("test", "rules", UNIT_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_a_rule_reads_is_exported() -> None:
    names, _ = _exported()
    expressions = re.findall(r"^\s*expr: (.+)$", RULES.read_text(), flags=re.M)
    assert expressions
    missing = [name for expr in expressions for name in METRIC.findall(expr) if name not in names]
    assert not missing, missing
