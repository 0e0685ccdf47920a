"""A server-made change is resent until stored or refused (realtime.server_change).

Failure modes: storage down for a while (waited out, the same op id
resent, stored once); storage down past the deadline (the refusal
returned); a refusal that is not transient (returned at once); the
authority silent past the deadline (None).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from documents.store import MemoryDocumentStore
from realtime.authority import Authority
from realtime.protocol import OpMessage, Rejection
from realtime.runner import StoreRunner
from realtime.server_change import submit_until_answered
from tests.documents.faulty_store import FaultyStore


@pytest.fixture(name="env")
async def env_fixture():
    store = FaultyStore(MemoryDocumentStore())
    store.gate = threading.Event()
    store.gate.set()
    runner = StoreRunner(store, max_workers=2)
    authority = await Authority.load(
        public_id=store.add_document(), runner=runner, window_size=100, max_length=10_000
    )
    yield store, authority
    authority.close()
    store.gate.set()
    runner.shutdown()


def change(n: int, delta: list) -> OpMessage:
    return OpMessage(op_id="s" * 24 + f":{n}", rev=0, delta=delta)


async def test_storage_down_for_a_while_is_waited_out_and_stored_once(env):
    store, authority = env
    store.fail_appends = 2
    loop = asyncio.get_running_loop()
    answer = await submit_until_answered(
        authority, change(1, [{"insert": "x"}]), user_id=7, deadline=loop.time() + 10
    )
    assert answer == 1
    assert authority.head == 1 and authority.content() == [{"insert": "x\n"}]
    assert store.fail_appends == 0


async def test_storage_down_past_the_deadline_returns_the_refusal(env):
    store, authority = env
    store.fail_appends = 1000
    loop = asyncio.get_running_loop()
    answer = await submit_until_answered(
        authority, change(1, [{"insert": "x"}]), user_id=7, deadline=loop.time() + 0.3
    )
    assert isinstance(answer, Rejection) and answer.code == "unavailable"
    assert authority.head == 0


async def test_a_refusal_that_is_not_transient_is_returned_at_once(env):
    _, authority = env
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await submit_until_answered(
        authority, change(1, [{"retain": 5}]), user_id=7, deadline=started + 10
    )
    assert isinstance(answer, Rejection) and answer.code == "bad_op"
    assert loop.time() - started < 5  # not waited out


async def test_an_authority_silent_past_the_deadline_gives_none(env):
    store, authority = env
    store.gate.clear()  # the append hangs in the "database"
    loop = asyncio.get_running_loop()
    answer = await submit_until_answered(
        authority, change(1, [{"insert": "x"}]), user_id=7, deadline=loop.time() + 0.3
    )
    assert answer is None
