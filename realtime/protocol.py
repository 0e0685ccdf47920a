"""The wire vocabulary of protocol version 1 (see docs/protocol.md).

Message types, error codes, close codes, the op id format, the parser of
client frames and the builders of server frames all live here, so the rest
of the app never spells a wire string itself.

Server frames are built as text exactly once per message (compact JSON,
UTF-8 rather than ``\\u`` escapes) and the same text is sent to every socket
that gets it. An op's delta is serialized once, when it is accepted; that
text is reused for its ``op`` frame, for ``hello`` catch-up and for storage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Any, TypeGuard

from documents.deepjson import call_deep
from realtime.exceptions import BadMessage

PROTOCOL_VERSION = 1

#: ``<client id>:<sequence number>``; see protocol.md "Op ids".
OP_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,64}:[1-9][0-9]*")
#: Longest valid op id (64 + ":" + a sequence number below 10**30).
OP_ID_MAX_LENGTH = 96

_dumps = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Return the compact JSON text of ``value`` (every frame is built with it).

    Ops stored before the content schema may nest deeper than the recursion
    limit allows from the caller's stack: those are retried with room to
    recurse (documents.deepjson). The common path pays only the ``try``.
    """
    try:
        return _dumps(value)
    except RecursionError:
        return call_deep(_dumps, value)


class MessageType:
    """The ``type`` of every frame."""

    HELLO = "hello"
    OP = "op"
    ACK = "ack"
    BATCH = "batch"
    PRESENCE = "presence"
    JOIN = "join"
    LEAVE = "leave"
    REDIRECT = "redirect"
    ERROR = "error"
    # Extensions (docs/protocol.md "Extensions").
    ACCESS = "access"
    TITLE = "title"
    #: A comment thread changed (review app): ``{"type":"review", ...payload}``.
    REVIEW = "review"
    #: A notification for this socket's user: ``{"type":"notify", ...payload}``.
    NOTIFY = "notify"
    #: The document's history changed (a version named, saved or restored):
    #: ``{"type":"history", ...payload}``.
    HISTORY = "history"
    #: Authorship: a client asks ``{"type":"authors"}``; the reply
    #: ``{"type":"authors","rev":R,"runs":[[length, user id|null], ...]}``
    #: comes in order with the ops (the client has every op up to R).
    AUTHORS = "authors"
    #: Transport: one slice of a frame too large to send whole (realtime/framing.py).
    PART = "part"


class ErrorCode:
    """The ``code`` of an ``error`` frame."""

    DENIED = "denied"
    BAD_MESSAGE = "bad_message"
    BAD_OP = "bad_op"
    FORBIDDEN = "forbidden"
    STALE = "stale"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses."""

    REDIRECT = 4301
    NOT_LOGGED_IN = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    #: Extension: the user has too many sockets open on this worker.
    TOO_MANY_SOCKETS = 4429
    GOING_AWAY = 4503


# --------------------------------------------------------------------------
# Client frames
# --------------------------------------------------------------------------


@dataclass(slots=True)
class OpMessage:
    """A client's ``op``: a change made against revision ``rev``."""

    op_id: str
    rev: int
    delta: Any


@dataclass(slots=True)
class PresenceMessage:
    """A client's ``presence``: its selection at ``rev``, or None."""

    rev: int
    index: int | None
    length: int | None


@dataclass(slots=True)
class AuthorsMessage:
    """A client's ``authors``: send me who wrote each character, at your head."""


ClientMessage = OpMessage | PresenceMessage | AuthorsMessage


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_loads = json.JSONDecoder(parse_constant=_reject_constant).decode


def _is_int(value: Any) -> TypeGuard[int]:
    # bool is an int in Python; 1.0 is not an integer on the wire.
    return type(value) is int


def valid_op_id(value: Any) -> TypeGuard[str]:
    """Return whether ``value`` is a well-formed op id."""
    return (
        isinstance(value, str)
        and len(value) <= OP_ID_MAX_LENGTH
        and OP_ID_RE.fullmatch(value) is not None
    )


def parse_client_frame(text: str) -> ClientMessage:
    """Return the message a client frame carries.

    The delta of an ``op`` is returned as sent; validating it is the OT
    core's job (error ``bad_op``).

    :raises BadMessage: with the text for people and, when the frame names
        a well-formed op id, that id as the second argument.
    """
    try:
        # call_deep: a change nested deeper than this stack allows is still
        # read, so that parse_change can refuse it as bad_op naming the op.
        data = call_deep(_loads, text)
    except ValueError:
        raise BadMessage("the frame is not JSON") from None
    except RecursionError:
        raise BadMessage("the frame is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadMessage("the frame is not a JSON object")
    kind = data.get("type")
    if kind == MessageType.OP:
        op_id = data.get("id")
        if not valid_op_id(op_id):
            raise BadMessage("missing or malformed op id")
        rev = data.get("rev")
        if not _is_int(rev) or rev < 0:
            raise BadMessage("rev must be a non-negative integer", op_id)
        if "delta" not in data:
            raise BadMessage("missing delta", op_id)
        return OpMessage(op_id=op_id, rev=rev, delta=data["delta"])
    if kind == MessageType.PRESENCE:
        rev = data.get("rev")
        if not _is_int(rev) or rev < 0:
            raise BadMessage("rev must be a non-negative integer")
        if "range" not in data:
            raise BadMessage("missing range")
        rng = data["range"]
        if rng is None:
            return PresenceMessage(rev=rev, index=None, length=None)
        if not isinstance(rng, dict):
            raise BadMessage("range must be an object or null")
        index, length = rng.get("index"), rng.get("length")
        if not (_is_int(index) and _is_int(length)) or index < 0 or length < 0:
            raise BadMessage("range needs non-negative integer index and length")
        return PresenceMessage(rev=rev, index=index, length=length)
    if kind == MessageType.AUTHORS:
        return AuthorsMessage()
    if not isinstance(kind, str):
        raise BadMessage("missing type")
    raise BadMessage(f"unknown message type {kind[:40]!r}")


# --------------------------------------------------------------------------
# Server frames
# --------------------------------------------------------------------------
#
# Op ids match OP_ID_RE and session ids are URL-safe tokens, so both are
# written between quotes without escaping.

_OP_PREFIX = '{"type":"op",'


def op_frame(
    *,
    rev: int,
    op_id: str,
    session: str,
    user_id: int | None,
    delta_json: str,
    authors_json: str | None = None,
) -> str:
    """Return the ``op`` frame of an accepted op.

    ``authors_json``: the runs of who wrote its inserts, when not all
    ``user_id``'s (a restore), sent as ``"authors"``.
    """
    user = "null" if user_id is None else str(int(user_id))
    authors = "" if authors_json is None else f',"authors":{authors_json}'
    return (
        f'{_OP_PREFIX}"rev":{rev},"id":"{op_id}","session":"{session}",'
        f'"user":{user},"delta":{delta_json}{authors}}}'
    )


def authors_frame(*, rev: int, runs_json: str) -> str:
    """Return the ``authors`` reply: who wrote each character at ``rev``."""
    return f'{{"type":"authors","rev":{rev},"runs":{runs_json}}}'


def op_item(op_text: str) -> str:
    """Return an ``op`` frame without its ``type`` (a ``hello.ops`` element)."""
    return "{" + op_text[len(_OP_PREFIX) :]


def ack_frame(*, op_id: str, rev: int) -> str:
    """Return the ``ack`` of op ``op_id`` at revision ``rev``."""
    return f'{{"type":"ack","id":"{op_id}","rev":{rev}}}'


def batch_frame(parts: list[str]) -> str:
    """Return one frame for ``parts`` (``op``/``ack`` frames), in order."""
    if len(parts) == 1:
        return parts[0]
    return '{"type":"batch","messages":[' + ",".join(parts) + "]}"


def hello_frame(
    *,
    doc: str,
    rev: int,
    session: str,
    user_json: str,
    can_edit: bool,
    can_comment: bool,
    peers_json: list[str],
    content_json: str | None = None,
    op_items: list[str] | None = None,
) -> str:
    """Return ``hello`` with either ``content`` or catch-up ``ops``."""
    if op_items is not None:
        body = '"ops":[' + ",".join(op_items) + "]"
    else:
        body = f'"content":{content_json}'
    return (
        f'{{"type":"hello","protocol":{PROTOCOL_VERSION},"doc":"{doc}","rev":{rev},{body},'
        f'"session":"{session}","user":{user_json},"can_edit":{"true" if can_edit else "false"},'
        f'"can_comment":{"true" if can_comment else "false"},'
        f'"peers":[{",".join(peers_json)}]}}'
    )


def range_json(index: int | None, length: int | None) -> str:
    """Return a presence range as JSON (``null`` for none)."""
    if index is None:
        return "null"
    return f'{{"index":{index},"length":{length}}}'


def peer_json(*, session: str, user_json: str, index: int | None, length: int | None) -> str:
    """Return one element of ``hello.peers``."""
    return f'{{"session":"{session}","user":{user_json},"range":{range_json(index, length)}}}'


def presence_frame(
    *, session: str, user_json: str, rev: int, index: int | None, length: int | None
) -> str:
    """Return a ``presence`` frame: a selection at revision ``rev``."""
    return (
        f'{{"type":"presence","session":"{session}","user":{user_json},"rev":{rev},'
        f'"range":{range_json(index, length)}}}'
    )


def join_frame(*, session: str, user_json: str) -> str:
    """Return the ``join`` of a connection."""
    return f'{{"type":"join","session":"{session}","user":{user_json}}}'


def leave_frame(*, session: str) -> str:
    """Return the ``leave`` of a connection."""
    return f'{{"type":"leave","session":"{session}"}}'


def user_json(*, user_id: int, name: str, color: str) -> str:
    """Return the ``user`` object of a connection."""
    return dumps({"id": user_id, "name": name, "color": color})


def error_frame(
    code: str, message: str, *, op_id: str | None = None, retry_after: int | None = None
) -> str:
    """Return an ``error`` frame."""
    data: dict[str, Any] = {"type": MessageType.ERROR, "code": code, "message": message}
    if op_id is not None:
        data["id"] = op_id
    if retry_after is not None:
        data["retry_after"] = retry_after
    return dumps(data)


def access_frame(
    *,
    can_edit: bool,
    can_comment: bool,
    role: str | None = None,
    role_label: str | None = None,
    is_owner: bool | None = None,
    owner_id: int | None = None,
    owner_name: str | None = None,
) -> str:
    """Return the ``access`` extension: the socket's rights or their labels changed.

    ``role``, ``role_label``, ``is_owner`` and the ``owner`` object are
    additive (issue 16): a client that knows only the two rights ignores
    them. Each is left out when None; ``owner`` needs both its parts.
    """
    data: dict[str, Any] = {
        "type": MessageType.ACCESS,
        "can_edit": can_edit,
        "can_comment": can_comment,
    }
    if role is not None:
        data["role"] = role
    if role_label is not None:
        data["role_label"] = role_label
    if is_owner is not None:
        data["is_owner"] = is_owner
    if owner_id is not None and owner_name is not None:
        data["owner"] = {"id": owner_id, "name": owner_name}
    return dumps(data)


def title_frame(*, title: str) -> str:
    """Return the ``title`` extension: the document was renamed."""
    return dumps({"type": MessageType.TITLE, "title": title})


def review_frame(payload: dict[str, Any]) -> str:
    """Return the ``review`` extension: a comment thread on the document changed."""
    return dumps({**payload, "type": MessageType.REVIEW})


def history_frame(payload: dict[str, Any]) -> str:
    """Return the ``history`` extension: the document's history changed."""
    return dumps({**payload, "type": MessageType.HISTORY})


def notify_frame(payload: dict[str, Any]) -> str:
    """Return the ``notify`` extension: a notification for the socket's user."""
    return dumps({**payload, "type": MessageType.NOTIFY})


def part_frame(*, seq: int, last: bool, data: str) -> str:
    """Return part ``seq`` of a split frame; ``data`` is a slice of its text."""
    return (
        f'{{"type":"part","seq":{seq},"last":{"true" if last else "false"},"data":{dumps(data)}}}'
    )


def redirect_frame(*, url: str) -> str:
    """Return a ``redirect`` to the worker that owns the document."""
    return dumps({"type": MessageType.REDIRECT, "url": url})


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a client message was refused: an ``error`` frame to send back."""

    code: str
    message: str
    op_id: str | None = None
    retry_after: int | None = None

    def with_id(self, op_id: str) -> Rejection:
        """Return this rejection about op ``op_id``."""
        return Rejection(self.code, self.message, op_id, self.retry_after)

    def frame(self) -> str:
        """Return this rejection as an ``error`` frame."""
        return error_frame(self.code, self.message, op_id=self.op_id, retry_after=self.retry_after)
