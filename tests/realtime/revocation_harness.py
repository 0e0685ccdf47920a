"""Real sockets on a real daphne with a Redis layer, for the revocation tests.

The test process and daphne share one Redis channel layer, so a change made
here (an ORM call, an admin page, a logout through the test client) sends
its ``documents.events`` message the way a request on any worker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import Any

from documents.models import Operation
from tests.realtime.conftest import db

REDIS_LAYER = "channels_redis.core.RedisChannelLayer"


def use_redis_layer(settings: Any, url: str) -> None:
    """Point this process's channel layer at ``url`` (as daphne's is)."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": REDIS_LAYER, "CONFIG": {"hosts": [url]}}}
    channel_layers.backends = {}


class LiveSocket:
    """A ``websockets`` connection speaking JSON frames, with its hello."""

    def __init__(self, ws: Any, hello: dict) -> None:
        self.ws = ws
        self.hello = hello
        self.rev = hello["rev"]
        self.acked: list[str] = []
        #: Every message received, in order.
        self.seen: list[dict] = []
        self._n = 0
        self._client = secrets.token_hex(10)  # op ids are per client

    @classmethod
    async def open(cls, base: str, doc_id: str, cookie: str) -> LiveSocket:
        """Open a socket with the worker's own Origin and return it after hello."""
        from websockets.asyncio.client import connect

        ws_url = base.replace("http://", "ws://")
        ws = await connect(
            f"{ws_url}/ws/docs/{doc_id}/",
            origin=base,
            additional_headers={"Cookie": cookie},
            open_timeout=20,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert hello["type"] == "hello", hello
        return cls(ws, hello)

    async def send_op(self, text: str) -> str:
        """Send an insert at the start; return its op id."""
        self._n += 1
        op_id = f"{self._client}:{self._n}"
        await self.ws.send(
            json.dumps({"type": "op", "id": op_id, "rev": self.rev, "delta": [{"insert": text}]})
        )
        return op_id

    async def edit(self, text: str, timeout: float = 10) -> None:
        """Send an op and wait for its ack."""
        op_id = await self.send_op(text)
        await self.until(lambda m: m.get("type") == "ack" and m.get("id") == op_id, timeout)

    async def until(self, predicate: Any, timeout: float = 10) -> dict:
        """Return the first message matching ``predicate`` (batches unpacked)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message; got {self.seen[-5:]}")
            try:
                text = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                raise TimeoutError(f"no matching message; got {self.seen[-5:]}") from None
            frame = json.loads(text)
            for msg in frame["messages"] if frame.get("type") == "batch" else [frame]:
                self._note(msg)
                if predicate(msg):
                    return msg

    def _note(self, msg: dict) -> None:
        self.seen.append(msg)
        if msg.get("type") == "ack":
            self.acked.append(msg["id"])
            self.rev = max(self.rev, msg["rev"])
        elif msg.get("type") == "op":
            self.rev = max(self.rev, msg["rev"])

    async def closed(self, timeout: float = 10) -> tuple[int | None, list[dict]]:
        """Read until the server closes; return the close code and what came."""
        from websockets.exceptions import ConnectionClosed

        seen: list[dict] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"socket still open; got {seen}")
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), left))
                for msg in frame["messages"] if frame.get("type") == "batch" else [frame]:
                    self._note(msg)
                    seen.append(msg)
        except ConnectionClosed:
            pass
        return self.ws.close_code, seen

    async def close(self) -> None:
        """Close from the client side (ignore errors)."""
        with contextlib.suppress(Exception):  # already gone
            await self.ws.close()


def _ops_by(public_id: str, user_pk: int) -> int:
    return Operation.objects.filter(document__public_id=public_id, author_id=user_pk).count()


async def ops_by(public_id: str, user_pk: int) -> int:
    """Return how many ops ``user_pk`` has stored in the document."""
    return await db(_ops_by, public_id, user_pk)
