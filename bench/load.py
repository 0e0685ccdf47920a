#!/usr/bin/env python
"""Load generator for the CollabDocs WebSocket protocol.

Drives C clients on each of D documents over real sockets against a real
daphne, the workload of ``shared/peer-bench`` so figures sit beside ShareDB's:

* ``closed`` (default): each client inserts 1-3 random characters at a random
  index before the final newline (a share ``--bold`` of them bold), waits for
  the ack, and sends the next. Acks landing in the measured window are counted
  and timed.
* ``open``: each client sends one op every ``1/--rate`` seconds (skipping a
  tick while its previous op is unacked, as the one-op-in-flight rule
  requires).

Both report broadcast latency too: the time from a send until each other
client on the document receives that op.
* ``idle``: open the sockets, wait, and report the server's RSS.

By default it starts everything itself: a throwaway PostgreSQL with its
default durability (fsync and synchronous commit on), migrations, and one
daphne process, all on free loopback ports, and stops them after. Users,
sessions and documents are created through the ORM in this process.

Clients track only (revision, length), like ShareDB's ``--lite`` clients:
an insert-only workload needs nothing more to make valid ops. At the end every
client must be at the same revision with the same length as a fresh reader's
``hello``, the stored document (snapshot + ops from the database) must equal
that content, its length must be 1 + everything inserted and its characters
the multiset of everything inserted.

Prints one JSON line. Exit 0: ran and verified; 1: verification failed;
2: could not run. Every loop is bounded in count and time; only loopback
targets are accepted.

    .venv/bin/python bench/load.py --clients 10 --docs 1 --seconds 10
    .venv/bin/python bench/load.py --mode open --clients 200 --rate 1
    .venv/bin/python bench/load.py --mode idle --clients 2 --docs 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789 "
LOOPBACK = ("127.", "localhost", "[::1]", "::1")

from realtime.framing import Reassembler


async def recv_whole(ws: Any, parts: Reassembler) -> str:
    """Return the next whole server frame, joining ``part`` frames."""
    while True:
        text = parts.feed(await ws.recv())
        if text is not None:
            return text


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Return the nearest-rank percentile ``q`` (0-1) of sorted values, in ms."""
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, int(-(-q * len(sorted_values) // 1)) - 1))
    return round(sorted_values[i] * 1000, 3)


def lat_summary(values: list[float]) -> dict[str, float | None]:
    """Return p50/p95/p99/max/mean of latencies given in seconds, as ms."""
    values = sorted(values)
    return {
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": percentile(values, 1.0),
        "mean": round(sum(values) / len(values) * 1000, 3) if values else None,
    }


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def change_length(delta: list[dict]) -> int:
    """Return how much a change grows the document (inserts minus deletes)."""
    total = 0
    for op in delta:
        if "insert" in op:
            ins = op["insert"]
            total += utf16_len(ins) if isinstance(ins, str) else 1
        elif "delete" in op:
            total -= op["delete"]
    return total


def proc_rss_mb(pid: int) -> float | None:
    """Return the resident set size of process ``pid`` in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int) -> float | None:
    """Return user+system CPU seconds used by process ``pid``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Client:
    """One bench connection: what it knows of its document and its tallies."""

    index: int
    doc: str
    cookie: str
    ws: Any = None
    rev: int = 0
    length: int = 1
    seq: int = 0
    inflight: tuple[str, float, int, str] | None = None  # (op id, sent at, inserted length, frame)
    acked: int = 0
    inserted: Counter = field(default_factory=Counter)
    inserted_len: int = 0
    errors: int = 0
    acked_event: asyncio.Event = field(default_factory=asyncio.Event)
    parts: Reassembler = field(default_factory=lambda: Reassembler())


class Bench:
    """Run one load scenario and collect its figures."""

    def __init__(self, args: argparse.Namespace, ws_base: str, origin: str) -> None:
        self.args = args
        self.ws_base = ws_base
        self.origin = origin
        self.rng = random.Random(args.seed)
        self.t_measure = 0.0
        self.t_end = 0.0
        self.ack_lat: list[float] = []
        self.bcast_lat: list[float] = []
        self.window_acks = 0
        self.sent_at: dict[str, float] = {}
        self.error_sample: str | None = None
        self.stopping = False
        self.client_id = "bench" + "".join(self.rng.choice("0123456789abcdef") for _ in range(24))

    async def connect(self, client: Client, rev: int | None = None) -> dict:
        """Open ``client``'s socket and return the server's ``hello``."""
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        url = f"{self.ws_base}/ws/docs/{client.doc}/" + (f"?rev={rev}" if rev is not None else "")
        client.ws = await asyncio.wait_for(
            connect(
                url,
                origin=Origin(self.origin),
                additional_headers={"Cookie": client.cookie},
                max_size=None,
                compression=None,
                open_timeout=30,
            ),
            timeout=60,
        )
        # Frames over the part size come as ``part`` frames (protocol.md).
        client.parts = Reassembler()
        hello = json.loads(await asyncio.wait_for(recv_whole(client.ws, client.parts), timeout=30))
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        return hello

    def make_op(self, client: Client) -> tuple[str, list[dict], int]:
        """Return (op id, delta, inserted length) for a random 1-3 char insert."""
        pos = self.rng.randrange(client.length)  # before the final newline
        text = "".join(self.rng.choice(ALPHA) for _ in range(self.rng.randint(1, 3)))
        op: dict[str, Any] = {"insert": text}
        if self.rng.random() < self.args.bold:
            op["attributes"] = {"bold": True}
        delta = ([{"retain": pos}] if pos else []) + [op]
        client.seq += 1
        op_id = f"{self.client_id}c{client.index}:{client.seq}"
        client.inserted.update(text)
        return op_id, delta, len(text)

    async def send_op(self, client: Client) -> None:
        """Send one new op from ``client`` (which has nothing in flight)."""
        op_id, delta, n = self.make_op(client)
        now = time.perf_counter()
        frame = json.dumps({"type": "op", "id": op_id, "rev": client.rev, "delta": delta})
        client.inflight = (op_id, now, n, frame)
        client.acked_event.clear()
        self.sent_at[op_id] = now
        await client.ws.send(frame)

    def on_message(self, client: Client, msg: dict) -> None:
        """Apply one server message to ``client``'s (rev, length) view."""
        kind = msg.get("type")
        if kind == "batch":
            for inner in msg["messages"]:
                self.on_message(client, inner)
        elif kind == "op":
            if client.inflight and msg.get("id") == client.inflight[0]:
                self.on_ack(client, msg["rev"])
                return
            client.rev = msg["rev"]
            client.length += change_length(msg["delta"])
            sent = self.sent_at.get(msg.get("id", ""))
            now = time.perf_counter()
            if sent is not None and self.t_measure <= now < self.t_end:
                self.bcast_lat.append(now - sent)
        elif kind == "ack":
            if client.inflight and msg.get("id") == client.inflight[0]:
                self.on_ack(client, msg["rev"])
        elif kind == "error":
            client.errors += 1
            self.error_sample = self.error_sample or json.dumps(msg)
            if client.inflight and msg.get("code") in {"rate_limited", "unavailable"}:
                # Resend the same op (same id) after a short pause.
                asyncio.get_running_loop().call_later(
                    0.25, lambda: asyncio.ensure_future(self.resend(client))
                )

    async def resend(self, client: Client) -> None:
        """Resend ``client``'s in-flight op verbatim (same id, same base rev)."""
        if client.inflight is not None:
            await client.ws.send(client.inflight[3])

    def on_ack(self, client: Client, rev: int) -> None:
        """Record the ack of ``client``'s in-flight op."""
        assert client.inflight is not None
        _, sent, n, _ = client.inflight
        now = time.perf_counter()
        client.inflight = None
        client.rev = rev
        client.length += n
        client.acked += 1
        client.inserted_len += n
        if self.t_measure <= now < self.t_end:
            self.window_acks += 1
            self.ack_lat.append(now - sent)
        client.acked_event.set()

    async def reader_loop(self, client: Client) -> None:
        """Read frames until the socket closes."""
        try:
            async for raw in client.ws:
                text = client.parts.feed(raw)
                if text is not None:
                    self.on_message(client, json.loads(text))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            if not self.stopping:
                self.error_sample = self.error_sample or f"socket: {exc!r}"
                client.errors += 1

    async def closed_loop(self, client: Client) -> None:
        """Send, wait for the ack, repeat, until the run stops."""
        deadline = self.t_end + 30
        while not self.stopping and time.perf_counter() < deadline:
            await self.send_op(client)
            try:
                await asyncio.wait_for(client.acked_event.wait(), timeout=30)
            except TimeoutError:
                client.errors += 1
                self.error_sample = self.error_sample or "ack timeout (30 s)"
                return

    async def open_loop(self, client: Client) -> None:
        """Send one op per tick at ``--rate`` per second, skipping busy ticks."""
        period = 1.0 / self.args.rate
        await asyncio.sleep(self.rng.random() * period)  # spread the clients
        next_tick = time.perf_counter()
        while not self.stopping and time.perf_counter() < self.t_end + 30:
            if client.inflight is None:
                await self.send_op(client)
            next_tick += period
            await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))


async def run(
    args: argparse.Namespace,
    ws_base: str,
    origin: str,
    cookies: list[str],
    docs: list[str],
    server_pid: int | None,
) -> dict:
    """Drive the scenario and verify convergence; return the result record."""
    bench = Bench(args, ws_base, origin)
    clients = [
        Client(index=i, doc=docs[i % len(docs)], cookie=cookies[i % len(cookies)])
        for i in range(args.clients * len(docs))
    ]
    # Connect in bounded parallel batches so the handshakes don't time out.
    for start in range(0, len(clients), 50):
        hellos = await asyncio.gather(*(bench.connect(c) for c in clients[start : start + 50]))
        for c, hello in zip(clients[start : start + 50], hellos, strict=True):
            c.rev = hello["rev"]
            c.length = sum(
                utf16_len(op["insert"]) if isinstance(op["insert"], str) else 1
                for op in hello["content"]
            )
    readers = [asyncio.create_task(bench.reader_loop(c)) for c in clients]
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    bench.t_measure = t0 + args.warmup
    bench.t_end = bench.t_measure + args.seconds

    if args.mode == "idle":
        await asyncio.sleep(args.warmup + args.seconds)
        result["server_rss_mb"] = proc_rss_mb(server_pid) if server_pid else None
    else:
        loop_fn = bench.closed_loop if args.mode == "closed" else bench.open_loop
        drivers = [asyncio.create_task(loop_fn(c)) for c in clients]
        await asyncio.sleep(args.warmup)
        cpu0 = proc_cpu_seconds(server_pid) if server_pid else None
        me0 = time.process_time()
        w0 = time.perf_counter()
        await asyncio.sleep(max(0.0, bench.t_end - time.perf_counter()))
        wall = time.perf_counter() - w0
        cpu1 = proc_cpu_seconds(server_pid) if server_pid else None
        me1 = time.process_time()
        result["server_rss_mb"] = proc_rss_mb(server_pid) if server_pid else None
        bench.stopping = True
        done, pending = await asyncio.wait(drivers, timeout=30)
        for task in pending:
            task.cancel()
        # Let in-flight acks land.
        for _ in range(300):
            if all(c.inflight is None for c in clients):
                break
            await asyncio.sleep(0.05)
        result["drained"] = all(c.inflight is None for c in clients)
        result["cpu_pct_in_window"] = {
            "loadgen": round((me1 - me0) / wall * 100, 1),
            "server": round((cpu1 - cpu0) / wall * 100, 1)
            if cpu0 is not None and cpu1 is not None
            else None,
        }

    result["problems"] = await verify(bench, clients, docs)
    bench.stopping = True
    for c in clients:
        await c.ws.close()
    for task in readers:
        task.cancel()
    result.update(
        {
            "acked_in_window": bench.window_acks,
            "ops_per_s": round(bench.window_acks / args.seconds, 1),
            "lat_ms": lat_summary(bench.ack_lat),
            "total_acked": sum(c.acked for c in clients),
            "errors": sum(c.errors for c in clients),
            "error_sample": bench.error_sample,
        }
    )
    # Time from a send until each other client on the document received it.
    result["broadcast_lat_ms"] = lat_summary(bench.bcast_lat)
    return result


async def verify(bench: Bench, clients: list[Client], docs: list[str]) -> list[str]:
    """Check every client and the stored document against a fresh reader."""
    from asgiref.sync import sync_to_async

    problems: list[str] = []
    for doc in docs:
        mine = [c for c in clients if c.doc == doc]
        reader = Client(index=-1, doc=doc, cookie=mine[0].cookie)
        hello = await bench.connect(reader)
        await reader.ws.close()
        content = hello["content"]
        # Wait (bounded) until every client has caught up to the reader's rev.
        for _ in range(200):
            if all(c.rev >= hello["rev"] for c in mine):
                break
            await asyncio.sleep(0.05)
        length = sum(
            utf16_len(op["insert"]) if isinstance(op["insert"], str) else 1 for op in content
        )
        inserted_len = sum(c.inserted_len for c in mine)
        acked = sum(c.acked for c in mine)
        if hello["rev"] != acked:
            problems.append(f"{doc}: server at rev {hello['rev']}, {acked} ops acked")
        for c in mine:
            if (c.rev, c.length) != (hello["rev"], length):
                problems.append(
                    f"{doc}: client {c.index} at (rev {c.rev}, len {c.length}), "
                    f"server at (rev {hello['rev']}, len {length})"
                )
                break
        if length != 1 + inserted_len:
            problems.append(f"{doc}: length {length} != 1 + inserted {inserted_len}")
        text = "".join(op["insert"] for op in content if isinstance(op["insert"], str))
        expected: Counter = Counter()
        for c in mine:
            expected.update(c.inserted)
        expected["\n"] += 1
        if (
            bench.args.mode != "idle"
            and Counter(text) != +expected
            and sum(c.errors for c in mine) == 0
        ):
            problems.append(f"{doc}: character multiset differs from what was inserted")
        stored = await sync_to_async(stored_content)(doc)
        if json.dumps(stored, sort_keys=True) != json.dumps(content, sort_keys=True):
            problems.append(f"{doc}: stored document differs from the server's hello")
    return problems


def stored_content(public_id: str) -> list[dict]:
    """Return snapshot + ops composed from the database (what a reload sees)."""
    from documents.content import document_content
    from documents.models import Document

    return document_content(Document.objects.get(public_id=public_id))


def setup_fixtures(n_users: int, n_docs: int) -> tuple[list[str], list[str]]:
    """Create users with sessions and documents shared with all of them."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from guardian.shortcuts import assign_perm

    from documents.services import document_create

    user_model = get_user_model()
    stamp = f"{int(time.time())}{random.randrange(10**6)}"
    users, cookies = [], []
    for i in range(n_users):
        user = user_model.objects.create_user(f"bench{stamp}u{i}", password=None)
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        users.append(user)
        cookies.append(f"sessionid={session.session_key}")
    docs = []
    for d in range(n_docs):
        document = document_create(owner=users[0], title=f"bench {d}")
        for user in users[1:]:
            assign_perm("documents.view_document", user, document)
            assign_perm("documents.change_document", user, document)
        docs.append(str(document.public_id))
    return cookies, docs


def start_stack(args: argparse.Namespace, workdir: Path) -> tuple[list, str, subprocess.Popen]:
    """Start PostgreSQL (unless --database-url), migrate, start daphne."""
    from collabdocs.devservers import free_port, start_postgres, wait_for_port

    stoppers: list = []
    db_url = args.database_url
    if not db_url:
        pg = start_postgres(durable=not args.no_fsync)
        stoppers.append(pg.stop)
        pg.create_database("collabdocs_bench")
        db_url = pg.url("collabdocs_bench")
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 40,
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        COLLABDOCS_OPS_PER_SECOND=str(args.server_rate_limit),
        COLLABDOCS_SOCKETS_PER_USER="100000",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    port = free_port()
    log = open(workdir / "daphne.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "collabdocs.asgi:application",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def stop_server() -> None:
        proc.terminate()
        proc.wait(timeout=20)

    stoppers.insert(0, stop_server)
    if not wait_for_port(port, timeout=60, proc=proc):
        for stop in stoppers:
            stop()
        raise RuntimeError("daphne did not start: " + (workdir / "daphne.log").read_text()[-2000:])
    os.environ.update(DATABASE_URL=db_url, DEBUG="0", SECRET_KEY=env["SECRET_KEY"])
    return stoppers, f"127.0.0.1:{port}", proc


def main() -> int:
    """Parse arguments, run the scenario, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["closed", "open", "idle"], default="closed")
    parser.add_argument("--clients", type=int, default=10, help="clients per document")
    parser.add_argument("--docs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rate", type=float, default=1.0, help="ops/s per client (open mode)")
    parser.add_argument("--bold", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--users", type=int, default=0, help="distinct users (default: one per client, max 200)"
    )
    parser.add_argument(
        "--database-url", default="", help="use this PostgreSQL instead of a throwaway one"
    )
    parser.add_argument(
        "--no-fsync", action="store_true", help="throwaway PostgreSQL without fsync"
    )
    parser.add_argument(
        "--server-rate-limit",
        type=int,
        default=100000,
        help="COLLABDOCS_OPS_PER_SECOND for the server (default: no practical limit)",
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    if not (
        1 <= args.clients <= 2000
        and 1 <= args.docs <= 2000
        and 0 < args.seconds <= 600
        and 0 < args.rate <= 100
        and args.clients * args.docs <= 4000
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-bench-"))
    try:
        stoppers, host, proc = start_stack(args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        import django

        django.setup()
        n_users = args.users or min(200, args.clients * args.docs)
        cookies, docs = setup_fixtures(n_users, args.docs)
        limit = args.warmup + args.seconds + 180
        result = asyncio.run(
            asyncio.wait_for(
                run(args, f"ws://{host}", f"http://{host}", cookies, docs, proc.pid), timeout=limit
            )
        )
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(
            json.dumps(
                {
                    "ok": False,
                    "error": repr(exc),
                    "server_log": (workdir / "daphne.log").read_text(errors="replace")[-2000:],
                }
            )
        )
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    result = {
        "tool": "collabdocs-load",
        "label": args.label,
        "mode": args.mode,
        "clients_per_doc": args.clients,
        "docs": args.docs,
        "connections": args.clients * args.docs,
        "warmup_s": args.warmup,
        "seconds": args.seconds,
        "bold": args.bold,
        "durable_postgres": not args.no_fsync and not args.database_url,
        "seed": args.seed,
        "converged": not result["problems"],
        **result,
    }
    print(json.dumps(result))
    return 0 if result["converged"] and not result.get("errors") else 1


if __name__ == "__main__":
    sys.exit(main())
