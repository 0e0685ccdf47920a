"""Compaction racing live edits on a real daphne: nothing is lost.

Two people type at once while three compactors run: the owner's own
snapshots (a low threshold), ``compact_docs`` in a subprocess (which must
skip the open document: its lease is live), and ``version_compact`` in a
thread that sees the lease as expired (its clock a day ahead), so that it
folds the log under the writer's feet. Afterwards every acknowledged op
is in the content, every socket and the database agree, the owner let go
with a last snapshot, and clients
that reconnect from far back are told to reload.

Randomized: the seed is printed; set ``SEED`` to replay.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from guardian.shortcuts import assign_perm
from websockets.asyncio.client import connect

from collabdocs.devclient import WSClient, random_change
from documents.compaction import Status, version_compact
from documents.models import Document, DocumentVersion, Operation, VersionKind
from tests.conftest import REPO
from tests.realtime.conftest import create_document, create_user, db, session_cookie, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORIGIN = None  # no Origin header: a non-browser client (collabdocs/origin.py)
DAPHNE_ENV = {
    "COLLABDOCS_COMPACT_THRESHOLD_OPS": "40",
    "COLLABDOCS_COMPACT_KEEP_OPS": "5",
    "COLLABDOCS_IDLE_UNLOAD_SECONDS": "1",
    "COLLABDOCS_LEASE_SECONDS": "3",
    "COLLABDOCS_OPS_PER_SECOND": "1000",
    "COLLABDOCS_RETENTION_DAYS": "0",  # keep_ops alone; retention is tested on its own
}


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


class Compactor(threading.Thread):
    """Compact the document over and over, as if its lease had expired."""

    def __init__(self, public_id: str) -> None:
        super().__init__(daemon=True)
        self.public_id = public_id
        self.stop = threading.Event()
        self.results: list[Any] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                # A day ahead, the owner's lease has expired and the document
                # is idle; the row itself says it is open (compact_docs sees that).
                document = Document.objects.get(public_id=self.public_id)
                self.results.append(
                    version_compact(
                        document=document,
                        keep_ops=3,
                        idle_minutes=0,
                        now=timezone.now() + timedelta(days=1),
                    )
                )
                time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()


def compact_docs(database_url: str, *args: str) -> subprocess.CompletedProcess:
    # keep_ops alone: the retention horizon has tests of its own.
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="collabdocs.settings",
        DATABASE_URL=database_url,
        COLLABDOCS_RETENTION_DAYS="0",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "compact_docs", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def edit_randomly(client: WSClient, rng: random.Random, count: int) -> None:
    for _ in range(count):
        await client.edit(random_change(client.ot.doc, rng))
        await asyncio.sleep(rng.random() * 0.01)


async def test_edits_during_compaction_are_all_kept(
    daphne_factory: Any, test_database_url: str
) -> None:
    seed = seed_for("compaction-live")
    rng = random.Random(seed)
    owner, editor = await db(create_user, "owner"), await db(create_user, "editor")
    document = await db(create_document, owner)
    await db(assign_perm, "documents.change_document", editor, document)
    await db(assign_perm, "documents.view_document", editor, document)
    doc_id = str(document.public_id)
    server = await asyncio.to_thread(daphne_factory, **DAPHNE_ENV)
    cookies = [await db(session_cookie, owner), await db(session_cookie, editor)]
    clients = [
        WSClient(server.ws_url, doc_id, cookie=cookie, rng=random.Random(seed + i))
        for i, cookie in enumerate(cookies)
    ]
    for client in clients:
        await client.connect()

    compactor = Compactor(doc_id)
    compactor.start()
    cli = asyncio.create_task(
        asyncio.to_thread(compact_docs, test_database_url, "--doc", doc_id, "--idle-minutes", "0")
    )
    try:
        await asyncio.gather(*(edit_randomly(c, random.Random(rng.random()), 150) for c in clients))
        for client in clients:
            await client.wait_synchronized(60)
    finally:
        compactor.stop.set()
        await asyncio.to_thread(compactor.join, 30)
    done = await cli
    assert compactor.error is None, repr(compactor.error)
    assert done.returncode == 0, done.stderr
    # The document is open all along (its lease is live): compact_docs leaves it.
    assert ": skipped, " in done.stdout and ": compacted " not in done.stdout, done.stdout

    head, content = await db(stored_content, doc_id)
    acked = {op_id for client in clients for op_id in client.ot.acked}
    assert len(acked) == head, f"seed={seed}"  # every op acked once, one revision each
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.rev == head)
        assert client.ot.content() == content, f"seed={seed}"
        assert client.ot.errors == []
    folded_by_thread = [r for r in compactor.results if r.status == Status.COMPACTED]
    assert folded_by_thread, [r.reason for r in compactor.results][:5]
    kinds = await db(
        lambda: list(
            DocumentVersion.objects.filter(
                document__public_id=doc_id, kind=VersionKind.COMPACTION
            ).values_list("ops_folded", flat=True)
        )
    )
    assert len(kinds) > len(folded_by_thread), "the owner compacted at its threshold too"
    # A fresh connection loads exactly what the others have.
    fresh = WSClient(server.ws_url, doc_id, cookie=cookies[0])
    hello = await fresh.connect()
    assert hello["rev"] == head and hello["content"] == content
    rev = hello["rev"]
    for client in [*clients, fresh]:
        await client.close()

    # The owner lets go once idle: a last snapshot at the head, no lease.
    async def let_go() -> Document:
        deadline = time.monotonic() + 20
        while True:
            doc = await db(
                lambda: Document.objects.select_related("snapshot").get(public_id=doc_id)
            )
            if doc.lease_holder == "" and doc.snapshot.revision == doc.head_revision:
                return doc
            assert time.monotonic() < deadline, (doc.lease_holder, doc.snapshot.revision)
            await asyncio.sleep(0.1)

    doc = await let_go()
    assert doc.closed_at is not None and doc.head_revision == rev
    kept = await db(
        lambda: sorted(Operation.objects.filter(document=doc).values_list("revision", flat=True))
    )
    # At least the last 3 (the thread's keep_ops; the owner keeps 5), no gaps.
    assert kept == list(range(rev - len(kept) + 1, rev + 1)) and len(kept) >= 3
    done = await asyncio.to_thread(compact_docs, test_database_url, "--idle-minutes", "0")
    assert "compacted 0 of 0 documents" in done.stdout, done.stdout

    # Reconnecting within the kept ops: caught up with ops.
    near = await ws_hello(server.ws_url, doc_id, cookies[1], rev - 3)
    assert [op["rev"] for op in near["ops"]] == [rev - 2, rev - 1, rev] and "content" not in near
    # From before them: the whole content, and an op based there is stale.
    far, ws = await ws_hello(server.ws_url, doc_id, cookies[1], rev - 50, keep_open=True)
    assert far["content"] == content and "ops" not in far
    await ws.send(
        json.dumps(
            {"type": "op", "id": "f" * 20 + ":1", "rev": rev - 50, "delta": [{"insert": "x"}]}
        )
    )
    error = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert error["type"] == "error" and error["code"] == "stale"
    await ws.close()


async def ws_hello(
    base: str, doc_id: str, cookie: str, rev: int, *, keep_open: bool = False
) -> Any:
    ws = await connect(
        f"{base}/ws/docs/{doc_id}/?rev={rev}",
        origin=ORIGIN,
        additional_headers={"Cookie": cookie},
        max_size=None,
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello", hello
    if keep_open:
        return hello, ws
    await ws.close()
    return hello
