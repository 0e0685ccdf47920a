"""deploy/grafana/collabdocs.json queries only metrics and labels the workers export.

A dashboard that names a metric nobody exports shows "No data" forever and
nobody notices until the night it was needed. The names the workers export
are read from ``/metrics``' own exposition (every family, also the labelled
counters that have no sample yet), their label names from the metric
objects; every PromQL expression of the dashboard must use only those,
and parse with Prometheus's own ``promtool``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from collabdocs import metrics_view
from documents import metrics as documents_metrics
from realtime import metrics as realtime_metrics
from routing import metrics as routing_metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "collabdocs.json"
METRIC = re.compile(r"\b((?:collabdocs|process)_[a-z_]+)\b")
BY = re.compile(r"\bby \(([^)]*)\)")
#: Labels every sample has (the view adds ``worker``) or PromQL makes.
ALWAYS = {"worker", "le"}


def _exported() -> tuple[set[str], dict[str, set[str]]]:
    """Return every series name the view exposes, and label names per family."""
    names: set[str] = set()
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics_view.exposition().decode()):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        series = [family.name + s for s in suffixes.get(family.type, [""])]
        names.update(series)
        for sample in family.samples:
            names.add(sample.name)
            labels.setdefault(family.name, set()).update(sample.labels)
    for module in (documents_metrics, realtime_metrics, routing_metrics):
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                labels.setdefault(value._name, set()).update(value._labelnames)
    return names, labels


def _family(series: str) -> str:
    return re.sub(r"_(total|bucket|sum|count)$", "", series)


def _expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append((f"${variable['name']}", variable["definition"]))
    return found


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    names, _ = _exported()
    missing = [
        (title, name)
        for title, expr in _expressions()
        for name in METRIC.findall(expr)
        if name not in names
    ]
    assert not missing, missing


def test_every_label_the_dashboard_groups_by_exists_on_its_metric() -> None:
    _, labels = _exported()
    wrong = []
    for title, expr in _expressions():
        known = set(ALWAYS)
        for name in METRIC.findall(expr):
            known |= labels.get(_family(name), set()) | labels.get(name, set())
        for group in BY.findall(expr):
            wrong += [(title, label) for label in re.split(r"\s*,\s*", group) if label not in known]
    assert not wrong, wrong


def test_the_dashboard_covers_what_the_issue_asks_to_graph() -> None:
    """Ops, latency, sockets and documents, ring, hand-overs, fencing, ZooKeeper, errors."""
    queried = {name for _, expr in _expressions() for name in METRIC.findall(expr)}
    for name in (
        "collabdocs_ops_accepted_total",
        "collabdocs_ops_refused_total",
        "collabdocs_rate_limited_total",
        "collabdocs_commit_seconds_bucket",
        "collabdocs_commit_batch_ops_bucket",
        "collabdocs_ack_seconds_bucket",
        "collabdocs_broadcast_seconds_bucket",
        "collabdocs_open_sockets",
        "collabdocs_open_documents",
        "collabdocs_owned_documents",
        "collabdocs_ring_share",
        "collabdocs_handovers_total",
        "collabdocs_fencing_events_total",
        "collabdocs_zookeeper_connected",
        "collabdocs_db_errors_total",
        "collabdocs_channel_layer_errors_total",
        "collabdocs_compaction_runs_total",
        "collabdocs_compaction_ops_folded_total",
    ):
        assert name in queried, name


def test_panels_are_well_formed_for_import() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]
        # Every query honours the worker picker.
        for target in panel["targets"]:
            for name in METRIC.findall(target["expr"]):
                assert re.search(rf'{name}\{{[^}}]*worker=~"\$worker"', target["expr"]), (
                    panel["title"],
                    name,
                )


def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    """Prometheus's own parser (promtool) reads every expression of the dashboard.

    Grafana's variables are given the values Grafana would substitute.
    """
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found (apt-get install prometheus)"
    rules = ["groups:", "  - name: dashboard", "    rules:"]
    for index, (_, expr) in enumerate(_expressions()):
        if expr.startswith("label_values("):
            continue  # a Grafana function, not PromQL
        promql = expr.replace("$__rate_interval", "1m").replace("$worker", ".*")
        rules += [f"      - record: dashboard:expr{index}", f"        expr: {json.dumps(promql)}"]
    path = tmp_path / "rules.yml"
    path.write_text("\n".join(rules) + "\n")
    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
