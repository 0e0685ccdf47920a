"""Throwaway real servers for the test suite: see :mod:`collabdocs.devservers`.

The servers moved there so that ``make cluster`` can keep them running;
this module keeps the names the tests and ``bench/`` import.
"""

from collabdocs.devservers import (  # noqa: F401
    PG_BIN,
    ZK_CLASSPATH,
    PostgresServer,
    Server,
    ServerError,
    ZooKeeperServer,
    free_port,
    port_is_free,
    start_postgres,
    start_redis,
    start_zookeeper,
    stop_pid,
    wait_for_port,
)
