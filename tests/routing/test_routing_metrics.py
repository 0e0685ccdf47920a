"""Routing metrics follow the ring: owned documents, ring share, hand-overs.

On real ``runworker`` processes: a worker joins, the ring gives it about
half of the first worker's open documents, and the first worker's
``/metrics`` must say so. Failure modes covered: hand-overs that are not
counted (an operator could not see documents moving during a rolling
restart), and owned documents or ring share that keep their old values
after the ring changed.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from collabdocs.devclient import WSClient
from collabdocs.devcluster import Cluster
from routing.ring import HashRing
from tests.realtime.conftest import create_document, db

pytestmark = [pytest.mark.zookeeper, pytest.mark.django_db(transaction=True)]

DOCS = 8


def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text: str = response.read().decode()
    return text


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_a_joining_worker_takes_documents_and_the_old_owner_counts_them(
    cluster_factory: Callable[..., Cluster], people: dict[str, Any]
) -> None:
    cluster = cluster_factory(1)
    first = cluster.live()[0]
    owner = people["users"]["owner"]
    docs = [str((await db(create_document, owner, title=f"d{n}")).public_id) for n in range(DOCS)]
    clients = [
        WSClient(first.ws_url, doc, cookie=people["cookies"]["owner"], reconnect=False)
        for doc in docs
    ]
    try:
        for client in clients:
            await client.connect()
        text = await asyncio.to_thread(scrape, first.url)
        assert metric(text, "collabdocs_owned_documents") == DOCS
        assert metric(text, "collabdocs_ring_share") == 1.0
        assert metric(text, "collabdocs_ring_members") == 1

        (second,) = await asyncio.to_thread(cluster.add, 1)
        ring = HashRing(sorted([first.worker_id, second.worker_id]))
        moved = sum(1 for doc in docs if ring.owner(doc) == second.worker_id)
        assert 0 < moved < DOCS, "pick other documents: the ring moved none or all"
        deadline = time.monotonic() + 15
        while True:
            text = await asyncio.to_thread(scrape, first.url)
            if metric(text, "collabdocs_handovers_total", reason="ring") == moved:
                break
            assert time.monotonic() < deadline, text[-2000:]
            await asyncio.sleep(0.2)
        assert metric(text, "collabdocs_owned_documents") == DOCS - moved
        assert metric(text, "collabdocs_ring_members") == 2
        share = metric(text, "collabdocs_ring_share", worker=first.worker_id)
        assert share == pytest.approx(ring.shares()[first.worker_id])
        assert 0.2 < share < 0.8
    finally:
        for client in clients:
            await client.close()
