"""Health endpoints for load balancers and supervisors: ``/healthz``, ``/readyz``.

:Maintainer: the collabdocs app
:Status: used by the front door's health checks (HAProxy, ``make cluster``)

``GET /healthz``: the process is alive and its event loop answers. 200,
always; it touches neither the database nor ZooKeeper, so a supervisor
restarting on failure never restarts a worker because PostgreSQL is down.

``GET /readyz``: this worker should get traffic. 200 only when

* the database answers ``SELECT 1`` within ``READY_DB_SECONDS`` (a fresh
  connection each time, so "max connections reached" shows too), and
* :func:`routing.readiness.readiness` says ``ready``: registered in
  ZooKeeper when clustered, not draining (from the SIGTERM on), not fenced,
  not re-registering after a lost session.

Otherwise 503 with a JSON body naming each check and what is not ready,
e.g. ``{"ready": false, "phase": "draining", "not_ready": ["shutting down:
handing its documents over"], ...}``.

Both are answered by :class:`HealthEndpoints`, an ASGI wrapper in front of
Django (``collabdocs/asgi.py``): no middleware, no ``ALLOWED_HOSTS``, no
session, no authentication, no throttle; ``Cache-Control: no-store``.
The Django views at the same paths answer the same where the wrapper is
not installed (``runserver``), exempt from the HTTPS redirect
(``SECURE_REDIRECT_EXEMPT``) and never reading the session or the user.

Failure modes: a database that hangs (blackholed packets) costs one thread,
not one per check: the ping runs on one dedicated thread and concurrent
checks share the ping in flight; a check waits at most ``READY_DB_SECONDS``
and then answers 503 ``database: no answer within ...``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from routing.readiness import readiness

# One thread for the pings: a hung database ties up this one, nothing else.
_db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz-db")
_db_ping: asyncio.Future[None] | None = None


def _ping_database() -> None:
    """Run ``SELECT 1`` on a fresh connection, then close it (runs on the thread)."""
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def _db_seconds() -> float:
    return float(settings.COLLABDOCS["READY_DB_SECONDS"])


async def check_database() -> str | None:
    """Return None when the database answers in time, else what went wrong."""
    global _db_ping
    loop = asyncio.get_running_loop()
    ping = _db_ping
    if ping is None or ping.done() or ping.get_loop() is not loop:
        ping = _db_ping = asyncio.wrap_future(_db_thread.submit(_ping_database), loop=loop)
    seconds = _db_seconds()
    try:
        # shield: a check that gives up leaves the ping for the next one.
        await asyncio.wait_for(asyncio.shield(ping), seconds)
    except TimeoutError:
        return f"database: no answer within {seconds:g} s"
    except Exception as exc:  # noqa: BLE001 - any driver error means not ready; say which
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"database: {type(exc).__name__}: {first_line}"[:300]
    return None


def health_report() -> tuple[int, dict[str, Any]]:
    """Return ``/healthz``'s status and body: alive."""
    return 200, {"alive": True, "worker": readiness().worker_id}


async def readiness_report() -> tuple[int, dict[str, Any]]:
    """Return ``/readyz``'s status and body: 200 ready, else 503 naming why."""
    state = readiness()
    not_ready: list[str] = []
    if state.reason is not None:
        not_ready.append(state.reason)
    database = await check_database()
    if database is not None:
        not_ready.append(database)
    body = {
        "ready": not not_ready,
        "phase": state.phase,
        "worker": state.worker_id,
        "cluster": state.cluster,
        "checks": {"database": database or "ok", "worker": state.reason or "ok"},
        "not_ready": not_ready,
    }
    return (503 if not_ready else 200), body


# -- in front of Django (asgi.py) -------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class HealthEndpoints:
    """ASGI: answer ``GET /healthz`` and ``GET /readyz`` before Django sees them.

    So a check never depends on ``ALLOWED_HOSTS`` (a balancer asks with
    the worker's own address as Host, which a deployment's list names
    rarely), the HTTPS redirect, the middleware or the URLconf, and costs
    no middleware at all. Everything else goes to ``app``. The Django views
    below answer the same when this is not installed (``runserver``).
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or path not in ("/healthz", "/readyz"):
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            status, body = 405, {"error": "GET only"}
        elif path == "/healthz":
            status, body = health_report()
        else:
            status, body = await readiness_report()
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
        ]
        if status == 503:
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload}
        )


# -- the Django views ----------------------------------------------------------


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process serves requests."""
    status, body = health_report()
    return JsonResponse(body, status=status)


@require_GET
@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when this worker should get traffic, else 503 naming why."""
    status, body = await readiness_report()
    response = JsonResponse(body, status=status)
    if status != 200:
        response["Retry-After"] = "1"
        # A 503 here is the answer, not a server error: without this Django
        # logs "Service Unavailable" at ERROR for every check (one a second
        # per balancer) while a worker drains or waits for ZooKeeper.
        response._has_been_logged = True  # the flag django.utils.log.log_response reads
    return response
