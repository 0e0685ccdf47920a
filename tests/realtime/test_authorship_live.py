"""Authorship kept by the authority, through the real ASGI application.

Three people edit one document at once (random concurrent changes, the
seed printed); the ``authors`` reply, which comes from the runs the
authority maintains op by op, must equal authorship derived from the full
op log one character at a time. Then across an owner's snapshot (the
keeper at its threshold, whose runs must match the log at its revision)
and an unload and a reload from that snapshot; and a restore whose text keeps its original
authors, the attribution stored on the op and sent in its op frame; and
accepting a suggestion, which keeps the suggester as the author of its text.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from collabdocs.devclient import OTClient, random_change
from documents.authorship import authorship_at
from documents.live import content_edit, decide_edit, revert_edit
from documents.models import Document, DocumentVersion, Operation
from realtime.ot import Delta
from realtime.ot.authorship import Runs, to_json
from realtime.ot.delta import op_length
from realtime.registry import process_registry
from realtime.restore import apply_edit

from .conftest import create_user, db, session_cookie, share

pytestmark = pytest.mark.django_db(transaction=True)


def per_character(document_pk: int, up_to: int | None = None) -> list[int | None]:
    """Derive one author per character from every op stored, the naive way."""
    chars: list[int | None] = [None]  # the initial "\n"
    rows = Operation.objects.filter(document_id=document_pk).order_by("revision")
    if up_to is not None:
        rows = rows.filter(revision__lte=up_to)
    for op in rows:
        named = [a for count, a in op.attribution for _ in range(count)] if op.attribution else None
        taken = 0
        out: list[int | None] = []
        pos = 0
        for part in op.delta:
            n = op_length(part)
            if "insert" in part:
                if named is None:
                    out.extend([op.author_id] * n)
                else:
                    out.extend(named[taken : taken + n])
                    taken += n
            elif "retain" in part:
                out.extend(chars[pos : pos + n])
                pos += n
            else:
                pos += n
        out.extend(chars[pos:])
        chars = out
    return chars


def expand(runs: Any) -> list[int | None]:
    return [author for count, author in runs for _ in range(count)]


class Person:
    """A socket and the protocol's client state machine behind it."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ot = OTClient()

    async def start(self) -> None:
        for frame in self.ot.on_hello(self.socket.hello):
            await self.socket.send(frame)

    async def edit(self, change: Delta) -> None:
        for frame in self.ot.edit(change):
            await self.socket.send(frame)

    async def read_available(self, seen: list[dict]) -> bool:
        """Handle every frame waiting; return whether there was one."""
        got = False
        while not await self.socket.nothing(0.02):
            msg = await self.socket.recv()
            seen.append(msg)
            for frame in self.ot.on_message(msg):
                await self.socket.send(frame)
            got = True
        return got


async def settle(people: list[Person], seen: list[dict] | None = None) -> int:
    """Exchange frames until everyone is synchronized at one revision; return it."""
    seen = seen if seen is not None else []
    for _ in range(400):  # bounded: ~8 s of quiet polling at most
        busy = False
        for person in people:
            busy = await person.read_available(seen) or busy
        revs = {person.ot.rev for person in people}
        if not busy and len(revs) == 1 and all(p.ot.synchronized for p in people):
            return revs.pop()
    raise AssertionError(f"did not settle: {[(p.ot.rev, p.ot.state) for p in people]}")


async def ask_authors(person: Person) -> dict:
    await person.socket.send({"type": "authors"})
    seen: list[dict] = []
    for _ in range(200):
        await person.read_available(seen)
        for msg in seen:
            if msg.get("type") == "authors":
                return msg
            if msg.get("type") == "batch":
                for inner in msg["messages"]:
                    if inner.get("type") == "authors":
                        return inner
    raise AssertionError("no authors reply")


async def three_people(people_fixture: dict, ws_connect: Any) -> tuple[list[Person], list[int]]:
    third = await db(create_user, "third")
    await db(share, people_fixture["doc"], third, edit=True)
    users = people_fixture["users"]
    cookies = [
        people_fixture["cookies"]["owner"],
        people_fixture["cookies"]["editor"],
        await db(session_cookie, third),
    ]
    persons = []
    for cookie in cookies:
        person = Person(await ws_connect(people_fixture["doc_id"], cookie=cookie))
        await person.start()
        persons.append(person)
    return persons, [users["owner"].pk, users["editor"].pk, third.pk]


async def random_rounds(persons: list[Person], rng: random.Random, rounds: int) -> None:
    """Let everyone edit concurrently (no waiting between their edits)."""
    for _ in range(rounds):
        for person in persons:
            assert person.ot.doc is not None
            for _ in range(rng.randint(1, 3)):
                await person.edit(random_change(person.ot.doc, rng))
        # Read a little, not everything: the next round is concurrent again.
        for person in persons:
            await person.read_available([])
    await settle(persons)


async def test_concurrent_edits_of_three_people_match_the_op_log(people, ws_connect) -> None:
    seed = random.randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    persons, ids = await three_people(people, ws_connect)
    await random_rounds(persons, rng, rounds=12)
    reply = await ask_authors(persons[1])
    doc_pk = people["doc"].pk
    expected = await db(per_character, doc_pk)
    assert reply["rev"] == persons[1].ot.rev
    assert expand(reply["runs"]) == expected, f"seed={seed}"
    # The runs are merged and cover exactly the content.
    assert all(a[1] != b[1] for a, b in zip(reply["runs"], reply["runs"][1:], strict=False))
    assert len(expected) == persons[0].ot.doc.length
    assert {a for a in expected if a is not None} <= set(ids)
    rev, runs = await db(authorship_at, people["doc"])
    assert rev == reply["rev"] and to_json(runs) == reply["runs"]


async def test_authorship_survives_an_owner_snapshot_and_a_reload(
    people, ws_connect, settings
) -> None:
    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "COMPACT_THRESHOLD_OPS": 15,
        "COMPACT_KEEP_OPS": 0,
        "IDLE_UNLOAD_SECONDS": 0.05,
    }
    seed = random.randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    persons, _ = await three_people(people, ws_connect)
    await random_rounds(persons, rng, rounds=8)
    doc_pk = people["doc"].pk
    expected = await db(per_character, doc_pk)
    registry = process_registry()
    authority = registry._authorities[uuid.UUID(people["doc_id"])]
    for _ in range(100):  # the keeper's snapshot runs after a commit
        if authority.snapshot_revision > 0:
            break
        await persons[0].read_available([])
    assert authority.snapshot_revision > 0, "no owner snapshot was stored"
    snapshot = await db(
        lambda: DocumentVersion.objects.filter(document_id=doc_pk).order_by("-revision").first()
    )
    # Stored with the snapshot: who wrote what at its revision. (The folded
    # ops stay for RETENTION_DAYS; the reload below starts from the snapshot.)
    assert expand(snapshot.authorship) == await db(per_character, doc_pk, snapshot.revision)
    # Unload, then load again from the snapshot (plus any later ops).
    for person in persons:
        await person.socket.close()
    public_id = uuid.UUID(people["doc_id"])
    for _ in range(200):  # IDLE_UNLOAD_SECONDS is 0.05 here
        if public_id not in registry._authorities and public_id not in registry._closing:
            break
        await persons[0].socket.nothing(0.02)
    assert public_id not in registry._authorities, "the document was not unloaded"
    fresh = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["viewer"]))
    await fresh.start()
    reply = await ask_authors(fresh)
    assert expand(reply["runs"]) == expected, f"seed={seed}"


async def test_a_restore_keeps_the_original_authors(people, ws_connect) -> None:
    owner_id, editor_id = people["users"]["owner"].pk, people["users"]["editor"].pk
    owner = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"]))
    editor = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"]))
    for person in (owner, editor):
        await person.start()
    await owner.edit(Delta().insert("Alpha "))
    await settle([owner, editor])
    await editor.edit(Delta().retain(6).insert("beta"))
    await settle([owner, editor])
    # The version to restore: its content and authorship as of now.
    rev, runs = await db(authorship_at, people["doc"])
    version_content = list(owner.ot.content())
    version_runs: Runs = runs
    # The owner rewrites everything.
    await owner.edit(Delta().delete(10).insert("Gone"))
    await settle([owner, editor])
    edit = content_edit(version_content)
    edit["authorship"] = to_json(version_runs)
    applied = await apply_edit(
        public_id=uuid.UUID(people["doc_id"]),
        edit=edit,
        user_id=owner_id,
        user_name="owner",
        registry=process_registry(),
        timeout=10,
    )
    assert applied is not None
    seen: list[dict] = []
    await settle([owner, editor], seen)
    stored = await db(
        lambda: Operation.objects.get(document_id=people["doc"].pk, revision=applied.revision)
    )
    assert stored.attribution is not None
    frames = [m for f in seen for m in (f["messages"] if f["type"] == "batch" else [f])]
    restore_frames = [m for m in frames if m.get("type") == "op" and m["rev"] == applied.revision]
    assert restore_frames and restore_frames[0]["authors"] == stored.attribution
    reply = await ask_authors(editor)
    text = "Alpha beta\n"
    assert expand(reply["runs"]) == [owner_id] * 6 + [editor_id] * 4 + [None]
    assert expand(reply["runs"]) == await db(per_character, people["doc"].pk)
    assert len(text) == sum(count for count, _ in reply["runs"])
    assert await db(lambda: Document.objects.get(pk=people["doc"].pk).head_revision) == rev + 2


async def test_accepting_a_suggestion_keeps_the_suggester_as_author(people, ws_connect) -> None:
    owner_id, editor_id = people["users"]["owner"].pk, people["users"]["editor"].pk
    owner = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"]))
    editor = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"]))
    for person in (owner, editor):
        await person.start()
    await owner.edit(Delta().insert("Plain text"))
    await settle([owner, editor])
    mark = f"{editor_id}:lx3k9a1:sug1"
    await editor.edit(Delta().retain(6).insert("new ", {"suggest-insert": mark}))
    await settle([owner, editor])
    applied = await apply_edit(
        public_id=uuid.UUID(people["doc_id"]),
        edit=decide_edit(accept=True),
        user_id=owner_id,
        user_name="owner",
        registry=process_registry(),
        timeout=10,
    )
    assert applied is not None
    await settle([owner, editor])
    assert owner.ot.content() == [{"insert": "Plain new text\n"}]
    reply = await ask_authors(owner)
    assert expand(reply["runs"]) == [owner_id] * 6 + [editor_id] * 4 + [owner_id] * 4 + [None]


async def test_undoing_a_deletion_gives_the_text_back_to_its_author(people, ws_connect) -> None:
    owner_id, editor_id = people["users"]["owner"].pk, people["users"]["editor"].pk
    owner = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"]))
    editor = Person(await ws_connect(people["doc_id"], cookie=people["cookies"]["editor"]))
    for person in (owner, editor):
        await person.start()
    await owner.edit(Delta().insert("Alpha "))
    await settle([owner, editor])
    await editor.edit(Delta().retain(6).insert("beta"))
    await settle([owner, editor])
    await owner.edit(Delta().retain(3).delete(5))  # "Alp" + "ta": the owner deletes "ha be"
    removed_at = await settle([owner, editor])
    applied = await apply_edit(
        public_id=uuid.UUID(people["doc_id"]),
        edit=revert_edit(removed_at),
        user_id=owner_id,
        user_name="owner",
        registry=process_registry(),
        timeout=10,
    )
    assert applied is not None
    await settle([owner, editor])
    assert owner.ot.content() == [{"insert": "Alpha beta\n"}]
    reply = await ask_authors(editor)
    assert expand(reply["runs"]) == [owner_id] * 6 + [editor_id] * 4 + [None]
    stored = await db(
        lambda: Operation.objects.get(document_id=people["doc"].pk, revision=applied.revision)
    )
    assert stored.attribution == [[3, owner_id], [2, editor_id]]
