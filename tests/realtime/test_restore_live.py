"""Restoring a version while people are connected, against a real daphne.

The restore is asked for over HTTP (the history panel's endpoint) and
reaches both sockets as one ordinary op.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.request
from typing import Any

import pytest

from collabdocs.devclient import WSClient
from realtime.ot import Delta
from tests.realtime.conftest import db, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def http_post(base: str, path: str, cookie: str, body: dict | None = None) -> tuple[int, dict]:
    """POST JSON as the session in ``cookie`` (with a CSRF token of our own)."""
    token = secrets.token_hex(16)  # a 32-character CSRF secret, sent twice
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{cookie}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": base,
            "Referer": base + "/",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def http_get(base: str, path: str, cookie: str) -> dict:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def type_text(client: WSClient, text: str, attributes: dict | None = None) -> None:
    for char in text:
        end = client.ot.doc.length - 1
        await client.edit(
            Delta().retain(end).insert(char, attributes)
            if end
            else Delta().insert(char, attributes)
        )


async def synced(clients: list[WSClient], doc_id: str) -> tuple[int, list[dict]]:
    for client in clients:
        await client.wait_synchronized()
    head, content = await db(stored_content, doc_id)
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.rev == head)
        assert client.ot.content() == content
    return head, content


async def test_restore_reaches_both_connected_people_as_one_change(
    live_daphne: Any, people: dict
) -> None:
    base, doc_id = live_daphne.url, people["doc_id"]
    cookies = people["cookies"]
    alice = WSClient(live_daphne.ws_url, doc_id, cookie=cookies["owner"])
    bob = WSClient(live_daphne.ws_url, doc_id, cookie=cookies["editor"])
    await alice.connect()
    await bob.connect()
    await type_text(alice, "Plans: ship 😀")
    await synced([alice, bob], doc_id)
    await bob.edit(Delta().retain(6, {"bold": True}))
    _, old_content = await synced([alice, bob], doc_id)

    status, named = await asyncio.to_thread(
        http_post, base, f"/api/docs/{doc_id}/history/name", cookies["owner"], {"name": "Agreed"}
    )
    assert status == 200, named
    await synced([alice, bob], doc_id)
    await bob.edit(Delta().retain(7).delete(5).insert("wait", {"italic": True}))
    await type_text(alice, " — later")
    head_before, changed = await synced([alice, bob], doc_id)
    assert changed != old_content

    status, restored = await asyncio.to_thread(
        http_post, base, f"/api/docs/{doc_id}/history/{named['id']}/restore", cookies["editor"]
    )
    assert status == 200, restored
    assert restored["revision"] == head_before + 1  # one op, nothing else
    head, content = await synced([alice, bob], doc_id)
    assert head == head_before + 1
    assert content == old_content
    for client in (alice, bob):
        assert client.ot.content() == old_content
        assert client.ot.errors == []
        assert client.connects == 1  # a live change, not a reload
    history = await asyncio.to_thread(
        http_get, base, f"/api/docs/{doc_id}/history", cookies["owner"]
    )
    top = history["versions"][0]
    assert top["kind"] == "restore" and top["is_current"] and top["revision"] == head
    assert "Agreed" in top["label"]
    assert [a["name"] for a in top["authors"]] == ["editor"]
    kinds = [v["kind"] for v in history["versions"]]
    assert kinds == ["restore", "named", "initial"]

    viewer_status, _ = await asyncio.to_thread(
        http_post, base, f"/api/docs/{doc_id}/history/{named['id']}/restore", cookies["viewer"]
    )
    assert viewer_status == 403
    for client in (alice, bob):
        await client.close()
