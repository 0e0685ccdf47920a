"""Clients that keep editing through a cluster, and the checks after.

Part of the development harness (the scale-out tests and ``bench/``): an
:class:`Editor` is a :class:`~collabdocs.devclient.WSClient` that edits at
random until stopped; :func:`converge_and_check` then proves nothing acked
was lost. The product never imports it.

Import it once Django is set up (pytest-django does that before the tests
are collected; the benchmarks call ``django.setup()`` first): the checks
read the database through the ORM.

Failure modes: every wait raises ``AssertionError`` (or ``TimeoutError``
from the client) when its condition does not hold in time, and
:func:`converge_and_check` raises ``AssertionError`` naming what diverged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async

from collabdocs.devclient import WSClient, random_change
from documents.content import document_state
from documents.models import Document, Operation

#: Errors that mean a client's state diverged: never acceptable here.
DIVERGED = {"bad_op", "bad_message", "stale", "too_large", "forbidden"}


class Editor:
    """A :class:`WSClient` that edits at random until stopped, timing its acks."""

    def __init__(
        self, base: str, doc_id: str, *, cookie: str, rng: random.Random, pause: float = 0.05
    ) -> None:
        self.rng = rng
        self.pause = pause
        self.ack_times: list[float] = []
        #: ``(monotonic time, worker base URL, op id)`` of every ack, in order.
        self.ack_log: list[tuple[float, str, str]] = []
        self._acked = 0
        self.client = WSClient(
            base, doc_id, cookie=cookie, rng=random.Random(rng.random()), on_message=self._heard
        )
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def _heard(self, _msg: dict) -> None:
        count = len(self.client.ot.acked)
        if count > self._acked:
            now = time.monotonic()
            for op_id in list(self.client.ot.acked)[self._acked :]:
                self.ack_log.append((now, self.client.base, op_id))
            self._acked = count
            self.ack_times.append(now)

    async def start(self) -> Editor:
        """Connect and start editing."""
        await self.client.connect()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._stop.is_set():
            if self.client.ot.doc is not None:
                await self.client.edit(random_change(self.client.ot.doc, self.rng))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.pause * (0.5 + self.rng.random()))

    async def stop_editing(self) -> None:
        """Stop making edits (the connection stays)."""
        self._stop.set()
        if self._task is not None:
            await self._task

    def acked_since(self, moment: float) -> bool:
        """Return whether an op of this client was acked at or after ``moment``."""
        return any(t >= moment for t in self.ack_times)

    @property
    def base(self) -> str:
        """Return the worker the client is on (or tries)."""
        return self.client.base


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Wait until ``predicate()``; return the seconds it took. Fail after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


async def all_editing_again(editors: list[Editor], since: float, timeout: float) -> float:
    """Wait until every editor had an op acked after ``since``; return when (s after it)."""
    await wait_until(lambda: all(e.acked_since(since) for e in editors), timeout)
    return max(min(t for t in e.ack_times if t >= since) for e in editors) - since


async def converge_and_check(
    editors: list[Editor], doc_id: str, timeout: float = 40, server_ops: int = 0
) -> dict:
    """Stop editing, wait for everyone to agree, check nothing acked was lost.

    Every client must end at the stored head with the stored content, every
    acked op id must be stored exactly once, no client may have dropped an
    edit or seen an error that means divergence; ``server_ops`` stored ops
    were made by the server (restores), not by the clients. Return a summary.
    """
    for editor in editors:
        await editor.stop_editing()
    for editor in editors:
        await editor.client.wait_synchronized(timeout)
    head, content, stored_ids = await database_sync_to_async(_stored, thread_sensitive=False)(
        doc_id
    )
    for editor in editors:
        await editor.client.wait_for(_at_head(editor.client, head), timeout)
    acked = {op_id for editor in editors for op_id in editor.client.ot.acked}
    for editor in editors:
        ot = editor.client.ot
        assert ot.content() == content
        assert ot.lost == [], "a client had to drop edits it could not rebase"
        assert not [e for e in ot.errors if e.get("code") in DIVERGED], ot.errors
    assert len(stored_ids) == len(set(stored_ids)) == head, "each op stored once, consecutively"
    assert acked <= set(stored_ids), f"acked but not stored: {sorted(acked - set(stored_ids))[:5]}"
    assert len(set(stored_ids) - acked) == server_ops, "every client op was acked to its author"
    for editor in editors:
        await editor.client.close()
    return {"head": head, "acked": len(acked)}


def _at_head(client: WSClient, head: int) -> Callable[[], bool]:
    """Return whether ``client`` is synchronized at revision ``head``, as a predicate."""
    return lambda: client.ot.synchronized and client.ot.rev == head


def _stored(doc_id: str) -> tuple[int, list[dict], list[str]]:
    """Return the stored head, content and op ids (in revision order) of a document.

    The cluster's workers keep every op row (``worker_env``), so the rows
    must run from revision 1 to the head without a gap.
    """
    document = Document.objects.get(public_id=doc_id)
    rows = list(
        Operation.objects.filter(document=document)
        .order_by("revision")
        .values_list("revision", "op_id")
    )
    state = document_state(document)
    revisions = [revision for revision, _ in rows]
    assert revisions == list(range(1, len(rows) + 1)), "stored revisions must be consecutive"
    assert document.head_revision == state.revision == len(rows), "the head is the last op"
    return state.revision, state.content, [op_id for _, op_id in rows]


def get_json(url: str, cookie: str) -> tuple[int, Any]:
    """GET ``url`` with a session cookie; return ``(status, decoded body)``."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def get_text(url: str, cookie: str) -> str:
    """GET a page with a session cookie."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()
