"""Hand-overs in the registry: the gate around a loaded document, and evict.

On the in-memory store, with a gate that records what it is asked: the
document's lock (in production :class:`routing.locks.DocumentLocks`) must be
taken before the document loads and let go only after it is unloaded, and an
evicted document must store and ack what it accepted before its sockets are
closed with 4503.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from documents.replay import replay
from documents.store import MemoryDocumentStore
from realtime.exceptions import AuthorityClosed
from realtime.protocol import CloseCode, OpMessage
from realtime.registry import Registry
from tests.realtime.test_authority import FakeSocket

CLIENT = "h" * 20


class HeldStore(MemoryDocumentStore):
    """A memory store whose appends and loads can be held."""

    def __init__(self) -> None:
        super().__init__()
        self.appending = threading.Event()
        self.appending.set()
        self.loading = threading.Event()
        self.loading.set()
        self.calls: list[str] = []

    def append(self, *, document_pk, ops):
        self.calls.append("append")
        self.appending.wait(10)
        super().append(document_pk=document_pk, ops=ops)

    def load(self, **kwargs):
        self.calls.append("load")
        self.loading.wait(10)
        return super().load(**kwargs)


class RecordingGate:
    """A gate that records entering and leaving, in the store's call log."""

    def __init__(self, store: HeldStore) -> None:
        self.store = store

    async def enter(self, public_id: uuid.UUID) -> None:
        self.store.calls.append("enter")

    async def leave(self, public_id: uuid.UUID) -> None:
        self.store.calls.append("leave")


@pytest.fixture
async def setup():
    store = HeldStore()
    registry = Registry(store=store, threads=2, gate=RecordingGate(store))
    yield store, registry
    store.appending.set()
    store.loading.set()
    await registry.close()


def op(n: int, rev: int, text: str) -> OpMessage:
    return OpMessage(op_id=f"{CLIENT}:{n}", rev=rev, delta=[{"insert": text}])


async def test_the_gate_is_entered_before_loading_and_left_after_unloading(setup):
    store, registry = setup
    doc = store.add_document()
    authority = await registry.acquire(doc)
    assert store.calls == ["enter", "load"]
    assert registry.open_documents() == {doc: 0}
    await registry.evict(doc, code=CloseCode.GOING_AWAY, message="moved")
    assert store.calls[-1] == "leave"
    assert registry.open_documents() == {}
    registry.release(authority)  # a late disconnect changes nothing
    again = await registry.acquire(doc)
    assert again is not authority and store.calls.count("enter") == 2


async def test_evict_stores_and_acks_what_it_accepted_then_closes_with_4503(setup):
    store, registry = setup
    doc = store.add_document()
    authority = await registry.acquire(doc)
    a, b = FakeSocket("a"), FakeSocket("b")
    authority.attach(a.sub)
    authority.attach(b.sub)
    store.appending.clear()  # the first commit hangs in the database
    await authority.submit(a.sub, op(1, 0, "kept "))
    evicting = asyncio.ensure_future(
        registry.evict(doc, code=CloseCode.GOING_AWAY, message="moved")
    )
    await asyncio.sleep(0.05)
    assert authority.draining and not evicting.done()
    with pytest.raises(AuthorityClosed):
        await authority.submit(b.sub, op(2, 0, "refused "))
    store.appending.set()
    await asyncio.wait_for(evicting, 5)
    acks = [m for m in a.messages() if m["type"] == "ack"]
    assert acks == [{"type": "ack", "id": f"{CLIENT}:1", "rev": 1}]
    assert a.closed_with == b.closed_with == 4503
    assert a.messages()[-1]["code"] == "denied"
    assert store.calls[-1] == "leave"
    # Stored at revision 1, as an op or folded into the unload's snapshot.
    loaded = store.load(public_id=doc)
    content = replay(loaded.snapshot_content, [o.delta for o in loaded.ops])
    assert loaded.head_revision == 1 and content.to_ops() == [{"insert": "kept \n"}]


async def test_a_document_still_loading_is_evicted_once_loaded(setup):
    store, registry = setup
    doc = store.add_document()
    store.loading.clear()
    acquiring = asyncio.ensure_future(registry.acquire(doc))
    await asyncio.sleep(0.05)
    assert registry.open_documents() == {doc: 0}
    evicting = asyncio.ensure_future(
        registry.evict(doc, code=CloseCode.GOING_AWAY, message="moved")
    )
    store.loading.set()
    authority = await asyncio.wait_for(acquiring, 5)
    await asyncio.wait_for(evicting, 5)
    assert authority.closed and registry.open_documents() == {}
    assert store.calls == ["enter", "load", "leave"]


async def test_a_gate_that_refuses_leaves_nothing_loaded(setup):
    store, registry = setup

    class Refusing(RecordingGate):
        async def enter(self, public_id: uuid.UUID) -> None:
            raise LookupError("not here")

    registry.gate = Refusing(store)
    doc = store.add_document()
    with pytest.raises(LookupError):
        await registry.acquire(doc)
    assert registry.open_documents() == {} and "load" not in store.calls
