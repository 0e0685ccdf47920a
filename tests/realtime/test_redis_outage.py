"""Redis stopped mid-edit costs only the cross-worker events (docs/scaleout.md).

A real redis-server (started here, so it can be stopped and started again on
its port) is the channel layer of a real daphne and of this process. While
it is down for about 5 s: two sockets on the worker go on editing (ops
acked, each sees the other's), a new socket connects, and a change of access
made meanwhile does not fail its request. When Redis is back, the sockets
rejoin their groups and re-check their access once, so that change takes
effect without any op from the person who lost access. Nothing acked is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from collabdocs.devservers import Server, start_redis
from documents import events
from documents.models import Operation
from documents.services import share_revoke
from tests.conftest import DaphneProcess
from tests.realtime.conftest import create_document, create_user, db, session_cookie, share
from tests.realtime.revocation_harness import LiveSocket, use_redis_layer

OUTAGE_SECONDS = 5.0


@pytest.fixture
def own_redis() -> Iterator[dict[str, Any]]:
    """Start a Redis this test may stop; ``holder["server"]`` is the current one."""
    holder: dict[str, Any] = {"server": start_redis()}
    holder["port"] = holder["server"].port
    holder["url"] = holder["server"].extra["url"]
    yield holder
    server: Server | None = holder.get("server")
    if server is not None:
        server.stop()


def _stored_op_ids(public_id: str) -> set[str]:
    return set(
        Operation.objects.filter(document__public_id=public_id).values_list("op_id", flat=True)
    )


async def _type(sock: LiveSocket, other: LiveSocket, label: str, count: int) -> None:
    """Edit ``count`` times, each acked; ``other`` sees each op."""
    for n in range(count):
        op_id = await sock.send_op(f"{label}{n} ")
        await sock.until(lambda m, op_id=op_id: m.get("type") == "ack" and m.get("id") == op_id)
        await other.until(lambda m, op_id=op_id: m.get("type") == "op" and m.get("id") == op_id)


async def test_editing_goes_on_while_redis_is_down(
    own_redis: dict[str, Any],
    daphne_factory: Callable[..., DaphneProcess],
    settings: Any,
    transactional_db: None,
) -> None:
    use_redis_layer(settings, own_redis["url"])
    live = daphne_factory(REDIS_URL=own_redis["url"])

    def setup() -> tuple[Any, ...]:
        owner, editor, viewer = (create_user(name) for name in ("owner", "editor", "viewer"))
        document = create_document(owner)
        share(document, editor, edit=True)
        share(document, viewer)
        return (
            owner,
            viewer,
            document,
            session_cookie(owner),
            session_cookie(editor),
            session_cookie(viewer),
            session_cookie(editor),
        )

    owner, viewer, document, owner_cookie, editor_cookie, viewer_cookie, late_cookie = await db(
        setup
    )
    doc_id = str(document.public_id)
    a = await LiveSocket.open(live.url, doc_id, owner_cookie)
    b = await LiveSocket.open(live.url, doc_id, editor_cookie)
    watcher = await LiveSocket.open(live.url, doc_id, viewer_cookie)
    await _type(a, b, "a-before", 3)
    await _type(b, a, "b-before", 3)

    own_redis["server"].stop()
    own_redis["server"] = None
    down_at = time.monotonic()
    # Editing goes on: acked, and broadcast between the two sockets.
    await _type(a, b, "a-during", 5)
    await _type(b, a, "b-during", 5)
    # A new socket connects and edits.
    c = await LiveSocket.open(live.url, doc_id, late_cookie)
    await _type(c, a, "c-during", 2)
    # The owner revokes the viewer's share while the layer is down: the
    # service (its events and the revocation receivers) does not fail.
    started = time.monotonic()
    await db(share_revoke, document=document, actor=owner, user=viewer)
    notify = time.monotonic() - started
    print(f"revocation + notification with Redis down took {notify * 1000:.0f} ms")
    assert notify < events.SEND_TIMEOUT * 2 + 2
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))

    own_redis["server"] = start_redis(port=own_redis["port"])
    back_at = time.monotonic()
    print(f"Redis was down {back_at - down_at:.1f} s")
    # The viewer never typed: only the rejoin's re-check can close it.
    code, seen = await watcher.closed(timeout=20)
    print(f"viewer closed {code} {time.monotonic() - back_at:.1f} s after Redis returned")
    assert code == 4403, seen
    await _type(a, b, "a-after", 3)
    await _type(b, a, "b-after", 3)
    # Events flow through the layer again: each socket rejoins within its
    # backoff (at most 3 s), so rename until every socket has heard.
    waiting = {id(sock): sock for sock in (a, b, c)}
    for attempt in range(20):
        await db(events.title_changed, public_id=doc_id, title=f"after the outage {attempt}")
        for key, sock in list(waiting.items()):
            try:
                await sock.until(lambda m: m.get("type") == "title", timeout=0.5)
            except TimeoutError:
                continue
            del waiting[key]
        if not waiting:
            break
    print(f"every socket heard a title {time.monotonic() - back_at:.1f} s after Redis returned")
    assert not waiting

    acked = set(a.acked) | set(b.acked) | set(c.acked)
    assert len(acked) == 3 + 3 + 5 + 5 + 2 + 3 + 3
    stored = await db(_stored_op_ids, doc_id)
    assert acked <= stored, acked - stored
    log = live.log()
    assert "Traceback" not in log, log[-3000:]
    for sock in (a, b, c):
        await sock.close()
