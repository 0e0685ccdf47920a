"""PostgreSQL down at connect: ``unavailable`` + 4503, never HTTP 500.

A daphne runs on a PostgreSQL cluster of the test's own, which is stopped:
every socket handshake is accepted and answered with an ``error``
``unavailable`` carrying ``retry_after``, then close 4503 (protocol.md,
"Connecting"); the log has one line about it, no traceback. Once the
cluster is back, the same client connects and its edit is stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabdocs.devclient import WSClient
from collabdocs.devservers import start_postgres
from realtime.ot import Delta
from tests.conftest import REPO, DaphneProcess

_FIXTURES_SCRIPT = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from tests.realtime.conftest import create_document, session_cookie
owner = get_user_model().objects.create_user("pgdown", password=None)
doc = create_document(owner)
print(json.dumps({"doc": str(doc.public_id), "cookie": session_cookie(owner)}))
"""
ATTEMPTS = 5


def _run_django(database_url: str, *args: str) -> str:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="collabdocs.settings",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _stored_op_ids(database_url: str, doc_id: str) -> list[str]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT o.op_id FROM documents_operation o JOIN documents_document d "
            "ON d.id = o.document_id WHERE d.public_id = %s ORDER BY o.revision",
            [doc_id],
        ).fetchall()
    return [op_id for (op_id,) in rows]


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster of its own: stopping it never touches the suite's."""
    server = start_postgres()
    yield server
    server.stop()


async def _handshake(url: str, cookie: str) -> tuple[list[dict], int | None]:
    """Open a socket; return the frames it got and its close code."""
    frames: list[dict] = []
    async with connect(url, additional_headers={"Cookie": cookie}, open_timeout=20) as ws:
        try:
            while True:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
        except ConnectionClosed:
            pass
        return frames, ws.close_code


async def test_handshake_with_postgres_down_gets_unavailable_then_4503(
    own_postgres: Any, tmp_path: Path
) -> None:
    import psycopg

    pg = own_postgres
    with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE pgdown")
    database_url = pg.url("pgdown")
    await asyncio.to_thread(_run_django, database_url, "manage.py", "migrate", "--noinput")
    made = json.loads(await asyncio.to_thread(_run_django, database_url, "-c", _FIXTURES_SCRIPT))
    server = await asyncio.to_thread(DaphneProcess, database_url, None, tmp_path)
    try:
        url = f"{server.ws_url}/ws/docs/{made['doc']}/"
        client = WSClient(server.ws_url, made["doc"], cookie=made["cookie"], reconnect=False)
        await client.connect()
        await client.edit(Delta([{"insert": "before "}]))
        await client.wait_synchronized(20)
        await client.close()

        await asyncio.to_thread(pg.stop_cluster)
        for _ in range(ATTEMPTS):
            frames, code = await _handshake(url, made["cookie"])  # an HTTP 500 raises here
            assert code == 4503, (frames, code)
            assert len(frames) == 1, frames
            assert frames[0]["type"] == "error" and frames[0]["code"] == "unavailable", frames
            assert frames[0]["retry_after"] > 0, frames
        log = server.log()
        assert "Traceback" not in log, log[-3000:]
        assert " 500 " not in log and "HTTP 500" not in log, log[-3000:]
        refused = [line for line in log.splitlines() if "handshakes refused" in line]
        print(f"log lines about {ATTEMPTS} refused handshakes: {len(refused)}: {refused}")
        assert len(refused) == 1, log[-3000:]

        await asyncio.to_thread(pg.start_cluster)
        client.stopped = False
        # The cluster accepts connections a moment after it starts.
        for attempt in range(40):  # noqa: B007 - printed after the loop
            try:
                hello = await client.connect()
                break
            except (ConnectionError, OSError):
                await asyncio.sleep(0.25)
        else:
            raise AssertionError(f"no hello after PostgreSQL came back:\n{server.log()[-3000:]}")
        print(f"connected {attempt + 1} attempt(s) after PostgreSQL came back")
        assert hello["type"] == "hello"
        await client.edit(Delta([{"retain": 7}, {"insert": "after"}]))
        await client.wait_synchronized(20)
        stored = await asyncio.to_thread(_stored_op_ids, database_url, made["doc"])
        assert sorted(stored) == sorted(client.ot.acked) and len(stored) == 2
        await client.close()
    finally:
        server.stop()
