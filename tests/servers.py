"""Throwaway real servers for the test suite: PostgreSQL, Redis, ZooKeeper.

Each server runs as a child process in its own temporary directory on a free
loopback port and is stopped (and its directory removed) by ``stop()``. A
server that cannot start raises :class:`ServerError` with the tail of its log,
so the tests that need it fail rather than skip.

Nothing here imports Django: ``bench/`` and ``make cluster`` reuse it.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
ZK_CLASSPATH = os.environ.get(
    "ZK_CLASSPATH", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/*"
)


class ServerError(RuntimeError):
    """A throwaway server could not be started."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """Return True once 127.0.0.1:``port`` accepts connections within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _as_postgres() -> list[str]:
    """Return the command prefix that runs a program as the postgres user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServerError("running as root but there is no 'postgres' user") from exc
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Server:
    """A started server: its port, working directory and how to stop it."""

    name: str
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    extra: dict = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server and remove its directory; safe to call twice."""
        if self.name == "postgres":
            subprocess.run(
                [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.workdir / "data"),
                 "-m", "immediate", "-w", "-t", "30", "stop"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False,
            )
        elif self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.workdir, ignore_errors=True)


class PostgresServer(Server):
    """A PostgreSQL cluster that can be paused (stopped) and resumed on its port."""

    def url(self, dbname: str = "postgres") -> str:
        """Return a ``postgres://`` URL for ``dbname`` on this server."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run ``pg_ctl`` on this cluster as the postgres user."""
        return subprocess.run(
            [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.workdir / "data"), *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )

    def start_cluster(self) -> None:
        """Start (or restart) the postgres process of this cluster."""
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir} -c max_connections=200"
        if not self.extra.get("durable"):
            # Tests need correctness, not crash safety: skip the disk flushes.
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self.pg_ctl("-l", str(self.workdir / "postgres.log"), "-w", "-t", "60",
                           "-o", opts, "start", timeout=90)
        if done.returncode != 0 or not wait_for_port(self.port, timeout=30):
            raise ServerError(
                f"PostgreSQL did not start on port {self.port}:\n{done.stderr}\n"
                + _tail(self.workdir / "postgres.log")
            )

    def stop_cluster(self) -> None:
        """Stop the postgres process (fast shutdown) but keep its data."""
        self.pg_ctl("-m", "fast", "-w", "-t", "30", "stop")


def start_postgres(*, durable: bool = False) -> PostgresServer:
    """Start a throwaway PostgreSQL cluster with trust auth on a free port.

    ``durable`` keeps PostgreSQL's default fsync and synchronous commit, as the
    benchmarks need to compare like with like; tests leave it off.
    """
    if not (PG_BIN / "initdb").exists():
        raise ServerError(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)")
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-pg-"))
    os.chmod(workdir, 0o755)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    server = PostgresServer("postgres", free_port(), workdir, extra={"durable": durable})
    init = subprocess.run(
        [*_as_postgres(), str(PG_BIN / "initdb"), "-D", str(workdir / "data"), "-U", "postgres",
         "-A", "trust", "-E", "UTF8", "--no-sync"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise ServerError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    try:
        server.start_cluster()
    except ServerError:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return server


def start_redis() -> Server:
    """Start a throwaway Redis server without persistence on a free port."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise ServerError("redis-server not found (apt-get install redis-server)")
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-redis-"))
    port = free_port()
    log = open(workdir / "redis.log", "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server("redis", port, workdir, proc)
    if not wait_for_port(port, timeout=20, proc=proc):
        text = _tail(workdir / "redis.log")
        server.stop()
        raise ServerError(f"Redis did not start on port {port}:\n{text}")
    server.extra["url"] = f"redis://127.0.0.1:{port}/0"
    return server


def start_zookeeper() -> Server:
    """Start a throwaway standalone ZooKeeper server on a free port."""
    java = shutil.which("java")
    if java is None or not Path("/usr/share/java/zookeeper.jar").exists():
        raise ServerError("ZooKeeper or java not found (apt-get install zookeeper)")
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-zk-"))
    port = free_port()
    (workdir / "data").mkdir()
    cfg = workdir / "zoo.cfg"
    cfg.write_text(
        "tickTime=500\n"          # short ticks: session timeouts of seconds in tests
        "minSessionTimeout=1000\n"
        "maxSessionTimeout=30000\n"
        f"dataDir={workdir / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=ruok,srvr,stat\n"
    )
    log = open(workdir / "zookeeper.log", "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [java, "-Xmx256m", f"-Dzookeeper.log.dir={workdir}", "-Dzookeeper.root.logger=INFO,CONSOLE",
         "-cp", ZK_CLASSPATH, "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server("zookeeper", port, workdir, proc)
    if not wait_for_port(port, timeout=60, proc=proc):
        text = _tail(workdir / "zookeeper.log")
        server.stop()
        raise ServerError(f"ZooKeeper did not start on port {port}:\n{text}")
    server.extra["hosts"] = f"127.0.0.1:{port}"
    return server
