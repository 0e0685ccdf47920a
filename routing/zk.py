"""Making and starting kazoo clients with the project's settings.

One place decides the session timeout and the retry policies, so the
worker, the compactor and the admin page behave alike:

* connection retries: forever, with a backoff capped at half a second (a
  worker keeps trying to reach ZooKeeper for as long as it runs, and must
  be back well within its session after a short outage);
* each connection attempt is bounded by ``ATTEMPT_SECONDS``: kazoo gives an
  attempt's TCP connect the whole session timeout and its handshake the
  session timeout divided by the number of hosts, so one attempt at a
  server that accepts but does not answer yet (starting up) could use up
  the session while the next attempt would have succeeded;
* command retries: a few quick tries, so that a call made while ZooKeeper
  is away fails within about a second instead of hanging; the callers know
  what to do then (keep the lock for later, try the refresh again...).
"""
from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError

from routing.exceptions import ZooKeeperUnavailable

logger = logging.getLogger(__name__)

#: Longest a single connection attempt (TCP connect, then the handshake) may take.
ATTEMPT_SECONDS = 1.0
#: The connection retry: forever, 0.1 s doubling to at most 0.5 s between rounds.
CONNECTION_RETRY = {"max_tries": -1, "delay": 0.1, "backoff": 2, "max_delay": 0.5}


def cluster_mode() -> bool:
    """Return whether ZooKeeper is configured (``ZOOKEEPER_HOSTS``)."""
    return bool(settings.ZOOKEEPER_HOSTS.strip())


def zk_root() -> str:
    """Return this deployment's root znode (``ZOOKEEPER_ROOT``)."""
    return settings.ZOOKEEPER_ROOT


def session_timeout() -> float:
    """Return the ZooKeeper session timeout in seconds."""
    return float(settings.COLLABDOCS["ZK_SESSION_TIMEOUT"])


def make_client(*, hosts: str | None = None, timeout: float | None = None) -> KazooClient:
    """Return a new, not yet started, client for ``hosts`` (default: the setting)."""
    hosts = hosts if hosts is not None else settings.ZOOKEEPER_HOSTS
    timeout = timeout if timeout is not None else session_timeout()
    client = KazooClient(
        hosts=hosts,
        timeout=timeout,
        connection_retry=dict(CONNECTION_RETRY),
        command_retry={"max_tries": 3, "delay": 0.1, "backoff": 2, "max_delay": 0.5},
    )
    bound_attempts(client, ATTEMPT_SECONDS)
    return client


def attempt_repeats(session_seconds: float, host_count: int, attempt: float) -> int:
    """Return how often to list each host so a handshake waits at most ``attempt``.

    kazoo waits ``session / len(hosts)`` for a handshake's answer; listing
    every host ``k`` times (tried in a row, without the retry's sleep in
    between) divides that by ``k``.
    """
    if host_count < 1 or attempt <= 0:
        raise ValueError("need at least one host and a positive attempt time")
    return max(1, math.ceil(session_seconds / (host_count * attempt)))


def bound_attempts(client: KazooClient, attempt: float) -> None:
    """Bound each of ``client``'s connection attempts to about ``attempt`` seconds."""
    hosts = list(client.hosts)
    if hosts:
        client.hosts = hosts * attempt_repeats(client._session_timeout / 1000,  # noqa: SLF001
                                               len(hosts), attempt)
    create = client.handler.create_connection

    def create_connection(*args: Any, **kwargs: Any) -> Any:
        # kazoo passes the whole session timeout as the TCP connect timeout.
        wanted = kwargs.get("timeout")
        kwargs["timeout"] = attempt if wanted is None else min(wanted, attempt)
        return create(*args, **kwargs)

    client.handler.create_connection = create_connection


def start_client(*, hosts: str | None = None, timeout: float | None = None,
                 connect_timeout: float | None = None) -> KazooClient:
    """Return a started client; raise ZooKeeperUnavailable with a clear message.

    :raises ZooKeeperUnavailable: no server answered within ``connect_timeout``
        (default ``COLLABDOCS["ZK_CONNECT_TIMEOUT"]``).
    """
    hosts = hosts if hosts is not None else settings.ZOOKEEPER_HOSTS
    wait = connect_timeout if connect_timeout is not None else float(
        settings.COLLABDOCS["ZK_CONNECT_TIMEOUT"])
    client = make_client(hosts=hosts, timeout=timeout)
    try:
        client.start(timeout=wait)
    except KazooTimeoutError:
        raise ZooKeeperUnavailable(
            f"could not reach ZooKeeper at {hosts} within {wait:g} s"
        ) from None
    return client


def stop_client(client: KazooClient) -> None:
    """Close the client's session (its ephemeral znodes go) and free it."""
    try:
        client.stop()
    except Exception as exc:  # noqa: BLE001 - closing anyway
        logger.debug("stopping the ZooKeeper client: %s", exc)
    try:
        client.close()
    except Exception as exc:  # noqa: BLE001 - closing anyway
        logger.debug("closing the ZooKeeper client: %s", exc)
