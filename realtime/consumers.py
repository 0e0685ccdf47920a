"""The WebSocket consumer: one per socket, thin by design.

It authenticates (session cookie, via ``AuthMiddlewareStack`` in asgi.py),
asks the one selector ``document_get_for_user`` what the user may do,
attaches a :class:`~realtime.subscriber.Subscriber` to the document's
authority and translates frames to calls. Limits that belong to the socket
(frame size, ops per second, ops per change, CPU time, edit right) are checked
here; everything about the document is the authority's.

Channel-layer group ``doc.<id>`` carries only ``realtime.events``
(sharing changed, document removed, title changed), never ops.

Scale-out: after authentication and the permission check (so a stranger
learns nothing), a socket for a document another worker owns gets
``redirect`` to the owner and close 4301; with no owner known (no worker on
the ring) it gets close 4503. The check is made again once the document is
loaded, since the ring may have changed while this worker waited for the
document's lock.
"""
from __future__ import annotations

import math
import secrets
import time
import uuid
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from documents.exceptions import DocumentNotFound
from documents.selectors import document_get_for_user
from documents.store import DocumentMissing
from realtime import protocol
from realtime.authority import Authority
from realtime.budget import CpuBudget, freeze_startup_heap, sniff_op_id, user_budgets
from realtime.events import doc_group
from realtime.exceptions import AuthorityClosed, BadMessage
from realtime.framing import split_frame
from realtime.presence import user_color
from realtime.protocol import CloseCode, ErrorCode, OpMessage
from realtime.ratelimit import TokenBucket
from realtime.registry import Registry, get_registry
from realtime.subscriber import Subscriber
from routing.exceptions import NotOwner
from routing.ownership import NO_OWNER_RETRY_MS, Route, get_ownership
from routing.paths import socket_url


def _access(*, user, public_id: uuid.UUID, session):  # type: ignore[no-untyped-def]
    # Share-link tokens the pages remembered (documents.links): {id: token}.
    links = session.get("doc_links") if session is not None else None
    token = links.get(str(public_id)) if isinstance(links, dict) else None
    return document_get_for_user(user=user, public_id=public_id,
                                 link_token=token if isinstance(token, str) else None)


async def check_access(registry: Registry, user, public_id: uuid.UUID, session):  # type: ignore[no-untyped-def]
    """Return ``(document, access)`` from a fresh selector call, off the loop."""
    return await registry.runner.read(_access, user=user, public_id=public_id, session=session)


def _since_rev(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("rev")
    if not values or not values[0].isdigit() or len(values[0]) > 18:
        return None
    return int(values[0])


def _display_name(user) -> str:  # type: ignore[no-untyped-def]
    full = getattr(user, "get_full_name", lambda: "")() or ""
    return full.strip() or user.get_username()


class DocumentConsumer(AsyncWebsocketConsumer):
    """Serve one socket on ``/ws/docs/<uuid:doc_id>/`` (docs/protocol.md)."""

    sub: Subscriber | None = None
    authority: Authority | None = None
    registry: Registry | None = None
    _counted_user: int | None = None
    _budget_user: int | None = None
    _in_group: str | None = None

    async def dispatch(self, message: dict) -> None:
        """Call the handler of ``message`` without Channels' per-message DB hop.

        Channels closes stale ORM connections before every handler, a thread
        round trip per frame. This consumer never uses the ORM on the loop:
        its database calls run in threads that clean up after themselves.
        """
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- connection ----------------------------------------------------------

    async def connect(self) -> None:
        """Check who may do what, attach to the authority and send ``hello``."""
        await self.accept()
        self.doc_id: uuid.UUID = self.scope["url_route"]["kwargs"]["doc_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._deny(CloseCode.NOT_LOGGED_IN, "log in to open documents")
            return
        self.user = user
        if self.channel_layer is not None:
            # Join before the check so a revocation racing it is not missed.
            self._in_group = doc_group(self.doc_id)
            await self.channel_layer.group_add(self._in_group, self.channel_name)
        self.registry = registry = get_registry()
        try:
            _, access = await check_access(registry, user, self.doc_id, self.scope.get("session"))
        except DocumentNotFound:
            await self._deny(CloseCode.NOT_FOUND, "no such document")
            return
        except DatabaseError:
            await self._send_error(ErrorCode.UNAVAILABLE, "storage is unavailable; retry later")
            await self._close_with(CloseCode.GOING_AWAY)
            return
        route = get_ownership().route(self.doc_id)
        if not route.local:
            await self._not_here(route)
            return
        limit = settings.COLLABDOCS["SOCKETS_PER_USER"]
        if registry.sockets_per_user[user.pk] >= limit:
            await self._deny(CloseCode.TOO_MANY_SOCKETS,
                             f"too many open connections (at most {limit}); close another tab")
            return
        registry.sockets_per_user[user.pk] += 1
        self._counted_user = user.pk
        try:
            authority = await registry.acquire(self.doc_id)
        except DocumentMissing:
            await self._deny(CloseCode.NOT_FOUND, "no such document")
            return
        except NotOwner:
            await self._not_here(get_ownership().route(self.doc_id))
            return
        except Exception:  # StorageUnavailable: the client retries with backoff
            await self._send_error(ErrorCode.UNAVAILABLE, "storage is unavailable; retry later")
            await self._close_with(CloseCode.GOING_AWAY)
            return
        if authority.draining or authority.closed or not get_ownership().is_local(self.doc_id):
            # Handed over while this socket waited for it.
            registry.release(authority)
            await self._not_here(get_ownership().route(self.doc_id))
            return
        freeze_startup_heap()
        limits = settings.COLLABDOCS
        self.bucket = TokenBucket(limits["OPS_PER_SECOND"])
        self.max_frame = limits["MAX_FRAME_BYTES"]
        self.max_ops = limits["MAX_CHANGE_OPS"]
        burst = limits["CPU_BURST_MS"] / 1000
        self.cpu = CpuBudget(limits["SOCKET_CPU_MS_PER_SECOND"] / 1000, burst)
        self.user_cpu = user_budgets(registry).acquire(
            user.pk, rate=limits["USER_CPU_MS_PER_SECOND"] / 1000, burst=burst)
        self._budget_user = user.pk
        self.sub = Subscriber(
            session=secrets.token_urlsafe(12),
            user_id=user.pk,
            user_json=protocol.user_json(user_id=user.pk, name=_display_name(user),
                                         color=user_color(user.pk)),
            can_edit=access.can_edit,
            send=self._send_text,
            close=self._close_with,
        )
        self.authority = authority
        try:
            # A ?rev= older than the window is caught up from storage (off the loop).
            hello = await authority.attach_caught_up(
                self.sub, since_rev=_since_rev(self.scope.get("query_string", b"")))
        except AuthorityClosed:
            await self._deny(CloseCode.GOING_AWAY, "the document was closed here; reconnect")
            return
        await self.sub.send_frames([hello])

    async def disconnect(self, code: int) -> None:
        """Detach from the authority and leave the group."""
        self._leave()
        if self._budget_user is not None and self.registry is not None:
            user_budgets(self.registry).release(self._budget_user)
            self._budget_user = None
        if self._counted_user is not None and self.registry is not None:
            counts = self.registry.sockets_per_user
            counts[self._counted_user] -= 1
            if counts[self._counted_user] <= 0:
                del counts[self._counted_user]
            self._counted_user = None
        if self._in_group is not None:
            await self.channel_layer.group_discard(self._in_group, self.channel_name)
            self._in_group = None

    def _leave(self) -> None:
        if self.sub is not None and self.authority is not None:
            self.authority.detach(self.sub)
            if self.registry is not None:
                self.registry.release(self.authority)
            self.authority = None

    async def _close_with(self, code: int) -> None:
        # autobahn (daphne) accepts only a plain int, not an IntEnum.
        await self.close(int(code))

    async def _send_text(self, text: str) -> None:
        # Frames over the part size go as consecutive ``part`` frames
        # (realtime/framing.py): daphne drops any message over its 1 MiB
        # limit. Callers await this before sending anything else on the
        # socket, so nothing comes between the parts of one frame.
        for frame in split_frame(text):
            await self.base_send({"type": "websocket.send", "text": frame})

    async def _send_error(self, code: str, message: str, **extra) -> None:  # type: ignore[no-untyped-def]
        frame = protocol.error_frame(code, message, **extra)
        if self.sub is not None:
            await self.sub.send_frames([frame])
        else:
            await self._send_text(frame)

    async def _not_here(self, route: Route) -> None:
        """Send the socket to the document's owner (4301), or away (4503) if none."""
        if route.url and not route.local:
            await self._send_text(protocol.redirect_frame(url=socket_url(route.url, self.doc_id)))
            await self._close_with(CloseCode.REDIRECT)
        else:
            # No owner known (none on the ring, or this worker is fenced):
            # a retry hint, never a redirect between workers that cannot know.
            await self._send_error(ErrorCode.UNAVAILABLE,
                                   "no server is serving this document right now; retry shortly",
                                   retry_after=NO_OWNER_RETRY_MS)
            await self._close_with(CloseCode.GOING_AWAY)

    async def _deny(self, code: int, message: str) -> None:
        """Send ``denied`` and close with ``code``."""
        frame = protocol.error_frame(ErrorCode.DENIED, message)
        if self.sub is not None:
            await self.sub.close(code, frame)
            self._leave()
        else:
            await self._send_text(frame)
            await self._close_with(code)

    # -- frames from the client ----------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Check a frame's size, the budget and its shape, then hand it on.

        The whole handling of the frame (decoding included) is timed and
        charged to the socket's and the user's CPU budget (realtime.budget).
        """
        sub = self.sub
        if sub is None or sub.closed or self.authority is None:
            return
        # CPU time of this thread, not wall time: a busy machine that
        # preempts the worker must not make an ordinary typist look costly.
        # The handling rarely yields (an accepted op is queued synchronously),
        # so the time is this frame's own.
        started = time.thread_time()
        try:
            await self._receive(sub, text_data)
        finally:
            cost = time.thread_time() - started
            self.cpu.charge(cost)
            self.user_cpu.charge(cost)

    async def _receive(self, sub: Subscriber, text_data: str | None) -> None:
        if text_data is None:
            await self._send_error(ErrorCode.BAD_MESSAGE, "frames must be text (JSON)")
            return
        size = len(text_data)
        if size > self.max_frame or (
            size * 4 > self.max_frame
            and len(text_data.encode("utf-8", "surrogatepass")) > self.max_frame
        ):
            await self._send_error(ErrorCode.TOO_LARGE,
                                   f"frames may be at most {self.max_frame} bytes")
            return
        wait = max(self.cpu.wait(), self.user_cpu.wait())
        if wait:
            # In debt: refuse before decoding, the costly part of a big frame.
            await self._send_error(
                ErrorCode.RATE_LIMITED,
                "your changes used more server time than allowed; resend after a pause",
                op_id=sniff_op_id(text_data), retry_after=max(1, math.ceil(wait * 1000)))
            return
        try:
            msg = protocol.parse_client_frame(text_data)
        except BadMessage as exc:
            op_id = exc.args[1] if len(exc.args) > 1 else None
            await self._send_error(ErrorCode.BAD_MESSAGE, str(exc.args[0]), op_id=op_id)
            return
        try:
            if type(msg) is OpMessage:
                if not sub.can_edit:
                    await self._send_error(ErrorCode.FORBIDDEN, "you may only view this document",
                                           op_id=msg.op_id)
                    return
                wait = self.bucket.take()
                if wait:
                    await self._send_error(
                        ErrorCode.RATE_LIMITED, "too many ops; resend after a pause",
                        op_id=msg.op_id, retry_after=max(1, math.ceil(wait * 1000)))
                    return
                if type(msg.delta) is list and len(msg.delta) > self.max_ops:
                    await self._send_error(
                        ErrorCode.TOO_LARGE,
                        f"a change may hold at most {self.max_ops} ops, this one holds "
                        f"{len(msg.delta)}; split it", op_id=msg.op_id)
                    return
                await self.authority.submit(sub, msg)
            else:
                await self.authority.presence(sub, msg)
        except AuthorityClosed:
            await self._deny(CloseCode.GOING_AWAY, "the document was closed here; reconnect")

    # -- realtime.events (channel layer) ---------------------------------------

    async def doc_access_changed(self, event: dict) -> None:
        """Re-check access with a fresh selector call; close or downgrade."""
        sub = self.sub
        if sub is None or sub.closed:
            return
        try:
            _, access = await check_access(self.registry, self.user, self.doc_id,
                                           self.scope.get("session"))
        except DocumentNotFound:
            await self._deny(CloseCode.FORBIDDEN, "your access to this document was removed")
            return
        except DatabaseError:
            # Access cannot be confirmed: make the client reconnect, which
            # checks again.
            await self._deny(CloseCode.GOING_AWAY, "could not re-check access; reconnect")
            return
        if access.can_edit != sub.can_edit and not sub.closed:
            sub.can_edit = access.can_edit
            await sub.send_frames([protocol.access_frame(can_edit=access.can_edit)])

    async def doc_removed(self, event: dict) -> None:
        """Close: the document was trashed or deleted."""
        if self.sub is not None and not self.sub.closed:
            await self._deny(CloseCode.NOT_FOUND, "the document was deleted")

    async def doc_title(self, event: dict) -> None:
        """Tell the client the document's new title."""
        if self.sub is not None and not self.sub.closed:
            await self.sub.send_frames([protocol.title_frame(title=str(event.get("title", "")))])
