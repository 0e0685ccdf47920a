"""The acceptance lease and the bounded ZooKeeper connection attempts.

Pure parts with a fake clock; the heartbeat against the suite's real
ZooKeeper (renewal with the send time; nothing renews while it is away).
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from routing.heartbeat import Heartbeat, heartbeat_interval
from routing.lease import Lease, lease_seconds
from routing.zk import ATTEMPT_SECONDS, make_client, stop_client


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_lease_is_shorter_than_the_session_by_a_margin():
    assert lease_seconds(4) == 3.0
    assert lease_seconds(10) == 7.5
    assert lease_seconds(2) == 1.5  # at least half a second of margin
    with pytest.raises(ValueError):
        lease_seconds(0)


def test_a_lease_runs_from_the_send_time_of_the_newest_answer():
    clock = FakeClock()
    lease = Lease(3.0, clock=clock)
    assert not lease.valid(), "never confirmed: not valid"
    lease.renew(100.0)
    clock.now = 102.9
    assert lease.valid() and lease.remaining() == pytest.approx(0.1)
    lease.renew(99.0)  # an older request answered late extends nothing
    clock.now = 103.0
    assert not lease.valid()
    lease.renew(102.5)
    assert lease.remaining() == pytest.approx(2.5)
    lease.expire()
    assert not lease.valid() and lease.remaining() == 0


def test_a_frozen_process_wakes_up_with_its_lease_run_out():
    # The monotonic clock keeps running while a process is stopped, so a
    # process resumed after the session timeout finds its lease gone
    # before it reads a single op.
    lease = Lease(lease_seconds(4))
    lease.renew(time.monotonic() - 4.0)
    assert not lease.valid()


async def test_a_connection_attempt_at_a_silent_server_gives_up_after_a_second():
    # A ZooKeeper that is starting up accepts connections but does not
    # answer yet; kazoo alone would wait a whole 10 s session for the answer.
    accepted: list[float] = []
    held = []

    def silent(reader, writer):
        accepted.append(time.monotonic())
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = make_client(hosts=f"127.0.0.1:{port}", timeout=10)
    try:
        client.start_async()
        await asyncio.sleep(3.5)
        gaps = [round(b - a, 2) for a, b in itertools.pairwise(accepted)]
        print(f"silent server: {len(accepted)} attempts in 3.5 s, {gaps} s apart")
        assert len(accepted) >= 3, "an attempt waited longer than its bound"
        assert all(gap >= ATTEMPT_SECONDS * 0.9 for gap in gaps), "attempts not paced"
    finally:
        client.stop()
        client.close()
        server.close()
        for writer in held:
            writer.close()


def test_heartbeats_every_eighth_of_the_session_at_most_half_a_second():
    assert heartbeat_interval(4) == 0.5
    assert heartbeat_interval(2) == 0.25


@pytest.mark.zookeeper
async def test_the_heartbeat_renews_the_lease_only_while_zookeeper_answers():
    from collabdocs.devservers import start_zookeeper

    zk = start_zookeeper()
    client = make_client(hosts=zk.extra["hosts"], timeout=4)
    try:
        await asyncio.to_thread(client.start, 10)
        lease = Lease(lease_seconds(4))
        beat = Heartbeat(client, lease, path="/", interval=0.1, loop=asyncio.get_running_loop())
        beat.start()
        await asyncio.sleep(0.5)
        assert lease.remaining() > lease.duration - 0.3
        zk.stop_process(kill=True)
        await asyncio.sleep(1.0)
        left = lease.remaining()
        assert left < lease.duration - 0.9, "renewed with ZooKeeper away"
        await asyncio.to_thread(zk.start_process)
        deadline = time.monotonic() + 10
        while lease.remaining() <= left and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        print(
            f"lease: {left:.2f} s left after 1 s without ZooKeeper; renewed "
            f"{10 - (deadline - time.monotonic()):.2f} s after it was started again"
        )
        assert lease.valid(), "not renewed once ZooKeeper was back"
        beat.stop()
    finally:
        stop_client(client)
        zk.stop()
