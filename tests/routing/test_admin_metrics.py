"""The staff page shows each worker's metrics and the people on its documents.

Against a real ``runworker`` with two people typing: the page (served here,
reading the workers' znodes like any worker's page does) must show the ops
the worker accepted, its commit latency, its phase and the number of people
(not sockets) on the open document. Failure modes covered: a summary that
is never published or never refreshed, people counted per socket (one
person with two tabs is one person), and a page that hides the figures.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from collabdocs.devclient import WSClient
from collabdocs.devcluster import Cluster
from documents.models import Document
from realtime.ot import Delta
from tests.realtime.conftest import create_user, db

pytestmark = [pytest.mark.zookeeper, pytest.mark.django_db(transaction=True)]

URL = "/admin/cluster/"


def cell(page: str, row: str, css: str) -> str:
    """Return the text of ``<td class="css">`` in the row ``data-worker/doc=row``."""
    match = re.search(rf'data-(?:worker|doc)="{re.escape(row)}">(.*?)</tr>', page, re.S)
    assert match, f"no row {row}"
    found = re.search(rf'<td class="{css}">(.*?)</td>', match.group(1), re.S)
    assert found, f"no {css} in row {row}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_the_staff_page_shows_each_workers_metrics_and_people_per_document(
    cluster_factory: Callable[..., Cluster], people: dict[str, Any], settings: Any
) -> None:
    cluster = cluster_factory(1)
    worker = cluster.live()[0]
    settings.ZOOKEEPER_HOSTS, settings.ZOOKEEPER_ROOT = cluster.zk_hosts, cluster.root
    doc_id = people["doc_id"]
    cookies = people["cookies"]
    # Two people, three sockets: the owner has two tabs open.
    clients = [
        WSClient(worker.ws_url, doc_id, cookie=cookies[name], reconnect=False)
        for name in ("owner", "owner", "editor")
    ]
    staff = await db(_staff_client)
    try:
        for client in clients:
            await client.connect()
        for n in range(12):
            await clients[n % 3].edit(Delta([{"insert": f"{n} "}]))
        for client in clients:
            await client.wait_synchronized()
        # Edits typed while one is in flight are composed: fewer ops than edits.
        stored = await db(lambda: Document.objects.get(public_id=doc_id).head_revision)
        assert 3 <= stored <= 12

        deadline = time.monotonic() + 10  # stats are published every second here
        while True:
            page = (await db(staff.get, URL)).content.decode()
            row = re.search(rf'data-worker="{re.escape(worker.worker_id)}">', page)
            if row and cell(page, worker.worker_id, "ops-accepted") == str(stored):
                break
            shown = re.search(r'<table id="worker-metrics">.*?</table>', page, re.S)
            assert time.monotonic() < deadline, (
                f"the summary never showed the {stored} ops: {shown and shown.group(0)}\n"
                f"{worker.log()[-3000:]}"
            )
            await asyncio.sleep(0.3)
    finally:
        for client in clients:
            await client.close()

    assert cell(page, worker.worker_id, "phase") == "ready"
    assert cell(page, worker.worker_id, "ops-refused") == "0"
    assert cell(page, worker.worker_id, "handovers") == "0"
    assert re.fullmatch(r"[\d.]+ ms", cell(page, worker.worker_id, "commit-p95")), page
    assert cell(page, doc_id, "people") == "2"
    assert cell(page, doc_id, "sockets") == "3"


def _staff_client() -> Client:
    user = create_user("operator", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_document"))
    client = Client()
    client.force_login(user)
    return client
