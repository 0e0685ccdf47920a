"""One connection as the document authority sees it.

The consumer creates a :class:`Subscriber` per socket and attaches it to the
authority, which writes frames to it directly: the hot path never crosses
the channel layer.

Ordering: :meth:`Subscriber.send_frames` sends its frames in the order they
were handed over, even when an ASGI server suspends inside ``send`` and a
second caller arrives meanwhile (it queues behind the first). The consumer's
``send`` may write one frame as several ``part`` frames (realtime/framing.py);
because each ``send`` is awaited before the next frame starts, nothing is ever
written between the parts of one frame.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int], Awaitable[None]]


class Subscriber:
    """A socket attached to a document authority.

    ``can_edit`` / ``can_comment`` are the socket's rights as last checked
    (an op from a socket with neither is refused by the consumer).
    ``sent_rev`` is the last revision whose op (or ack) was handed to the
    socket; ``outbox`` holds ``presence``/``join``/``leave`` frames waiting
    for the next delivery, after the ops. ``presence_*`` is this socket's
    own selection at ``presence_rev`` (``presence_index`` None: no
    selection).
    """

    __slots__ = (
        "session",
        "user_id",
        "user_json",
        "can_edit",
        "can_comment",
        "sent_rev",
        "authored_rev",
        "outbox",
        "_slots",
        "presence_rev",
        "presence_index",
        "presence_length",
        "closed",
        "_send",
        "_close",
        "_sending",
        "_backlog",
    )

    def __init__(
        self,
        *,
        session: str,
        user_id: int | None,
        user_json: str,
        can_edit: bool,
        send: SendText,
        close: CloseSocket | None = None,
        can_comment: bool | None = None,
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.user_json = user_json
        #: May change the text; else its ops are held to the commenter's
        #: rules (realtime.ot.review.policy_problem).
        self.can_edit = can_edit
        #: May comment and suggest (None: as ``can_edit``; editors may).
        self.can_comment = can_edit if can_comment is None else can_comment
        self.sent_rev = 0
        #: Highest committed revision this socket must be acked for.
        self.authored_rev = 0
        self.outbox: list[str] = []
        self._slots: dict[str, int] = {}
        self.presence_rev = 0
        self.presence_index: int | None = None
        self.presence_length: int | None = None
        self.closed = False
        self._send = send
        self._close = close
        self._sending = False
        self._backlog: collections.deque[str] = collections.deque()

    def post(self, frame: str, slot: str | None = None) -> None:
        """Queue a frame for the next delivery; a ``slot`` keeps only its latest."""
        if slot is not None:
            index = self._slots.get(slot)
            if index is not None:
                self.outbox[index] = frame
                return
            self._slots[slot] = len(self.outbox)
        self.outbox.append(frame)

    def take_outbox(self) -> list[str]:
        """Return and clear the queued frames."""
        frames = self.outbox
        self.outbox = []
        self._slots = {}
        return frames

    async def send_frames(self, frames: list[str]) -> None:
        """Send ``frames`` in order, after any frames already being sent."""
        if self.closed or not frames:
            return
        if self._sending:
            self._backlog.extend(frames)
            return
        self._sending = True
        try:
            for frame in frames:
                await self._send(frame)
            while self._backlog:
                await self._send(self._backlog.popleft())
        except Exception as exc:  # noqa: BLE001 - one broken socket must not stop a fan-out
            # An aborted socket fails every send until the server notices:
            # one line, no traceback, and no more sends to it.
            logger.debug(
                "sending to %s failed (%s: %s); dropping the socket",
                self.session,
                type(exc).__name__,
                exc,
            )
            self.closed = True
            self._backlog.clear()
        finally:
            self._sending = False

    async def close(self, code: int, frame: str) -> None:
        """Send ``frame`` (an error) and close the socket with ``code``."""
        if self.closed:
            return
        await self.send_frames([frame])
        self.closed = True
        if self._close is not None:
            await self._close(code)

    def __repr__(self) -> str:
        return f"<Subscriber {self.session} user={self.user_id} sent={self.sent_rev}>"
