"""A Python client of the collaboration protocol, for the tests and ``bench/``.

Part of the development harness beside :mod:`collabdocs.devservers`
(servers), :mod:`collabdocs.devcluster` (workers) and
:mod:`collabdocs.devediting` (editors that keep editing): the product
never imports it.

Two layers, as in ot.js:

* :class:`OTClient` is the protocol's client state machine without any
  transport: feed it server messages, local edits and acks, and it returns
  the frames to send. Its states are ot.js's::

      synchronized --edit--> awaiting confirm --edit--> awaiting with buffer
           ^                      |   ^                      |
           +--------ack-----------+   +--------ack-----------+
                                       (the buffer becomes the op in flight)

  A server op ``s`` arriving while ``p`` is in flight (and ``b`` buffered)
  is transformed so that both sides converge (protocol.md "Ties")::

      p' = s.transform(p, True)      s' = p.transform(s, False)
      b' = s'.transform(b, True)     s'' = b.transform(s', False)

  and ``s''`` is applied to the local document.

* :class:`WSClient` runs an :class:`OTClient` over a real WebSocket (the
  ``websockets`` package): reconnect with ``?rev=``, resend after
  ``unavailable``/``rate_limited`` with backoff and jitter, same op ids.
  It follows ``redirect`` (at most 3 in a row) and, after close 4503 or
  two failed attempts, asks the route endpoint of the worker it started
  on, as the browser does (protocol.md "Routing").

Nothing here imports Django; it needs ``realtime.ot`` and
``realtime.framing`` only, and ``websockets`` (a test requirement) once a
:class:`WSClient` connects.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from realtime.framing import Reassembler
from realtime.ot import Delta, DocumentText

RETRY_CODES = frozenset({"rate_limited", "unavailable"})
#: Redirects followed in a row before asking the route endpoint.
MAX_REDIRECTS = 3


async def _recv_whole(ws: Any, parts: Reassembler) -> str:
    """Return the next whole server frame, joining ``part`` frames."""
    while True:
        text = parts.feed(await ws.recv())
        if text is not None:
            return text


class ProtocolViolation(AssertionError):
    """The server broke the protocol (a gap, an unknown ack...)."""


def _op_frame(op_id: str, rev: int, delta: Delta) -> str:
    return json.dumps(
        {"type": "op", "id": op_id, "rev": rev, "delta": delta.ops}, ensure_ascii=False
    )


class OTClient:
    """The protocol's client state machine (see the module docstring).

    ``doc`` is the client's document (its own pending edits included) and
    ``rev`` the last server revision it has seen. ``acked`` maps the ids of
    its acknowledged ops to their revisions.
    """

    def __init__(self, client_id: str | None = None) -> None:
        self.client_id = client_id or secrets.token_hex(16)
        self.seq = 0
        self.doc: DocumentText | None = None
        self.rev = 0
        self.inflight: tuple[str, Delta] | None = None
        self.buffer: Delta | None = None
        self.acked: dict[str, int] = {}
        self.errors: list[dict] = []
        self.lost: list[Delta] = []
        self.session: str | None = None
        self.user: dict | None = None
        self.can_edit = False
        self.peers: dict[str, dict] = {}
        self.title: str | None = None

    # -- state -----------------------------------------------------------

    @property
    def state(self) -> str:
        """Return ``synchronized``, ``awaiting_confirm`` or ``awaiting_with_buffer``."""
        if self.inflight is None:
            return "synchronized"
        return "awaiting_confirm" if self.buffer is None else "awaiting_with_buffer"

    @property
    def synchronized(self) -> bool:
        """Return whether nothing is in flight or buffered."""
        return self.inflight is None

    def content(self) -> list[dict]:
        """Return the local document's ops."""
        assert self.doc is not None
        return self.doc.to_ops()

    def next_op_id(self) -> str:
        """Return a fresh op id (``<client id>:<seq>``)."""
        self.seq += 1
        return f"{self.client_id}:{self.seq}"

    # -- input -----------------------------------------------------------

    def on_hello(self, hello: dict) -> list[str]:
        """Take ``hello`` (first or after a reconnect); return frames to send."""
        self.session = hello["session"]
        self.user = hello["user"]
        self.can_edit = hello["can_edit"]
        self.peers = {peer["session"]: peer for peer in hello["peers"]}
        if "ops" in hello:
            for item in hello["ops"]:
                self._server_op(item)
            if self.rev != hello["rev"]:
                raise ProtocolViolation(f"hello.ops end at {self.rev}, hello.rev is {hello['rev']}")
        elif self.doc is not None and hello["rev"] == self.rev:
            pass  # nothing was missed: resend below
        else:
            if self.doc is not None and self.inflight is not None:
                # Cannot rebase: the pending edits are lost (the UI shows them).
                self.lost.append(self.inflight[1])
                if self.buffer is not None:
                    self.lost.append(self.buffer)
            self.inflight = None
            self.buffer = None
            self.doc = DocumentText.from_ops(hello["content"])
            self.rev = hello["rev"]
        return self.resend()

    def edit(self, change: Delta) -> list[str]:
        """Apply a local edit; return the frames to send (if any)."""
        assert self.doc is not None, "no hello yet"
        self.doc.apply(change)
        if self.inflight is None:
            self.inflight = (self.next_op_id(), change)
            return [_op_frame(self.inflight[0], self.rev, change)]
        self.buffer = change if self.buffer is None else self.buffer.compose(change)
        return []

    def resend(self) -> list[str]:
        """Return the frame that resends the op in flight (same id)."""
        if self.inflight is None:
            return []
        op_id, delta = self.inflight
        return [_op_frame(op_id, self.rev, delta)]

    def presence_frame(self, index: int | None, length: int = 0) -> str | None:
        """Return a presence frame, or None while not synchronized."""
        if not self.synchronized:
            return None
        rng = None if index is None else {"index": index, "length": length}
        return json.dumps({"type": "presence", "rev": self.rev, "range": rng})

    def on_message(self, msg: dict) -> list[str]:
        """Take one server message; return the frames to send."""
        kind = msg.get("type")
        if kind == "batch":
            out: list[str] = []
            for inner in msg["messages"]:
                out.extend(self.on_message(inner))
            return out
        if kind == "op":
            return self._server_op(msg)
        if kind == "ack":
            return self._ack(msg["id"], msg["rev"])
        if kind == "error":
            self.errors.append(msg)
        elif kind == "hello":
            return self.on_hello(msg)
        elif kind == "presence":
            self.peers.setdefault(msg["session"], {"session": msg["session"]}).update(
                user=msg["user"], range=msg["range"], rev=msg["rev"]
            )
        elif kind == "join":
            self.peers[msg["session"]] = {
                "session": msg["session"],
                "user": msg["user"],
                "range": None,
            }
        elif kind == "leave":
            self.peers.pop(msg["session"], None)
        elif kind == "access":
            self.can_edit = msg["can_edit"]
        elif kind == "title":
            self.title = msg["title"]
        return []

    def _server_op(self, msg: dict) -> list[str]:
        rev = msg["rev"]
        if rev != self.rev + 1:
            raise ProtocolViolation(f"expected revision {self.rev + 1}, got {rev}")
        if self.inflight is not None and msg["id"] == self.inflight[0]:
            return self._ack(msg["id"], rev)
        s = Delta(msg["delta"])
        if self.inflight is not None:
            op_id, p = self.inflight
            self.inflight = (op_id, s.transform(p, True))
            s = p.transform(s, False)
            if self.buffer is not None:
                b = self.buffer
                self.buffer = s.transform(b, True)
                s = b.transform(s, False)
        assert self.doc is not None
        self.doc.apply(s)
        self.rev = rev
        return []

    def _ack(self, op_id: str, rev: int) -> list[str]:
        if self.inflight is None or self.inflight[0] != op_id:
            return []  # a late or duplicate ack: ignored (protocol.md)
        if rev != self.rev + 1:
            raise ProtocolViolation(f"ack of {op_id} at {rev}, expected {self.rev + 1}")
        self.rev = rev
        self.acked[op_id] = rev
        self.inflight = None
        if self.buffer is not None:
            self.inflight = (self.next_op_id(), self.buffer)
            self.buffer = None
            return self.resend()
        return []


class WSClient:
    """An :class:`OTClient` over a real WebSocket, with reconnect and resend.

    ``base`` is ``ws://host:port``. Close codes 4401/4403/4404 stop it
    (``close_code`` says which); other losses reconnect with backoff.
    """

    def __init__(
        self,
        base: str,
        doc_id: str,
        *,
        cookie: str | None = None,
        origin: str | None = None,  # None: no Origin header, a non-browser client
        client: OTClient | None = None,
        reconnect: bool = True,
        rng: random.Random | None = None,
        on_message: Callable[[dict], None] | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        #: Where the client started: its route endpoint answers where to go.
        self.home = self.base
        self.doc_id = doc_id
        self.cookie = cookie
        self.origin = origin
        self.ot = client or OTClient()
        self.reconnect = reconnect
        self.rng = rng or random.Random()
        self.on_message_hook = on_message
        self.ws: Any = None
        self.close_code: int | None = None
        self.stopped = False
        self.connects = 0
        #: Every close code seen, in order; redirects followed.
        self.close_codes: list[int | None] = []
        self.redirects = 0
        self._failures = 0
        self._via_route = False
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._retry_delay = 0.25
        self._retry_handle: asyncio.TimerHandle | None = None

    # -- connection --------------------------------------------------------

    async def connect(self) -> dict:
        """Open the socket (with ``?rev=`` once there is a document); return hello.

        A ``redirect`` is followed (at most ``MAX_REDIRECTS`` in a row).
        """
        # websockets is in requirements-test.txt, not the product's
        # requirements: OTClient and random_change work without it.
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        for _ in range(MAX_REDIRECTS + 1):
            url = f"{self.base}/ws/docs/{self.doc_id}/"
            if self.ot.doc is not None:
                url += f"?rev={self.ot.rev}"
            headers = {"Cookie": self.cookie} if self.cookie else {}
            self.ws = await connect(
                url,
                origin=None if self.origin is None else Origin(self.origin),
                additional_headers=headers,
                max_size=None,
                compression=None,
                open_timeout=20,
            )
            self.connects += 1
            # Frames over the part size come as ``part`` frames (protocol.md).
            self._parts = Reassembler()
            hello = json.loads(
                await asyncio.wait_for(_recv_whole(self.ws, self._parts), timeout=20)
            )
            if hello["type"] == "redirect":
                self._note(hello)
                await self._wait_closed()
                self.base = _base_of(hello["url"])
                self.redirects += 1
                continue
            break
        if hello["type"] != "hello":
            self._note(hello)
            await self._wait_closed()
            if self.close_code == 4503:
                self._via_route = True
            raise ConnectionError(f"no hello: {hello} (close {self.close_code})")
        self._failures = 0
        self._via_route = False
        await self._send_all(self.ot.on_hello(hello))
        self._note(hello)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return hello

    async def _wait_closed(self) -> None:
        try:
            await asyncio.wait_for(self.ws.wait_closed(), timeout=10)
        finally:
            self.close_code = self.ws.close_code
            self.close_codes.append(self.close_code)

    async def _read(self) -> None:
        ws = self.ws
        try:
            parts = self._parts
            async for raw in ws:
                text = parts.feed(raw)
                if text is None:
                    continue
                msg = json.loads(text)
                await self._send_all(self.ot.on_message(msg))
                if msg.get("type") == "error" and msg.get("code") in RETRY_CODES:
                    self._schedule_resend(msg)
                elif msg.get("type") in ("ack", "batch", "op"):
                    self._retry_delay = 0.25
                self._note(msg)
        except Exception:  # noqa: BLE001 - the connection dropped
            pass
        self.close_code = ws.close_code
        self.close_codes.append(self.close_code)
        if self.close_code == 4503:
            self._via_route = True  # this worker no longer serves the document
        self._changed.set()
        if self.stopped or ws is not self.ws:
            return
        if self.close_code in (4401, 4403, 4404) or not self.reconnect:
            self.stopped = True
            return
        await self._reconnect()

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self.stopped:
            await asyncio.sleep(delay * (0.5 + self.rng.random()))
            if self._via_route or self._failures >= 2:
                await self._lookup_route()
            try:
                await self.connect()
                return
            except Exception:  # noqa: BLE001 - try again with backoff
                self._failures += 1
                delay = min(delay * 2, 2.0)

    async def _lookup_route(self) -> None:
        """Ask the route endpoint of :attr:`home` where the document is served."""
        http = "http" + self.home[2:] if self.home.startswith("ws") else self.home
        request = urllib.request.Request(
            f"{http}/api/docs/{self.doc_id}/route", headers={"Cookie": self.cookie or ""}
        )

        def fetch() -> str | None:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return json.loads(response.read())["url"]
            except (OSError, ValueError, KeyError, urllib.error.URLError):
                return None

        url = await asyncio.to_thread(fetch)
        self.base = _base_of(url) if url else self.home
        self._via_route = False

    def _schedule_resend(self, error: dict) -> None:
        if self.ot.inflight is None or error.get("id") != self.ot.inflight[0]:
            return
        delay = self._retry_delay * (0.5 + self.rng.random())
        if error.get("retry_after"):
            delay = max(delay, error["retry_after"] / 1000)
        self._retry_delay = min(self._retry_delay * 2, 10.0)
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        loop = asyncio.get_running_loop()
        self._retry_handle = loop.call_later(
            delay, lambda: loop.create_task(self._send_all(self.ot.resend()))
        )

    async def _send_all(self, frames: list[str]) -> None:
        for frame in frames:
            try:
                await self.ws.send(frame)
            except Exception:  # noqa: BLE001 - resent after the reconnect
                return

    def _note(self, msg: dict) -> None:
        if self.on_message_hook is not None:
            self.on_message_hook(msg)
        self._changed.set()

    # -- use ---------------------------------------------------------------

    async def edit(self, change: Delta) -> None:
        """Apply a local edit and send what the state machine says."""
        await self._send_all(self.ot.edit(change))
        self._changed.set()

    async def send_raw(self, frame: str | dict) -> None:
        """Send any frame as is (for error tests)."""
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def presence(self, index: int | None, length: int = 0) -> bool:
        """Send presence if synchronized; return whether it was sent."""
        frame = self.ot.presence_frame(index, length)
        if frame is not None:
            await self._send_all([frame])
        return frame is not None

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        """Wait until ``predicate()`` holds (checked after every message)."""

        async def wait() -> None:
            while not predicate():
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def wait_synchronized(self, timeout: float = 20) -> None:
        """Wait until nothing is in flight or buffered."""
        await self.wait_for(lambda: self.ot.synchronized, timeout)

    async def wait_closed(self, timeout: float = 10) -> int | None:
        """Wait until the server closes the socket; return the close code."""
        await self.wait_for(lambda: self.stopped or self.close_code is not None, timeout)
        return self.close_code

    async def drop(self) -> None:
        """Lose the connection abruptly (no close handshake); reconnect after."""
        ws = self.ws
        ws.transport.abort() if hasattr(ws, "transport") else None
        await asyncio.sleep(0)

    async def close(self) -> None:
        """Close for good."""
        self.stopped = True
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()


def _base_of(url: str) -> str:
    """Return what precedes ``/ws/docs/`` in a document socket URL.

    ``ws://host:port``, or a front door's ``ws://host:port/w/<worker>`` (the
    owner hint the balancer routes by, docs/scaleout.md).
    """
    return url.split("/ws/docs/", 1)[0]


# --------------------------------------------------------------------------
# Random valid edits
# --------------------------------------------------------------------------

TEXTS = ["a", "b", "xyz", "hello ", "😀", "e\u0301", "中文", "👍🏽", "\t", "ok\n", "🙂🙃"]
FORMATS: list[dict[str, Any]] = [
    {"bold": True},
    {"italic": True},
    {"bold": None},
    {"color": "#e6194b"},
    {"header": 1},
    {"list": "bullet"},
    {"link": "https://example.com/"},
    {"underline": True},
]


def boundaries(doc: DocumentText) -> list[int]:
    """Return every UTF-16 index of ``doc`` that is not inside a surrogate pair."""
    out = [0]
    pos = 0
    for char in doc.text():
        pos += 2 if ord(char) > 0xFFFF else 1
        out.append(pos)
    return out


def random_change(doc: DocumentText, rng: random.Random) -> Delta:
    """Return a random valid change for ``doc``: insert, delete or format.

    Never touches the final newline, never splits a surrogate pair.
    """
    points = boundaries(doc)
    last = doc.length - 1  # index of the final "\n"
    inner = [p for p in points if p <= last]
    kind = rng.random()
    if kind < 0.55 or len(inner) < 3:
        at = rng.choice(inner)
        attributes = rng.choice([None, None, {"bold": True}, {"italic": True, "color": "#3cb44b"}])
        delta = Delta().retain(at) if at else Delta()
        if rng.random() < 0.05:
            return delta.insert({"image": "/media/x.png"})
        return delta.insert(rng.choice(TEXTS), attributes)
    start, end = sorted(rng.sample(inner, 2))
    end = min(end, start + 8) if end - start > 8 else end
    while end not in inner:
        end -= 1
    if end <= start:
        return Delta().retain(start).insert("z") if start else Delta().insert("z")
    if kind < 0.8:
        return (Delta().retain(start) if start else Delta()).delete(end - start)
    delta = Delta().retain(start) if start else Delta()
    return delta.retain(end - start, rng.choice(FORMATS))
