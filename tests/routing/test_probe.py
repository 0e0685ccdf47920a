"""The route endpoint's wait for a dead owner to leave the ring (routing/probe.py)."""

from __future__ import annotations

import asyncio
import time
import uuid

from collabdocs.devservers import free_port
from routing.ownership import Ownership
from routing.probe import refuses_connections, route_past_dead_owner


def ring_with_dead_owner() -> tuple[Ownership, uuid.UUID, str]:
    dead = f"http://127.0.0.1:{free_port()}"
    ownership = Ownership(self_id="a", self_url="http://127.0.0.1:1", cluster=True)
    ownership.set_members({"a": "http://127.0.0.1:1", "b": dead})
    ownership.set_serving(True)
    doc = next(d for d in (uuid.uuid4() for _ in range(200)) if ownership.route(d).worker_id == "b")
    return ownership, doc, dead


async def test_a_closed_port_is_refused_a_listening_one_is_not():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await refuses_connections(f"http://127.0.0.1:{port}") is False
    finally:
        server.close()
    assert await refuses_connections(f"http://127.0.0.1:{free_port()}") is True


async def test_the_answer_waits_for_the_ring_to_drop_a_dead_owner():
    ownership, doc, _ = ring_with_dead_owner()
    loop = asyncio.get_running_loop()
    loop.call_later(0.4, ownership.set_members, {"a": "http://127.0.0.1:1"})
    started = time.monotonic()
    route = await route_past_dead_owner(ownership, doc, wait=5)
    took = time.monotonic() - started
    assert route.local and route.worker_id == "a"
    assert 0.3 < took < 4, took  # answered when the ring changed, not at the deadline


async def test_the_wait_is_bounded_and_a_live_owner_is_answered_at_once():
    ownership, doc, dead = ring_with_dead_owner()
    started = time.monotonic()
    route = await route_past_dead_owner(ownership, doc, wait=0.3)
    assert route.url == dead and time.monotonic() - started >= 0.3
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        ownership.set_members({"a": "http://127.0.0.1:1", "b": f"http://127.0.0.1:{port}"})
        started = time.monotonic()
        route = await route_past_dead_owner(ownership, doc, wait=30)
        assert route.worker_id == "b" and time.monotonic() - started < 5
    finally:
        server.close()
