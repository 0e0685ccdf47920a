"""The WebSocket consumer: one per socket, thin by design.

It authenticates (session cookie, via ``AuthMiddlewareStack`` in asgi.py),
asks the one selector ``document_get_for_user`` what the user may do
(view; comment and suggest; edit),
attaches a :class:`~realtime.subscriber.Subscriber` to the document's
authority and translates frames to calls. Limits that belong to the socket
(frame size, ops per second, ops per change, CPU time, edit right) are checked
here; everything about the document is the authority's.

Channel-layer groups ``doc.<id>`` and ``user.<id>`` carry only
``documents.events`` (sharing changed, access changed, signed out, document
removed, title changed), never ops. Editing never waits for the layer: the
groups are joined in the background (:mod:`realtime.groups`) and joined
again after the layer fails (Redis down), and then access is re-checked
once, to catch up on what the outage hid. A failure to join, send or
receive on the layer never closes the socket nor fails an op.

Revocation (docs/protocol.md "Access"): on ``doc.access_changed`` and
``user.access_changed``, and on an op when the last check is older than
``ACCESS_RECHECK_SECONDS``, the socket re-checks its session (it still logs
its user in) and its access (realtime.access); it closes 4401 or 4403, or
sends ``access`` when the rights or their labels changed (role, role
label, owner: realtime.access.Standing). A commenter's ops
go to the authority like an editor's; the authority holds them to the
review policy (docs/ot.md "Review policy").

Slots: the user's socket slot (``SOCKETS_PER_USER``), the authority hold and
the CPU budget are released on every way out of the consumer: disconnect,
an exception, or cancellation by the server (``__call__``'s ``finally``).

Scale-out: after authentication and the permission check (so a stranger
learns nothing), a socket for a document another worker owns gets
``redirect`` to the owner and close 4301; with no owner known (no worker on
the ring) it gets close 4503. The check is made again once the document is
loaded, since the ring may have changed while this worker waited for the
document's lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import DatabaseError

from documents import logcontext
from documents.events import doc_group, session_tag, user_group
from documents.exceptions import DocumentNotFound
from documents.people import display_name
from documents.store import DocumentMissing
from realtime import protocol
from realtime.access import Standing, Verdict, access_for, recheck, standing_of
from realtime.authority import Authority
from realtime.budget import CpuBudget, freeze_startup_heap, sniff_op_id
from realtime.exceptions import AuthorityClosed, BadMessage, NotOwner
from realtime.framing import split_frame
from realtime.groups import GroupMembership
from realtime.metrics import op_refused, rate_limited
from realtime.placement import NO_OWNER_RETRY_MS, Location
from realtime.presence import user_color
from realtime.protocol import AuthorsMessage, CloseCode, ErrorCode, OpMessage
from realtime.ratelimit import TokenBucket
from realtime.registry import Registry, process_registry
from realtime.subscriber import Subscriber

logger = logging.getLogger(__name__)

#: Longest wait for the layer groups before the access check (layer slow).
JOIN_WAIT = 0.5


def _since_rev(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("rev")
    if not values or not values[0].isdigit() or len(values[0]) > 18:
        return None
    return int(values[0])


class DocumentConsumer(AsyncWebsocketConsumer):
    """Serve one socket on ``/ws/docs/<uuid:doc_id>/`` (docs/protocol.md)."""

    sub: Subscriber | None = None
    authority: Authority | None = None
    registry: Registry | None = None
    _counted_user: int | None = None
    _budget_user: int | None = None
    #: The channel's groups; None without a channel layer.
    membership: GroupMembership | None = None
    _check_started: float | None = None
    _checked_at: float = 0.0
    _rechecking: asyncio.Task[bool] | None = None
    _session_key: str | None = None
    _released = False
    #: What the client was last told of its access (hello, then ``access``).
    _standing: Standing | None = None

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """Run the consumer as Channels does, with a layer that may fail.

        Channels' own ``__call__`` awaits ``channel_layer.receive`` directly,
        so one Redis error kills the consumer (close 1011). Here channel
        messages come through :meth:`GroupMembership.receive`, which never raises;
        and whatever ends the consumer (disconnect, exception, cancellation
        by daphne after close), ``_release`` gives back what it held.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            if self.channel_layer is not None:
                self.channel_name = await self.channel_layer.new_channel()
                self.membership = GroupMembership(
                    self.channel_layer, self.channel_name, on_joined=self._groups_joined
                )
                await await_many_dispatch([receive, self.membership.receive], self.dispatch)
            else:
                await await_many_dispatch([receive], self.dispatch)
        except StopConsumer:
            pass
        finally:
            self._release()

    async def dispatch(self, message: dict) -> None:
        """Call the handler of ``message`` without Channels' per-message DB hop.

        Channels closes stale ORM connections before every handler, a thread
        round trip per frame. This consumer never uses the ORM on the loop:
        its database calls run in threads that clean up after themselves.
        The handler name comes from Channels' own ``get_handler_name``, which
        refuses a type that would name a private method (leading
        underscore) with ValueError, before anything is called.
        """
        handler = getattr(self, get_handler_name(message), None)
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
        # This task serves the socket for its whole life: its lines name both.
        logcontext.bind(doc=self.doc_id, user=user.pk)
        session = self.scope.get("session")
        self._session_key = getattr(session, "session_key", None)
        self.registry = registry = process_registry()
        if self.membership is not None:
            # Join before the check so a revocation racing it is not missed;
            # never wait long: editing does not need the layer. A join that
            # ends after the check started triggers one more check.
            joining = self.membership.join((doc_group(self.doc_id), user_group(user.pk)))
            if joining is not None:
                # Waits without cancelling: the join goes on in the background.
                await asyncio.wait([joining], timeout=JOIN_WAIT)
        self._check_started = started = time.monotonic()
        try:
            document, access = await registry.runner.read(
                access_for, user=user, public_id=self.doc_id, session=session
            )
        except DocumentNotFound:
            await self._deny(CloseCode.NOT_FOUND, "no such document")
            return
        except DatabaseError:
            await self._send_error(ErrorCode.UNAVAILABLE, "storage is unavailable; retry later")
            await self._close_with(CloseCode.GOING_AWAY)
            return
        location = registry.placement.locate(self.doc_id)
        if not location.local:
            await self._not_here(location)
            return
        limit = settings.COLLABDOCS["SOCKETS_PER_USER"]
        if not registry.sockets.take(user.pk, self, limit):
            await self._deny(
                CloseCode.TOO_MANY_SOCKETS,
                f"too many open connections (at most {limit}); close another tab",
            )
            return
        self._counted_user = user.pk
        try:
            authority = await registry.acquire(self.doc_id)
        except DocumentMissing:
            await self._deny(CloseCode.NOT_FOUND, "no such document")
            return
        except NotOwner:
            await self._not_here(registry.placement.locate(self.doc_id))
            return
        except Exception:  # noqa: BLE001 - storage or gate trouble: the client retries with backoff
            await self._send_error(ErrorCode.UNAVAILABLE, "storage is unavailable; retry later")
            await self._close_with(CloseCode.GOING_AWAY)
            return
        location = registry.placement.locate(self.doc_id)
        if authority.draining or authority.closed or not location.local:
            # Handed over while this socket waited for it.
            registry.release(authority)
            await self._not_here(location)
            return
        freeze_startup_heap()
        limits = settings.COLLABDOCS
        self.bucket = TokenBucket(limits["OPS_PER_SECOND"])
        self.max_frame = limits["MAX_FRAME_BYTES"]
        self.max_ops = limits["MAX_CHANGE_OPS"]
        burst = limits["CPU_BURST_MS"] / 1000
        self.cpu = CpuBudget(limits["SOCKET_CPU_MS_PER_SECOND"] / 1000, burst)
        self.user_cpu = registry.budgets.acquire(
            user.pk, rate=limits["USER_CPU_MS_PER_SECOND"] / 1000, burst=burst
        )
        self._budget_user = user.pk
        self.sub = Subscriber(
            session=secrets.token_urlsafe(12),
            user_id=user.pk,
            user_json=protocol.user_json(
                user_id=user.pk, name=display_name(user), color=user_color(user.pk)
            ),
            can_edit=access.can_edit,
            can_comment=access.can_comment,
            send=self._send_text,
            close=self._close_with,
        )
        self.authority = authority
        self._checked_at = started
        # The standing at connect: the page's labels are at least this new
        # (it asks for them again after a reconnect), and an ``access``
        # frame follows any change from here on.
        self._standing = standing_of(document, access)
        try:
            # A ?rev= older than the window is caught up from storage (off the loop).
            hello = await authority.attach_caught_up(
                self.sub, since_rev=_since_rev(self.scope.get("query_string", b""))
            )
        except AuthorityClosed:
            await self._deny(CloseCode.GOING_AWAY, "the document was closed here; reconnect")
            return
        await self.sub.send_frames([hello])
        joined_at = self.membership.joined_at if self.membership is not None else None
        if joined_at is not None and joined_at > started:
            self._recheck_soon()  # joined while the check ran: it may have missed an event

    async def disconnect(self, code: int) -> None:
        """Give back what the socket held and leave the groups."""
        self._release()

    def _release(self) -> None:
        """Give back the slot, the authority hold, the budget and the groups; idempotent.

        Synchronous so that it also runs in a ``finally`` after cancellation;
        leaving the groups is sent off in the background (realtime.groups).
        """
        if self._released:
            return
        self._released = True
        if self._rechecking is not None and not self._rechecking.done():
            self._rechecking.cancel()
        if self.membership is not None:
            self.membership.close()
        self._leave()
        if self._budget_user is not None and self.registry is not None:
            self.registry.budgets.release(self._budget_user)
            self._budget_user = None
        if self._counted_user is not None and self.registry is not None:
            self.registry.sockets.release(self._counted_user, self)
            self._counted_user = None

    def _groups_joined(self, at: float) -> None:
        """Re-check once if the groups were joined after a check began.

        Events sent before the join completed never reached this socket.
        """
        if self.sub is not None and self._check_started is not None and self._check_started < at:
            self._recheck_soon()

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

    async def _send_error(self, code: str, message: str, **extra: Any) -> None:
        frame = protocol.error_frame(code, message, **extra)
        if self.sub is not None:
            await self.sub.send_frames([frame])
        else:
            await self._send_text(frame)

    async def _refuse(self, code: str, message: str, **extra: Any) -> None:
        """Refuse a client frame with an ``error`` frame; count it."""
        op_refused(code)
        await self._send_error(code, message, **extra)

    async def _not_here(self, location: Location) -> None:
        """Send the socket to the document's owner (4301), or away (4503) if none."""
        if location.socket_url and not location.local:
            await self._send_text(protocol.redirect_frame(url=location.socket_url))
            await self._close_with(CloseCode.REDIRECT)
        else:
            # No owner known (none on the ring, or this worker is fenced):
            # a retry hint, never a redirect between workers that cannot know.
            await self._send_error(
                ErrorCode.UNAVAILABLE,
                "no server is serving this document right now; retry shortly",
                retry_after=NO_OWNER_RETRY_MS,
            )
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
        authority = self.authority
        if authority is None:
            return
        if text_data is None:
            await self._refuse(ErrorCode.BAD_MESSAGE, "frames must be text (JSON)")
            return
        size = len(text_data)
        if size > self.max_frame or (
            size * 4 > self.max_frame
            and len(text_data.encode("utf-8", "surrogatepass")) > self.max_frame
        ):
            await self._refuse(ErrorCode.TOO_LARGE, f"frames may be at most {self.max_frame} bytes")
            return
        wait = max(self.cpu.wait(), self.user_cpu.wait())
        if wait:
            # In debt: refuse before decoding, the costly part of a big frame.
            rate_limited("cpu")
            await self._refuse(
                ErrorCode.RATE_LIMITED,
                "your changes used more server time than allowed; resend after a pause",
                op_id=sniff_op_id(text_data),
                retry_after=max(1, math.ceil(wait * 1000)),
            )
            return
        try:
            msg = protocol.parse_client_frame(text_data)
        except BadMessage as exc:
            op_id = exc.args[1] if len(exc.args) > 1 else None
            await self._refuse(ErrorCode.BAD_MESSAGE, str(exc.args[0]), op_id=op_id)
            return
        try:
            if isinstance(msg, OpMessage):
                # Safety net that needs no channel layer: an op on a socket
                # whose last check is old re-checks first (cost: one thread
                # hop every ACCESS_RECHECK_SECONDS of typing).
                if (
                    time.monotonic() - self._checked_at > self._recheck_every()
                    and not await self._recheck(on_op=True)
                ):
                    return
                if not sub.can_edit and not sub.can_comment:
                    # Commenters may submit: the authority holds their ops
                    # to the review policy (suggestions and comments only).
                    await self._refuse(
                        ErrorCode.FORBIDDEN, "you may only view this document", op_id=msg.op_id
                    )
                    return
                wait = self.bucket.take()
                if wait:
                    rate_limited("ops")
                    await self._refuse(
                        ErrorCode.RATE_LIMITED,
                        "too many ops; resend after a pause",
                        op_id=msg.op_id,
                        retry_after=max(1, math.ceil(wait * 1000)),
                    )
                    return
                if type(msg.delta) is list and len(msg.delta) > self.max_ops:
                    await self._refuse(
                        ErrorCode.TOO_LARGE,
                        f"a change may hold at most {self.max_ops} ops, this one holds "
                        f"{len(msg.delta)}; split it",
                        op_id=msg.op_id,
                    )
                    return
                await authority.submit(sub, msg)
            elif isinstance(msg, AuthorsMessage):
                wait = self.bucket.take()
                if wait:
                    rate_limited("ops")
                    await self._refuse(
                        ErrorCode.RATE_LIMITED,
                        "too many requests; ask again after a pause",
                        retry_after=max(1, math.ceil(wait * 1000)),
                    )
                    return
                await authority.authors(sub)
            else:
                await authority.presence(sub, msg)
        except AuthorityClosed:
            await self._deny(CloseCode.GOING_AWAY, "the document was closed here; reconnect")

    # -- documents.events (channel layer) ---------------------------------------

    async def doc_access_changed(self, event: dict) -> None:
        """Re-check session and access; close or downgrade."""
        await self._recheck()

    async def user_access_changed(self, event: dict) -> None:
        """Close 4401 if this socket's session ended, else re-check it all."""
        ended = event.get("ended_session")
        if ended is not None and self._session_key and ended == session_tag(self._session_key):
            if self.sub is not None and not self.sub.closed:
                await self._deny(CloseCode.NOT_LOGGED_IN, "you were signed out; log in again")
            return
        await self._recheck()

    def _recheck_soon(self) -> None:
        if self._rechecking is None or self._rechecking.done():
            self._rechecking = asyncio.ensure_future(self._recheck())

    async def _recheck(self, *, on_op: bool = False) -> bool:
        """Re-check session and access from storage; return whether the socket goes on.

        Closes 4401 (signed out), 4403 (no access), or sends ``access`` when
        the standing changed: a right, the role or its label, or the owner
        (a transfer changes ``is_owner`` and ``owner`` for both people).
        Storage down: an event's re-check makes the
        client reconnect (4503), which checks again; an op's re-check keeps
        the last verdict and tries again a second later.
        """
        sub = self.sub
        if sub is None or sub.closed or self.registry is None:
            return False
        started = time.monotonic()
        try:
            result = await self.registry.runner.read(
                recheck, session_key=self._session_key, user_pk=self.user.pk, public_id=self.doc_id
            )
        except DatabaseError:
            if on_op:
                self._checked_at = started - self._recheck_every() + 1.0
                return True
            if not sub.closed:
                await self._deny(CloseCode.GOING_AWAY, "could not re-check access; reconnect")
            return False
        self._checked_at = max(self._checked_at, started)
        if sub.closed:
            return False
        if result.verdict is Verdict.SIGNED_OUT:
            await self._deny(CloseCode.NOT_LOGGED_IN, "you were signed out; log in again")
            return False
        if result.verdict is Verdict.NO_ACCESS or result.access is None:
            await self._deny(CloseCode.FORBIDDEN, "your access to this document was removed")
            return False
        access, standing = result.access, result.standing
        sub.can_edit, sub.can_comment = access.can_edit, access.can_comment
        if standing is not None and standing != self._standing:
            self._standing = standing
            await sub.send_frames(
                [
                    protocol.access_frame(
                        can_edit=standing.can_edit,
                        can_comment=standing.can_comment,
                        role=standing.role,
                        role_label=standing.role_label,
                        is_owner=standing.is_owner,
                        owner_id=standing.owner_id,
                        owner_name=standing.owner_name,
                    )
                ]
            )
        return True

    @staticmethod
    def _recheck_every() -> float:
        return float(settings.COLLABDOCS.get("ACCESS_RECHECK_SECONDS", 30))

    async def doc_removed(self, event: dict) -> None:
        """Close: the document was trashed or deleted."""
        if self.sub is not None and not self.sub.closed:
            await self._deny(CloseCode.NOT_FOUND, "the document was deleted")

    async def doc_title(self, event: dict) -> None:
        """Tell the client the document's new title."""
        if self.sub is not None and not self.sub.closed:
            await self.sub.send_frames([protocol.title_frame(title=str(event.get("title", "")))])

    async def doc_review(self, event: dict) -> None:
        """Pass a comment thread's change on to the client (``review``)."""
        payload = event.get("payload")
        if self.sub is not None and not self.sub.closed and isinstance(payload, dict):
            await self.sub.send_frames([protocol.review_frame(payload)])

    async def doc_history(self, event: dict) -> None:
        """Pass a change to the document's history on to the client (``history``)."""
        payload = event.get("payload")
        if self.sub is not None and not self.sub.closed and isinstance(payload, dict):
            await self.sub.send_frames([protocol.history_frame(payload)])

    async def user_notify(self, event: dict) -> None:
        """Pass a notification for this socket's user on to the client (``notify``)."""
        payload = event.get("payload")
        if self.sub is not None and not self.sub.closed and isinstance(payload, dict):
            await self.sub.send_frames([protocol.notify_frame(payload)])
