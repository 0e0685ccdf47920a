"""Membership against a real ZooKeeper: registration, the watch, SUSPENDED and LOST."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from kazoo.client import KazooClient

from collabdocs.devservers import start_zookeeper
from routing.exceptions import WorkerIdTaken
from routing.membership import Membership
from routing.zk import start_client, stop_client

pytestmark = pytest.mark.zookeeper

SESSION = 2.0


class Recorder:
    """A MembershipListener that remembers what it heard, and on which thread."""

    def __init__(self) -> None:
        self.members: list[dict[str, str]] = []
        self.states: list[str] = []
        self.threads: set[int] = set()
        self._changed = asyncio.Event()

    def members_changed(self, members: dict[str, str]) -> None:
        self.threads.add(threading.get_ident())
        self.members.append(dict(members))
        self._changed.set()

    def state_changed(self, state: str) -> None:
        self.threads.add(threading.get_ident())
        self.states.append(state)
        self._changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 15) -> None:
        async def wait() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    def sees(self, *ids: str) -> bool:
        return bool(self.members) and set(self.members[-1]) == set(ids)


@pytest.fixture
def root() -> str:
    return f"/membership-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def join(zookeeper_server, root) -> AsyncIterator[Callable]:
    """Return ``await join(worker_id, url, hosts=None) -> (membership, recorder)``."""
    started: list[tuple[Membership, KazooClient]] = []

    async def start(
        worker_id: str, url: str, *, hosts: str | None = None, register: bool = True
    ) -> tuple[Membership, Recorder]:
        client = await asyncio.to_thread(
            start_client, hosts=hosts or zookeeper_server.extra["hosts"], timeout=SESSION
        )
        recorder = Recorder()
        membership = Membership(
            client,
            root=root,
            worker_id=worker_id,
            url=url,
            loop=asyncio.get_running_loop(),
            listener=recorder,
        )
        started.append((membership, client))
        await asyncio.to_thread(membership.watch)
        if register:
            await asyncio.to_thread(membership.register)
        return membership, recorder

    yield start
    for membership, client in started:
        membership.stop()
        await asyncio.to_thread(stop_client, client)


def expire_session(client: KazooClient, hosts: str) -> None:
    """Make ZooKeeper expire ``client``'s session (kazoo's test harness trick)."""
    other = KazooClient(hosts=hosts, client_id=client.client_id, timeout=SESSION)
    other.start(timeout=10)
    other.stop()
    other.close()


async def test_workers_see_each_other_join_and_leave(join, root):
    a, seen_by_a = await join("a", "http://127.0.0.1:8001")
    b, seen_by_b = await join("b", "http://127.0.0.1:8002")
    await seen_by_a.until(lambda: seen_by_a.sees("a", "b"))
    await seen_by_b.until(lambda: seen_by_b.sees("a", "b"))
    assert seen_by_a.members[-1] == {"a": "http://127.0.0.1:8001", "b": "http://127.0.0.1:8002"}
    raw, stat = await asyncio.to_thread(b.client.get, f"{root}/workers/b")
    data = json.loads(raw)
    assert data["url"] == "http://127.0.0.1:8002" and data["started"] and data["pid"]
    assert stat.ephemeralOwner == b.client.client_id[0]
    await asyncio.to_thread(b.deregister)
    await seen_by_a.until(lambda: seen_by_a.sees("a"))
    # Callbacks ran on the event loop's thread, never on kazoo's.
    assert seen_by_a.threads == {threading.get_ident()}


async def test_published_stats_are_merged_into_the_znode(join, root):
    a, _ = await join("a", "http://127.0.0.1:8001")
    a.publish({"documents": 2, "sockets": 5, "docs": {"d1": 4, "d2": 1}})
    for _ in range(100):
        data = json.loads((await asyncio.to_thread(a.client.get, f"{root}/workers/a"))[0])
        if data.get("sockets") == 5:
            break
        await asyncio.sleep(0.05)
    assert data["sockets"] == 5 and data["docs"] == {"d1": 4, "d2": 1}
    assert data["url"] == "http://127.0.0.1:8001"


async def test_an_expired_session_is_lost_then_registered_again(join, root, zookeeper_server):
    a, seen_by_a = await join("a", "http://127.0.0.1:8001")
    b, seen_by_b = await join("b", "http://127.0.0.1:8002")
    await seen_by_b.until(lambda: seen_by_b.sees("a", "b"))
    old_session = a.client.client_id[0]
    await asyncio.to_thread(expire_session, a.client, zookeeper_server.extra["hosts"])
    await seen_by_a.until(lambda: "registered" in seen_by_a.states)
    assert seen_by_a.states.index("lost") < seen_by_a.states.index("registered")
    # b saw a go and come back; a's znode belongs to its new session.
    await seen_by_b.until(lambda: any(set(m) == {"b"} for m in seen_by_b.members))
    await seen_by_b.until(lambda: seen_by_b.sees("a", "b"))
    _, stat = await asyncio.to_thread(a.client.get, f"{root}/workers/a")
    assert stat.ephemeralOwner == a.client.client_id[0] != old_session
    await seen_by_a.until(lambda: seen_by_a.sees("a", "b"))


async def test_the_watch_is_rearmed_after_a_reconnect(join):
    zk = start_zookeeper()
    try:
        hosts = zk.extra["hosts"]
        a, seen_by_a = await join("a", "http://127.0.0.1:8001", hosts=hosts)
        await seen_by_a.until(lambda: seen_by_a.sees("a"))
        zk.stop_process(kill=True)
        await seen_by_a.until(lambda: "suspended" in seen_by_a.states)
        await asyncio.to_thread(zk.start_process)
        # Same session: ZooKeeper kept it across the restart.
        await seen_by_a.until(lambda: "connected" in seen_by_a.states)
        assert "lost" not in seen_by_a.states
        await join("b", "http://127.0.0.1:8002", hosts=hosts)
        await seen_by_a.until(lambda: seen_by_a.sees("a", "b"))
    finally:
        zk.stop()


async def test_an_id_taken_by_another_live_worker_is_refused(join):
    await join("same", "http://127.0.0.1:8001")
    with pytest.raises(WorkerIdTaken):
        await join("same", "http://127.0.0.1:9999")


async def test_a_stale_znode_of_our_own_is_replaced(join, root, zookeeper_server):
    # A process that died without closing its session left this behind.
    dead = await asyncio.to_thread(
        start_client, hosts=zookeeper_server.extra["hosts"], timeout=SESSION
    )
    try:
        await asyncio.to_thread(
            dead.create,
            f"{root}/workers/w",
            b'{"url":"http://127.0.0.1:8001"}',
            ephemeral=True,
            makepath=True,
        )
        again, _ = await join("w", "http://127.0.0.1:8001")
        _, stat = await asyncio.to_thread(again.client.get, f"{root}/workers/w")
        assert stat.ephemeralOwner == again.client.client_id[0]
    finally:
        await asyncio.to_thread(stop_client, dead)
