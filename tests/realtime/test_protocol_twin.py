"""The wire vocabulary's twins agree: static/src/editor/protocol.js and realtime/protocol.py.

protocol.js is loaded through node (it is a pure ES module; the package.json
in static/src marks it as one) and every name and value the two share is
compared: message types, error codes, close codes, the protocol version and
the op id format and length bound.

Failure modes covered: a value changed on one side only; a name added,
removed or renamed on one side only (4503 was ``MOVED`` in the browser and
``GOING_AWAY`` on the server); a client-only close code that the server
starts to send under another name or value; the two op id checks
disagreeing on an id.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from realtime import protocol

REPO = Path(__file__).resolve().parents[2]
PROTOCOL_JS = REPO / "static" / "src" / "editor" / "protocol.js"

#: Close codes the browser knows and the server never sends: the WebSocket
#: layer's own limit (daphne closes with it) and the code this client uses
#: when it drops a socket to reconnect.
CLIENT_ONLY_CLOSE_CODES = {"MESSAGE_TOO_BIG": 1009, "CLIENT_RECONNECT": 4000}

#: Op ids both checks must judge alike (valid_op_id / isOpId).
OP_IDS = [
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f:17",
    "A" * 16 + ":1",
    "A" * 15 + ":1",
    "A" * 64 + ":1",
    "A" * 65 + ":1",
    "A" * 64 + ":" + "9" * 31,
    "A" * 64 + ":" + "9" * 30,
    "a_b-c" * 4 + ":9",
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f:0",
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f:01",
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f!:1",
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f:1\n",
    "9f2c4e1ab3d87766c0de5a1b2c3d4e5f",
    "",
]

_SCRIPT = """
const p = await import(process.argv[1]);
const ids = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  PROTOCOL_VERSION: p.PROTOCOL_VERSION,
  MessageType: p.MessageType,
  ErrorCode: p.ErrorCode,
  CloseCode: p.CloseCode,
  OP_ID_RE: p.OP_ID_RE.source,
  OP_ID_MAX_LENGTH: p.OP_ID_MAX_LENGTH,
  isOpId: ids.map((id) => p.isOpId(id)),
}));
"""


@cache
def _js() -> dict[str, Any]:
    """Return what protocol.js exports, as JSON, read by node."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required to compare protocol.js with realtime/protocol.py")
    done = subprocess.run(
        [node, "--input-type=module", "-e", _SCRIPT, PROTOCOL_JS.as_uri(), json.dumps(OP_IDS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _constants(cls: type) -> dict[str, Any]:
    """Return the public upper-case constants of a class (an enum's members)."""
    if issubclass(cls, IntEnum):
        return {member.name: member.value for member in cls}
    return {name: value for name, value in vars(cls).items() if name.isupper()}


def test_message_types_agree() -> None:
    """Every message type has the same name and value on both sides."""
    assert _js()["MessageType"] == _constants(protocol.MessageType)


def test_error_codes_agree() -> None:
    """Every error code has the same name and value on both sides."""
    assert _js()["ErrorCode"] == _constants(protocol.ErrorCode)


def test_server_close_codes_agree() -> None:
    """The browser knows every server close code by the server's name and value."""
    browser = dict(_js()["CloseCode"])
    client_only = {name: browser.pop(name, None) for name in CLIENT_ONLY_CLOSE_CODES}
    assert browser == _constants(protocol.CloseCode)
    assert client_only == CLIENT_ONLY_CLOSE_CODES


def test_client_only_close_codes_are_not_the_servers() -> None:
    """The server sends none of the client's own close codes, under any name."""
    server = _constants(protocol.CloseCode)
    assert not set(CLIENT_ONLY_CLOSE_CODES) & set(server)
    assert not set(CLIENT_ONLY_CLOSE_CODES.values()) & set(server.values())


def test_protocol_version_and_op_id_limits_agree() -> None:
    """The version, the op id pattern and its length bound are the same."""
    js = _js()
    assert js["PROTOCOL_VERSION"] == protocol.PROTOCOL_VERSION
    assert js["OP_ID_RE"] == f"^{protocol.OP_ID_RE.pattern}$"
    assert js["OP_ID_MAX_LENGTH"] == protocol.OP_ID_MAX_LENGTH


def test_op_id_checks_agree() -> None:
    """isOpId and valid_op_id accept and refuse the same ids."""
    server = [protocol.valid_op_id(op_id) for op_id in OP_IDS]
    assert _js()["isOpId"] == server
    assert any(server) and not all(server)
