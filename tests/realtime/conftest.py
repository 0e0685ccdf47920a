"""Fixtures for the realtime tests: users, sessions, documents, sockets.

Documents are made through ``documents.services.document_create``.
Consumer tests talk to the real ASGI application (origin check, session
auth, routing) through Channels' ``WebsocketCommunicator``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import channels.testing.application
import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore
from django.db import close_old_connections
from guardian.shortcuts import assign_perm

from documents.models import INITIAL_CONTENT, Document, Operation
from documents.replay import replay
from documents.services import document_create
from realtime.registry import uninstall_registry

ORIGIN = b"http://127.0.0.1"


@pytest.fixture(autouse=True)
def _fresh_realtime_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give every test a new registry and channel layer; close DB threads after.

    Channels' communicators turn ``close_old_connections`` into a no-op (for
    tests inside one transaction); these tests commit for real, so they get
    the production behaviour back and leave no connection open.
    """
    monkeypatch.setattr(channels.testing.application, "no_op", close_old_connections)
    channel_layers.backends = {}
    yield
    registry = uninstall_registry()
    if registry is not None:
        registry.runner.shutdown()
    channel_layers.backends = {}


def create_user(username: str, **extra: Any):
    """Create an active user (no password: hashing one is slow, sessions suffice)."""
    return get_user_model().objects.create_user(username=username, password=None, **extra)


def session_cookie(user) -> str:
    """Return a ``sessionid=...`` cookie of a fresh session logged in as ``user``."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def create_document(owner, *, title: str = "Test document"):
    """Create a document at revision 0 (content ``[{"insert": "\\n"}]``)."""
    return document_create(owner=owner, title=title)


def share(document, user, *, edit: bool = False) -> None:
    """Give ``user`` view (and with ``edit``, change) permission directly."""
    assign_perm("documents.view_document", user, document)
    if edit:
        assign_perm("documents.change_document", user, document)


def stored_content(public_id: uuid.UUID | str) -> tuple[int, list[dict]]:
    """Return ``(head revision, content)`` replayed from the database."""
    document = Document.objects.select_related("snapshot").get(public_id=public_id)
    rev = document.snapshot.revision if document.snapshot_id else 0
    snapshot = list(document.snapshot.content if document.snapshot_id else INITIAL_CONTENT)
    ops = list(Operation.objects.filter(document=document, revision__gt=rev).order_by("revision"))
    revisions = [op.revision for op in ops]
    assert revisions == list(range(rev + 1, rev + 1 + len(ops))), "revisions must be consecutive"
    expected = rev + len(ops)
    assert document.head_revision == expected
    return expected, replay(snapshot, (op.delta for op in ops)).to_ops()


class Socket:
    """A ``WebsocketCommunicator`` that speaks JSON frames."""

    def __init__(self, communicator) -> None:
        self.comm = communicator
        self.hello: dict | None = None

    async def send(self, message: dict | str) -> None:
        """Send a frame (a dict is encoded as JSON)."""
        text = message if isinstance(message, str) else json.dumps(message)
        await self.comm.send_to(text_data=text)

    async def recv(self, timeout: float = 5) -> dict:
        """Return the next frame, decoded."""
        return json.loads(await self.comm.receive_from(timeout=timeout))

    async def recv_flat(self, count: int, timeout: float = 5) -> list[dict]:
        """Return the next ``count`` messages, with ``batch`` frames unpacked."""
        out: list[dict] = []
        while len(out) < count:
            frame = await self.recv(timeout)
            out.extend(frame["messages"] if frame["type"] == "batch" else [frame])
        return out

    async def recv_type(self, kind: str, timeout: float = 5) -> dict:
        """Return the next message of type ``kind`` (unpacking batches)."""
        while True:
            frame = await self.recv(timeout)
            for msg in frame["messages"] if frame["type"] == "batch" else [frame]:
                if msg["type"] == kind:
                    return msg

    async def nothing(self, timeout: float = 0.2) -> bool:
        """Return whether no frame arrives within ``timeout``."""
        return await self.comm.receive_nothing(timeout=timeout)

    async def closed(self, timeout: float = 5) -> int:
        """Return the close code once the server closes the socket."""
        while True:
            message = await self.comm.receive_output(timeout=timeout)
            if message["type"] == "websocket.close":
                return message.get("code", 1000)

    async def close(self) -> None:
        """Close the socket from the client's side."""
        await self.comm.disconnect()


@pytest.fixture
async def ws_connect() -> AsyncIterator[Callable[..., Any]]:
    """Return ``await connect(doc_id, cookie=..., rev=..., origin=...)`` -> Socket.

    The socket has received ``hello`` (in ``socket.hello``) unless
    ``expect_hello=False``. Every socket is closed after the test.
    """
    # The ASGI application is built for the tests that open sockets only;
    # importing it builds the whole stack (middleware, URL router).
    from collabdocs.asgi import application

    opened: list[Socket] = []

    async def connect(
        doc_id,
        *,
        cookie: str | None = None,
        rev: int | None = None,
        origin: bytes = ORIGIN,
        expect_hello: bool = True,
    ) -> Socket:
        path = f"/ws/docs/{doc_id}/" + (f"?rev={rev}" if rev is not None else "")
        headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        comm = WebsocketCommunicator(application, path, headers=headers)
        socket = Socket(comm)
        connected, _ = await comm.connect(timeout=10)
        socket.connected = connected
        opened.append(socket)
        if connected and expect_hello:
            socket.hello = await socket.recv(10)
            assert socket.hello["type"] == "hello", socket.hello
        return socket

    yield connect
    for socket in opened:
        # Closed by the server already, most of them: anything goes.
        with contextlib.suppress(BaseException):
            await socket.comm.disconnect(timeout=2)


async def db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous ORM call from an async test (connection closed after)."""
    return await database_sync_to_async(fn, thread_sensitive=False)(*args, **kwargs)


@pytest.fixture
def people(transactional_db: None) -> dict[str, Any]:
    """Return users (owner, editor, viewer, stranger), their cookies and a document."""
    owner = create_user("owner", first_name="Olive", last_name="Owner")
    editor = create_user("editor")
    viewer = create_user("viewer")
    stranger = create_user("stranger")
    document = create_document(owner)
    share(document, editor, edit=True)
    share(document, viewer)
    users = {"owner": owner, "editor": editor, "viewer": viewer, "stranger": stranger}
    return {
        "users": users,
        "cookies": {name: session_cookie(user) for name, user in users.items()},
        "doc": document,
        "doc_id": str(document.public_id),
    }
