"""In a cluster, a page from one worker opens its socket on another.

The workers' own URLs (the ring's members) are trusted origins
(collabdocs/origin.py); any other port of the same host is not. A worker
keeps trusting a member's origin after that member left the ring, since the
pages it served reconnect elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from collabdocs.devservers import free_port
from routing.ring import HashRing
from tests.realtime.conftest import create_document, db, share

pytestmark = [pytest.mark.e2e, pytest.mark.zookeeper, pytest.mark.django_db(transaction=True)]


async def first_frame(ws_url: str, doc_id: str, cookie: str, origin: str) -> str | int:
    """Return the first frame's type, or the HTTP status of a refused handshake."""
    try:
        async with connect(
            f"{ws_url}/ws/docs/{doc_id}/",
            origin=origin,
            open_timeout=20,
            additional_headers={"Cookie": cookie},
        ) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 20))["type"]
    except InvalidStatus as exc:
        return exc.response.status_code


async def until(probe: Any, wanted: str, message: str, timeout: float = 30) -> None:
    """Repeat ``await probe()`` until it returns ``wanted``."""
    deadline = time.monotonic() + timeout
    while await probe() != wanted:
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.2)


def document_owned_by(people: dict, members: list[str], wanted: str) -> str:
    ring = HashRing(members)
    for _ in range(200):
        document = create_document(people["users"]["owner"])
        share(document, people["users"]["editor"], edit=True)
        if ring.owner(str(document.public_id)) == wanted:
            return str(document.public_id)
    raise AssertionError("the ring never gave the worker a document")


async def test_a_page_from_another_worker_may_open_a_socket_here(
    cluster_factory: Any, people: dict
) -> None:
    cluster = cluster_factory(2)
    a, b = cluster.live()
    members = [a.worker_id, b.worker_id]
    on_b = await db(document_owned_by, people, members, b.worker_id)
    on_a = await db(document_owned_by, people, members, a.worker_id)
    cookie = people["cookies"]["editor"]
    # B learns of A through a ZooKeeper watch, a moment after A is ready:
    # wait until B redirects A's documents to A.
    await until(
        lambda: first_frame(b.ws_url, on_a, cookie, b.url), "redirect", "B never saw A on the ring"
    )

    # The editor page came from worker A; its socket goes to B, the owner.
    assert await first_frame(b.ws_url, on_b, cookie, a.url) == "hello"
    assert await first_frame(b.ws_url, on_b, cookie, f"http://127.0.0.1:{free_port()}") == 403
    assert await first_frame(b.ws_url, on_b, cookie, a.url.replace("http:", "https:")) == 403

    # A leaves; once B owns A's documents too, A's pages still reconnect to B.
    a.terminate()
    await until(
        lambda: first_frame(b.ws_url, on_a, cookie, b.url),
        "hello",
        "B never took A's documents over",
    )
    assert await first_frame(b.ws_url, on_a, cookie, a.url) == "hello"
