"""Fan-out: one frame per socket per commit, acks never delayed, ticks on busy documents.

Driven directly over a sequencer (no store, no writer): ops are accepted and
committed by hand, then fan-out is asked what each socket is owed. Failure
modes covered: a socket left behind the window is closed with 4503 rather
than sent a gap.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from realtime.fanout import IMMEDIATE_FANOUT_SOCKETS, Fanout, fanout_delay
from realtime.oplog import LoadedState, Submission
from realtime.ot import Delta, DocumentText
from realtime.protocol import Rejection, user_json
from realtime.sequencer import Sequencer
from realtime.subscriber import Subscriber


class Socket:
    """A subscriber that keeps the raw text of every frame it is sent."""

    def __init__(self, name: str, user_id: int = 1) -> None:
        self.texts: list[str] = []
        self.closed_with: int | None = None
        self.sub = Subscriber(
            session=name,
            user_id=user_id,
            user_json=user_json(user_id=user_id, name=name, color="#000000"),
            can_edit=True,
            send=self._send,
            close=self._close,
        )

    async def _send(self, text: str) -> None:
        self.texts.append(text)

    async def _close(self, code: int) -> None:
        self.closed_with = code

    def take(self) -> list[dict[str, Any]]:
        """Return the frames sent since the last call, parsed."""
        frames = [json.loads(text) for text in self.texts]
        self.texts.clear()
        return frames


def messages(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for frame in frames:
        out.extend(frame["messages"] if frame["type"] == "batch" else [frame])
    return out


def make(window_size: int = 100) -> tuple[Sequencer[Subscriber], Fanout]:
    doc = DocumentText.from_ops([{"insert": "\n"}])
    state = LoadedState(document_pk=1, text=doc, head=0, window_start=0, start_length=1, window=[])
    seq: Sequencer[Subscriber] = Sequencer(
        state, window_size=window_size, max_length=10_000, max_runs=None
    )
    return seq, Fanout(seq, doc="d0c", loop=asyncio.get_running_loop())


def commit(seq: Sequencer[Subscriber], fanout: Fanout, *ops: tuple[Socket, str]) -> None:
    """Accept one insert per (author, text) at head, store them in one batch, owe them."""
    for sock, text in ops:
        sub = sock.sub
        n = len(seq.window) + len(seq.queued) + 1
        result = seq.accept(
            Submission(
                op_id=f"{sub.session:x<16}:{n}",
                base_rev=seq.head,
                change=Delta([{"insert": text}]),
                author=sub,
                user_id=sub.user_id,
                may_edit=True,
            )
        )
        assert not isinstance(result, Rejection), result
    batch = seq.take_batch(500)
    seq.commit(batch)
    fanout.committed(batch)


async def settle() -> None:
    await asyncio.sleep(fanout_delay(100) + 0.02)


async def test_one_frame_per_socket_per_commit_with_acks_in_place() -> None:
    seq, fanout = make()
    a, b, c = Socket("a"), Socket("b", 2), Socket("c", 3)
    for sock in (a, b, c):
        fanout.attach(sock.sub, since_rev=None)
    await settle()
    for sock in (a, b, c):
        sock.take()
    commit(seq, fanout, (a, "1"), (b, "2"), (a, "3"))
    await fanout.deliver_owed()
    assert len(a.texts) == len(b.texts) == len(c.texts) == 1
    assert [(m["type"], m["rev"]) for m in messages(c.take())] == [("op", 1), ("op", 2), ("op", 3)]
    assert [(m["type"], m["rev"]) for m in messages(a.take())] == [
        ("ack", 1),
        ("op", 2),
        ("ack", 3),
    ]
    assert [(m["type"], m["rev"]) for m in messages(b.take())] == [("op", 1), ("ack", 2), ("op", 3)]


async def test_observers_share_one_frame_text() -> None:
    seq, fanout = make()
    author, x, y = Socket("author"), Socket("x", 2), Socket("y", 3)
    for sock in (author, x, y):
        fanout.attach(sock.sub, since_rev=None)
    await settle()
    commit(seq, fanout, (author, "hi"))
    await fanout.deliver_owed()
    assert x.texts[-1] is y.texts[-1]  # built once, sent twice
    assert json.loads(x.texts[-1])["session"] == "author"


async def test_on_a_busy_document_acks_go_at_once_and_the_rest_on_one_tick() -> None:
    seq, fanout = make()
    socks = [Socket(f"s{i:02d}", i) for i in range(IMMEDIATE_FANOUT_SOCKETS + 4)]
    for sock in socks:
        fanout.attach(sock.sub, since_rev=None)
    await settle()
    for sock in socks:
        sock.take()
    author, observer = socks[0], socks[-1]
    for text in "abc":  # three commits before the tick
        commit(seq, fanout, (author, text))
        await fanout.deliver_owed()
    # The author had each ack at once; nobody else has anything yet.
    assert [m["type"] for m in messages(author.take())] == ["ack", "ack", "ack"]
    assert observer.texts == []
    await settle()
    # One tick, one frame carrying the three ops.
    frames = observer.take()
    assert len(frames) == 1 and [m["rev"] for m in messages(frames)] == [1, 2, 3]
    assert author.take() == []


async def test_hello_catch_up_and_presence_are_at_head() -> None:
    seq, fanout = make()
    a, b = Socket("a"), Socket("b", 2)
    fanout.attach(a.sub, since_rev=None)
    commit(seq, fanout, (a, "abc"))
    b.sub.presence_rev, b.sub.presence_index, b.sub.presence_length = 0, 0, 0
    hello = json.loads(fanout.attach(b.sub, since_rev=0))
    assert [item["rev"] for item in hello["ops"]] == [1] and hello["rev"] == 1
    fanout.presence(b.sub)
    await settle()
    presence = [m for m in messages(a.take()) if m["type"] == "presence"]
    assert presence == [
        {
            "type": "presence",
            "session": "b",
            "rev": 1,
            "user": {"id": 2, "name": "b", "color": "#000000"},
            "range": {"index": 3, "length": 0},
        }
    ]


async def test_a_socket_behind_the_window_is_closed_not_sent_a_gap() -> None:
    seq, fanout = make(window_size=4)
    writer, sleeper = Socket("w"), Socket("z", 2)
    fanout.attach(writer.sub, since_rev=None)
    fanout.attach(sleeper.sub, since_rev=None)
    for text in "abcdefghijklmnopqrstuvwxyz":
        commit(seq, fanout, (writer, text))
    # Nothing was delivered meanwhile: the sleeper is behind the window.
    assert seq.window_start > sleeper.sub.sent_rev
    assert fanout.frames_for(sleeper.sub) == []
    await settle()
    assert sleeper.closed_with == 4503
    assert json.loads(sleeper.texts[-1])["code"] == "stale"
