"""No ghosts on the server: a socket whose send failed is never listed again.

A socket can die without the server hearing of it at once (the browser's
machine sleeps, the network drops, a proxy dies): its next send fails and
:class:`~realtime.subscriber.Subscriber` marks it closed, but the
consumer's disconnect, which detaches it, may come much later (daphne's
ping timeout). Driven over a sequencer and fan-out, as tests/realtime/
test_fanout.py does. Failure modes covered: the send failing during a
delivery (the others hear ``leave`` at once, exactly once, also when the
detach follows) and a newcomer arriving before the detach (its ``hello``
does not list the dead socket).
"""

from __future__ import annotations

import json

from tests.realtime.test_fanout import Socket, make, messages


class DeadSocket(Socket):
    """A socket whose sends fail, as an aborted connection's do."""

    async def _send(self, text: str) -> None:
        raise ConnectionResetError("the peer is gone")


async def test_a_socket_whose_send_fails_is_announced_gone_once_and_never_listed() -> None:
    seq, fanout = make()
    alice, bob, carol = Socket("alice", 1), Socket("bob", 2), DeadSocket("carol", 3)
    for sock in (carol, alice, bob):
        fanout.attach(sock.sub, since_rev=None)
    # Carol is owed alice's and bob's joins; that delivery fails.
    await fanout.deliver(list(fanout.subs))
    assert carol.sub.closed
    for sock in (alice, bob):
        assert messages(sock.take())[-1:] == [{"type": "leave", "session": "carol"}]

    dave = Socket("dave", 4)
    hello = json.loads(fanout.attach(dave.sub, since_rev=None))
    assert [peer["session"] for peer in hello["peers"]] == ["alice", "bob"]

    # The consumer's disconnect comes later: no second leave for carol.
    fanout.detach(carol.sub)
    await fanout.deliver(list(fanout.subs))
    for sock in (alice, bob, dave):
        assert not [m for m in messages(sock.take()) if m.get("session") == "carol"]


async def test_a_plain_detach_still_tells_everyone_else_once() -> None:
    seq, fanout = make()
    alice, bob = Socket("alice", 1), Socket("bob", 2)
    for sock in (alice, bob):
        fanout.attach(sock.sub, since_rev=None)
    await fanout.deliver(list(fanout.subs))
    alice.take(), bob.take()
    assert fanout.detach(bob.sub)
    assert not fanout.detach(bob.sub)  # idempotent: nothing more is sent
    await fanout.deliver(list(fanout.subs))
    assert messages(alice.take()) == [{"type": "leave", "session": "bob"}]
    assert bob.take() == []
