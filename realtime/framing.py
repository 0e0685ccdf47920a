"""Split server frames too large for the WebSocket layer into ``part`` frames.

daphne's WebSocket layer (autobahn) applies ``websocket_max_message_size``
(1 MiB by default, and ``runworker`` keeps it there) to the frames it
*sends* as well as to those it receives: a larger message raises inside
autobahn and never reaches the client. A document within the length limit
(1,048,576 UTF-16 code units) can take over 3 MiB of UTF-8 (3 bytes per
CJK character), and a catch-up ``hello`` or a ``batch`` can be larger
still. Raising the limit would raise it for incoming frames too, so the
server splits instead (docs/protocol.md "Frame sizes"):

* A frame whose UTF-8 size is at most :data:`MAX_PART_BYTES` is sent as is
  (every frame of normal editing: the check is one ``len`` for frames below
  a quarter of the limit).
* A larger one is sent as ``{"type":"part","seq":i,"last":b,"data":s}``
  frames, ``seq`` counting from 0, ``last`` true on the final one, where
  the ``s`` are consecutive slices of the frame's text. The client joins
  the slices in order and handles the result as the one frame it was.

Invariants: each part frame, escaping included, is at most ``limit`` UTF-8
bytes; slices are whole code points (Python ``str`` slicing), so no slice
holds half of a UTF-16 surrogate pair; the parts of one frame are sent
back to back with nothing in between (the caller awaits each send in order
on one socket; :class:`~realtime.subscriber.Subscriber` never starts a
frame before the previous one is fully sent).

Pure: no Django, no I/O.
"""

from __future__ import annotations

import json

from realtime import protocol

#: Largest UTF-8 size of any frame the server sends, parts included: a
#: quarter of daphne's 1 MiB message limit, so that the limit can never be
#: reached whatever the escaping, and a slow reader gets a big document in
#: pieces the event loop writes without long pauses.
MAX_PART_BYTES = 256 * 1024

#: The smallest limit that always fits one code point (escaped, at most 6
#: bytes) plus the part frame's own keys (about 50 bytes).
MIN_PART_BYTES = 128

_PART_PREFIX = '{"type":"part",'


class FramingError(ValueError):
    """A sequence of ``part`` frames is malformed."""


def utf8_size(text: str) -> int:
    """Return the UTF-8 size of ``text`` in bytes (lone surrogates as 3)."""
    return len(text.encode("utf-8", "surrogatepass"))


def fits(text: str, limit: int = MAX_PART_BYTES) -> bool:
    """Return whether ``text`` may be sent whole under ``limit`` bytes."""
    # A code point takes at most 4 bytes: short texts need no encoding.
    return len(text) * 4 <= limit or utf8_size(text) <= limit


def split_frame(text: str, limit: int = MAX_PART_BYTES) -> list[str]:
    """Return the frames that carry ``text``: itself, or its ``part`` frames.

    :raises ValueError: when ``limit`` is below :data:`MIN_PART_BYTES`.
    """
    if limit < MIN_PART_BYTES:
        raise ValueError(f"a part limit must be at least {MIN_PART_BYTES} bytes")
    if fits(text, limit):
        return [text]
    parts: list[str] = []
    start, end = 0, len(text)
    # How many code points to try next: every code point takes at least one
    # byte, so never more than ``limit``; the guess adapts to the density of
    # the previous slice so that most slices fit at the first try.
    guess = limit
    while start < end:
        count = min(guess, end - start)
        while True:
            piece = text[start : start + count]
            frame = protocol.part_frame(seq=len(parts), last=start + count >= end, data=piece)
            size = utf8_size(frame)
            if size <= limit:
                break
            # Shrink in proportion, always by at least one code point, so the
            # loop ends: a single code point always fits (MIN_PART_BYTES).
            count = max(1, min(count - 1, count * limit // size - 1))
        parts.append(frame)
        start += count
        guess = max(1, min(limit, count * limit // max(size, 1)))
    return parts


class Reassembler:
    """Join ``part`` frames back into the frame they carry (a client's side).

    Feed every text frame of one socket in order to :meth:`feed`; it
    returns each whole frame once complete. Used by tests and Python
    tools; the browser's twin is ``PartAssembler`` in
    ``static/src/editor/protocol.js``.
    """

    def __init__(self) -> None:
        self._pieces: list[str] = []

    @property
    def pending(self) -> bool:
        """Return whether a split frame has started and not yet ended."""
        return bool(self._pieces)

    def feed(self, text: str) -> str | None:
        """Return the whole frame ``text`` completes, or None while parts remain.

        :raises FramingError: on a part out of order, a malformed part, or
            another frame between the parts of one frame. The socket's
            state is then unknown: drop it and reconnect.
        """
        # The server writes every part with this exact prefix
        # (protocol.part_frame), so other frames need no parsing here.
        if not text.startswith(_PART_PREFIX):
            if self._pieces:
                self._pieces = []
                raise FramingError("a frame arrived between the parts of another")
            return text
        try:
            part = json.loads(text)
        except ValueError:
            self._pieces = []
            raise FramingError("a part frame is not JSON") from None
        seq, last, data = part.get("seq"), part.get("last"), part.get("data")
        if type(seq) is not int or type(last) is not bool or not isinstance(data, str):
            self._pieces = []
            raise FramingError("a part frame needs an integer seq, a boolean last and string data")
        if seq != len(self._pieces):
            expected = len(self._pieces)
            self._pieces = []
            raise FramingError(f"part {seq} arrived where part {expected} was due")
        self._pieces.append(data)
        if not last:
            return None
        whole = "".join(self._pieces)
        self._pieces = []
        return whole
