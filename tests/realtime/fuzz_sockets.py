"""Sockets for the fuzz test: a raw socket that records every answer, a counting client.

:class:`RawSocket` sends frames a real client never would and keeps, per
socket, every ``ack`` and ``error`` it was sent, so the test can check that
each frame got exactly one answer and that nothing it meant as invalid was
acked. A socket that never has an op acked (a viewer's) can also *mirror* the
document: it gets every op as a broadcast, in order, and applies it, so
its copy is exact at ``mirror_rev`` and close to the head. Frames that need
the document are built on that copy. (A socket whose ops are acked cannot:
an ack does not carry the delta as applied.)
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from collabdocs.devclient import ProtocolViolation, WSClient
from realtime.ot import Delta, DocumentText
from tests.realtime.fuzz_gen import Frame

ORIGIN = None  # no Origin header: a non-browser client (collabdocs/origin.py)


class CountingClient(WSClient):
    """A :class:`WSClient` that counts the frames it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames_sent = 0

    async def _send_all(self, frames: list[str]) -> None:
        self.frames_sent += len(frames)
        await super()._send_all(frames)


class RawSocket:
    """One socket that sends raw frames and records the answers it gets."""

    def __init__(
        self, base: str, doc_id: str, cookie: str, name: str, *, mirror: bool = False
    ) -> None:
        self.url = f"{base}/ws/docs/{doc_id}/"
        self.cookie = cookie
        self.name = name
        self.ws: Any = None
        self.hello: dict | None = None
        #: Frames sent that must each get one answer (an ack or an error).
        self.sent = 0
        #: Answers received: errors, and acks of ids this socket sent.
        self.answers = 0
        self.acks: dict[str, list[int]] = {}
        self.errors: list[dict] = []
        self.codes: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        #: The highest revision seen in an op or ack.
        self.head_seen = 0
        self.closed_with: int | None = None
        self.mirror: DocumentText | None = None
        self.mirror_rev = 0
        self._mirrors = mirror
        self.violation: str | None = None
        self._own_ids: set[str] = set()
        #: The last frames sent, for the report of a frame left unanswered.
        self.recent: list[str] = []
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> dict:
        """Connect; return ``hello``."""
        from websockets.asyncio.client import connect

        self.ws = await connect(
            self.url,
            origin=ORIGIN,
            additional_headers={"Cookie": self.cookie},
            max_size=None,
            compression=None,
            open_timeout=20,
        )
        self.hello = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
        assert self.hello["type"] == "hello", self.hello
        self.head_seen = self.hello["rev"]
        if self._mirrors:
            self.mirror = DocumentText.from_ops(self.hello["content"])
            self.mirror_rev = self.hello["rev"]
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self.hello

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                for item in msg["messages"] if msg.get("type") == "batch" else [msg]:
                    self._take(item)
                self._changed.set()
        except ProtocolViolation as exc:
            self.violation = str(exc)
        except Exception:  # noqa: BLE001 - recorded below
            pass
        self.closed_with = self.ws.close_code if self.ws.close_code is not None else -1
        self._changed.set()

    def _take(self, msg: dict) -> None:
        kind = msg.get("type")
        if kind in ("op", "ack"):
            self.head_seen = max(self.head_seen, msg["rev"])
        if kind == "op" and self.mirror is not None:
            if msg["rev"] != self.mirror_rev + 1:
                raise ProtocolViolation(f"{self.name}: op r{msg['rev']} after r{self.mirror_rev}")
            self.mirror.apply(Delta(msg["delta"]))
            self.mirror_rev = msg["rev"]
        elif kind == "ack" and self.mirror is not None:
            raise ProtocolViolation(f"{self.name}: a mirroring socket was acked {msg}")
        if kind == "ack":
            self.acks.setdefault(msg["id"], []).append(msg["rev"])
            if msg["id"] in self._own_ids:
                self.answers += 1
        elif kind == "error":
            self.errors.append(msg)
            self.codes[msg.get("code", "?")] += 1
            self.answers += 1

    @property
    def outstanding(self) -> int:
        """Return how many frames still wait for their answer."""
        return self.sent - self.answers

    async def send(self, frame: Frame) -> None:
        """Send ``frame`` (it will be answered exactly once)."""
        if frame.op_id is not None:
            self._own_ids.add(frame.op_id)
        self.sent += 1
        self.kinds[frame.kind.split(" ")[0] if frame.kind.startswith("deep") else frame.kind] += 1
        self.recent.append(f"{frame.kind}: {frame.text[:160]}")
        del self.recent[: -2 * 20]
        await self.ws.send(frame.text.encode() if frame.binary else frame.text)

    def expect_id(self, op_id: str) -> None:
        """Count acks of ``op_id`` (sent in a frame built by the caller) as answers."""
        self._own_ids.add(op_id)

    async def wait(self, predicate: Any, timeout: float) -> None:
        """Wait until ``predicate()`` holds or the socket closed."""

        async def loop() -> None:
            while not predicate() and self.closed_with is None:
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

        try:
            await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: {self.outstanding} frames unanswered after {timeout} s; last sent:\n"
                + "\n".join(self.recent)
                + "\nlast errors: "
                + json.dumps(self.errors[-5:])
            ) from None

    async def wait_below(self, most: int, timeout: float = 30) -> None:
        """Wait until fewer than ``most`` frames are unanswered."""
        if self.outstanding >= most:
            await self.wait(lambda: self.outstanding < most, timeout)

    async def close(self) -> None:
        """Close the socket."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
