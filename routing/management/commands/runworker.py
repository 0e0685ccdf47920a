"""``manage.py runworker``: one CollabDocs worker (daphne) in this process.

Thin by design: options are checked here; the worker's life is
:class:`routing.worker.Worker`'s and the serving is daphne's. It replaces
Channels' ``runworker`` (a channel-layer consumer runner): ``routing`` comes
before ``channels`` in ``INSTALLED_APPS`` and Django keeps the earliest
app's command; the system check ``collabdocs.E001`` fails if that order
changes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

# Installs Twisted's asyncio reactor before anything imports another one.
import daphne.server
from channels.routing import get_default_application
from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from twisted.internet import defer
from twisted.internet import reactor as installed_reactor

from routing import zk
from routing.exceptions import WorkerIdTaken, ZooKeeperUnavailable
from routing.frontdoor import front_door, install_front_door
from routing.paths import BadAddress, check_worker_id, default_worker_id, normalize_base_url
from routing.worker import Worker

logger = logging.getLogger("routing.runworker")

#: Twisted's reactor, the asyncio one daphne.server installed on import
#: (Twisted's hints describe the module, not the reactor object).
reactor: Any = installed_reactor


class Command(BaseCommand):
    help = (
        "Run one CollabDocs worker: daphne serving the pages, the API and the document "
        "WebSockets in this process. With ZOOKEEPER_HOSTS set it joins the cluster: it "
        "registers an ephemeral znode <ZOOKEEPER_ROOT>/workers/<id> holding its advertised "
        "URL, serves the documents the consistent-hash ring gives it, redirects sockets for "
        "the others, and takes over the documents of workers that leave or die. SIGTERM "
        "(or Ctrl-C) deregisters it, stores pending ops, closes its sockets with 4503 so "
        "clients reconnect to the new owners, and exits. Fails when ZooKeeper cannot be "
        "reached, unless --single-node."
    )
    # Checks run here; daphne serves the same project.
    requires_system_checks = "__all__"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
        )
        parser.add_argument(
            "--port", type=int, default=8000, help="port to listen on (default 8000)"
        )
        parser.add_argument(
            "--advertise",
            metavar="URL",
            default=None,
            help="base URL other workers and browsers use to reach this one, e.g. "
            "http://127.0.0.1:8001 (default WORKER_URL, else http://HOST:PORT); "
            "must receive the site's session cookie (same host, or a subdomain)",
        )
        parser.add_argument(
            "--id",
            dest="worker_id",
            metavar="ID",
            default=None,
            help="worker id on the ring (default the advertised host:port, so a "
            "restarted worker gets its documents back)",
        )
        parser.add_argument(
            "--front-door",
            metavar="URL",
            default=None,
            help="public base URL of the balancer in front of the workers, e.g. "
            "http://127.0.0.1:8000 (default FRONT_DOOR_URL): socket URLs handed to "
            "browsers go through it, naming their owner (docs/scaleout.md)",
        )
        parser.add_argument(
            "--single-node",
            action="store_true",
            help="ignore ZOOKEEPER_HOSTS and serve every document here (no "
            "redirects, no failover); for when ZooKeeper is down and one "
            "worker must keep the site up",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        try:
            url = normalize_base_url(
                options["advertise"] or settings.WORKER_URL or f"http://{host}:{port}"
            )
            worker_id = check_worker_id(options["worker_id"] or default_worker_id(url))
            door = options["front_door"] or settings.FRONT_DOOR_URL
            front = normalize_base_url(door) if door else None
        except BadAddress as exc:
            raise CommandError(str(exc)) from None
        install_front_door(front)
        cluster = zk.cluster_mode() and not options["single_node"]
        worker = Worker(worker_id=worker_id, url=url, cluster=cluster)
        try:
            worker.connect()
        except ZooKeeperUnavailable as exc:
            raise CommandError(
                f"{exc} (ZOOKEEPER_HOSTS={settings.ZOOKEEPER_HOSTS!r}). Start ZooKeeper or fix "
                "ZOOKEEPER_HOSTS; or pass --single-node to serve every document from this "
                "worker alone."
            ) from None

        verbosity = options["verbosity"]
        server = Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=False,  # ours drain first (below)
            action_logger=AccessLogGenerator(sys.stdout) if verbosity >= 2 else None,
            verbosity=verbosity,
            websocket_max_message_size=max(1024 * 1024, 2 * settings.COLLABDOCS["MAX_FRAME_BYTES"]),
        )
        loop = daphne.server.twisted_loop
        try:
            worker.install(loop)
        except Exception as exc:  # noqa: BLE001 - any failure: let go of ZooKeeper, say why
            worker.close_now()
            raise CommandError(f"could not watch the workers in ZooKeeper: {exc}") from None
        runner = _Runner(self, server, worker, loop)
        reactor.callWhenRunning(runner.started)
        server.run()
        if runner.error:
            raise CommandError(runner.error)


class _Runner:
    """Start-up after daphne listens, and the signal-driven shutdown."""

    def __init__(
        self, command: Command, server: Server, worker: Worker, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.command = command
        self.server = server
        self.worker = worker
        self.loop = loop
        self.error: str | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()

    def started(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(signum, self.signalled, signum)
        defer.DeferredList(self.server.listeners).addCallback(lambda _: self._spawn(self._join()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _join(self) -> None:
        if not self.server.listening_addresses:
            self.error = "daphne could not listen (is the port in use?)"
            await self._shutdown()
            return
        try:
            await self.worker.join()
        except WorkerIdTaken as exc:
            self.error = str(exc)
            await self._shutdown()
            return
        except Exception as exc:  # noqa: BLE001 - ZooKeeper went away during start-up
            self.error = f"could not register in ZooKeeper: {exc}"
            await self._shutdown()
            return
        w = self.worker
        mode = (
            f"cluster {settings.ZOOKEEPER_HOSTS}{settings.ZOOKEEPER_ROOT}"
            if w.cluster
            else "single node"
        )
        door = front_door()
        if door:
            mode += f", sockets through {door}"
        # A log line, not stdout: under systemd both go to the journal, and
        # with COLLABDOCS_LOG_FORMAT=json every line must be JSON.
        logger.info(
            "CollabDocs worker %s serving %s (%s); SIGTERM or Ctrl-C stops it",
            w.worker_id,
            w.url,
            mode,
        )

    def signalled(self, signum: int) -> None:
        if self._stopping:
            logger.warning("second signal: stopping without waiting")
            self._stop_reactor()
            return
        logger.info("signal %d: handing documents over", signum)
        self._spawn(self._shutdown())

    async def _shutdown(self) -> None:
        self._stopping = True
        seconds = settings.COLLABDOCS["DRAIN_SECONDS"]
        try:
            await asyncio.wait_for(self.worker.drain(), seconds)
        except TimeoutError:
            logger.error("documents not handed over within %d s; exiting anyway", seconds)
            self.worker.close_now()
        except Exception:
            logger.exception("draining failed")
            self.worker.close_now()
        self._stop_reactor()

    def _stop_reactor(self) -> None:
        if reactor.running:
            reactor.stop()
