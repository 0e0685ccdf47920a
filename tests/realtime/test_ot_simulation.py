"""Several clients and a server over in-memory queues converge.

The clients follow ot.js's client state machine; the server keeps a revision
log and transforms each incoming op over the ops it missed. The tie rule is
the protocol's: ops already in the server's history win insert ties, so the
server computes ``earlier.transform(op, True)`` and a client with pending op
``p`` receiving server op ``s`` keeps ``s.transform(p, True)`` and applies
``p.transform(s, False)``::

         client                      server
    rev ───────── s ─────────▶ rev+1
      │                          │
      p (pending)          s.transform(p, True) = p'
      │                          │
    p.transform(s, False) = s' ──▶ same document

Messages on each link arrive in order (as on a WebSocket), but which link
delivers next, and when clients type, is random.
"""

from __future__ import annotations

import os
import random
from collections import deque
from dataclasses import dataclass, field

import pytest

from realtime.ot import Delta, DocumentText

from . import ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)


class Server:
    """The authority: a document, a revision log, and a transform step."""

    def __init__(self, doc: Delta) -> None:
        """Start at revision 0 with ``doc``."""
        self.doc = DocumentText.from_ops(doc.ops)
        self.log: list[tuple[int, Delta]] = []  # (author, op as applied)
        self.docs: list[Delta] = [doc]  # Document at every revision.

    @property
    def rev(self) -> int:
        """Return the current revision."""
        return len(self.log)

    def receive(self, author: int, base: int, op: Delta) -> Delta:
        """Transform ``op`` from revision ``base`` to now, apply it, log it."""
        for _, earlier in self.log[base:]:
            op = earlier.transform(op, True)
        self.doc.apply(op)  # Raises if transform broke a document rule.
        self.log.append((author, op))
        self.docs.append(self.docs[-1].compose(op))
        return op


@dataclass
class Client:
    """An ot.js client: Synchronized, AwaitingConfirm or AwaitingWithBuffer."""

    ident: int
    rev: int
    doc: Delta
    outstanding: Delta | None = None
    buffer: Delta | None = None
    uplink: deque[tuple[int, int, Delta]] = field(default_factory=deque)
    downlink: deque[tuple[str, Delta | None]] = field(default_factory=deque)

    @property
    def state(self) -> str:
        """Return the ot.js state name."""
        if self.outstanding is None:
            return "Synchronized"
        return "AwaitingConfirm" if self.buffer is None else "AwaitingWithBuffer"

    def edit(self, op: Delta) -> None:
        """Apply a local edit and send or buffer it."""
        self.doc = self.doc.compose(op)
        if self.outstanding is None:
            self.outstanding = op
            self.uplink.append((self.ident, self.rev, op))
        elif self.buffer is None:
            self.buffer = op
        else:
            self.buffer = self.buffer.compose(op)

    def server_op(self, s: Delta) -> None:
        """Apply another client's op, transforming pending ops over it."""
        self.rev += 1
        if self.outstanding is not None:
            pending = self.outstanding
            self.outstanding = s.transform(pending, True)
            s = pending.transform(s, False)
            if self.buffer is not None:
                buffer = self.buffer
                self.buffer = s.transform(buffer, True)
                s = buffer.transform(s, False)
        self.doc = self.doc.compose(s)

    def ack(self) -> None:
        """Take the ack of the outstanding op; send the buffer if any."""
        assert self.outstanding is not None, "ack while synchronized"
        self.rev += 1
        self.outstanding = self.buffer
        self.buffer = None
        if self.outstanding is not None:
            self.uplink.append((self.ident, self.rev, self.outstanding))


def simulate(seed: int, clients: int, edits: int) -> set[str]:
    """Run one random session, check that everybody converges, and return
    the client states seen."""
    rng = random.Random(seed)
    start = ot_gen.document(rng, max_ops=4)
    server = Server(start)
    people = [Client(ident, 0, start) for ident in range(clients)]
    states_seen: set[str] = set()
    left = edits
    sent = 0
    while left or any(c.uplink or c.downlink for c in people):
        client = rng.choice(people)
        roll = rng.random()
        if left and roll < 0.4:
            client.edit(ot_gen.valid_change(rng, client.doc, max_ops=3))
            left -= 1
        elif client.uplink and roll < 0.7:
            author, base, op = client.uplink.popleft()
            sent += 1
            applied = server.receive(author, base, op)
            for other in people:
                other.downlink.append(("ack", None) if other is client else ("op", applied))
        elif client.downlink:
            kind, op = client.downlink.popleft()
            if kind == "ack":
                client.ack()
            else:
                assert op is not None
                client.server_op(op)
            # ot.js invariant: the local document is the server's document at
            # the client's revision with its pending ops on top.
            expected = server.docs[client.rev]
            for pending in (client.outstanding, client.buffer):
                if pending is not None:
                    expected = expected.compose(pending)
            assert client.doc == expected, f"seed={seed} client={client.ident}"
        states_seen.add(client.state)
    final = server.doc.to_ops()
    assert server.docs[-1].ops == final, f"seed={seed}"
    for client in people:
        assert client.state == "Synchronized", f"seed={seed}"
        assert client.rev == server.rev, f"seed={seed}"
        assert client.doc.ops == final, f"seed={seed} client={client.ident}"
    # Every op the server received got a revision, even one that
    # transformed to nothing.
    assert server.rev == sent, f"seed={seed}"
    return states_seen


@pytest.mark.parametrize("clients", [2, 3, 5])
def test_clients_converge_to_the_server(clients: int) -> None:
    base = int(os.environ.get("OT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed={base}")
    states: set[str] = set()
    for run in range(12):
        states |= simulate(base + run, clients, edits=60)
    assert states == {"Synchronized", "AwaitingConfirm", "AwaitingWithBuffer"}


def test_pending_and_buffered_ops_transform_over_a_server_op() -> None:
    start = Delta().insert("hello\n")
    server = Server(start)
    a, b = Client(0, 0, start), Client(1, 0, start)
    a.edit(Delta().retain(5).insert("!"))
    assert a.state == "AwaitingConfirm"
    a.edit(Delta().insert("> "))
    a.edit(Delta().retain(2).insert("*"))
    assert a.state == "AwaitingWithBuffer"
    b.edit(Delta().insert("X"))
    # b's op reaches the server first: a must transform both pending ops.
    applied = server.receive(*b.uplink.popleft())
    b.ack()
    a.server_op(applied)
    applied = server.receive(*a.uplink.popleft())
    b.server_op(applied)
    a.ack()
    assert a.state == "AwaitingConfirm"
    applied = server.receive(*a.uplink.popleft())
    b.server_op(applied)
    a.ack()
    assert a.state == b.state == "Synchronized"
    assert a.doc == b.doc == Delta(server.doc.to_ops())
    # Insert ties: the op the server sequenced first comes first.
    assert server.doc.to_ops() == [{"insert": "X> *hello!\n"}]


def test_same_index_inserts_order_by_server_sequence() -> None:
    start = Delta().insert("ab\n")
    server = Server(start)
    first, second = Client(0, 0, start), Client(1, 0, start)
    first.edit(Delta().retain(1).insert("1"))
    second.edit(Delta().retain(1).insert("2"))
    server.receive(*second.uplink.popleft())  # Sequenced first.
    server.receive(*first.uplink.popleft())
    assert server.doc.to_ops() == [{"insert": "a21b\n"}]
    second.ack()
    second.server_op(server.log[1][1])
    first.server_op(server.log[0][1])
    first.ack()
    assert first.doc.ops == second.doc.ops == server.doc.to_ops()
