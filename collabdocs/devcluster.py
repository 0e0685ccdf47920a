"""Real ``runworker`` processes for the scale-out tests and ``bench/``.

A :class:`Cluster` runs workers on free loopback ports against one
PostgreSQL database, one Redis and one ZooKeeper (started by
:mod:`collabdocs.devservers`), under a ZooKeeper root of its own (so
clusters never see each other's workers), with a short session timeout.
Part of the development harness: the product never imports it. Nothing
here imports Django.

After :meth:`Cluster.use_front_door` the cluster also runs HAProxy (Debian's) on a
free port in front of its workers (:class:`FrontDoor`, configured by
:mod:`collabdocs.haproxy`), and the workers hand out socket URLs through it
(``runworker --front-door``).

Failure modes: a worker that exits or does not log that it registered
within the timeout makes :meth:`WorkerProcess.wait_ready` raise
``RuntimeError`` with the worker's log; :meth:`Cluster.stop` stops every
worker whatever its state (stopped with SIGSTOP, killed, running).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path

from collabdocs.devservers import free_port, wait_for_port
from collabdocs.haproxy import haproxy_config
from routing.frontdoor import server_name
from routing.ring import HashRing

REPO = Path(__file__).resolve().parents[1]
#: The session timeout the tests run with (seconds).
SESSION_TIMEOUT = 4
READY_LINE = "serving http"


def worker_ready(port: int, *, timeout: float = 1) -> bool:
    """Return whether the worker on ``port`` answers ``GET /readyz`` with 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=timeout) as r:
            return int(r.status) == 200
    except (OSError, ValueError):
        return False


class WorkerProcess:
    """One ``manage.py runworker`` subprocess."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_dir: Path,
        port: int | None = None,
        worker_id: str | None = None,
        front_door: str | None = None,
    ) -> None:
        self.port = port or free_port()
        self.front_door = front_door
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.worker_id = worker_id or f"127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_dir / f"worker-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> WorkerProcess:
        """Start the process (again); :meth:`wait_ready` waits for it."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        args = [sys.executable, "manage.py", "runworker", "--port", str(self.port)]
        if self.worker_id != f"127.0.0.1:{self.port}":
            args += ["--id", self.worker_id]
        if self.front_door:
            args += ["--front-door", self.front_door]
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the worker listens and has registered.

        Registered: it logged :data:`READY_LINE` (once per start), or, when
        its ``LOG_LEVEL`` hides that line, its ``/readyz`` answers 200.
        """
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        if not wait_for_port(self.port, timeout=timeout, proc=self.proc):
            raise RuntimeError(f"worker {self.port} did not start:\n{self.log()}")
        while self.log().count(READY_LINE) < self.starts and not worker_ready(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.port} did not register:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        """Return what the process printed."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        """Return whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """``kill -9``: no deregistration, no flush."""
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait; return the exit status."""
        self.signal(signal.SIGTERM)
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop it whatever its state (SIGCONT, SIGTERM, then SIGKILL)."""
        if not self.alive:
            return
        assert self.proc is not None
        try:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def worker_env(
    *,
    database_url: str,
    zk_hosts: str,
    redis_url: str,
    root: str,
    session_timeout: int = SESSION_TIMEOUT,
    **extra: str,
) -> dict[str, str]:
    """Return the environment of a test worker."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ZOOKEEPER_HOSTS": zk_hosts,
            "ZOOKEEPER_ROOT": root,
            "COLLABDOCS_ZK_SESSION_TIMEOUT": str(session_timeout),
            "COLLABDOCS_ZK_CONNECT_TIMEOUT": "5",
            "COLLABDOCS_WORKER_STATS_SECONDS": "1",
            # Keep every op row, so the tests can check each acked op is stored.
            "COLLABDOCS_COMPACT_THRESHOLD_OPS": "100000000",
            "COLLABDOCS_COMPACT_KEEP_OPS": "100000000",
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


class FrontDoor:
    """HAProxy in front of a cluster's workers, on one loopback port.

    Runs in the foreground (``-db``) in its own session; its configuration
    and log are in ``log_dir``; its runtime API socket in a short temporary
    directory. Health checks every ``inter_ms``, as ``make cluster``.
    """

    def __init__(self, *, log_dir: Path, port: int | None = None, inter_ms: int = 500) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.inter_ms = inter_ms
        self.config_path = log_dir / f"haproxy-{self.port}.cfg"
        # A Unix socket's path is limited to 107 bytes: a short directory of its own.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="collabdocs-haproxy-"))
        self.stats_socket = self._socket_dir / "stats.sock"
        self.log_path = log_dir / f"haproxy-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, worker_urls: list[str]) -> FrontDoor:
        """Write the configuration for ``worker_urls`` and start HAProxy."""
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.config_path.write_text(
            haproxy_config(
                bind=f"127.0.0.1:{self.port}",
                workers=worker_urls,
                inter_ms=self.inter_ms,
                stats_socket=str(self.stats_socket),
            )
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [binary, "-db", "-f", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if not wait_for_port(self.port, timeout=10, proc=self.proc):
            raise RuntimeError(f"haproxy did not start:\n{self.log_path.read_text()}")
        return self

    def server_states(self) -> dict[str, str]:
        """Return each server's state as HAProxy sees it (``UP``, ``DOWN``, ...)."""
        out = self.runtime("show servers state workers")
        states: dict[str, str] = {}
        for line in out.splitlines():
            fields = line.split()
            # "be_id be_name srv_id srv_name srv_addr srv_op_state ..." (2 = UP).
            if len(fields) > 5 and fields[1] == "workers":
                states[fields[3]] = {"0": "DOWN", "2": "UP"}.get(fields[5], fields[5])
        return states

    def runtime(self, command: str) -> str:
        """Send one command to HAProxy's runtime API; return its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def wait_until_up(self, names: Iterable[str], timeout: float = 15) -> None:
        """Wait until the health checks have every server in ``names`` up."""
        wanted = set(names)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.server_states()
            if all(states.get(n) == "UP" for n in wanted):
                return
            time.sleep(0.05)
        raise RuntimeError(f"servers not up in HAProxy: {self.server_states()}")

    def get(self, path: str, timeout: float = 5) -> int:
        """Return the status of ``GET path`` through the front door."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self) -> None:
        """Stop HAProxy."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self._socket_dir, ignore_errors=True)


class Cluster:
    """Workers sharing a database, a Redis and a ZooKeeper root."""

    def __init__(
        self,
        *,
        database_url: str,
        zk_hosts: str,
        redis_url: str,
        log_dir: Path,
        session_timeout: int = SESSION_TIMEOUT,
        **extra_env: str,
    ) -> None:
        self.front: FrontDoor | None = None
        self.root = f"/collabdocs-test-{uuid.uuid4().hex[:10]}"
        self.zk_hosts = zk_hosts
        self.env = worker_env(
            database_url=database_url,
            zk_hosts=zk_hosts,
            redis_url=redis_url,
            root=self.root,
            session_timeout=session_timeout,
            **extra_env,
        )
        self.log_dir = log_dir
        self.workers: list[WorkerProcess] = []

    def add(self, count: int = 1, *, wait: bool = True) -> list[WorkerProcess]:
        """Start ``count`` more workers (in parallel) and wait until registered."""
        door = self.front.url if self.front else None
        started = [
            WorkerProcess(env=self.env, log_dir=self.log_dir, front_door=door).start()
            for _ in range(count)
        ]
        self.workers.extend(started)
        if wait:
            for worker in started:
                worker.wait_ready()
        return started

    def use_front_door(self, *, inter_ms: int = 1000) -> FrontDoor:
        """Put HAProxy in front: workers added from now on hand out its URLs.

        Call before :meth:`add`, then :meth:`open_front_door` once they run.
        """
        self.front = FrontDoor(log_dir=self.log_dir, inter_ms=inter_ms)
        return self.front

    def open_front_door(self) -> FrontDoor:
        """Start HAProxy in front of the workers so far; wait until all are up."""
        assert self.front is not None, "call use_front_door() before adding workers"
        self.front.start([w.url for w in self.workers])
        self.front.wait_until_up(server_name(w.url) for w in self.live())
        return self.front

    def by_id(self, worker_id: str) -> WorkerProcess:
        """Return the worker with this id."""
        return next(w for w in self.workers if w.worker_id == worker_id)

    def live(self) -> list[WorkerProcess]:
        """Return the workers whose process runs."""
        return [w for w in self.workers if w.alive]

    def owner(self, doc_id: str, workers: Iterable[WorkerProcess] | None = None) -> WorkerProcess:
        """Return the worker the ring over ``workers`` (default: live) gives ``doc_id``."""
        members = list(workers if workers is not None else self.live())
        ring = HashRing([w.worker_id for w in members])
        return self.by_id(ring.owner(str(uuid.UUID(doc_id))))

    def others(self, worker: WorkerProcess) -> list[WorkerProcess]:
        """Return the live workers other than ``worker``."""
        return [w for w in self.live() if w is not worker]

    def stop(self) -> None:
        """Stop every worker, then the front door."""
        for worker in self.workers:
            worker.stop()
        if self.front is not None:
            self.front.stop()
