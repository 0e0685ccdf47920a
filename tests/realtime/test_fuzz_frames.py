"""Fuzz: at least 20,000 random frames at one document on a real daphne.

Sockets, all at once:

* six *trackers* (owner and editor, three each) send valid changes built
  from ``realtime/ot/schema.json`` and valid presence through the project's
  OT client (:class:`collabdocs.devclient.OTClient`), so each knows what the
  document must be; now and then one loses its connection and resends;
* two sockets of a third editor (mallory) send bad frames
  (:mod:`tests.realtime.fuzz_gen`), ops older than the window (rebased from
  storage), other people's op ids,
  and valid changes at old revisions that the server must transform;
* a socket of the owner resends the owner's acked op ids (and bad frames);
* a viewer's socket sends ops (forbidden) and presence, good and bad; it
  mirrors the document from the broadcasts, and the bad frames of the
  others are built on its copy (near the head, so within the window).

Afterwards: every frame that expects an answer got exactly one; nothing
meant as invalid was acked or stored; every ack is stored at its revision,
and resends were acked with the first revision; the stored revisions are
1..head without a gap; every tracker and a fresh reader hold the stored
content; the document page and its exports answer; the server logged no
traceback. Then, with nobody else editing, the two position rules that
depend on the base revision (a plain retain past the end, a boundary inside
a surrogate pair) are checked at the head, where they must be refused.

``FUZZ_SEED`` replays a run's choices (the seed is printed; the
interleaving of the sockets still depends on timing); ``FUZZ_FRAMES`` changes the
count (default 20,000). The server runs with a high op rate limit (50 ops/s
per socket would take minutes), a looser CPU budget, a 200-op window so
revisions older than it are reachable, and compaction off so every revision
stays in the op table.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import urllib.request
from collections import Counter
from typing import Any

import pytest
from django.urls import reverse

from collabdocs.devclient import OTClient
from documents.models import Document, Operation
from realtime.ot import Delta, DocumentText
from tests.realtime.conftest import create_user, db, session_cookie, share, stored_content
from tests.realtime.fuzz_gen import EITHER, REFUSED, BadFrames, Frame, op_text, valid_change
from tests.realtime.fuzz_sockets import CountingClient, RawSocket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FRAMES = int(os.environ.get("FUZZ_FRAMES", "20000"))
#: Give up (and fail) if the frames have not all been sent by then.
SEND_SECONDS = float(os.environ.get("FUZZ_SECONDS", "240"))
OP_WINDOW = 200
#: A revision this far behind the head is older than any window the
#: server holds (at most OP_WINDOW * 9/8): such an op is rebased over the
#: stored ops (compaction is off, so all are kept) and must be acked.
STALE_MARGIN = 2 * OP_WINDOW
SERVER_ENV = {
    "COLLABDOCS_OPS_PER_SECOND": "100000",
    "COLLABDOCS_OP_WINDOW": str(OP_WINDOW),
    "COLLABDOCS_COMPACT_THRESHOLD_OPS": "100000000",
    "COLLABDOCS_IDLE_UNLOAD_SECONDS": "600",
    # The CPU budget stays on (some frames are refused rate_limited, and
    # the clients resend after retry_after), but loose enough that three
    # trackers and a raw socket of one user are not held back for most of
    # the run on a loaded machine (the budget counts wall time per frame).
    "COLLABDOCS_SOCKET_CPU_MS_PER_SECOND": "400",
    "COLLABDOCS_USER_CPU_MS_PER_SECOND": "1000",
}
#: Answers a valid frame may still get: the socket's budget is spent.
BUSY = {"rate_limited"}
#: The most of the frames that raw sockets send (the rest: trackers' ops and presence).
RAW_SHARE = 0.55
#: Unanswered frames per raw socket: enough to keep the server busy, few
#: enough that answers come back in order of seconds, not minutes.
WINDOW = 8


def fuzz_seed() -> int:
    """Return the run's seed (``FUZZ_SEED`` replays one) and print it."""
    seed = int(os.environ.get("FUZZ_SEED", random.randrange(1 << 30)))
    print(f"fuzz: FUZZ_SEED={seed} FUZZ_FRAMES={FRAMES}")
    return seed


def _editor_cookie(document: Any, username: str) -> str:
    user = create_user(username)
    share(document, user, edit=True)
    return session_cookie(user)


def _stored_ops(doc_id: str) -> dict[str, int]:
    return dict(
        Operation.objects.filter(document__public_id=doc_id).values_list("op_id", "revision")
    )


def _head(doc_id: str) -> int:
    return Document.objects.get(public_id=doc_id).head_revision


def _get(url: str, cookie: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


class Fuzz:
    """The shared state of one run: sockets, expectations, the frame count."""

    def __init__(
        self,
        seed: int,
        trackers: list[CountingClient],
        raws: dict[str, RawSocket],
        mirror: RawSocket,
    ) -> None:
        self.seed = seed
        self.trackers = trackers
        self.raws = raws
        #: Frames sent that expect no answer (presence), per socket name.
        self.unanswered: Counter[str] = Counter()
        #: op id -> (socket name, kind) of frames that must never be acked.
        self.refused: dict[str, tuple[str, str]] = {}
        #: op id -> socket name of valid frames a raw socket sent.
        self.valid: dict[str, str] = {}
        #: (socket name, op id) of frames that used someone else's op id.
        self.stolen: list[tuple[str, str]] = []
        #: op id -> (socket name, first revision) of resends.
        self.resent: dict[str, tuple[str, int]] = {}
        #: op id -> (socket name, kind) of frames that may go either way.
        self.either: dict[str, tuple[str, str]] = {}
        self.drops = Counter[int]()
        self.mirror = mirror
        self._snapshot: tuple[DocumentText, int] | None = None

    def total(self) -> int:
        """Return the frames sent so far by every socket."""
        return (
            sum(t.frames_sent for t in self.trackers)
            + sum(r.sent for r in self.raws.values())
            + sum(self.unanswered.values())
        )

    def more(self) -> bool:
        """Return whether frames remain to be sent."""
        return self.total() < FRAMES

    async def pace(self) -> None:
        """Hold a raw socket back while raw frames are over their share.

        Raw frames are answered at once, valid ones need a commit: without
        this the run would be nearly all bad frames.
        """
        while self.more() and sum(r.sent for r in self.raws.values()) > RAW_SHARE * self.total():
            await asyncio.sleep(0.002)

    def snapshot(self) -> tuple[DocumentText, int]:
        """Return the mirroring socket's document and revision (a copy, near the head)."""
        mirror = self.mirror
        assert mirror.mirror is not None
        if self._snapshot is None or self._snapshot[1] != mirror.mirror_rev:
            self._snapshot = (mirror.mirror.copy(), mirror.mirror_rev)
        return self._snapshot

    async def send(self, raw: RawSocket, frame: Frame) -> None:
        """Send a frame that expects one answer, noting what it may be."""
        if frame.op_id is not None:
            if frame.expect == REFUSED:
                self.refused[frame.op_id] = (raw.name, frame.kind)
            elif frame.expect == EITHER:
                self.either[frame.op_id] = (raw.name, frame.kind)
        await raw.send(frame)


# --------------------------------------------------------------------------
# Drivers: one task per socket, until the run has sent FRAMES frames
# --------------------------------------------------------------------------


async def drive_tracker(run: Fuzz, client: CountingClient, rng: random.Random) -> None:
    """Edit and move the cursor like a (very fast) person, through the OT client."""
    while run.more():
        roll = rng.random()
        ot = client.ot
        if roll < 0.12 and ot.synchronized:
            length = ot.doc.length
            index = rng.randrange(length)
            await client.presence(index, rng.randrange(length - index + 1))
            run.unanswered[f"tracker{run.trackers.index(client)}"] += 1
        elif roll < 0.1205:
            run.drops[run.trackers.index(client)] += 1
            await client.drop()
            await client.wait_for(lambda: client.ws is not None and client.ot.synchronized, 60)
        else:
            await client.edit(valid_change(ot.doc, rng))
            # Mostly one op per round trip; sometimes a second edit is
            # buffered and composed (the OT client's third state).
            if ot.state == "awaiting_with_buffer" or rng.random() < 0.85:
                await client.wait_synchronized(60)
        await asyncio.sleep(0)


async def drive_mallory(run: Fuzz, raw: RawSocket, rng: random.Random) -> None:
    """Send bad frames, stale ops, others' op ids and valid ops at old revisions."""
    bad = BadFrames(f"mallory{raw.name[-1]}" + "m" * 16, rng)
    while run.more():
        await run.pace()
        await raw.wait_below(WINDOW)
        doc, rev = run.snapshot()
        roll = rng.random()
        if roll < 0.08:
            op_id = bad.next_id()
            run.valid[op_id] = raw.name
            text = op_text(op_id, rev, valid_change(doc, rng).ops)
            await raw.send(Frame("valid at an old revision", text, op_id, "valid"))
        elif roll < 0.11 and raw.head_seen > STALE_MARGIN + 10:
            op_id = bad.next_id()
            # At most 300 revisions past the margin: within the transform bound.
            old = rng.randrange(
                max(0, raw.head_seen - STALE_MARGIN - 300), raw.head_seen - STALE_MARGIN
            )
            run.valid[op_id] = raw.name
            await raw.send(
                Frame("valid far behind", op_text(op_id, old, [{"insert": "s"}]), op_id, "valid")
            )
        elif roll < 0.13:
            # Someone else's op id, recent enough to be held: never mallory's.
            recent = [
                op_id
                for t in run.trackers
                for op_id, at in t.ot.acked.items()
                if at >= raw.head_seen - 50
            ]
            if recent:
                op_id = rng.choice(recent)
                text = op_text(op_id, rev, [{"insert": "stolen"}])
                raw.expect_id(op_id)
                run.stolen.append((raw.name, op_id))
                await raw.send(Frame("someone else's id", text, None, REFUSED))
        else:
            await run.send(raw, bad.make(doc, rev))


async def drive_owner_raw(
    run: Fuzz, raw: RawSocket, owners: list[CountingClient], rng: random.Random
) -> None:
    """Resend the owner's acked ops (same user: acked again, never applied twice)."""
    bad = BadFrames("ownerraw" + "o" * 16, rng)
    while run.more():
        await run.pace()
        await raw.wait_below(WINDOW)
        acked = [item for t in owners for item in t.ot.acked.items()]
        if acked and rng.random() < 0.5:
            # Half of them recent (held: acked from memory), half any (older
            # ones are found in storage or meet the database's unique op id).
            recent = [item for item in acked if item[1] >= raw.head_seen - 50]
            op_id, first = rng.choice(recent if recent and rng.random() < 0.5 else acked)
            raw.expect_id(op_id)
            run.resent[op_id] = (raw.name, first)
            # Any base and delta: an op id seen before is acked, not applied.
            text = op_text(op_id, max(0, first - 1), [{"insert": "twice?"}])
            await raw.send(Frame("resend", text, None, "resend"))
        else:
            doc, rev = run.snapshot()
            await run.send(raw, bad.make(doc, rev))


async def drive_viewer(run: Fuzz, raw: RawSocket, rng: random.Random) -> None:
    """Send ops (forbidden: a viewer) and presence, good and bad."""
    bad = BadFrames("viewerraw" + "v" * 16, rng)
    while run.more():
        await run.pace()
        await raw.wait_below(WINDOW)
        doc, rev = run.snapshot()
        roll = rng.random()
        if roll < 0.4:
            op_id = bad.next_id()
            text = op_text(op_id, rev, valid_change(doc, rng).ops)
            await run.send(raw, Frame("viewer's op", text, op_id, REFUSED))
        elif roll < 0.7:
            index = rng.randrange(doc.length)
            await raw.ws.send(
                json.dumps(
                    {
                        "type": "presence",
                        "rev": rev,
                        "range": rng.choice(
                            [
                                None,
                                {"index": index, "length": rng.randrange(doc.length - index + 1)},
                            ]
                        ),
                    }
                )
            )
            run.unanswered[raw.name] += 1
        else:
            await run.send(raw, bad.bad_presence(doc, rev))


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------


async def test_twenty_thousand_random_frames_leave_the_document_whole(daphne_factory, people):
    seed = fuzz_seed()
    rng = random.Random(seed)
    server = daphne_factory(**SERVER_ENV)
    doc_id, cookies = people["doc_id"], people["cookies"]
    mallory = await db(_editor_cookie, people["doc"], "mallory")
    names = ["owner", "editor", "owner", "editor", "owner", "editor"]
    trackers = [
        CountingClient(server.ws_url, doc_id, cookie=cookies[name], rng=random.Random(seed + i))
        for i, name in enumerate(names)
    ]
    for tracker in trackers:
        await tracker.connect()
    raws = {
        "mallory1": RawSocket(server.ws_url, doc_id, mallory, "mallory1"),
        "mallory2": RawSocket(server.ws_url, doc_id, mallory, "mallory2"),
        "ownerraw": RawSocket(server.ws_url, doc_id, cookies["owner"], "ownerraw"),
        "viewer": RawSocket(server.ws_url, doc_id, cookies["viewer"], "viewer", mirror=True),
    }
    for raw in raws.values():
        await raw.open()
    assert raws["viewer"].hello["can_edit"] is False
    run = Fuzz(seed, trackers, raws, raws["viewer"])

    # A few frames over the frame limit (and under daphne's own 1 MiB).
    big = BadFrames("bigframes" + "b" * 16, rng)
    for _ in range(3):
        await run.send(
            raws["mallory1"], big.too_large(DocumentText.from_ops([{"insert": "\n"}]), 0)
        )

    started = time.perf_counter()
    drivers = [drive_tracker(run, t, random.Random(rng.random())) for t in trackers]
    drivers += [
        drive_mallory(run, raws[n], random.Random(rng.random())) for n in ("mallory1", "mallory2")
    ]
    drivers.append(
        drive_owner_raw(run, raws["ownerraw"], trackers[0::2], random.Random(rng.random()))
    )
    drivers.append(drive_viewer(run, raws["viewer"], random.Random(rng.random())))
    await asyncio.wait_for(asyncio.gather(*drivers), SEND_SECONDS)
    sent_in = time.perf_counter() - started

    # Every answer arrives; every tracker gets its ops acked.
    for raw in raws.values():
        await raw.wait(lambda r=raw: r.outstanding <= 0, 60)
    for tracker in trackers:
        await tracker.wait_synchronized(60)
    head = await db(_head, doc_id)
    for tracker in trackers:
        await tracker.wait_for(lambda t=tracker: t.ot.rev == head, 60)
    settled_in = time.perf_counter() - started

    total = run.total()
    valid_tracker = sum(len(t.ot.acked) for t in trackers)
    print(
        f"fuzz: {total} frames in {sent_in:.1f} s ({total / sent_in:.0f}/s), settled at "
        f"{settled_in:.1f} s; head r{head}; tracker ops acked {valid_tracker}, "
        f"tracker frames {sum(t.frames_sent for t in trackers)}, "
        f"presence {sum(run.unanswered.values())}, "
        f"drops {dict(run.drops)}; final length {trackers[0].ot.doc.length}; "
        f"{len(run.refused)} must-refuse ops, {len(run.either)} either-way ops, "
        f"{len(run.valid)} valid raw ops, {len(run.resent)} resends, {len(run.stolen)} stolen ids"
    )
    for raw in raws.values():
        print(
            f"fuzz: {raw.name}: {raw.sent} answered frames, errors {dict(raw.codes)}, "
            f"acks {sum(len(v) for v in raw.acks.values())}; kinds {dict(raw.kinds)}"
        )
    either_acked = Counter(
        kind for op_id, (name, kind) in run.either.items() if op_id in raws[name].acks
    )
    print(f"fuzz: either-way ops acked, by kind: {dict(either_acked)}")
    assert total >= FRAMES

    # Nothing closed; exactly one answer per frame that expects one.
    for raw in raws.values():
        assert raw.violation is None, f"{raw.violation} (seed={seed})"
        assert raw.closed_with is None, f"{raw.name} closed with {raw.closed_with} (seed={seed})"
        assert raw.answers == raw.sent, (raw.name, raw.answers, raw.sent, seed)

    # Stored: revisions 1..head, no gap; every ack at its revision.
    stored = await db(_stored_ops, doc_id)
    assert sorted(stored.values()) == list(range(1, head + 1)), f"seed={seed}"
    for tracker in trackers:
        for op_id, rev in tracker.ot.acked.items():
            assert stored.get(op_id) == rev, (op_id, rev, stored.get(op_id), seed)
        assert {e.get("code") for e in tracker.ot.errors} <= BUSY, (tracker.ot.errors[:5], seed)
    for raw in raws.values():
        for op_id, revs in raw.acks.items():
            if op_id in run.valid or op_id in run.resent:
                assert set(revs) == {stored.get(op_id)}, (raw.name, op_id, revs, seed)

    # Nothing meant as invalid was acked or stored.
    for op_id, (name, kind) in run.refused.items():
        assert op_id not in raws[name].acks, f"{kind} frame {op_id} was acked (seed={seed})"
        assert op_id not in stored, f"{kind} frame {op_id} was stored (seed={seed})"
    for name, op_id in run.stolen:  # stored, as its author's op: never acked to mallory
        assert op_id not in raws[name].acks, (
            f"someone else's id {op_id} acked to {name} (seed={seed})"
        )
    # Valid ops at old revisions were transformed and acked (or refused as busy).
    errors_by_id = {e["id"]: e for raw in raws.values() for e in raw.errors if e.get("id")}
    for op_id in run.valid:
        if op_id not in stored:
            assert errors_by_id.get(op_id, {}).get("code") in BUSY, (
                op_id,
                errors_by_id.get(op_id),
                seed,
            )
    # Resends: acked at their first revision (or refused), never stored twice.
    for op_id, (name, first) in run.resent.items():
        assert set(raws[name].acks.get(op_id, [first])) == {first}, (op_id, seed)
        assert stored[op_id] == first

    # Every tracker holds the stored content.
    _, content = await db(stored_content, doc_id)
    for tracker in trackers:
        assert tracker.ot.content() == content, (
            f"tracker {trackers.index(tracker)} diverged (seed={seed})"
        )
    mirror = raws["viewer"]
    await mirror.wait(lambda: mirror.mirror_rev == head, 30)
    assert mirror.mirror.to_ops() == content, f"the viewer's mirror diverged (seed={seed})"

    await _quiet_checks(run, trackers[0], raws["ownerraw"], seed)

    # A fresh reader, the page and the exports.
    head, content = await db(stored_content, doc_id)
    reader = CountingClient(
        server.ws_url, doc_id, cookie=cookies["viewer"], client=OTClient(), reconnect=False
    )
    hello = await reader.connect()
    assert (hello["rev"], hello["content"]) == (head, content)
    for tracker in trackers:
        await tracker.wait_for(lambda t=tracker: t.ot.rev == head, 30)
        assert tracker.ot.content() == content
    urls = [reverse("documents:detail", args=[doc_id])] + [
        reverse("documents:export", args=[doc_id, fmt]) for fmt in ("txt", "html", "md")
    ]
    for url in urls:
        status, body = await asyncio.to_thread(_get, server.url + url, cookies["editor"])
        assert status == 200 and body, url
    log = server.log()
    assert "Traceback" not in log, log[log.index("Traceback") - 200 :][:4000]

    await reader.close()
    for tracker in trackers:
        await tracker.close()
    for raw in raws.values():
        await raw.close()


async def _quiet_checks(run: Fuzz, tracker: CountingClient, raw: RawSocket, seed: int) -> None:
    """At the head, with nobody else editing, the position rules refuse."""
    await tracker.edit(Delta().insert("😀"))
    await tracker.wait_synchronized(30)
    await raw.wait(lambda: raw.head_seen == tracker.ot.rev, 30)
    rev, length = tracker.ot.rev, tracker.ot.doc.length
    assert tracker.ot.doc.text().startswith("😀")
    bad = BadFrames("quietraw" + "q" * 16, random.Random(seed))
    deltas = {
        "quiet: retain past the end": [{"retain": length + 3}],
        "quiet: split pair": [{"retain": 1}, {"insert": "x"}],
        "quiet: split delete": [{"retain": 1}, {"delete": 2}],
    }
    frames = [
        Frame(kind, op_text(bad.next_id(), rev, delta), None, REFUSED)
        for kind, delta in deltas.items()
    ]
    before = len(raw.errors)
    for frame in frames:
        op_id = json.loads(frame.text)["id"]
        raw.expect_id(op_id)
        await raw.send(frame)
    await raw.wait(lambda: raw.outstanding <= 0, 30)
    for frame in frames:
        op_id = json.loads(frame.text)["id"]
        assert op_id not in raw.acks, f"{frame.kind} acked at the head (seed={seed})"
    codes = [e.get("code") for e in raw.errors[before:]]
    assert len(codes) == len(frames), codes
    assert tracker.ot.rev == rev
