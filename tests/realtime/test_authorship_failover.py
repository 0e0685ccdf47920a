"""Authorship across a worker failover (real ``runworker`` processes).

Two workers over real PostgreSQL, Redis and ZooKeeper. Three people edit
through the worker that does not own the document (redirected to the
owner), concurrently; the owner is killed with ``kill -9``; they fail over
to the survivor, which rebuilds the document, its authorship included,
from storage, and they go on typing there. The new owner's ``authors``
reply must equal authorship derived from the full op log one character at
a time.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from collabdocs.devclient import WSClient, random_change
from tests.realtime.conftest import create_user, db, session_cookie, share, stored_content
from tests.realtime.test_authorship_live import expand, per_character
from tests.routing.conftest import _single_node_after, cluster_factory  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.zookeeper, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def _synced(clients: list[WSClient], doc_id: str) -> int:
    for client in clients:
        await client.wait_synchronized(40)
    head, content = await db(stored_content, doc_id)
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.rev == head, 40)
        assert client.ot.content() == content
    return head


async def test_the_new_owner_rebuilds_authorship_from_storage(
    cluster_factory: Any,  # noqa: F811  (the imported fixture)
    people: dict[str, Any],
) -> None:
    seed = random.randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    cluster = cluster_factory(2)
    third = await db(create_user, "third")
    await db(share, people["doc"], third, edit=True)
    doc_id = people["doc_id"]
    owner = cluster.owner(doc_id)
    entry = cluster.others(owner)[0]
    cookies = [
        people["cookies"]["owner"],
        people["cookies"]["editor"],
        await db(session_cookie, third),
    ]
    clients = [WSClient(entry.ws_url, doc_id, cookie=cookie) for cookie in cookies]
    for client in clients:
        await client.connect()

    async def rounds(count: int) -> None:
        for _ in range(count):
            for client in clients:
                assert client.ot.doc is not None
                await client.edit(random_change(client.ot.doc, rng))
            await asyncio.sleep(0.01)
        await _synced(clients, doc_id)

    await rounds(10)
    owner.kill()
    await rounds(10)
    assert cluster.owner(doc_id) is entry

    replies: list[dict] = []
    reader = WSClient(
        entry.ws_url,
        doc_id,
        cookie=people["cookies"]["viewer"],
        on_message=lambda msg: replies.append(msg) if msg.get("type") == "authors" else None,
    )
    await reader.connect()
    await reader.send_raw({"type": "authors"})
    await reader.wait_for(lambda: bool(replies), 20)
    expected = await db(per_character, people["doc"].pk)
    assert replies[0]["rev"] == reader.ot.rev
    assert expand(replies[0]["runs"]) == expected, f"seed={seed}"
    for client in [*clients, reader]:
        await client.close()
