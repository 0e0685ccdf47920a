"""Document locks against a real ZooKeeper: the owner's gate and the compactor's guard."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from realtime.exceptions import NotOwner
from routing.exceptions import ZooKeeperUnavailable
from routing.locks import DocumentLocks, ZooKeeperGuard
from routing.ownership import Ownership
from routing.paths import lock_path
from routing.zk import start_client, stop_client
from tests.routing.test_membership import expire_session

pytestmark = pytest.mark.zookeeper

MEMBERS = {"a": "http://127.0.0.1:8001", "b": "http://127.0.0.1:8002"}


class Everything(Ownership):
    """An ownership that says this worker owns whatever ``local`` holds."""

    def __init__(self) -> None:
        super().__init__(self_id="a", self_url=MEMBERS["a"], cluster=True)
        self.local = True

    def is_local(self, public_id) -> bool:
        return self.local


@pytest.fixture
def root() -> str:
    return f"/locks-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clients(zookeeper_server):
    made = []

    def make():
        client = start_client(hosts=zookeeper_server.extra["hosts"], timeout=2)
        made.append(client)
        return client

    yield make
    for client in made:
        stop_client(client)


def locks_for(client, root: str, name: str, *, wait: float = 10) -> DocumentLocks:
    return DocumentLocks(
        client, root=root, identifier=name, ownership=Everything(), wait_seconds=wait
    )


async def test_a_second_worker_waits_until_the_first_lets_go(clients, root):
    doc = uuid.uuid4()
    first = locks_for(await asyncio.to_thread(clients), root, "w1")
    second = locks_for(await asyncio.to_thread(clients), root, "w2")
    await first.enter(doc)
    assert first.held() == {doc}
    waiting = asyncio.ensure_future(second.enter(doc))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    started = time.monotonic()
    await first.leave(doc)
    await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 2
    assert second.held() == {doc} and first.held() == set()
    contenders = await asyncio.to_thread(second.client.Lock(lock_path(root, doc)).contenders)
    assert contenders == ["w2"]
    await second.leave(doc)


async def test_a_dead_holders_lock_goes_with_its_session(clients, root, zookeeper_server):
    doc = uuid.uuid4()
    dead_client = await asyncio.to_thread(clients)
    dead = locks_for(dead_client, root, "dead")
    await dead.enter(doc)
    heir = locks_for(await asyncio.to_thread(clients), root, "heir")
    waiting = asyncio.ensure_future(heir.enter(doc))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await asyncio.to_thread(expire_session, dead_client, zookeeper_server.extra["hosts"])
    await asyncio.wait_for(waiting, 10)
    assert heir.held() == {doc}


async def test_waiting_is_bounded_and_cancelled_when_the_document_moves(clients, root):
    doc = uuid.uuid4()
    holder = locks_for(await asyncio.to_thread(clients), root, "holder")
    await holder.enter(doc)
    impatient = locks_for(await asyncio.to_thread(clients), root, "impatient", wait=0.5)
    with pytest.raises(ZooKeeperUnavailable):
        await impatient.enter(doc)
    mover = locks_for(await asyncio.to_thread(clients), root, "mover")
    waiting = asyncio.ensure_future(mover.enter(doc))
    await asyncio.sleep(0.3)
    mover.ownership.local = False  # the ring gave the document to someone else
    mover.cancel_not_local()
    with pytest.raises(NotOwner):
        await asyncio.wait_for(waiting, 5)
    assert impatient.held() == set() and mover.held() == set()
    # Nothing of theirs is left in the queue.
    contenders = await asyncio.to_thread(holder.client.Lock(lock_path(root, doc)).contenders)
    assert contenders == ["holder"]


async def test_a_document_owned_elsewhere_is_refused_before_any_lock(clients, root):
    locks = locks_for(await asyncio.to_thread(clients), root, "w")
    locks.ownership.local = False
    with pytest.raises(NotOwner):
        await locks.enter(uuid.uuid4())


def test_the_compactor_skips_a_document_its_owner_holds(clients, root, settings, people):
    from documents.models import Document, Operation

    document = Document.objects.get(public_id=people["doc_id"])
    Operation.objects.bulk_create(
        [
            Operation(
                document=document,
                revision=rev,
                op_id=f"{'c' * 20}:{rev}",
                delta=[{"insert": "x"}],
                author=people["users"]["owner"],
            )
            for rev in (1, 2, 3)
        ]
    )
    Document.objects.filter(pk=document.pk).update(
        head_revision=3, updated_at=timezone.now() - timedelta(days=1)
    )
    owner_client = clients()
    guard = ZooKeeperGuard(clients())

    def compact() -> str:
        from documents.compaction import version_compact

        document.refresh_from_db()
        result = version_compact(document=document, keep_ops=0, guard=guard)
        return f"{result.status}: {result.reason}"

    owner = asyncio.run(_enter(locks_for(owner_client, root, "owner"), document.public_id))
    settings.ZOOKEEPER_ROOT = root
    assert compact() == "skipped: its lock is held elsewhere (open on another worker)"
    asyncio.run(owner.leave(document.public_id))
    assert compact().startswith("compacted")


def test_compact_docs_takes_the_lock_in_cluster_mode(
    zookeeper_server, root, settings, people, clients
):
    settings.ZOOKEEPER_HOSTS = zookeeper_server.extra["hosts"]
    settings.ZOOKEEPER_ROOT = root
    settings.COLLABDOCS = {**settings.COLLABDOCS, "DOCUMENT_GUARD": "routing.locks.ZooKeeperGuard"}
    doc = uuid.UUID(people["doc_id"])
    owner = asyncio.run(_enter(locks_for(clients(), root, "owner"), doc))
    out = io.StringIO()
    call_command("compact_docs", "--doc", str(doc), "--idle-minutes", "0", stdout=out)
    assert "skipped, its lock is held elsewhere" in out.getvalue()
    asyncio.run(owner.leave(doc))
    out = io.StringIO()
    call_command("compact_docs", "--doc", str(doc), "--idle-minutes", "0", stdout=out)
    assert "lock is held" not in out.getvalue()


async def _enter(locks: DocumentLocks, public_id: uuid.UUID) -> DocumentLocks:
    await locks.enter(public_id)
    return locks
