"""``/metrics``: what an operator graphs, and who may read it.

Under load: tests/realtime/test_metrics.py. Failure modes covered: samples without
the worker label (one Prometheus job could not tell workers apart), and a
metrics page readable from outside the allowed networks, directly or
through a proxy on loopback.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import AsyncClient, override_settings


class ClientAt(AsyncClient):
    """An async test client whose requests come from ``remote`` (the ASGI scope's client)."""

    def __init__(self, remote: str) -> None:
        super().__init__()
        self.remote = remote

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope: dict[str, Any] = super()._base_scope(**request)
        scope["client"] = [self.remote, 40000]
        return scope


async def scrape(remote: str = "127.0.0.1", forwarded: str | None = None) -> tuple[int, str]:
    """GET /metrics as a client at ``remote``, through a proxy if ``forwarded``."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await ClientAt(remote).get("/metrics", headers=headers)
    return response.status_code, response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """Return the sample ``name`` with at least ``labels`` (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_:]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == wanted for key, wanted in labels.items()):
            return float(match.group(3))
    return 0.0


@pytest.mark.django_db
async def test_metrics_are_text_format_and_every_sample_names_the_worker() -> None:
    status, text = await scrape()
    assert status == 200
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert samples and all('worker="local"' in line for line in samples)
    for family in (
        "collabdocs_ops_accepted_total",
        "collabdocs_commit_seconds_bucket",
        "collabdocs_open_sockets",
        "collabdocs_zookeeper_connected",
        "collabdocs_ring_share",
        "collabdocs_worker_ready",
        "process_cpu_seconds_total",
    ):
        assert f"\n{family}{{" in text, family
    # Single node: the whole key space, no ZooKeeper.
    assert value(text, "collabdocs_ring_share") == 1.0
    assert value(text, "collabdocs_zookeeper_state", state="none") == 1.0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote", "forwarded"),
    [
        ("10.1.2.3", None),
        ("203.0.113.7", None),
        ("2001:db8::1", None),
        # Through a balancer on loopback: the client it names is public.
        ("127.0.0.1", "203.0.113.7"),
        # A client cannot hide behind an allowed address it adds itself.
        ("127.0.0.1", "127.0.0.1, 203.0.113.7"),
        ("127.0.0.1", "not-an-address"),
    ],
)
async def test_a_client_outside_the_allowed_networks_gets_404(
    remote: str, forwarded: str | None
) -> None:
    status, text = await scrape(remote, forwarded)
    assert status == 404
    assert "collabdocs_" not in text


@pytest.mark.django_db
async def test_the_allow_list_is_a_setting() -> None:
    with override_settings(COLLABDOCS={**settings.COLLABDOCS, "METRICS_ALLOW": ["10.0.0.0/8"]}):
        assert (await scrape("10.1.2.3"))[0] == 200
        assert (await scrape("127.0.0.1"))[0] == 404
    assert (await scrape("::1"))[0] == 200
