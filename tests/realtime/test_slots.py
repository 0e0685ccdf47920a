"""Per-user socket slots come back on every way a consumer can end.

A consumer that dies by an exception, one the server cancels after the
socket closed (daphne does so ``application_close_timeout`` after close),
and sockets dropped without a close handshake (TCP aborted, also in the
middle of the handshake) must all give their slot back: afterwards the
user opens exactly ``SOCKETS_PER_USER`` sockets again and the next gets
4429. The in-process tests also check the count itself and that the
document's authority let go of the dead sockets.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest

from realtime.consumers import DocumentConsumer
from realtime.registry import process_registry
from realtime.subscriber import Subscriber
from tests.conftest import DaphneProcess
from tests.realtime.conftest import create_document, create_user, db, session_cookie
from tests.realtime.revocation_harness import LiveSocket

BOOM = '{"type": "boom"}'
ROUNDS = 8


def _held(doc_id: str, user_pk: int) -> tuple[int, int]:
    registry = process_registry()
    authority = registry.get(__import__("uuid").UUID(doc_id))
    return registry.sockets.count(user_pk), len(authority.subscribers) if authority else 0


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a ``boom`` frame raise inside the consumer (a bug, as it were)."""
    real = DocumentConsumer._receive

    async def receive(self, sub, text_data):
        if text_data == BOOM:
            raise RuntimeError("a bug in the consumer")
        return await real(self, sub, text_data)

    monkeypatch.setattr(DocumentConsumer, "_receive", receive)


async def test_consumers_dying_by_exception_give_their_slots_back(
    people, ws_connect, settings, boom
):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "SOCKETS_PER_USER": 2}
    owner = people["users"]["owner"]
    for _ in range(ROUNDS):
        sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
        assert _held(people["doc_id"], owner.pk)[0] >= 1
        await sock.send(BOOM)
        with pytest.raises(RuntimeError, match="a bug"):
            await asyncio.wait_for(asyncio.shield(sock.comm.future), 5)
    assert _held(people["doc_id"], owner.pk) == (0, 0)
    first = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    second = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
    assert first.hello and second.hello
    assert _held(people["doc_id"], owner.pk) == (2, 2)


async def test_consumers_cancelled_by_the_server_give_their_slots_back(
    people, ws_connect, settings
):
    settings.COLLABDOCS = {**settings.COLLABDOCS, "SOCKETS_PER_USER": 2}
    owner = people["users"]["owner"]
    for _ in range(ROUNDS):
        sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])
        # What daphne does to an application still running after close.
        sock.comm.future.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sock.comm.future
    assert _held(people["doc_id"], owner.pk) == (0, 0)
    for _ in range(2):
        assert (await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"])).hello
    over = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"], expect_hello=False)
    assert (await over.recv())["code"] == "denied"
    assert await over.closed() == 4429


async def _abort_during_handshake(base: str, doc_id: str, cookie: str) -> None:
    """Send the upgrade request and drop the TCP connection without reading."""
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET /ws/docs/{doc_id}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: {base}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    writer.transport.abort()


async def test_abrupt_drops_on_a_real_server_leak_no_slot(
    daphne_factory: Callable[..., DaphneProcess], transactional_db: None
) -> None:
    limit = 3
    live = daphne_factory(COLLABDOCS_SOCKETS_PER_USER=str(limit))

    def setup() -> tuple[str, str]:
        owner = create_user("owner")
        return str(create_document(owner).public_id), session_cookie(owner)

    doc_id, cookie = await db(setup)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    for _ in range(ROUNDS):
        socks: list[Any] = []
        for _ in range(limit):
            if rng.random() < 0.3:
                await _abort_during_handshake(live.url, doc_id, cookie)
                continue
            sock = await LiveSocket.open(live.url, doc_id, cookie)
            if rng.random() < 0.5:
                await sock.send_op("x")  # drop with an op in flight
            socks.append(sock)
        for sock in socks:
            sock.ws.transport.abort()
        await asyncio.sleep(rng.random() * 0.05)
    # The server notices the drops (TCP reset) and releases; wait for it
    # the way a person would retry, then the count must be exactly right.
    opened: list[LiveSocket] = []
    for _ in range(50):
        try:
            opened.append(await LiveSocket.open(live.url, doc_id, cookie))
        except AssertionError:
            await asyncio.sleep(0.2)  # 4429: a drop not noticed yet
        if len(opened) == limit:
            break
    assert len(opened) == limit
    from websockets.asyncio.client import connect

    ws = await connect(
        f"{live.ws_url}/ws/docs/{doc_id}/", origin=live.url, additional_headers={"Cookie": cookie}
    )
    assert '"denied"' in await ws.recv()
    await ws.wait_closed()
    assert ws.close_code == 4429
    for sock in opened:
        await sock.close()
    assert "Traceback" not in live.log(), live.log()[-3000:]


async def test_a_send_to_an_aborted_socket_logs_one_line_and_drops_it(caplog):
    """An aborted socket fails every send: one debug line, no traceback, no retries."""
    import logging

    attempts: list[str] = []

    async def send(text: str) -> None:
        attempts.append(text)
        raise ConnectionResetError("the peer went away")

    sub = Subscriber(session="s1", user_id=1, user_json="{}", can_edit=True, send=send)
    with caplog.at_level(logging.DEBUG, logger="realtime.subscriber"):
        for n in range(20):
            await sub.send_frames([f"frame {n}", f"frame {n}b"])
    assert sub.closed
    assert attempts == ["frame 0"]
    records = [r for r in caplog.records if r.name == "realtime.subscriber"]
    assert len(records) == 1 and records[0].levelno == logging.DEBUG, records
    assert records[0].exc_info is None
