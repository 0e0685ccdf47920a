"""Fixtures for the routing tests: real clusters of ``runworker`` processes.

The realtime fixtures (users, cookies, documents, in-process sockets) are
shared from ``tests/realtime/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collabdocs.devcluster import Cluster
from routing.state import uninstall_routing_state
from tests.realtime.conftest import (  # noqa: F401 - fixtures
    _fresh_realtime_state,
    people,
    ws_connect,
)


@pytest.fixture(autouse=True)
def _single_node_after() -> Iterator[None]:
    """Put the process's routing state back to single node after each test.

    The registry (with its gate, lease check and placement) is uninstalled
    by the realtime fixture ``_fresh_realtime_state``.
    """
    yield
    uninstall_routing_state()


@pytest.fixture
def cluster_factory(
    test_database_url: str,
    zookeeper_server,
    redis_server,
    tmp_path: Path,
) -> Iterator[Callable[..., Cluster]]:
    """Return ``make(workers=3, zk_hosts=None, **env) -> Cluster``; stop them after.

    Tests that use it must commit their data (``transactional_db``).
    """
    made: list[Cluster] = []

    def make(workers: int = 3, *, zk_hosts: str | None = None, **env: str) -> Cluster:
        cluster = Cluster(
            database_url=test_database_url,
            zk_hosts=zk_hosts or zookeeper_server.extra["hosts"],
            redis_url=redis_server.extra["url"],
            log_dir=tmp_path,
            **env,
        )
        made.append(cluster)
        if workers:
            cluster.add(workers)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
