"""``/readyz`` through a worker's life, on real ``runworker`` processes and ZooKeeper.

What a balancer relies on: a worker is in the pool only while it can
serve. Failure modes covered: a worker that says ready before it is
registered (the balancer would send it requests it redirects or refuses),
that stays ready while it drains after SIGTERM (new requests would land on
a process about to exit), or while it is fenced (its documents are served
elsewhere and it knows no owner); and one that never comes back to ready
when ZooKeeper does. ``/healthz`` stays 200 throughout: a supervisor must
not restart a worker for any of these.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import AsyncClient

from collabdocs.devcluster import SESSION_TIMEOUT, Cluster
from collabdocs.devservers import start_zookeeper
from realtime.registry import uninstall_registry
from routing.readiness import uninstall_readiness
from routing.worker import Worker

pytestmark = [pytest.mark.zookeeper, pytest.mark.django_db(transaction=True)]


def get(url: str) -> tuple[int, Any]:
    """GET ``url``; return the status and the JSON body (or text), or (0, error)."""
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc)
    text = raw.decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_for(
    url: str, accept: Callable[[int, Any], bool], timeout: float
) -> tuple[float, int, Any]:
    """Poll ``url`` every 50 ms until ``accept(status, body)``; return (seconds, status, body)."""
    started = time.monotonic()
    seen: list[tuple[int, Any]] = []
    while time.monotonic() - started < timeout:
        status, body = get(url)
        if accept(status, body):
            return time.monotonic() - started, status, body
        seen.append((status, body))
        time.sleep(0.05)
    raise AssertionError(f"{url}: not as expected within {timeout} s; last answers {seen[-3:]}")


def phase_is(phase: str, status: int) -> Callable[[int, Any], bool]:
    return lambda got, body: got == status and isinstance(body, dict) and body["phase"] == phase


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_readyz_follows_a_worker_through_fencing_and_draining(
    cluster_factory: Callable[..., Cluster],
) -> None:
    zk = start_zookeeper()
    try:
        cluster = cluster_factory(1, zk_hosts=zk.extra["hosts"], COLLABDOCS_DRAIN_SECONDS="15")
        worker = cluster.live()[0]
        readyz, healthz = f"{worker.url}/readyz", f"{worker.url}/healthz"

        status, body = get(readyz)
        assert status == 200, body
        assert body["phase"] == "ready" and body["worker"] == worker.worker_id
        assert body["checks"] == {"database": "ok", "worker": "ok"}

        # ZooKeeper gone for a whole session timeout: fenced, out of the pool.
        zk.stop_process(kill=True)
        fenced_after, _, body = wait_for(readyz, phase_is("fenced", 503), 3 * SESSION_TIMEOUT)
        assert "fenced" in body["not_ready"][0]
        assert fenced_after >= SESSION_TIMEOUT - 1, "fenced before the session could expire"
        assert get(healthz)[0] == 200
        # ZooKeeper back (it kept the session): ready again, no restart.
        zk.start_process()
        back_after, _, _ = wait_for(readyz, phase_is("ready", 200), 4 * SESSION_TIMEOUT)
        _, text = get(f"{worker.url}/metrics")
        assert metric(text, "collabdocs_fencing_events_total", event="fenced") == 1
        assert metric(text, "collabdocs_fencing_events_total", event="resumed") == 1
        assert metric(text, "collabdocs_zookeeper_connected", worker=worker.worker_id) == 1

        # SIGTERM: 503 at once, while the hand-over still runs. ZooKeeper is
        # frozen so that deregistering waits: the window is seconds, not ms.
        assert zk.proc is not None
        zk.proc.send_signal(signal.SIGSTOP)
        try:
            worker.signal(signal.SIGTERM)
            drained_after, _, body = wait_for(readyz, phase_is("draining", 503), 2)
            assert body["not_ready"] == ["shutting down: handing its documents over"]
            assert get(healthz)[0] == 200
            time.sleep(0.5)
            assert get(readyz)[0] == 503, "ready again while draining"
        finally:
            zk.proc.send_signal(signal.SIGCONT)
        assert worker.proc is not None
        assert worker.proc.wait(timeout=30) == 0
        print(
            f"readyz: fenced {fenced_after:.1f} s after ZooKeeper died "
            f"(session {SESSION_TIMEOUT} s), ready {back_after:.1f} s after it came back, "
            f"draining {drained_after * 1000:.0f} ms after SIGTERM"
        )
    finally:
        zk.stop()


async def test_a_cluster_worker_is_starting_until_registered_and_lost_until_back(
    settings: Any, zookeeper_server: Any
) -> None:
    settings.ZOOKEEPER_HOSTS = zookeeper_server.extra["hosts"]
    settings.ZOOKEEPER_ROOT = f"/readyz-test-{uuid.uuid4().hex[:8]}"
    worker = Worker(worker_id="w-starting", url="http://127.0.0.1:9", cluster=True)
    await asyncio.to_thread(worker.connect)
    try:
        worker.install(asyncio.get_running_loop())
        response = await AsyncClient().get("/readyz")
        assert response.status_code == 503
        assert response.json()["phase"] == "starting"
        assert response.json()["not_ready"] == ["not registered in ZooKeeper yet"]
        await worker.join()
        response = await AsyncClient().get("/readyz")
        assert response.status_code == 200, response.json()
        assert response.json()["worker"] == "w-starting"
        # The session expired (what membership tells its listener): out of
        # the pool until it has registered on the new session.
        worker.state_changed("lost")
        response = await AsyncClient().get("/readyz")
        assert (response.status_code, response.json()["phase"]) == (503, "lost")
        worker.state_changed("registered")
        assert (await AsyncClient().get("/readyz")).status_code == 200
        await worker.drain()
        response = await AsyncClient().get("/readyz")
        assert (response.status_code, response.json()["phase"]) == (503, "draining")
    finally:
        worker.close_now()
        uninstall_readiness()
        uninstall_registry()  # closed by drain() already
