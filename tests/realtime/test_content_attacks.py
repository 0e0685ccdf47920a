"""End to end: each content attack of issue 9 against a real daphne.

Over a real socket, an editor sends what an attacker with an edit right
would: embeds nested 10 to 9,000 deep, embeds of unknown types, attribute
names that are JavaScript builtins, integers past 2^53. Each must get an
``error`` naming what is wrong (``bad_op`` naming the attribute or embed;
``bad_message`` for a frame nested past the decoder's bound of 10,000),
move no revision, and leave the document working: the next valid op is
acked with the next revision, ``?rev=`` catch-up returns exactly the
accepted ops, and the page and every export answer 200.

Then the legacy case: content stored before the schema (rows written
straight into PostgreSQL, nested up to 5,000 deep) still opens over HTTP
(page, exports, naming and restoring a version), over the socket, where
the server repairs it with one op everyone sees, and in Chromium, where the
editor shows the repaired content and stays editable.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from websockets.asyncio.client import ClientConnection, connect

from documents.deepjson import DeepJSONDecoder
from documents.models import Document, DocumentVersion, Operation
from realtime.ot import Delta
from realtime.repair import repaired
from tests.realtime.conftest import db, stored_content

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLIENT = "attacker" + "x" * 12


def deep(depth: int, leaf: str = '"x"') -> str:
    """Return the JSON text of ``{"a": ...}`` nested ``depth`` deep (no recursion)."""
    return '{"a":' * depth + leaf + "}" * depth


# (label, delta as JSON text, what the refusal must name)
ATTACKS: list[tuple[str, str, str]] = [
    *[
        (f"image nested {d} deep", f'[{{"insert":{{"image":{deep(d)}}}}}]', "embed 'image'")
        for d in (10, 100, 965, 1000, 5000, 9000)
    ],
    *[
        (f"formula nested {d} deep", f'[{{"insert":{{"formula":{deep(d)}}}}}]', "'formula'")
        for d in (10, 965)
    ],
    ("frame nested past the decoder's bound", "[" * 20_000 + "]" * 20_000, "nested too deeply"),
    (
        "link nested 965 deep",
        f'[{{"retain":1,"attributes":{{"link":{deep(965)}}}}}]',
        "attribute 'link'",
    ),
    (
        "bold as a nested array",
        '[{"retain":1,"attributes":{"bold":[[[true]]]}}]',
        "attribute 'bold'",
    ),
    *[
        (
            f"unknown embed {name}",
            f'[{{"insert":{{"{name}":{value}}}}}]',
            f"unknown embed type '{name}'",
        )
        for name, value in (
            ("foo", "1"),
            ("formula", '"e=mc^2"'),
            ("cursor", '"x"'),
            ("scroll", '"x"'),
            ("hr", "true"),
        )
    ],
    *[
        (
            f"builtin name {name}",
            f'[{{"insert":"a","attributes":{{"{name}":true}}}}]',
            f"unknown attribute '{name}'",
        )
        for name in ("toString", "constructor", "__proto__", "hasOwnProperty", "valueOf")
    ],
    ("retain 2^53", '[{"retain":9007199254740992}]', "retain must be at most"),
    ("delete 2^64", '[{"delete":18446744073709551616}]', "delete must be at most"),
    (
        "header 2^53+1",
        '[{"retain":1,"attributes":{"header":9007199254740993}}]',
        "attribute 'header'",
    ),
    (
        "retains adding past 2^53",
        '[{"retain":9007199254740991},{"retain":9007199254740991}]',
        "add up to more than",
    ),
    ("remote image", '[{"insert":{"image":"https://tracker.example/pixel.gif"}}]', "embed 'image'"),
    (
        "video with no hosts allowed",
        '[{"insert":{"video":"https://www.youtube.com/embed/x"}}]',
        "embed 'video'",
    ),
    (
        "javascript link",
        '[{"insert":"a","attributes":{"link":"javascript:alert(1)"}}]',
        "attribute 'link'",
    ),
]


class Socket:
    """A raw socket that sends ops by hand and reads the answers to them."""

    def __init__(self, ws: ClientConnection, hello: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello
        self.seq = 0
        self.throttled = 0

    async def answer(self, op_id: str, timeout: float = 20) -> dict[str, Any]:
        """Return the ack or error for ``op_id`` (other frames are skipped)."""

        async def read() -> dict[str, Any]:
            while True:
                frame = json.loads(await self.ws.recv())
                messages = frame["messages"] if frame.get("type") == "batch" else [frame]
                for msg in messages:
                    if msg.get("type") in ("ack", "error") and (
                        msg.get("id") == op_id or msg.get("type") == "error" and "id" not in msg
                    ):
                        return msg

        return await asyncio.wait_for(read(), timeout)

    async def send_op(self, rev: int, delta_text: str) -> dict[str, Any]:
        """Send an op whose delta is raw JSON text; return its ack or error.

        ``rate_limited`` (the per-socket CPU budget: deep frames cost time
        to read) is waited out and the same op resent, as clients do.
        """
        self.seq += 1
        op_id = f"{CLIENT}:{self.seq}"
        frame = f'{{"type":"op","id":"{op_id}","rev":{rev},"delta":{delta_text}}}'
        for _ in range(50):
            await self.ws.send(frame)
            answer = await self.answer(op_id)
            if answer.get("code") != "rate_limited":
                return answer
            self.throttled += 1
            await asyncio.sleep(min(answer["retry_after"], 5000) / 1000)
        raise AssertionError(f"op {op_id} still rate limited after 50 tries")


async def open_socket(base: str, doc_id: str, cookie: str, rev: int | None = None) -> Socket:
    """Connect and return the socket with its hello."""
    url = f"{base}/ws/docs/{doc_id}/" + (f"?rev={rev}" if rev is not None else "")
    # The page's origin is the worker's own (collabdocs.origin).
    origin = base.replace("ws://", "http://", 1)
    ws = await connect(
        url, origin=origin, additional_headers={"Cookie": cookie}, max_size=None, open_timeout=20
    )
    # Catch-up may carry legacy ops nested deeper than this stack decodes.
    hello = json.loads(await asyncio.wait_for(ws.recv(), 20), cls=DeepJSONDecoder)
    assert hello["type"] == "hello", hello
    return Socket(ws, hello)


def http_get(url: str, cookie: str) -> tuple[int, str]:
    """Return the status and body of a GET as the cookie's user."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


async def check_pages(base: str, doc_id: str, cookie: str) -> str:
    """Check the page and every export answer 200; return the page."""
    status, page = await asyncio.to_thread(http_get, f"{base}/d/{doc_id}/", cookie)
    assert status == 200, page[-2000:]
    for fmt in ("html", "md", "txt"):
        status, body = await asyncio.to_thread(http_get, f"{base}/d/{doc_id}/export/{fmt}", cookie)
        assert status == 200, (fmt, body[-2000:])
    return page


async def test_every_content_attack_is_refused_and_the_document_keeps_working(
    live_daphne: Any, people: dict[str, Any]
) -> None:
    doc_id, cookie = people["doc_id"], people["cookies"]["editor"]
    sock = await open_socket(live_daphne.ws_url, doc_id, cookie)
    head = sock.hello["rev"]
    accepted: list[str] = []
    for label, delta_text, names in ATTACKS:
        answer = await sock.send_op(head, delta_text)
        print(f"{label}: {answer.get('code')} {answer.get('message')!r}")
        assert answer["type"] == "error", (label, answer)
        # Past the decoder's bound (documents.deepjson) the frame is not read.
        code = "bad_message" if names == "nested too deeply" else "bad_op"
        assert answer["code"] == code, (label, answer)
        assert names in answer["message"], (label, answer)
        # Nothing moved: the next valid op gets the next revision.
        valid = (
            f'[{{"retain":{len(accepted)}}},{{"insert":"k"}}]' if accepted else '[{"insert":"k"}]'
        )
        ack = await sock.send_op(head, valid)
        assert ack == {"type": "ack", "id": ack["id"], "rev": head + 1}, (label, ack)
        head += 1
        accepted.append(ack["id"])
    stored_head, content = await db(stored_content, doc_id)
    assert stored_head == head
    assert content == [{"insert": "k" * len(accepted) + "\n"}]
    # Catch-up from revision 0 returns exactly the accepted ops, in order.
    fresh = await open_socket(live_daphne.ws_url, doc_id, cookie, rev=0)
    ops = fresh.hello["ops"]
    assert [op["rev"] for op in ops] == list(range(1, head + 1))
    assert [op["id"] for op in ops] == accepted
    replay = Delta([{"insert": "\n"}])
    for op in ops:
        replay = replay.compose(Delta(op["delta"]))
    assert replay.ops == content
    page = await check_pages(live_daphne.url, doc_id, cookie)
    assert "k" * len(accepted) in page
    print(
        f"{len(ATTACKS)} attacks refused, {len(accepted)} ops acked, "
        f"{sock.throttled} rate_limited answers waited out"
    )
    await sock.ws.close()
    await fresh.ws.close()


# --------------------------------------------------------------------------
# Legacy content
# --------------------------------------------------------------------------


def _store_legacy(document: Any, author: Any, depths: tuple[int, ...]) -> int:
    """Append legacy ops as raw JSON (the ORM could not even encode them here)."""

    deltas = ['[{"insert":"legacy "},{"insert":"x","attributes":{"toString":true,"color":"red"}}]']
    for depth in depths:
        deltas.append(f'[{{"retain":7}},{{"insert":{{"formula":{deep(depth)}}}}}]')
    deltas.append('[{"retain":7},{"insert":{"image":"https://tracker.example/p.gif"}}]')
    table = connection.ops.quote_name(Operation._meta.db_table)
    with connection.cursor() as cursor:
        for revision, text in enumerate(deltas, start=1):
            cursor.execute(
                f"INSERT INTO {table} (document_id, revision, op_id, delta, author_id, created_at)"
                " VALUES (%s, %s, %s, %s::jsonb, %s, now())",
                [document.pk, revision, f"{'legacy' * 3}:{revision}", text, author.pk],
            )
    Document.objects.filter(pk=document.pk).update(head_revision=len(deltas))
    return len(deltas)


def _name_and_restore(document: Any, owner: Any) -> tuple[int, int, str]:
    """Name a version and restore it through the views; return statuses and a body."""

    client = Client()
    client.force_login(owner)
    named = client.post(
        reverse("documents:history_name", args=[document.public_id]),
        data=json.dumps({"name": "before the schema"}),
        content_type="application/json",
    )
    assert named.status_code == 200, named.content
    version = named.json()["id"]
    preview = client.get(reverse("documents:history_version", args=[document.public_id, version]))
    assert preview.status_code == 200 and "[formula]" in preview.json()["html"], preview.content
    for fmt in ("html", "md", "txt"):
        exported = client.get(
            reverse("documents:export_version", args=[document.public_id, version, fmt])
        )
        assert exported.status_code == 200, (fmt, exported.content[:500])
    restored = client.post(
        reverse("documents:history_restore", args=[document.public_id, named.json()["id"]]),
        data="{}",
        content_type="application/json",
    )
    return named.status_code, restored.status_code, restored.content.decode()


async def test_legacy_content_outside_the_schema_opens_and_is_repaired(
    live_daphne: Any, people: dict[str, Any]
) -> None:
    document, owner = people["doc"], people["users"]["owner"]
    doc_id, cookie = people["doc_id"], people["cookies"]["owner"]
    head = await db(_store_legacy, document, owner, (10, 965, 1000, 5000))
    # Over HTTP, before any worker loads it: page, exports, naming, restoring.
    await check_pages(live_daphne.url, doc_id, cookie)
    named, restored, body = await db(_name_and_restore, document, owner)
    print(f"legacy: name {named}, restore {restored} {body[:200]}")
    # Restoring is a server change: the one-off registry loaded the document,
    # repaired it (one op), and the version, repaired the same way, matches.
    assert restored == 400 and "already matches" in body, body
    stored_head, content = await db(stored_content, doc_id)
    assert stored_head == head + 1, "one repair op, no more"
    text = "".join(op["insert"] for op in content if isinstance(op["insert"], str))
    assert "[formula removed]" in text and "[image]" in text
    # Over the socket: the hello carries the repaired content; nothing more to do.
    sock = await open_socket(live_daphne.ws_url, doc_id, cookie)
    assert sock.hello["rev"] == stored_head
    assert sock.hello["content"] == content
    for op in content:
        assert set(op.get("attributes") or {}) <= {"link"}, op
        assert not isinstance(op["insert"], dict), op
    ack = await sock.send_op(stored_head, '[{"insert":"ok "}]')
    assert ack["type"] == "ack" and ack["rev"] == stored_head + 1
    # Catch-up across the legacy ops and the repair still works.
    fresh = await open_socket(live_daphne.ws_url, doc_id, cookie, rev=0)
    assert [op["rev"] for op in fresh.hello["ops"]] == list(range(1, stored_head + 2))
    page = await check_pages(live_daphne.url, doc_id, cookie)
    assert "[formula removed]" in page
    await sock.ws.close()
    await fresh.ws.close()


async def test_legacy_document_opened_first_over_the_socket_is_repaired_live(
    live_daphne: Any, people: dict[str, Any]
) -> None:
    document, owner = people["doc"], people["users"]["owner"]
    doc_id, cookie = people["doc_id"], people["cookies"]["owner"]
    head = await db(_store_legacy, document, owner, (965,))
    sock = await open_socket(live_daphne.ws_url, doc_id, cookie)
    # The repair is stored before the first hello is sent.
    assert sock.hello["rev"] == head + 1
    stored_head, content = await db(stored_content, doc_id)
    assert (stored_head, sock.hello["content"]) == (head + 1, content)
    assert content == [
        {"insert": "legacy "},
        {"insert": "[image]", "attributes": {"link": "https://tracker.example/p.gif"}},
        {"insert": "[formula removed]x\n"},
    ]
    await check_pages(live_daphne.url, doc_id, cookie)
    await sock.ws.close()


def test_restoring_a_legacy_version_restores_it_repaired(people: dict[str, Any]) -> None:

    document, owner = people["doc"], people["users"]["owner"]
    head = _store_legacy(document, owner, (965,))
    client = Client()
    client.force_login(owner)
    named = client.post(
        reverse("documents:history_name", args=[document.public_id]),
        data=json.dumps({"name": "legacy"}),
        content_type="application/json",
    )
    assert named.status_code == 200, named.content
    version = DocumentVersion.objects.get(pk=named.json()["id"])
    Operation.objects.create(
        document=document,
        revision=head + 1,
        op_id=f"{'n' * 16}:1",
        delta=[{"insert": "new "}],
        author=owner,
    )
    document.__class__.objects.filter(pk=document.pk).update(head_revision=head + 1)
    restored = client.post(
        reverse("documents:history_restore", args=[document.public_id, version.pk]),
        data="{}",
        content_type="application/json",
    )
    assert restored.status_code == 200, restored.content
    stored_head, content = stored_content(people["doc_id"])
    # The load repaired the document (one op), then the restore (one op).
    assert stored_head == head + 3
    assert content == repaired(version.content)
    assert "[formula removed]" in content[-1]["insert"]


def _store_many_legacy_parts(document: Any, author: Any, parts: int) -> int:
    """Store one legacy op with ``parts`` unknown embeds between clean words."""

    ops: list[dict[str, Any]] = []
    for i in range(parts):
        ops.append({"insert": {"formula": f"x{i}"}})
        ops.append({"insert": f" w{i} "})
        ops.append({"insert": "t", "attributes": {"script": "super", "bold": True}})
    Operation.objects.create(
        document=document, revision=1, op_id=f"{'legacy' * 3}:1", delta=ops, author=author
    )
    Document.objects.filter(pk=document.pk).update(head_revision=1)
    return 1


async def test_a_large_legacy_repair_goes_in_pieces_under_the_limits(
    live_daphne: Any, people: dict[str, Any]
) -> None:
    document, owner = people["doc"], people["users"]["owner"]
    doc_id, cookie = people["doc_id"], people["cookies"]["owner"]
    parts = 1200
    await db(_store_many_legacy_parts, document, owner, parts)
    sock = await open_socket(live_daphne.ws_url, doc_id, cookie)
    stored_head, content = await db(stored_content, doc_id)
    print(f"{parts} legacy parts repaired in {stored_head - 1} ops")
    assert stored_head > 2, "more than one piece"
    assert sock.hello["rev"] == stored_head and sock.hello["content"] == content
    text = "".join(op["insert"] for op in content)
    assert text.count("[formula removed]") == parts
    assert all(set(op.get("attributes") or {}) <= {"bold"} for op in content)
    await sock.ws.close()


async def test_video_hosts_come_from_the_deployment(
    daphne_factory: Any, people: dict[str, Any]
) -> None:
    server = daphne_factory(COLLABDOCS_VIDEO_HOSTS="video.example,Player.Example")
    doc_id, cookie = people["doc_id"], people["cookies"]["editor"]
    sock = await open_socket(server.ws_url, doc_id, cookie)
    head = sock.hello["rev"]
    for source in ("https://video.example/embed/1", "https://player.example/v?id=2"):
        answer = await sock.send_op(head, json.dumps([{"insert": {"video": source}}]))
        assert answer["type"] == "ack", (source, answer)
        head += 1
    for source in ("https://evil.example/embed/1", "http://video.example/embed/1"):
        answer = await sock.send_op(head, json.dumps([{"insert": {"video": source}}]))
        assert answer["code"] == "bad_op", (source, answer)
        assert "must be an https URL on player.example, video.example" in answer["message"]
    stored_head, content = await db(stored_content, doc_id)
    assert stored_head == head == 2
    assert [op["insert"] for op in content][:2] == [
        {"video": "https://player.example/v?id=2"},
        {"video": "https://video.example/embed/1"},
    ]
    await sock.ws.close()


# Kept last: Playwright's sync API holds this thread's event loop while the
# module's browser is open, so no async test may follow it here.
SYNCED = """() => {
  const c = window.collabdocs;
  return !!c && c.connection.status === "connected" && c.client.isSynchronized;
}"""


@pytest.mark.browser
def test_legacy_document_opens_and_is_editable_in_chromium(
    chromium_browser: Any, live_daphne: Any, people: dict[str, Any]
) -> None:
    document, owner = people["doc"], people["users"]["owner"]
    doc_id = people["doc_id"]
    _store_legacy(document, owner, (965,))
    name, _, key = people["cookies"]["owner"].partition("=")
    context = chromium_browser.new_context()
    try:
        context.add_cookies([{"name": name, "value": key, "url": live_daphne.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_daphne.url}/d/{doc_id}/")
        page.wait_for_function(SYNCED, timeout=30_000)
        assert page.evaluate("() => window.collabdocs.quill.isEnabled()")
        head, content = stored_content(doc_id)
        shown = page.evaluate("() => window.collabdocs.quill.getContents().ops")
        assert shown == content, "the editor shows the repaired content"
        page.click(".ql-editor")
        page.keyboard.press("Control+Home")
        page.keyboard.type("fine ")
        page.wait_for_function(
            "(head) => window.collabdocs.client.isSynchronized"
            " && window.collabdocs.client.revision > head",
            arg=head,
            timeout=30_000,
        )
        head2, content2 = stored_content(doc_id)
        assert head2 > head
        assert page.evaluate("() => window.collabdocs.quill.getContents().ops") == content2
        assert content2[0]["insert"].startswith("fine legacy")
        assert errors == [], errors
    finally:
        context.close()
