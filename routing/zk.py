"""Making and starting kazoo clients with the project's settings.

One place decides the session timeout and the retry policies, so the
worker, the compactor and the admin page behave alike:

* connection retries: forever, with a capped backoff (a worker keeps trying
  to reach ZooKeeper for as long as it runs);
* command retries: a few quick tries, so that a call made while ZooKeeper
  is away fails within about a second instead of hanging; the callers know
  what to do then (keep the lock for later, try the refresh again...).
"""
from __future__ import annotations

import logging

from django.conf import settings
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError

from routing.exceptions import ZooKeeperUnavailable

logger = logging.getLogger(__name__)


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
    return KazooClient(
        hosts=hosts,
        timeout=timeout,
        connection_retry={"max_tries": -1, "delay": 0.1, "backoff": 2, "max_delay": 1.0},
        command_retry={"max_tries": 3, "delay": 0.1, "backoff": 2, "max_delay": 0.5},
    )


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
