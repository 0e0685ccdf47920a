"""The one retry policy of the routing app (routing/zk.py), without ZooKeeper.

Failure mode covered: a loop that retries a lost ZooKeeper or Redis
without pausing (a busy loop), or pausing ever longer (a worker that comes
back seconds after its dependency did).
"""

from __future__ import annotations

from kazoo.client import KazooClient

from routing import zk


def test_pauses_double_from_the_first_failure_up_to_the_cap() -> None:
    pauses = [zk.CONNECTION.pause(failures) for failures in range(1, 7)]
    assert pauses == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


def test_clients_retry_connections_forever_and_commands_a_few_times() -> None:
    client = zk.make_client(hosts="127.0.0.1:1")
    try:
        assert client._conn_retry.max_tries == -1
        assert client._conn_retry.max_delay == 0.5
        assert client._retry.max_tries == 3
    finally:
        client.close()


def test_a_kazoo_retry_sleeps_as_the_clients_handler_does() -> None:
    client = KazooClient(hosts="127.0.0.1:1")
    retry = zk.REGISTER.kazoo_retry(client)
    assert (retry.max_tries, retry.max_delay) == (20, 1.0)
    assert retry.sleep_func == client.handler.sleep_func
    client.close()
