"""Real PostgreSQL, Redis and ZooKeeper servers for tests, benchmarks and ``make cluster``.

Each server runs as a child process on a loopback port, in a directory of
its own. Two uses:

* Throwaway (the test suite, ``bench/``): a fresh temporary directory on a
  free port; ``stop()`` stops the server and removes the directory.
* Kept (``make cluster``): the caller passes ``workdir`` and ``port``; the
  data survives ``stop(remove=False)`` and the next start reuses it. The
  processes run in sessions of their own, so they outlive the script that
  started them.

A server that cannot start raises :class:`ServerError` with the tail of its
log, so the tests that need it fail rather than skip.

Nothing here imports Django.
"""

from __future__ import annotations

import contextlib
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
    """A server could not be started."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Return whether nothing listens on 127.0.0.1:``port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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


def _workdir(workdir: Path | None, prefix: str) -> tuple[Path, bool]:
    """Return ``(directory, throwaway)``: the given one, or a new temporary one."""
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix=prefix)), True
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir, False


def _stop_process(proc: subprocess.Popen | None, pid: int | None) -> None:
    if proc is not None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        return
    if pid:
        stop_pid(pid)


def stop_pid(pid: int, *, timeout: float = 15) -> bool:
    """SIGTERM a process that is not our child, SIGKILL it after ``timeout``; return
    whether it was running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


@dataclass
class Server:
    """A started server: its port, working directory and how to stop it.

    ``pid`` is set when the process is not a child of this one (a kept
    server found running by ``make cluster``).
    """

    name: str
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    extra: dict = field(default_factory=dict)
    throwaway: bool = True
    pid: int | None = None

    def stop(self, *, remove: bool | None = None) -> None:
        """Stop the server; remove its directory if throwaway (or ``remove``).

        Safe to call twice.
        """
        if self.name == "postgres":
            subprocess.run(
                [
                    *_as_postgres(),
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.workdir / "data"),
                    "-m",
                    "immediate" if self.throwaway else "fast",
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        else:
            _stop_process(self.proc, self.pid)
        if self.throwaway if remove is None else remove:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def running_pid(self) -> int | None:
        """Return the server's process id while it runs."""
        if self.proc is not None:
            return self.proc.pid if self.proc.poll() is None else None
        return self.pid


class PostgresServer(Server):
    """A PostgreSQL cluster that can be paused (stopped) and resumed on its port."""

    def url(self, dbname: str = "postgres") -> str:
        """Return a ``postgres://`` URL for ``dbname`` on this server."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run ``pg_ctl`` on this cluster as the postgres user."""
        return subprocess.run(
            [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.workdir / "data"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_cluster(self) -> None:
        """Start (or restart) the postgres process of this cluster."""
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir} -c max_connections=200"
        )
        if not self.extra.get("durable"):
            # Tests need correctness, not crash safety: skip the disk flushes.
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self.pg_ctl(
            "-l",
            str(self.workdir / "postgres.log"),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
            "start",
            timeout=90,
        )
        if done.returncode != 0 or not wait_for_port(self.port, timeout=30):
            raise ServerError(
                f"PostgreSQL did not start on port {self.port}:\n{done.stderr}\n"
                + _tail(self.workdir / "postgres.log")
            )

    def stop_cluster(self) -> None:
        """Stop the postgres process (fast shutdown) but keep its data."""
        self.pg_ctl("-m", "fast", "-w", "-t", "30", "stop")

    def create_database(self, dbname: str) -> None:
        """Create ``dbname`` unless it exists."""
        psql = [
            *_as_postgres(),
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
        ]
        found = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if found.stdout.strip() == "1":
            return
        made = subprocess.run(
            [*psql, f'CREATE DATABASE "{dbname}"'],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if made.returncode != 0:
            raise ServerError(f"could not create database {dbname}:\n{made.stderr}")


def start_postgres(
    *, durable: bool = False, workdir: Path | None = None, port: int | None = None
) -> PostgresServer:
    """Start a PostgreSQL cluster with trust auth.

    Without ``workdir``: a throwaway cluster on a free port. With it: the
    cluster in ``workdir/data``, made by ``initdb`` the first time. ``durable``
    keeps PostgreSQL's default fsync and synchronous commit, as the
    benchmarks need to compare like with like; tests leave it off.
    """
    if not (PG_BIN / "initdb").exists():
        raise ServerError(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)")
    workdir, throwaway = _workdir(workdir, "collabdocs-pg-")
    os.chmod(workdir, 0o755)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    server = PostgresServer(
        "postgres", port or free_port(), workdir, extra={"durable": durable}, throwaway=throwaway
    )
    if not (workdir / "data" / "PG_VERSION").exists():
        init = subprocess.run(
            [
                *_as_postgres(),
                str(PG_BIN / "initdb"),
                "-D",
                str(workdir / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            if throwaway:
                shutil.rmtree(workdir, ignore_errors=True)
            raise ServerError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    try:
        server.start_cluster()
    except ServerError:
        if throwaway:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return server


def start_redis(*, workdir: Path | None = None, port: int | None = None) -> Server:
    """Start a Redis server without persistence (a throwaway one by default)."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise ServerError("redis-server not found (apt-get install redis-server)")
    workdir, throwaway = _workdir(workdir, "collabdocs-redis-")
    port = port or free_port()
    log = open(workdir / "redis.log", "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    server = Server("redis", port, workdir, proc, throwaway=throwaway)
    if not wait_for_port(port, timeout=20, proc=proc):
        text = _tail(workdir / "redis.log")
        server.stop()
        raise ServerError(f"Redis did not start on port {port}:\n{text}")
    server.extra["url"] = f"redis://127.0.0.1:{port}/0"
    return server


class ZooKeeperServer(Server):
    """A standalone ZooKeeper that can be stopped and started again on its data.

    Sessions survive a restart: the server reads them back from its data
    directory and gives each its full timeout again.
    """

    def start_process(self, *, timeout: float = 60) -> None:
        """Start the server process (again) on the same port and data."""
        java = shutil.which("java")
        if java is None or not Path("/usr/share/java/zookeeper.jar").exists():
            raise ServerError("ZooKeeper or java not found (apt-get install zookeeper)")
        log = open(self.workdir / "zookeeper.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [
                java,
                "-Xmx256m",
                f"-Dzookeeper.log.dir={self.workdir}",
                "-Dzookeeper.root.logger=INFO,CONSOLE",
                "-cp",
                ZK_CLASSPATH,
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                str(self.workdir / "zoo.cfg"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.pid = None
        if not wait_for_port(self.port, timeout=timeout, proc=self.proc):
            text = _tail(self.workdir / "zookeeper.log")
            self.stop_process()
            raise ServerError(f"ZooKeeper did not start on port {self.port}:\n{text}")

    def stop_process(self, *, kill: bool = False) -> None:
        """Stop the server process (SIGKILL with ``kill``) and keep its data."""
        if self.proc is not None and self.proc.poll() is None:
            if kill:
                self.proc.kill()
                self.proc.wait(timeout=15)
            else:
                _stop_process(self.proc, None)
        elif self.pid:
            stop_pid(self.pid)
            self.pid = None


def start_zookeeper(
    *, workdir: Path | None = None, port: int | None = None, tick_ms: int = 500
) -> ZooKeeperServer:
    """Start a standalone ZooKeeper server (a throwaway one by default).

    ``tick_ms`` sets the session timeouts clients may ask for: from two to
    sixty ticks (1 to 30 s with the default 500 ms, so tests can use
    seconds).
    """
    workdir, throwaway = _workdir(workdir, "collabdocs-zk-")
    port = port or free_port()
    (workdir / "data").mkdir(exist_ok=True)
    (workdir / "zoo.cfg").write_text(
        f"tickTime={tick_ms}\n"
        f"minSessionTimeout={2 * tick_ms}\n"
        f"maxSessionTimeout={60 * tick_ms}\n"
        f"dataDir={workdir / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=ruok,srvr,stat\n"
    )
    server = ZooKeeperServer("zookeeper", port, workdir, throwaway=throwaway)
    try:
        server.start_process()
    except ServerError:
        if throwaway:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    server.extra["hosts"] = f"127.0.0.1:{port}"
    return server
