"""The registry's wiring: collaborators by constructor, one process holder.

Failure modes covered:

* a custom store silently turning leases and compaction off (it did when
  the lease keeper defaulted to "none" for any store passed in): on the
  memory store, a loaded document holds its lease, enough commits store a
  snapshot, and unloading stores the last one and lets the lease go;
* the lease check not reaching the authorities: ``accepting`` saying no
  refuses ops with ``unavailable``;
* a gate that refuses (another worker owns the document) leaving a
  half-loaded document behind;
* the process holder: a lazy single-node registry only while none is
  installed, one install at a time, and an empty registry that is falsy.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from documents.store import DjangoDocumentStore, MemoryDocumentStore
from realtime.exceptions import NotOwner
from realtime.placement import SINGLE_NODE
from realtime.protocol import ErrorCode, OpMessage, user_json
from realtime.registry import (
    Registry,
    install_registry,
    process_registry,
    uninstall_registry,
)
from realtime.subscriber import Subscriber

CLIENT = "r" * 20


class Socket:
    """A subscriber whose messages land in a list."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.sub = Subscriber(
            session="s",
            user_id=1,
            user_json=user_json(user_id=1, name="one", color="#000000"),
            can_edit=True,
            send=self._send,
        )

    async def _send(self, text: str) -> None:
        frame = json.loads(text)
        self.messages.extend(frame["messages"] if frame["type"] == "batch" else [frame])

    async def answer(self, op_id: str) -> dict[str, Any]:
        """Return the ack or error of ``op_id`` once it arrives."""
        for _ in range(500):
            for message in self.messages:
                if message.get("id") == op_id and message["type"] in ("ack", "error"):
                    return message
            await asyncio.sleep(0.01)
        raise AssertionError(f"no answer to {op_id}: {self.messages}")


def op(n: int, rev: int, text: str) -> OpMessage:
    return OpMessage(op_id=f"{CLIENT}:{n}", rev=rev, delta=[{"insert": text}])


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in 5 s")


@pytest.fixture
def unload_at_once(settings: Any) -> None:
    """Unload a document as soon as its last holder lets go."""
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IDLE_UNLOAD_SECONDS": 0}


async def test_a_custom_store_keeps_leases_and_compaction(unload_at_once: None) -> None:
    store = MemoryDocumentStore(holder="worker-a")
    doc = store.add_document()
    registry = Registry(store=store, threads=2, compact_after=2)
    try:
        authority = await registry.acquire(doc)
        assert store.document_row(doc).lease_holder == "worker-a"
        sock = Socket()
        authority.attach(sock.sub)
        for n in range(1, 4):
            await authority.submit(sock.sub, op(n, n - 1, f"{n}"))
            assert (await sock.answer(f"{CLIENT}:{n}"))["type"] == "ack"
        # Past the threshold: the owner's content becomes the snapshot.
        await until(lambda: store.document_row(doc).snapshot_revision >= 2)
        authority.detach(sock.sub)
        registry.release(authority)
        await until(lambda: store.document_row(doc).lease_holder == "")
        row = store.document_row(doc)
        assert row.snapshot_revision == 3 and row.closed_at is not None
        assert row.snapshot_content == [{"insert": "321\n"}]  # each typed at the start
    finally:
        await registry.close()


async def test_the_registry_hands_its_lease_check_to_every_authority() -> None:
    store = MemoryDocumentStore()
    doc = store.add_document()
    accepting = True
    registry = Registry(store=store, threads=2, accepting=lambda: accepting)
    try:
        authority = await registry.acquire(doc)
        sock = Socket()
        authority.attach(sock.sub)
        accepting = False
        await authority.submit(sock.sub, op(1, 0, "x"))
        refused = await sock.answer(f"{CLIENT}:1")
        assert refused["type"] == "error" and refused["code"] == ErrorCode.UNAVAILABLE
        accepting = True
        await authority.submit(sock.sub, op(2, 0, "y"))
        assert (await sock.answer(f"{CLIENT}:2"))["type"] == "ack"
        registry.release(authority)
    finally:
        await registry.close()


class RefusingGate:
    """A gate that says another worker owns every document."""

    def __init__(self) -> None:
        self.left: list[uuid.UUID] = []

    async def enter(self, public_id: uuid.UUID) -> None:
        raise NotOwner(str(public_id))

    async def leave(self, public_id: uuid.UUID) -> None:
        self.left.append(public_id)


async def test_open_leases_are_renewed_while_the_document_stays_open() -> None:
    store = MemoryDocumentStore(holder="worker-a")
    doc = store.add_document()
    registry = Registry(store=store, threads=2, renew_every=0.05)
    try:
        authority = await registry.acquire(doc)
        store.document_row(doc).lease_holder = ""  # as if it had expired and been cleared
        await until(lambda: store.document_row(doc).lease_holder == "worker-a")
        registry.release(authority)
    finally:
        await registry.close()


async def test_a_refusing_gate_leaves_nothing_loaded_and_nothing_to_leave() -> None:
    store = MemoryDocumentStore()
    doc = store.add_document()
    gate = RefusingGate()
    registry = Registry(store=store, threads=2, gate=gate)
    try:
        with pytest.raises(NotOwner):
            await registry.acquire(doc)
        assert registry.open_documents() == {} and registry.get(doc) is None
        assert gate.left == []  # never entered
        assert store.document_row(doc).lease_holder == ""  # never loaded here
    finally:
        await registry.close()


async def test_with_no_arguments_a_registry_is_a_single_node_on_the_database() -> None:
    registry = Registry()
    try:
        assert isinstance(registry.store, DjangoDocumentStore)
        assert registry.gate is None and registry.placement is SINGLE_NODE
        assert registry.accepting() is True
        assert registry  # empty, yet not falsy: callers write `if registry`
    finally:
        registry.runner.shutdown()


async def test_the_process_registry_is_made_lazily_only_while_none_is_installed() -> None:
    made = process_registry()
    assert process_registry() is made
    mine = Registry(store=MemoryDocumentStore(), threads=1)
    install_registry(mine)
    assert process_registry() is mine
    with pytest.raises(RuntimeError):
        install_registry(Registry(store=MemoryDocumentStore(), threads=1))
    assert uninstall_registry() is mine
    assert process_registry() is not mine
    mine.runner.shutdown()


def test_a_registry_is_built_for_a_loop_that_is_not_running_yet() -> None:
    """The worker builds it at start-up, before its event loop runs."""
    loop = asyncio.new_event_loop()
    try:
        registry = Registry(store=MemoryDocumentStore(), threads=1, loop=loop)
        install_registry(registry)

        async def served() -> Registry:
            return process_registry()

        assert loop.run_until_complete(served()) is registry
    finally:
        uninstall_registry()
        registry.runner.shutdown()
        loop.close()
