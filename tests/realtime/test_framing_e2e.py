"""Any document the server accepts can be opened: large frames over real daphne.

daphne refuses to send a message over 1 MiB; a document at the length limit
made of CJK characters is 3 MB of UTF-8. These tests build such a document
through the store (a client frame may not carry 3 MB), open it over a real
socket, catch up with ``?rev=`` through a 3 MB ``hello``, edit it, and
broadcast large ops, checking that every frame on the wire stays under the part size and
that the parts join back into the protocol's frames.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect

from documents.models import Document
from documents.store import DjangoDocumentStore, NewOp
from realtime.framing import MAX_PART_BYTES, Reassembler, utf8_size
from tests.realtime.conftest import db, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORIGIN = None  # no Origin header: a non-browser client (collabdocs/origin.py)
WRITER = "framingwriterframingwriter"
#: A document exactly at the default limit of 1,048,576 UTF-16 code units,
#: all 3-byte characters but the final newline (the densest UTF-8 there is
#: per code unit: 3.1 MB), built from this many stored ops.
CHUNKS, CHUNK = 5, 209_715
LIMIT = 1_048_576
WIDE = "字"


class PartSocket:
    """A raw socket that joins ``part`` frames and records what was on the wire."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.joiner = Reassembler()
        self.raw_sizes: list[int] = []
        self.parts = 0

    @classmethod
    async def open(cls, base: str, doc_id: str, cookie: str, rev: int | None = None) -> PartSocket:
        """Connect (``max_size=None``: the client accepts any size)."""
        url = f"{base}/ws/docs/{doc_id}/" + ("" if rev is None else f"?rev={rev}")
        ws = await connect(
            url,
            origin=ORIGIN,
            additional_headers={"Cookie": cookie},
            max_size=None,
            compression=None,
            open_timeout=30,
        )
        return cls(ws)

    async def recv(self, timeout: float = 60) -> dict:
        """Return the next whole frame, parsed."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            self.raw_sizes.append(utf8_size(raw))
            if raw.startswith('{"type":"part"'):
                self.parts += 1
            whole = self.joiner.feed(raw)
            if whole is not None:
                return json.loads(whole)

    async def recv_type(self, kind: str, timeout: float = 60) -> dict:
        """Return the next message of type ``kind`` (a ``batch`` element too)."""
        while True:
            frame = await self.recv(timeout)
            for message in frame["messages"] if frame["type"] == "batch" else [frame]:
                if message["type"] == kind:
                    return message

    async def send(self, frame: dict) -> None:
        """Send ``frame`` as JSON."""
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()


def _store_wide_document(doc_id: str, author_id: int) -> int:
    """Append ops that make the document ``WIDE * CHUNKS * CHUNK + "\\n"``; return its head."""
    document = Document.objects.get(public_id=doc_id)
    ops = []
    for revision in range(document.head_revision + 1, document.head_revision + CHUNKS + 1):
        delta = [{"insert": WIDE * CHUNK}]
        ops.append(
            NewOp(
                revision=revision,
                op_id=f"{WRITER}:{revision}",
                delta=delta,
                delta_json=json.dumps(delta, ensure_ascii=False),
                author_id=author_id,
            )
        )
    DjangoDocumentStore().append(document_pk=document.pk, ops=ops)
    return ops[-1].revision


async def test_a_document_at_the_limit_of_wide_characters_opens_catches_up_and_edits(
    live_daphne, people
):
    """A 3 MB hello and a 3 MB catch-up arrive in parts under 256 KiB each."""
    doc_id, cookies = people["doc_id"], people["cookies"]
    head = await db(_store_wide_document, doc_id, people["users"]["owner"].pk)
    text = WIDE * (CHUNKS * CHUNK) + "\n"
    assert len(text) == LIMIT  # every character is one UTF-16 code unit
    assert len(text.encode("utf-8")) > 3_000_000  # nearly three times daphne's 1 MiB

    started = time.perf_counter()
    reader = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["owner"])
    hello = await reader.recv()
    opened = time.perf_counter() - started
    assert hello["type"] == "hello" and hello["rev"] == head
    assert hello["content"] == [{"insert": text}]
    assert max(reader.raw_sizes) <= MAX_PART_BYTES
    assert reader.parts >= 12
    print(
        f"full hello: {sum(reader.raw_sizes)} bytes in {reader.parts} parts, "
        f"opened in {opened * 1000:.0f} ms (first open loads the document)"
    )

    started = time.perf_counter()
    behind = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["editor"], rev=0)
    catch_up = await behind.recv()
    caught_up = time.perf_counter() - started
    assert "content" not in catch_up
    assert [op["rev"] for op in catch_up["ops"]] == list(range(1, head + 1))
    assert all(op["delta"] == [{"insert": WIDE * CHUNK}] for op in catch_up["ops"])
    assert max(behind.raw_sizes) <= MAX_PART_BYTES and behind.parts >= 12
    print(
        f"catch-up hello: {sum(behind.raw_sizes)} bytes in {behind.parts} parts, "
        f"{caught_up * 1000:.0f} ms"
    )

    # At the limit, one more character is refused, and said so...
    await reader.send(
        {
            "type": "op",
            "id": "framingreaderframingreader:1",
            "rev": head,
            "delta": [{"retain": CHUNKS * CHUNK}, {"insert": "!"}],
        }
    )
    refused = await reader.recv_type("error")
    assert refused["code"] == "too_large" and refused["id"] == "framingreaderframingreader:1"
    # ...but editing works: replacing the last wide character goes through,
    # and the other socket gets it as a plain frame (small frames are never
    # split).
    op_id = "framingreaderframingreader:2"
    await reader.send(
        {
            "type": "op",
            "id": op_id,
            "rev": head,
            "delta": [{"retain": CHUNKS * CHUNK - 1}, {"insert": "!"}, {"delete": 1}],
        }
    )
    ack = await reader.recv_type("ack")
    assert ack == {"type": "ack", "id": op_id, "rev": head + 1}
    parts_before = behind.parts
    op = await behind.recv_type("op")
    assert op["rev"] == head + 1 and behind.parts == parts_before
    await reader.close()
    await behind.close()

    # A fresh reader sees the edit; storage holds exactly that document.
    again = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["viewer"])
    edited = text[:-2] + "!\n"
    assert (await again.recv())["content"] == [{"insert": edited}]
    await again.close()
    assert await db(stored_content, doc_id) == (head + 1, [{"insert": edited}])


async def test_large_ops_and_batches_reach_other_sockets_in_parts(live_daphne, people):
    """Two ~510 KB ops (each within the client frame limit) reach a third socket whole."""
    doc_id, cookies = people["doc_id"], people["cookies"]
    owner = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["owner"])
    editor = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["editor"])
    viewer = await PartSocket.open(live_daphne.ws_url, doc_id, cookies["viewer"])
    for sock in (owner, editor, viewer):
        assert (await sock.recv())["rev"] == 0
    big = WIDE * 170_000  # 510,000 bytes of UTF-8: under the 512 KiB client limit
    # Sent together, the two ops may commit together and reach the viewer
    # as one batch of over 1 MiB; either way it must arrive, in parts.
    await asyncio.gather(
        owner.send(
            {"type": "op", "id": "framingownerframingowner:1", "rev": 0, "delta": [{"insert": big}]}
        ),
        editor.send(
            {
                "type": "op",
                "id": "framingeditorframingeditor:1",
                "rev": 0,
                "delta": [{"insert": "x" + big}],
            }
        ),
    )
    # The viewer: both ops in order, whether as two frames or one batch.
    seen: list[dict] = []
    batches = 0
    while len(seen) < 2:
        frame = await viewer.recv()
        if frame["type"] == "batch":
            batches += 1
            seen.extend(m for m in frame["messages"] if m["type"] == "op")
        elif frame["type"] == "op":
            seen.append(frame)
    assert [op["rev"] for op in seen] == [1, 2]
    assert max(viewer.raw_sizes) <= MAX_PART_BYTES and viewer.parts >= 4
    print(
        f"viewer: {len(viewer.raw_sizes)} wire frames, {viewer.parts} parts, "
        f"{batches} batch(es), largest {max(viewer.raw_sizes)} bytes"
    )
    # The authors: an ack each (inside a batch when the other's op came first).
    for sock in (owner, editor):
        assert (await sock.recv_type("ack"))["rev"] in (1, 2)
    rev, content = await db(stored_content, doc_id)
    assert rev == 2 and len(content[0]["insert"]) == 2 * 170_000 + 2
    for sock in (owner, editor, viewer):
        await sock.close()
