#!/usr/bin/env python
"""A local CollabDocs cluster: PostgreSQL, Redis, ZooKeeper, three workers, HAProxy.

    python scripts/cluster.py start     # make cluster
    python scripts/cluster.py stop      # make cluster-stop
    python scripts/cluster.py status
    python scripts/cluster.py manage createsuperuser   # any manage.py command, cluster env

Everything lives in ``.cluster/`` (gitignored): the servers' data (kept
between runs), ``logs/`` and ``state.json`` with the ports and process ids.
The workers are ``manage.py runworker`` on 127.0.0.1:8001-8003, each
advertising its own URL to the others; HAProxy (Debian's) listens on the
front door, http://127.0.0.1:8000/, checks each worker's ``/readyz`` every
second and sends pages and the API to any ready worker and each socket to
its document's owner (docs/scaleout.md "The front door"). Browsers use only
the front door.

``start`` is idempotent: what runs already is kept. ``stop`` sends the
workers SIGTERM (they hand their documents over and exit), then stops the
servers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collabdocs.devcluster import worker_ready  # noqa: E402 - after the repo is on sys.path
from collabdocs.devservers import (  # noqa: E402 - after the repo is on sys.path
    PostgresServer,
    ServerError,
    free_port,
    port_is_free,
    start_postgres,
    start_redis,
    start_zookeeper,
    stop_pid,
    wait_for_port,
)
from collabdocs.haproxy import haproxy_config  # noqa: E402 - after the repo is on sys.path

HOME = REPO / ".cluster"
STATE = HOME / "state.json"
LOGS = HOME / "logs"
WORKER_PORTS = (8001, 8002, 8003)
FRONT_PORT = 8000
FRONT_URL = f"http://127.0.0.1:{FRONT_PORT}"
HAPROXY_CFG = HOME / "haproxy.cfg"
HAPROXY_SOCKET = HOME / "haproxy.sock"
DATABASE = "collabdocs"
PYTHON = sys.executable


def load_state() -> dict:
    """Return ``.cluster/state.json`` ({} before the first start)."""
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}


def save_state(state: dict) -> None:
    """Write ``.cluster/state.json``."""
    HOME.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def alive(pid: int | None) -> bool:
    """Return whether process ``pid`` runs (and is not a zombie)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return True
    return status != "Z"


def environment(state: dict) -> dict[str, str]:
    """Return the environment every worker and ``manage`` command runs with."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{state['postgres']['port']}/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:{state['redis']['port']}/0",
            "ZOOKEEPER_HOSTS": f"127.0.0.1:{state['zookeeper']['port']}",
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _port(state: dict, name: str) -> int:
    port = state.get(name, {}).get("port")
    return port if port and port_is_free(port) else free_port()


def start_servers(state: dict) -> None:
    """Start PostgreSQL, Redis and ZooKeeper unless running; record them in ``state``."""
    pg = state.get("postgres", {})
    pg_server = PostgresServer(
        "postgres", pg.get("port") or 0, HOME / "postgres", throwaway=False, extra={"durable": True}
    )
    if pg.get("port") and pg_server.pg_ctl("status").returncode == 0:
        print(f"PostgreSQL already runs on {pg['port']}")
    else:
        pg_server = start_postgres(
            durable=True, workdir=HOME / "postgres", port=_port(state, "postgres")
        )
        print(f"PostgreSQL on 127.0.0.1:{pg_server.port} (data in .cluster/postgres)")
    pg_server.create_database(DATABASE)
    state["postgres"] = {"port": pg_server.port}

    for name, starter in (("redis", start_redis), ("zookeeper", start_zookeeper)):
        known = state.get(name, {})
        if alive(known.get("pid")) and not port_is_free(known.get("port", 0)):
            print(f"{name} already runs on {known['port']}")
            continue
        server = starter(workdir=HOME / name, port=_port(state, name))
        state[name] = {"port": server.port, "pid": server.running_pid()}
        print(f"{name} on 127.0.0.1:{server.port}")
    save_state(state)


def migrate(state: dict) -> None:
    """Apply migrations to the cluster's database."""
    done = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=environment(state),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")
    print("database migrated")


def start_workers(state: dict) -> None:
    """Start a runworker on each of WORKER_PORTS unless running; wait until registered."""
    LOGS.mkdir(parents=True, exist_ok=True)
    workers = {w["port"]: w for w in state.get("workers", [])}
    starting = []
    for port in WORKER_PORTS:
        known = workers.get(port)
        if known and alive(known.get("pid")):
            print(f"worker 127.0.0.1:{port} already runs")
            continue
        if not port_is_free(port):
            raise SystemExit(f"port {port} is taken by another program; stop it first")
        log_path = LOGS / f"worker-{port}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            [
                PYTHON,
                "manage.py",
                "runworker",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--advertise",
                f"http://127.0.0.1:{port}",
                "--front-door",
                FRONT_URL,
            ],
            cwd=REPO,
            env=environment(state),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        workers[port] = {
            "port": port,
            "pid": proc.pid,
            "id": f"127.0.0.1:{port}",
            "log": str(log_path.relative_to(REPO)),
        }
        starting.append((port, proc, log_path, log_path.stat().st_size))
    state["workers"] = [workers[p] for p in sorted(workers)]
    save_state(state)
    for port, proc, log_path, offset in starting:
        deadline = time.monotonic() + 60
        while True:
            with open(log_path, "rb") as f:
                f.seek(offset)
                if b"serving http" in f.read() or worker_ready(port):
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise SystemExit(f"worker {port} did not start; {log_path}:\n{tail}")
            time.sleep(0.1)
        print(f"worker 127.0.0.1:{port} serving (log .cluster/logs/worker-{port}.log)")


def haproxy_binary() -> str:
    """Return Debian's haproxy, or stop with how to install it."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.access(found, os.X_OK):
        raise SystemExit(
            "haproxy is missing: make system-packages (as root) or apt-get install haproxy"
        )
    return found


def start_front_door(state: dict) -> None:
    """Start HAProxy on FRONT_PORT in front of the workers unless it runs; wait for them."""
    known = state.get("haproxy", {})
    HAPROXY_CFG.write_text(
        haproxy_config(
            bind=f"127.0.0.1:{FRONT_PORT}",
            workers=[f"http://127.0.0.1:{p}" for p in WORKER_PORTS],
            stats_socket=str(HAPROXY_SOCKET),
        )
    )
    if alive(known.get("pid")):
        # Reload: the new process takes over the port, the old finishes its tunnels.
        os.kill(known["pid"], signal.SIGUSR2)
        print(f"HAProxy already runs on {FRONT_PORT} (configuration reloaded)")
        return
    if not port_is_free(FRONT_PORT):
        raise SystemExit(f"port {FRONT_PORT} is taken by another program; stop it first")
    log = open(LOGS / "haproxy.log", "ab")  # noqa: SIM115 - owned by the child
    # -W: master-worker, so SIGUSR2 reloads the configuration in place.
    proc = subprocess.Popen(
        [haproxy_binary(), "-W", "-db", "-f", str(HAPROXY_CFG)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    if not wait_for_port(FRONT_PORT, timeout=10, proc=proc):
        tail = (LOGS / "haproxy.log").read_text(errors="replace")[-2000:]
        raise SystemExit(f"HAProxy did not start; .cluster/logs/haproxy.log:\n{tail}")
    state["haproxy"] = {"port": FRONT_PORT, "pid": proc.pid}
    save_state(state)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and up_servers() < len(WORKER_PORTS):
        time.sleep(0.1)
    print(f"HAProxy on 127.0.0.1:{FRONT_PORT}: {up_servers()} of {len(WORKER_PORTS)} workers ready")


def up_servers() -> int:
    """Return how many workers HAProxy's health checks have up (0 if it cannot say)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(HAPROXY_SOCKET))
            sock.sendall(b"show servers state workers\n")
            out = b""
            while chunk := sock.recv(65536):
                out += chunk
    except OSError:
        return 0
    # "be_id be_name srv_id srv_name srv_addr srv_op_state ...": 2 is up.
    rows = [line.split() for line in out.decode().splitlines()]
    return sum(1 for f in rows if len(f) > 5 and f[1] == "workers" and f[5] == "2")


def start() -> None:
    """``make cluster``."""
    state = load_state()
    try:
        start_servers(state)
    except ServerError as exc:
        raise SystemExit(f"could not start a server: {exc}") from None
    migrate(state)
    haproxy_binary()
    start_workers(state)
    start_front_door(state)
    first, last = WORKER_PORTS[0], WORKER_PORTS[-1]
    print(f"""
CollabDocs cluster is up: HAProxy on {FRONT_URL} in front of {len(WORKER_PORTS)} workers
on 127.0.0.1:{first}-{last}.
  Open      {FRONT_URL}/  (pages and the API from any ready worker; each document's
            socket through HAProxy to its owner)
  Staff     {FRONT_URL}/admin/cluster/  (workers, ring, who owns a document)
  Status    .venv/bin/python scripts/cluster.py status   (workers ready as HAProxy sees them)
  Admin     .venv/bin/python scripts/cluster.py manage createsuperuser
  Logs      .cluster/logs/    State  .cluster/state.json
  Stop      make cluster-stop""")


def stop() -> None:
    """``make cluster-stop``: workers first (they drain), then the servers."""
    state = load_state()
    if not state:
        print("no cluster here (.cluster/state.json is missing)")
        return
    running = [w for w in state.get("workers", []) if alive(w.get("pid"))]
    for worker in running:
        os.kill(worker["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 30
    for worker in running:
        while alive(worker["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(worker["pid"]):
            os.kill(worker["pid"], signal.SIGKILL)
            print(f"worker {worker['port']} killed (did not drain in time)")
        else:
            print(f"worker {worker['port']} stopped")
    for worker in state.get("workers", []):
        worker["pid"] = None
    haproxy_pid = state.get("haproxy", {}).get("pid")
    if alive(haproxy_pid):
        stop_pid(haproxy_pid)
        print("HAProxy stopped")
    state.get("haproxy", {})["pid"] = None
    for name in ("redis", "zookeeper"):
        pid = state.get(name, {}).get("pid")
        if alive(pid):
            stop_pid(pid)
            print(f"{name} stopped")
        state.get(name, {})["pid"] = None
    if state.get("postgres", {}).get("port"):
        server = PostgresServer(
            "postgres", state["postgres"]["port"], HOME / "postgres", throwaway=False
        )
        if server.pg_ctl("status").returncode == 0:
            server.stop(remove=False)
            print("PostgreSQL stopped")
    save_state(state)
    print("cluster stopped; its data stays in .cluster/ (delete the folder to start afresh)")


def status() -> None:
    """Print what runs."""
    state = load_state()
    if not state:
        print("no cluster here")
        return
    pg = state.get("postgres", {})
    pg_up = (
        pg.get("port")
        and PostgresServer("postgres", pg["port"], HOME / "postgres", throwaway=False)
        .pg_ctl("status")
        .returncode
        == 0
    )
    print(f"postgres   127.0.0.1:{pg.get('port')}  {'up' if pg_up else 'down'}")
    for name in ("redis", "zookeeper"):
        info = state.get(name, {})
        print(
            f"{name:<10} 127.0.0.1:{info.get('port')}  {'up' if alive(info.get('pid')) else 'down'}"
        )
    front = state.get("haproxy", {})
    front_up = alive(front.get("pid"))
    ready = f", {up_servers()} of {len(WORKER_PORTS)} workers ready" if front_up else ""
    print(f"haproxy    127.0.0.1:{front.get('port')}  {'up' if front_up else 'down'}{ready}")
    for worker in state.get("workers", []):
        up = alive(worker.get("pid")) and wait_for_port(worker["port"], timeout=0.5)
        print(f"worker     127.0.0.1:{worker['port']}  {'up' if up else 'down'}")


def manage(args: list[str]) -> int:
    """Run a manage.py command against the cluster's database and ZooKeeper."""
    state = load_state()
    if "postgres" not in state:
        raise SystemExit("start the cluster first (make cluster)")
    return subprocess.call([PYTHON, "manage.py", *args], cwd=REPO, env=environment(state))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop", "status", "manage"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="manage.py arguments (manage)")
    options = parser.parse_args()
    if options.action == "manage":
        return manage(options.args)
    {"start": start, "stop": stop, "status": status}[options.action]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
