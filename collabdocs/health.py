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

Both are cheap (no template, no session, no authentication: the views never
read ``request.session`` or ``request.user``, so no cookie is set and no
session row read), answer ``Cache-Control: no-store`` (``never_cache``), are exempt from the
HTTPS redirect (``SECURE_REDIRECT_EXEMPT``) and are not throttled.

Failure modes: a database that hangs (blackholed packets) costs one thread,
not one per check: the ping runs on one dedicated thread and concurrent
checks share the ping in flight; a check waits at most ``READY_DB_SECONDS``
and then answers 503 ``database: no answer within ...``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

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


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process serves requests."""
    state = readiness()
    return JsonResponse({"alive": True, "worker": state.worker_id})


@require_GET
@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when this worker should get traffic, else 503 naming why."""
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
    response = JsonResponse(body, status=503 if not_ready else 200)
    if not_ready:
        response["Retry-After"] = "1"
        # A 503 here is the answer, not a server error: without this Django
        # logs "Service Unavailable" at ERROR for every check (one a second
        # per balancer) while a worker drains or waits for ZooKeeper.
        response._has_been_logged = True  # the flag django.utils.log.log_response reads
    return response
