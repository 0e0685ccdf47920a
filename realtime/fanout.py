"""Fan-out: what each attached socket is owed, as frames, and when it gets it.

The only place that builds the frames of a delivery (``hello``, ``op``,
``ack``, ``batch``, ``join``, ``leave``, ``presence``, and the ``error`` of
a refusal), with :mod:`realtime.protocol`'s builders. It reads the
sequencer's committed state (``head``, the window) and never changes it.

Contracts (docs/protocol.md "ack, op, batch"):

* one frame per socket per delivery: every op after the socket's
  ``sent_rev``, in revision order, a single one as itself and several as a
  ``batch``, then its queued ``presence``/``join``/``leave`` frames;
* the authors of a commit are owed their delivery at once (acks are never
  delayed: their authors may be waiting to send again);
* the others get theirs at once on a small document, or on a short tick on
  a busy one (:func:`fanout_delay`), so that one frame carries many ops:
  fan-out costs grow with the square of the people;
* sockets that authored none of the ops share one frame text (the frame
  cache, keyed by ``sent_rev``, emptied by every commit).

Each committed op's ``op`` frame text is made once, at commit, and kept
beside the window (``_texts[i]`` is the frame of ``window[i]``).

Failure modes: a socket whose send fails is dropped by
:class:`~realtime.subscriber.Subscriber` without holding up the others,
which hear its ``leave`` at once (one ``leave`` per socket, even when the
consumer's disconnect follows), and no later ``hello`` lists it; a
socket somehow behind the window (deliveries did not keep up) is closed
with 4503 ``stale`` and reconnects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any

from documents import logcontext
from documents.store import StoredOp
from realtime import metrics, protocol
from realtime.oplog import Entry
from realtime.ot import authorship as ot_authorship
from realtime.ot.authorship import Runs
from realtime.protocol import CloseCode, ErrorCode, Rejection
from realtime.sequencer import Sequencer
from realtime.subscriber import Subscriber

#: Up to this many sockets, every delivery is immediate.
IMMEDIATE_FANOUT_SOCKETS = 16

_TOO_FAR_BEHIND = Rejection(ErrorCode.STALE, "too far behind; reconnect")


def fanout_delay(sockets: int) -> float:
    """Return how long broadcasts may wait to be combined, in seconds."""
    if sockets <= IMMEDIATE_FANOUT_SOCKETS:
        return 0.0
    return min(0.05, sockets * 0.0001)


def _runs_json(runs: Runs | None) -> str | None:
    return None if runs is None else protocol.dumps(ot_authorship.to_json(runs))


def _op_text(entry: Entry[Subscriber]) -> str:
    author = entry.author
    return protocol.op_frame(
        rev=entry.rev,
        op_id=entry.op_id,
        session=author.session if author is not None else "",
        user_id=entry.user_id,
        delta_json=entry.delta_json,
        authors_json=_runs_json(entry.attribution),
    )


async def reject(sub: Subscriber | None, rejection: Rejection) -> None:
    """Send ``rejection`` to ``sub`` (if it is still open); count it."""
    metrics.op_refused(rejection.code)
    if sub is not None and not sub.closed:
        await sub.send_frames([rejection.frame()])


class Fanout:
    """The sockets attached to one document and what each is owed."""

    def __init__(
        self, seq: Sequencer[Subscriber], *, doc: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._seq = seq
        self._doc = doc
        self._loop = loop
        self.subs: list[Subscriber] = []
        #: Sockets owed a delivery right away (authors of a commit).
        self._owed: dict[Subscriber, None] = {}
        self._tick: asyncio.TimerHandle | None = None
        #: When the oldest commit not yet sent to every socket was stored.
        self._broadcast_since: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._content_cache: tuple[int, str] | None = None
        self._authors_cache: tuple[int, str] | None = None
        self._frame_cache: dict[int, str] = {}
        self._texts: list[str] = []
        #: Sessions whose ``leave`` went out before their detach (a failed send).
        self._announced_gone: set[str] = set()
        self._closed = False
        self.reset()

    @property
    def owed(self) -> bool:
        """Return whether some socket is owed a delivery right away."""
        return bool(self._owed)

    # -- sockets -----------------------------------------------------------------

    def attach(
        self, sub: Subscriber, *, since_rev: int | None, stored: list[StoredOp] | None = None
    ) -> str:
        """Attach ``sub`` and return its ``hello`` (see ``Authority.attach``)."""
        seq = self._seq
        head = seq.head
        peers = []
        for other in self.subs:
            if other.closed:
                continue  # its socket is gone (a failed send): never list a ghost
            index, length = self._presence_at_head(other)
            peers.append(
                protocol.peer_json(
                    session=other.session, user_json=other.user_json, index=index, length=length
                )
            )
        items: list[str] | None = None
        content_json: str | None = None
        if since_rev is not None and seq.window_start <= since_rev <= head:
            items = [
                protocol.op_item(
                    protocol.op_frame(
                        rev=op.revision,
                        op_id=op.op_id,
                        session="",
                        user_id=op.author_id,
                        delta_json=protocol.dumps(op.delta),
                        authors_json=(
                            None if op.attribution is None else protocol.dumps(op.attribution)
                        ),
                    )
                )
                for op in stored or ()
            ]
            items.extend(
                protocol.op_item(text) for text in self._texts[since_rev - seq.window_start :]
            )
        else:
            content_json = self._content_json()
        hello = protocol.hello_frame(
            doc=self._doc,
            rev=head,
            session=sub.session,
            user_json=sub.user_json,
            can_edit=sub.can_edit,
            can_comment=sub.can_comment,
            peers_json=peers,
            content_json=content_json,
            op_items=items,
        )
        sub.sent_rev = head
        sub.authored_rev = 0
        join = protocol.join_frame(session=sub.session, user_json=sub.user_json)
        for other in self.subs:
            other.post(join)
        self.subs.append(sub)
        self._schedule()
        return hello

    def detach(self, sub: Subscriber) -> bool:
        """Detach ``sub`` and tell the others it left; return whether it was attached."""
        sub.closed = True
        try:
            self.subs.remove(sub)
        except ValueError:
            return False
        self._owed.pop(sub, None)
        if sub.session in self._announced_gone:
            self._announced_gone.discard(sub.session)
        else:
            self._announce_leave(sub)
        return True

    def _announce_leave(self, sub: Subscriber) -> None:
        """Tell every other socket that ``sub`` left."""
        leave = protocol.leave_frame(session=sub.session)
        for other in self.subs:
            if other is not sub:
                other.post(leave)
        self._schedule()

    def presence(self, sub: Subscriber) -> None:
        """Broadcast ``sub``'s selection (its ``presence_*``), moved to ``head``."""
        index, length = self._presence_at_head(sub)
        frame = protocol.presence_frame(
            session=sub.session,
            user_json=sub.user_json,
            rev=self._seq.head,
            index=index,
            length=length,
        )
        for other in self.subs:
            if other is not sub:
                other.post(frame, slot=sub.session)
        self._schedule()

    def _presence_at_head(self, sub: Subscriber) -> tuple[int | None, int | None]:
        """Return ``sub``'s selection moved to ``head`` (and remember it)."""
        if sub.presence_index is None:
            return None, None
        head = self._seq.head
        if sub.presence_rev < head:
            moved = self._seq.range_at_head(
                sub.presence_rev, sub.presence_index, sub.presence_length or 0
            )
            if moved is None:
                sub.presence_index = sub.presence_length = None
                return None, None
            sub.presence_rev = head
            sub.presence_index, sub.presence_length = moved
        return sub.presence_index, sub.presence_length

    # -- commits -----------------------------------------------------------------

    def committed(self, batch: list[Entry[Subscriber]]) -> None:
        """Owe a committed ``batch``: its authors at once, the others now or on a tick."""
        texts, owed = self._texts, self._owed
        for entry in batch:
            texts.append(_op_text(entry))
            author = entry.author
            if author is not None and not author.closed:
                author.authored_rev = entry.rev
                owed[author] = None
            if entry.ackers:
                for sub in entry.ackers:
                    if not sub.closed:
                        sub.authored_rev = entry.rev
                        owed[sub] = None
        if self._broadcast_since is None:
            self._broadcast_since = self._loop.time()
        # Keep the texts beside the window, which the commit may have trimmed.
        excess = len(texts) - len(self._seq.window)
        if excess > 0:
            del texts[:excess]
        self._frame_cache = {}
        if fanout_delay(len(self.subs)) == 0.0:
            for sub in self.subs:
                owed[sub] = None
        else:
            self._schedule()

    def reset(self) -> None:
        """Take the sequencer's window afresh (after a load or a reload)."""
        self._texts = [_op_text(entry) for entry in self._seq.window]
        self._frame_cache = {}
        self._content_cache = None
        self._authors_cache = None

    async def rebased(self) -> None:
        """Owe every socket a delivery after a reload; close those it left behind."""
        self.reset()
        seq = self._seq
        for sub in self.subs:
            if sub.sent_rev < seq.window_start:
                await sub.close(CloseCode.GOING_AWAY, _TOO_FAR_BEHIND.frame())
                continue
            sub.authored_rev = seq.head
            self._owed[sub] = None

    # -- delivery ----------------------------------------------------------------

    def frames_for(self, sub: Subscriber) -> list[str]:
        """Return (and mark as sent) what ``sub`` is owed: ops, then its outbox."""
        frames: list[str] = []
        seq = self._seq
        head = seq.head
        since = sub.sent_rev
        if since < head:
            first = since - seq.window_start
            if first < 0:
                # Cannot happen while deliveries keep up; recover by closing.
                self._spawn(sub.close(CloseCode.GOING_AWAY, _TOO_FAR_BEHIND.frame()))
                return []
            if sub.authored_rev <= since:
                frame = self._frame_cache.get(since)
                if frame is None:
                    frame = protocol.batch_frame(self._texts[first:])
                    self._frame_cache[since] = frame
            else:
                texts = self._texts
                window = seq.window
                frame = protocol.batch_frame(
                    [
                        protocol.ack_frame(op_id=window[i].op_id, rev=window[i].rev)
                        if window[i].acks(sub)
                        else texts[i]
                        for i in range(first, len(window))
                    ]
                )
            frames.append(frame)
            sub.sent_rev = head
        if sub.outbox:
            frames.extend(sub.take_outbox())
        return frames

    async def deliver(self, subs: Iterable[Subscriber]) -> None:
        """Send each of ``subs`` what it is owed."""
        for sub in subs:
            self._owed.pop(sub, None)
            if sub.closed:
                continue
            frames = self.frames_for(sub)
            if frames:
                await sub.send_frames(frames)
                if sub.closed and sub in self.subs:
                    # The send failed: the socket is gone, though the server
                    # may hear of it only later (the consumer's disconnect
                    # detaches it). The others hear ``leave`` now, once.
                    self._announced_gone.add(sub.session)
                    self._announce_leave(sub)

    async def deliver_owed(self) -> None:
        """Send the sockets owed a delivery right away what they are owed."""
        await self.deliver(list(self._owed))
        if self._tick is None:
            # No tick pending: every socket was owed the commits, and has them.
            self._broadcast_done()

    async def _deliver_all(self) -> None:
        await self.deliver(list(self.subs))
        self._broadcast_done()

    def _broadcast_done(self) -> None:
        since = self._broadcast_since
        if since is not None:
            self._broadcast_since = None
            metrics.broadcast(self._loop.time() - since)

    async def send_authors(self, sub: Subscriber) -> None:
        """Send ``sub`` the ``authors`` frame at ``head``, after every op up to it.

        In order with the ops: what ``sub`` is owed goes first, so it has
        seen every op up to the frame's revision and none after.
        """
        if sub.closed:
            return
        head = self._seq.head
        cached = self._authors_cache
        if cached is None or cached[0] != head:
            frame = protocol.authors_frame(
                rev=head,
                runs_json=protocol.dumps(self._seq.runs),  # tuples are JSON arrays
            )
            self._authors_cache = cached = (head, frame)
        frames = self.frames_for(sub)
        frames.append(cached[1])
        await sub.send_frames(frames)

    async def ack_stored(self, sub: Subscriber | None, op_id: str, rev: int) -> None:
        """Ack a resent op that is stored already, after every op before it."""
        if sub is None or sub.closed:
            return
        frames = self.frames_for(sub) if sub.sent_rev < rev else []
        frames.append(protocol.ack_frame(op_id=op_id, rev=rev))
        await sub.send_frames(frames)

    async def close_all(self, code: int, message: str) -> None:
        """Close every socket with ``code`` after a ``denied`` ``message``."""
        frame = Rejection(ErrorCode.DENIED, message).frame()
        for sub in list(self.subs):
            await sub.close(code, frame)
            self.detach(sub)

    def _schedule(self) -> None:
        if self._tick is not None or self._closed:
            return
        self._tick = self._loop.call_later(fanout_delay(len(self.subs)), self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        self._spawn(self._deliver_all())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._loop.create_task(coro, context=logcontext.detached(doc=self._doc))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _content_json(self) -> str:
        head = self._seq.head
        cached = self._content_cache
        if cached is not None and cached[0] == head:
            return cached[1]
        text = protocol.dumps(self._seq.content())
        self._content_cache = (head, text)
        return text

    def close(self) -> None:
        """Stop the tick; nothing is delivered afterwards."""
        self._closed = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
