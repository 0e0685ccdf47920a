"""Socket authentication that survives a database outage.

Channels' ``AuthMiddlewareStack`` looks the session and the user up before
the consumer runs; with PostgreSQL down that lookup raises, daphne answers
the handshake with HTTP 500 and logs a traceback per socket. The protocol
(docs/protocol.md, "Connecting") promises something else: the handshake is
accepted, an ``error`` ``unavailable`` frame says why (with ``retry_after``,
a hint in milliseconds), and close **4503** follows, so that the client
retries with backoff through the route endpoint.

:class:`StorageAwareAuthMiddleware` is Channels' ``AuthMiddleware`` with that
one difference: a :class:`~django.db.DatabaseError` while resolving the user
answers the socket itself and never reaches the consumer. Nothing was read,
so nothing about the user or the document leaks. The outage is logged as one
line at most every :data:`LOG_EVERY_SECONDS` (with the count of sockets
refused since the last line), not a traceback per socket.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.db import DatabaseError

from realtime.protocol import CloseCode, ErrorCode, error_frame

logger = logging.getLogger(__name__)

#: What ``retry_after`` (milliseconds) suggests to a client refused for an outage.
RETRY_AFTER_MS = 1000
#: Shortest time between two log lines about refused handshakes.
LOG_EVERY_SECONDS = 10.0
UNAVAILABLE_MESSAGE = "storage is unavailable; retry later"


class _OutageLog:
    """Say "handshakes are refused" once, then at most every few seconds."""

    def __init__(self) -> None:
        self._last = float("-inf")
        self._since = 0

    def refused(self, exc: BaseException) -> None:
        """Count one refused handshake; log a line when one is due."""
        self._since += 1
        now = time.monotonic()
        if now - self._last < LOG_EVERY_SECONDS:
            return
        first = self._last == float("-inf")
        logger.warning(
            "socket handshakes refused with 4503: the database is unavailable "
            "(%s: %s); %d refused %s",
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            self._since,
            "so far" if first else f"in the last {now - self._last:.0f}s",
        )
        self._last = now
        self._since = 0


_outage_log = _OutageLog()


async def refuse_unavailable(receive: Any, send: Any) -> None:
    """Accept a socket, send ``unavailable`` with a retry hint, close 4503."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return  # the client left before its handshake was answered
    await send({"type": "websocket.accept"})
    await send(
        {
            "type": "websocket.send",
            "text": error_frame(
                ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, retry_after=RETRY_AFTER_MS
            ),
        }
    )
    await send({"type": "websocket.close", "code": int(CloseCode.GOING_AWAY)})


class StorageAwareAuthMiddleware(AuthMiddleware):
    """Channels' ``AuthMiddleware``; a database outage gets 4503, never HTTP 500."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Resolve the user, or answer the socket ``unavailable`` when storage is down."""
        scope = dict(scope)
        self.populate_scope(scope)
        try:
            await self.resolve_scope(scope)
        except DatabaseError as exc:
            if scope.get("type") != "websocket":
                raise
            _outage_log.refused(exc)
            await refuse_unavailable(receive, send)
            return
        # Past this point errors are the consumer's own: not caught here.
        await self.inner(scope, receive, send)


def SocketAuthStack(inner: Any) -> Any:  # noqa: N802 - named like AuthMiddlewareStack
    """Return Channels' cookie, session and (storage-aware) auth layers around ``inner``."""
    return CookieMiddleware(SessionMiddleware(StorageAwareAuthMiddleware(inner)))
