"""Bring documents stored before the content schema inside it.

Documents written before issue 9 may hold what ``parse_change`` now refuses:
embeds of unknown types (``formula``, ``{"foo": 1}``), embed values nested
hundreds of levels deep, image or video sources from anywhere, attribute
names outside the schema (``font``, ``toString``) or values not of their
kind (``color: "red"``). Quill cannot render some of them and the browser's
quill-delta reads others differently from the server.

:func:`repair_change` is pure: it returns the change that brings content
inside the schema, and nothing for content already inside:

* an invalid value of a known format is removed with a ``null`` on a retain;
* a run carrying an attribute name outside the schema is deleted and
  inserted again without it (a ``null`` for an unknown name would itself be
  refused, and ``__proto__`` is unsafe even as a removal); the document's
  final newline is never rewritten, so an unknown name there stays;
* an embed of an unknown type or with a refused value becomes a short text
  placeholder, ``[formula removed]``; an image from an address that is a
  valid link becomes the text ``[image]`` linking to it.

The deep values are only ever inspected at their top level, so repairing
never recurses into them.

:func:`repair_loaded` applies that change when a worker loads a document
(``Registry.acquire``), as a server change: ops authored by nobody
(``user`` null; one, or pieces of 500 ops for large repairs), transformed,
stored, acked and broadcast like any other.
Every client and the op log stay consistent, and the previous content stays
in the history (a named version or an older revision can still be viewed;
restoring it is repaired the same way, ``realtime.restore``).

Failure modes: the repair is best effort. If it is refused (larger than the
change limits) or storage is down, it is logged and the document opens as
stored; the next load tries again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any

from realtime import protocol
from realtime.authority import Authority
from realtime.ot import Delta, utf16_len
from realtime.ot.marks import value_problem
from realtime.ot.schema import DEFAULT_POLICY, ContentPolicy, embed_problem, embeds, formats
from realtime.protocol import Rejection
from realtime.server_change import submit_until_answered

__all__ = ["repair_change", "repair_loaded", "repaired", "split_change"]

logger = logging.getLogger(__name__)

#: How long a load waits for its repair to be stored.
REPAIR_TIMEOUT = 10.0
#: Ops per repair op: each touches about one run, far under MAX_CHANGE_RUNS.
PIECE_OPS = 500

_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Hashable JSON scalars (type included: True and 1 are different values).
_SCALARS = (str, int, bool, float, type(None))


def _placeholder(name: Any) -> str:
    """Return the text that stands for a removed embed."""
    label = name if type(name) is str and _NAME.fullmatch(name) else "embed"
    return f"[{label} removed]"


def _split(
    attributes: Any, memo: dict[tuple[str, Any], bool]
) -> tuple[dict[str, Any], list[str], bool]:
    """Sort attributes into (valid ones, known names to null, any unknown name).

    ``memo`` remembers checked (name, value) pairs: a document repeats a
    few formats over many runs.
    """
    kept: dict[str, Any] = {}
    invalid: list[str] = []
    unknown = False
    if type(attributes) is not dict:
        return kept, invalid, attributes is not None
    for key, value in attributes.items():
        spec = formats.get(key) if type(key) is str else None
        if spec is None:
            unknown = True
            continue
        pair = (key, (type(value), value)) if type(value) in _SCALARS else None
        valid = memo.get(pair) if pair is not None else None
        if valid is None:
            valid = (
                value is not None
                and spec.check(value) is None
                and value_problem(key, value) is None  # review marks: parse_change's checks
            )
            if pair is not None:
                memo[pair] = valid
        if valid:
            kept[key] = value
        else:
            invalid.append(key)
    return kept, invalid, unknown


def repair_change(content: list[dict[str, Any]], policy: ContentPolicy = DEFAULT_POLICY) -> Delta:
    """Return the change that brings document ``content`` inside the schema.

    The change is empty when the content is inside already. It passes
    ``parse_change`` under ``policy`` and applies to ``content``.
    """
    change = Delta()
    memo: dict[tuple[str, Any], bool] = {}
    clean = 0  # code units inside the schema since the last edit, not yet retained

    def here() -> Delta:
        """Return the change, retained up to the current position."""
        nonlocal clean
        if clean:
            change.retain(clean)
            clean = 0
        return change

    last = len(content) - 1
    for index, op in enumerate(content):
        value = op.get("insert")
        attributes = op.get("attributes")
        if type(value) is str:
            length = utf16_len(value)
            kept, invalid, unknown = _split(attributes, memo)
            if unknown and index == last and value.endswith("\n"):
                # The final newline may not be deleted: rewrite the rest.
                body = value[:-1]
                if body:
                    here().insert(body, kept or None).delete(utf16_len(body))
                here().retain(1, {key: None for key in invalid} or None)
            elif unknown:
                here().insert(value, kept or None).delete(length)
            elif invalid:
                here().retain(length, {key: None for key in invalid})
            else:
                clean += length
            continue
        # An embed (or, in content nothing checked, anything else).
        name, source = (
            next(iter(value.items())) if type(value) is dict and len(value) == 1 else (None, None)
        )
        embed = embeds.get(name) if type(name) is str else None
        if embed is not None and embed_problem(embed, source, policy) is None:
            kept, invalid, unknown = _split(attributes, memo)
            if unknown:
                here().insert({embed.name: source}, kept or None).delete(1)
            elif invalid:
                here().retain(1, {key: None for key in invalid})
            else:
                clean += 1
            continue
        link = formats["link"].check(source) is None if name == "image" else False
        if link:
            here().insert("[image]", {"link": source})
        else:
            here().insert(_placeholder(name))
        change.delete(1)
    return change.chop()


def repaired(
    content: list[dict[str, Any]], policy: ContentPolicy = DEFAULT_POLICY
) -> list[dict[str, Any]]:
    """Return ``content`` brought inside the schema (itself if inside already)."""
    change = repair_change(content, policy)
    if not change.ops:
        return content
    return list(Delta(content).compose(change).ops)


def split_change(change: Delta, size: int = PIECE_OPS) -> list[Delta]:
    """Return changes of at most ``size`` ops (plus a retain) equal to ``change``.

    Applied in order, each to the result of the ones before, they give what
    ``change`` gives: piece ``k`` retains what the earlier pieces left
    finished, then carries on with the next ops of ``change``.
    """
    pieces: list[Delta] = []
    offset = 0  # document length the earlier pieces have finished
    ops = change.ops
    for start in range(0, len(ops), size):
        segment = ops[start : start + size]
        piece = Delta([{"retain": offset}, *segment] if offset else segment).chop()
        if piece.ops:
            pieces.append(piece)
        for op in segment:
            if "retain" in op:
                offset += op["retain"]
            elif "insert" in op:
                value = op["insert"]
                offset += utf16_len(value) if type(value) is str else 1
    return pieces


async def repair_loaded(authority: Authority, policy: ContentPolicy) -> int | None:
    """Submit the repair of a just-loaded document; return its last revision.

    The repair goes in pieces of at most :data:`PIECE_OPS` ops, so that a
    document with thousands of outside parts stays under the change limits.
    Return None when the content is inside the schema already or the repair
    was not stored in full (logged; the document opens as it then is, each
    stored piece being a valid edit).
    """
    loop = asyncio.get_running_loop()
    change = await loop.run_in_executor(None, repair_change, authority.content(), policy)
    if not change.ops:
        return None
    deadline = loop.time() + REPAIR_TIMEOUT
    revision = None
    for piece in split_change(change):
        message = protocol.OpMessage(
            op_id=f"{secrets.token_hex(12)}:1", rev=authority.head, delta=piece.ops
        )
        answer = await submit_until_answered(authority, message, user_id=None, deadline=deadline)
        if answer is None:
            logger.warning("repair of %s was not stored in time", authority.public_id)
            return None
        if isinstance(answer, Rejection):
            logger.warning(
                "repair of %s refused: %s %s", authority.public_id, answer.code, answer.message
            )
            return None
        revision = answer
    logger.info("repaired legacy content of %s up to revision %s", authority.public_id, revision)
    return revision
