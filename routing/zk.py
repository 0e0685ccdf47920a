"""Making and starting kazoo clients with the project's settings.

One place decides the session timeout and the retry policies, so the
worker, the compactor and the admin page behave alike. A retry policy is
a :class:`RetryPolicy` (kazoo's ``KazooRetry`` settings, and the pure
:meth:`RetryPolicy.pause` for the asyncio loops that retry by themselves);
every retry in the routing app uses one of the policies defined here:

* connection retries (:data:`CONNECTION`): forever, with a backoff capped
  at half a second (a worker keeps trying to reach ZooKeeper for as long
  as it runs, and must be back well within its session after a short
  outage); the loops that re-register, re-read the members or take
  forwarded requests again pause the same way;
* each connection attempt is bounded by ``ATTEMPT_SECONDS``: kazoo gives an
  attempt's TCP connect the whole session timeout and its handshake the
  session timeout divided by the number of hosts, so one attempt at a
  server that accepts but does not answer yet (starting up) could use up
  the session while the next attempt would have succeeded. (Listing each
  host several times would shrink the handshake's share too, but then a
  dropped connection is retried at once, without the retry's pause, which
  snatches a session back from a client that took it over on purpose.)
* command retries (:data:`COMMAND`): a few quick tries, so that a call
  made while ZooKeeper is away fails within about a second instead of
  hanging; the callers know what to do then (keep the lock for later, try
  the refresh again...);
* registering (:data:`REGISTER`): up to 20 tries within about 15 s, at
  start-up or after the session was lost;
* leaving (:data:`LEAVE`): a stopping worker must not wait for ZooKeeper
  long; its session's end removes what it could not.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

from routing.exceptions import ZooKeeperUnavailable

logger = logging.getLogger(__name__)

#: Longest a single connection attempt (TCP connect, then the handshake) may take.
ATTEMPT_SECONDS = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try again and how long to pause in between.

    The pause starts at ``delay`` and is multiplied by ``backoff`` after
    each failed try, up to ``max_delay``; ``max_tries`` -1 tries forever.
    The fields are :class:`~kazoo.retry.KazooRetry`'s arguments.
    """

    max_tries: int
    delay: float
    max_delay: float
    backoff: float = 2.0

    def pause(self, failures: int) -> float:
        """Return the pause after ``failures`` failed tries in a row (pure)."""
        return min(self.max_delay, self.delay * self.backoff ** max(0, failures - 1))

    def kazoo_options(self) -> dict[str, float]:
        """Return the policy as a ``KazooClient(connection_retry=...)`` dict."""
        return asdict(self)

    def kazoo_retry(self, client: KazooClient) -> KazooRetry:
        """Return a ``KazooRetry`` with this policy that sleeps as ``client``'s handler does."""
        return KazooRetry(**asdict(self), sleep_func=client.handler.sleep_func)


#: Reaching ZooKeeper: forever, 0.1 s doubling to at most 0.5 s between rounds.
CONNECTION = RetryPolicy(max_tries=-1, delay=0.1, max_delay=0.5)
#: One command while connected: three quick tries.
COMMAND = RetryPolicy(max_tries=3, delay=0.1, max_delay=0.5)
#: Creating this worker's znode: 20 tries, 0.05 s doubling to at most 1 s.
REGISTER = RetryPolicy(max_tries=20, delay=0.05, max_delay=1.0)
#: Deleting it when stopping: three tries within about a third of a second.
LEAVE = RetryPolicy(max_tries=3, delay=0.05, max_delay=0.2)


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
        connection_retry=CONNECTION.kazoo_options(),
        command_retry=COMMAND.kazoo_options(),
    )
    bound_attempts(client, ATTEMPT_SECONDS)
    return client


def bound_attempts(client: KazooClient, attempt: float) -> None:
    """Bound each of ``client``'s connection attempts to about ``attempt`` seconds.

    kazoo gives an attempt's TCP connect the whole session timeout and its
    handshake the session timeout divided by the number of hosts; both are
    capped here (kazoo has no option for either).
    """
    create = client.handler.create_connection

    def create_connection(*args: Any, **kwargs: Any) -> Any:
        wanted = kwargs.get("timeout")
        kwargs["timeout"] = attempt if wanted is None else min(wanted, attempt)
        return create(*args, **kwargs)

    client.handler.create_connection = create_connection
    connection = client._connection
    invoke = connection._invoke

    def bounded_invoke(timeout: float, request: Any, xid: int | None = None) -> Any:
        # Only the handshake (Connect, Auth) goes through _invoke.
        return invoke(min(timeout, attempt), request, xid=xid)

    connection._invoke = bounded_invoke


def start_client(
    *, hosts: str | None = None, timeout: float | None = None, connect_timeout: float | None = None
) -> KazooClient:
    """Return a started client; raise ZooKeeperUnavailable with a clear message.

    :raises ZooKeeperUnavailable: no server answered within ``connect_timeout``
        (default ``COLLABDOCS["ZK_CONNECT_TIMEOUT"]``).
    """
    hosts = hosts if hosts is not None else settings.ZOOKEEPER_HOSTS
    wait = (
        connect_timeout
        if connect_timeout is not None
        else float(settings.COLLABDOCS["ZK_CONNECT_TIMEOUT"])
    )
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
