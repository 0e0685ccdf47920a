"""Log lines: JSON an operator can parse, context on every line, no noise.

The formatter and the filter are checked in this process; then a real
``runworker`` with ``COLLABDOCS_LOG_FORMAT=json`` has clients vanish in the
middle of a frame, of a handshake and of a response, and its log must stay
one JSON object per line with no traceback in it, each line naming the
worker and, on the sockets' own lines, the document and the user.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured, RequestAborted

from collabdocs.devservers import free_port, wait_for_port
from collabdocs.logs import JsonFormatter, TextFormatter, WentAwayFilter, logging_config, went_away
from documents import logcontext

REPO = Path(__file__).resolve().parents[2]
DOC = "6f1c7a52-37c4-4f43-9d5e-0a4a1bfb2a11"


class _Capture(logging.Handler):
    """A handler that keeps each formatted line, the filter applied first."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(formatter)
        self.addFilter(WentAwayFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, _Capture]]:
    logger = logging.getLogger("tests.logs")
    handler = _Capture(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True
    logcontext.set_worker(None)


Captured = tuple[logging.Logger, _Capture]


def _records(handler: _Capture) -> list[dict]:
    return [json.loads(line) for line in handler.lines]


def test_a_json_line_parses_with_time_level_logger_message_and_the_context(
    capture: Captured,
) -> None:
    logger, handler = capture
    logcontext.set_worker("127.0.0.1:8001")
    with logcontext.bound(doc=DOC, user=7):
        logger.info("op %s accepted", "a:1")
    logger.warning("outside any document")
    inside, outside = _records(handler)
    assert inside["level"] == "INFO" and inside["logger"] == "tests.logs"
    assert inside["message"] == "op a:1 accepted"
    assert (inside["doc"], inside["user"], inside["worker"]) == (DOC, 7, "127.0.0.1:8001")
    assert inside["time"].endswith("Z") and "T" in inside["time"]
    # Unbound after the block: no stale document or user on later lines.
    assert "doc" not in outside and "user" not in outside
    assert outside["worker"] == "127.0.0.1:8001"


def test_a_traceback_and_a_multi_line_message_stay_one_json_line(capture: Captured) -> None:
    logger, handler = capture
    try:
        raise ValueError("a real bug")
    except ValueError:
        logger.exception("commit failed\nsecond line")
    (line,) = handler.lines
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "commit failed\nsecond line"
    assert "Traceback" in entry["exc"] and "ValueError: a real bug" in entry["exc"]


def test_extra_fields_name_the_document_over_the_bound_one(capture: Captured) -> None:
    logger, handler = capture
    with logcontext.bound(doc="bound-doc"):
        logger.info("handing over", extra={"doc": DOC})
    assert _records(handler)[0]["doc"] == DOC


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(104, "Connection reset by peer"),
        BrokenPipeError(32, "Broken pipe"),
        ConnectionAbortedError(),
        asyncio.CancelledError(),
        RequestAborted(),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_client_that_went_away_is_one_info_line_without_traceback(
    capture: Captured, exc: BaseException
) -> None:
    logger, handler = capture
    try:
        raise exc
    except BaseException as caught:  # CancelledError is a BaseException
        # daphne's own call when an application task ends with an exception.
        logger.error("Exception inside application: %s", caught, exc_info=caught)
    (entry,) = _records(handler)
    assert entry["level"] == "INFO"
    assert "exc" not in entry and entry["went_away"] is True
    assert entry["message"].startswith("Exception inside application")
    assert f"client went away: {type(exc).__name__}" in entry["message"]


def test_a_refused_connection_to_our_own_server_keeps_its_traceback(capture: Captured) -> None:
    """ConnectionRefusedError is a dead Redis or PostgreSQL, not a client leaving."""
    logger, handler = capture
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError:
        logger.exception("redis send failed")
    (entry,) = _records(handler)
    assert entry["level"] == "ERROR" and "ConnectionRefusedError" in entry["exc"]
    assert not went_away(ConnectionRefusedError()) and went_away(ConnectionResetError())


def test_twisted_and_autobahn_disconnects_count_as_going_away() -> None:
    from autobahn.exception import Disconnected
    from twisted.internet.error import ConnectionDone, ConnectionLost

    assert all(went_away(exc) for exc in (ConnectionDone(), ConnectionLost(), Disconnected()))


async def test_each_socket_task_logs_its_own_user_and_a_detached_task_none(
    capture: Captured,
) -> None:
    """Tasks run in copies of their context: a binding never leaks to another socket."""
    logger, handler = capture

    async def socket_task(user: int) -> None:
        logcontext.bind(doc=DOC, user=user)
        await asyncio.sleep(0.01)  # interleave with the other socket
        logger.info("op from %d", user)
        if user == 1:
            # The document's own task, started by the first socket.
            done = asyncio.get_running_loop().create_task(
                writer(), context=logcontext.detached(doc=DOC)
            )
            await done

    async def writer() -> None:
        logger.info("batch stored")

    await asyncio.gather(socket_task(1), socket_task(2))
    by_message = {entry["message"]: entry for entry in _records(handler)}
    assert by_message["op from 1"]["user"] == 1 and by_message["op from 2"]["user"] == 2
    stored = by_message["batch stored"]
    assert stored["doc"] == DOC and "user" not in stored


def test_carry_takes_the_context_to_a_storage_thread(capture: Captured) -> None:
    logger, handler = capture
    with logcontext.bound(doc=DOC, user=3):
        fn = logcontext.carry(lambda: logger.info("stored"))
    thread = threading.Thread(target=fn)
    thread.start()
    thread.join(5)
    entry = _records(handler)[0]
    assert (entry["doc"], entry["user"]) == (DOC, 3)


def test_bind_refuses_a_user_object_for_its_key() -> None:
    with pytest.raises(TypeError):
        logcontext.bind(user="alice")


def test_text_lines_keep_the_plain_format_and_append_the_context() -> None:
    record = logging.LogRecord(
        "realtime.authority", logging.INFO, __file__, 1, "loaded", None, None
    )
    with logcontext.bound(doc=DOC, user=5):
        line = TextFormatter().format(record)
    assert " INFO realtime.authority: loaded [" in line
    assert line.endswith(f"[doc={DOC} user=5]")


def test_an_unknown_format_is_refused_at_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="COLLABDOCS_LOG_FORMAT"):
        logging_config(fmt="xml", level="INFO")
    assert logging_config(fmt=" JSON ", level="INFO")["handlers"]["console"]["formatter"] == "json"


# -- a real worker --------------------------------------------------------------


def _handshake(port: int, doc_id: str, cookie: str) -> bytes:
    return (
        f"GET /ws/docs/{doc_id}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def _masked(payload: bytes) -> bytes:
    """Return a client text frame (masked, as clients must) carrying ``payload``."""
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x81]) + (
        bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack("!H", size)
    )
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): the client vanished."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _open_raw(port: int, doc_id: str, cookie: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(_handshake(port, doc_id, cookie))
    seen = b""
    while b'"hello"' not in seen:  # the upgrade, then the document
        chunk = sock.recv(65536)
        assert chunk, seen
        seen += chunk
    return sock


def _vanish_in_every_way(port: int, doc_id: str, cookie: str) -> None:
    op = json.dumps({"type": "op", "id": "gone:1", "rev": 0, "delta": [{"insert": "x"}]})
    frame = _masked(op.encode() * 3)
    # Mid-frame, then a reset, right after an op (its ack and broadcast in flight).
    sock = _open_raw(port, doc_id, cookie)
    sock.sendall(_masked(op.encode()) + frame[: len(frame) // 2])
    _reset(sock)
    # Mid-frame, then FIN without a close handshake.
    sock = _open_raw(port, doc_id, cookie)
    sock.sendall(frame[:9])
    sock.close()
    # During the handshake, before the server answered.
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(_handshake(port, doc_id, cookie))
    _reset(sock)
    # A close frame, then gone before the server's reply.
    sock = _open_raw(port, doc_id, cookie)
    sock.sendall(bytes([0x88, 0x82]) + b"\0\0\0\0" + struct.pack("!H", 1000))
    _reset(sock)
    # In the middle of an HTTP response (the editor bundle).
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(f"GET /static/dist/editor.js HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    sock.recv(1024)
    _reset(sock)


@pytest.mark.e2e
def test_clients_vanishing_mid_frame_leave_json_lines_and_no_traceback(
    test_database_url: str, transactional_db: None, tmp_path: Path
) -> None:
    from tests.realtime.conftest import create_document, create_user, session_cookie

    user = create_user("leaver")
    document = create_document(user)
    cookie = session_cookie(user)
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "DATABASE_URL": test_database_url,
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            "COLLABDOCS_LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",
        }
    )
    env.pop("ZOOKEEPER_HOSTS", None)
    err_path, out_path = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with open(err_path, "wb") as err, open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runworker", "--single-node", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        assert wait_for_port(port, timeout=60, proc=proc), err_path.read_text()
        for _ in range(3):
            _vanish_in_every_way(port, str(document.public_id), cookie)
        # The worker still serves: a new socket opens the document.
        sock = _open_raw(port, str(document.public_id), cookie)
        sock.close()
        time.sleep(1.5)  # daphne notices the resets and ends the consumers
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [line for line in err_path.read_text().splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    entries = []
    for line in lines:
        entry = json.loads(line)  # every line one JSON object
        assert {"time", "level", "logger", "message"} <= set(entry), line
        entries.append(entry)
    assert "Traceback" not in err_path.read_text() + out_path.read_text()
    assert not [e for e in entries if "exc" in e], [e for e in entries if "exc" in e]
    assert not [e for e in entries if e["level"] in {"ERROR", "CRITICAL"}], entries
    assert any(e["logger"] == "daphne.server" for e in entries)
    # Every line from the worker's start on names it; lines logged while
    # serving the sockets (daphne's sends, on the consumer's task) name the
    # document and the user.
    worker = f"127.0.0.1:{port}"
    named = [index for index, e in enumerate(entries) if "worker" in e]
    assert named and all(e.get("worker") == worker for e in entries[named[0] :])
    on_socket = [e for e in entries if "user" in e]
    assert on_socket, "no line carried the socket's context"
    assert {(e["doc"], e["user"]) for e in on_socket} == {(str(document.public_id), user.pk)}


def test_a_request_error_names_method_path_status_and_a_loaded_user(capture: Captured) -> None:
    """Django's request loggers attach the request: its user only if already loaded.

    A formatter must never query the database (it may run on the event loop).
    """
    from django.contrib.auth.models import User
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    logger, handler = capture
    factory = RequestFactory()
    loaded = factory.post("/docs/d/x/rename")
    person = User(pk=42, username="ann")
    loaded.user = SimpleLazyObject(lambda: person)
    _ = loaded.user.pk  # the view read it
    logger.warning("Forbidden", extra={"request": loaded, "status_code": 403})

    def must_not_load() -> User:
        raise AssertionError("the formatter loaded the user")

    lazy = factory.get("/docs/")
    lazy.user = SimpleLazyObject(must_not_load)
    logger.warning("Not Found: /docs/", extra={"request": lazy, "status_code": 404})
    first, second = _records(handler)
    assert (first["method"], first["path"], first["status"], first["user"]) == (
        "POST",
        "/docs/d/x/rename",
        403,
        42,
    )
    assert (second["path"], second["status"]) == ("/docs/", 404) and "user" not in second
