"""Suggestions and comment anchors from several clients converge, checked by quill-delta.

A seeded session: editors and commenters (ot.js client state machine, as
``test_ot_simulation``) make the moves the browser makes in review: suggested
insertions under their own mark (grouped with an adjacent own mark),
suggested deletions and format changes, comment anchors added to text,
withdrawals of their own suggestions, editors' plain edits; a reviewer's
server-made decisions (accept / reject, all or by author) and thread
removals are computed from the server's content, as ``apply_edit`` does.
The server is the real :class:`~realtime.sequencer.Sequencer`, which holds
every op to the review policy after transforming it; an op it refuses
(``forbidden``: a commenter's delete whose text was accepted meanwhile) makes
its client reload, as the browser does.

Checked: every client ends with the server's document; every compose and
transform a client or the server computed is answered identically by
node's quill-delta (``quill_oracle.js``), so the browsers (which run
quill-delta) compute what the Python server and clients compute; the
review marks left are all valid (``parse_change``) and no decided mark
is left right after its decision. Prints the seed (``REVIEW_SEED`` replays it).
"""

from __future__ import annotations

import os
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from realtime.oplog import Entry, LoadedState, Submission
from realtime.ot import Delta, DocumentText, parse_change
from realtime.ot.review import decide, parse_mark, suggestions, uncomment
from realtime.protocol import Rejection
from realtime.sequencer import Sequencer

from . import ot_differential, ot_gen, review_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

Recorded = list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], bool, list[dict[str, Any]]]]


class Recorder:
    """Compose and transform, keeping every call for quill-delta to answer."""

    def __init__(self) -> None:
        self.calls: Recorded = []

    def compose(self, a: Delta, b: Delta) -> Delta:
        out = a.compose(b)
        self.calls.append(("compose", a.ops, b.ops, False, out.ops))
        return out

    def transform(self, a: Delta, b: Delta, priority: bool) -> Delta:
        out = a.transform(b, priority)
        self.calls.append(("transform", a.ops, b.ops, priority, out.ops))
        return out


@dataclass
class Client:
    """An ot.js client for one person (``user``), editor or commenter."""

    user: int
    may_edit: bool
    rev: int
    doc: Delta
    ot: Recorder
    outstanding: Delta | None = None
    buffer: Delta | None = None
    sent: int = 0
    uplink: deque[tuple[str, int, Delta]] = field(default_factory=deque)
    downlink: deque[tuple[str, Delta | None]] = field(default_factory=deque)

    def edit(self, op: Delta) -> None:
        if not op.ops:
            return
        self.doc = self.ot.compose(self.doc, op)
        if self.outstanding is None:
            self._send(op)
        elif self.buffer is None:
            self.buffer = op
        else:
            self.buffer = self.ot.compose(self.buffer, op)

    def _send(self, op: Delta) -> None:
        self.outstanding = op
        self.sent += 1
        self.uplink.append((f"{self.user:0>16}-{id(self) % 9999}:{self.sent}", self.rev, op))

    def server_op(self, s: Delta) -> None:
        self.rev += 1
        if self.outstanding is not None:
            pending = self.outstanding
            self.outstanding = self.ot.transform(s, pending, True)
            s = self.ot.transform(pending, s, False)
            if self.buffer is not None:
                buffer = self.buffer
                self.buffer = self.ot.transform(s, buffer, True)
                s = self.ot.transform(buffer, s, False)
        self.doc = self.ot.compose(self.doc, s)

    def ack(self) -> None:
        self.rev += 1
        self.outstanding = None
        if self.buffer is not None:
            buffer, self.buffer = self.buffer, None
            self._send(buffer)

    def reload(self, rev: int, doc: Delta) -> None:
        """Start over from the server's document (a refused op, as the browser)."""
        self.rev, self.doc = rev, doc
        self.outstanding = self.buffer = None
        self.uplink.clear()
        self.downlink.clear()


def _own_mark_near(doc: Delta, index: int, user: int, rng: random.Random) -> str:
    """Return the user's mark on the run before ``index`` (grouping), or a new one."""
    pos = 0
    for op in doc.ops:
        length = Delta([op]).length()
        if pos < index <= pos + length:
            mark = parse_mark((op.get("attributes") or {}).get("suggest-insert"))
            if mark is not None and mark.author == user:
                return mark.raw
        pos += length
    return review_gen.mark(rng, user)


def review_move(rng: random.Random, client: Client) -> Delta:
    """Return one move of the kind the browser sends in review (or editing)."""
    doc = client.doc
    units = ot_gen.units_of(doc)
    body = len(units) - 1
    user = client.user

    def point() -> int:
        at = rng.randint(0, body)
        return at + 1 if ot_gen._splits(units, at) else at

    def span() -> tuple[int, int]:
        start = point()
        end = min(body, start + rng.randint(1, 6))
        if ot_gen._splits(units, end):
            end += 1
        return start, end

    roll = rng.random()
    if client.may_edit and roll < 0.25:
        return ot_gen.valid_change(rng, doc, max_ops=3)
    if roll < 0.55 or body == 0:
        at = point()
        attrs: dict[str, Any] = {"suggest-insert": _own_mark_near(doc, at, user, rng)}
        if rng.random() < 0.15:
            attrs["comment"] = review_gen.comment(rng)
        return Delta().retain(at).insert(ot_gen.text(rng, 2), attrs)
    start, end = span()
    if end <= start:
        return Delta()
    retain = Delta().retain(start)
    if roll < 0.7:
        return retain.retain(end - start, {"suggest-delete": review_gen.mark(rng, user)})
    if roll < 0.78:
        return retain.retain(end - start, {"suggest-format": review_gen.format_mark(rng, user)})
    if roll < 0.9:
        # Add a thread to the anchors there, keeping each run's own ids.
        thread = rng.choice(review_gen.THREADS)
        change = Delta().retain(start)
        for op in doc.slice(start, end).ops:
            had = (op.get("attributes") or {}).get("comment")
            ids = had.split(" ") if had else []
            if thread not in ids and len(ids) < 10:
                ids.append(thread)
            change.retain(Delta([op]).length(), {"comment": " ".join(ids)})
        return change
    # Withdraw own suggested text in the span (really delete it).
    change = Delta().retain(start)
    for op in doc.slice(start, end).ops:
        length = Delta([op]).length()
        mark = parse_mark((op.get("attributes") or {}).get("suggest-insert"))
        if mark is not None and mark.author == user:
            change.delete(length)
        else:
            change.retain(length)
    return change.chop()


class Server:
    """The real sequencer, committing every op at once (storage always works)."""

    def __init__(self, doc: Delta, ot: Recorder) -> None:
        text = DocumentText.from_ops(doc.ops)
        self.seq: Sequencer[str] = Sequencer(
            LoadedState(
                document_pk=1,
                text=text,
                head=0,
                window_start=0,
                start_length=text.length,
                window=[],
            ),
            window_size=100_000,
            max_length=1_000_000,
            max_runs=None,
        )
        self.ot = ot
        self.docs: list[Delta] = [doc]

    def receive(
        self, op_id: str, base: int, change: Delta, user: int, may_edit: bool | None
    ) -> Entry[str] | Rejection:
        expected = change
        for later in self.seq.deltas_after(base):
            expected = self.ot.transform(later, expected, True)
        result = self.seq.accept(
            Submission(
                op_id=op_id,
                base_rev=base,
                change=change,
                author=op_id,
                user_id=user,
                may_edit=may_edit,
            )
        )
        if isinstance(result, Entry):
            assert result.delta == expected
            self.seq.commit(self.seq.take_batch(1))
            self.docs.append(self.ot.compose(self.docs[-1], result.delta))
        return result


def session(seed: int, *, editors: int, commenters: int, moves: int) -> dict[str, int]:
    """Run one session; return counts of what happened."""
    rng = random.Random(seed)
    ot = Recorder()
    start = review_gen.document(rng, max_ops=4)
    server = Server(start, ot)
    people = [
        Client(user=10 + n, may_edit=n < editors, rev=0, doc=start, ot=ot)
        for n in range(editors + commenters)
    ]
    counts = {"accepted": 0, "forbidden": 0, "decisions": 0, "commenter ops": 0}
    left = moves
    while left or any(c.uplink or c.downlink for c in people):
        roll = rng.random()
        if left and roll < 0.06:
            # A reviewer decides or removes a thread, from the server's content.
            content = server.seq.content()
            if rng.random() < 0.75:
                found = suggestions(content)
                author = rng.choice([None, *(10 + n for n in range(len(people)))])
                accept = rng.random() < 0.5
                change = decide(
                    content,
                    accept=accept,
                    select=lambda m, a=author: a is None or m.author == a,
                )
                chosen = {s.id for s in found if author is None or s.author == author}
            else:
                change = uncomment(content, [rng.choice(review_gen.THREADS)])
                chosen = set()
            left -= 1
            if change.ops:
                result = server.receive(f"{'s' * 16}:{left}", server.seq.head, change, 1, None)
                assert isinstance(result, Entry), result
                # Based on the head it was computed from: nothing chosen is left.
                left_over = {s.id for s in suggestions(server.seq.content())} & chosen
                assert not left_over, f"seed={seed}: {left_over} survived their decision"
                counts["decisions"] += 1
                for person in people:
                    person.downlink.append(("op", result.delta))
            continue
        client = rng.choice(people)
        if left and roll < 0.45:
            client.edit(review_move(rng, client))
            left -= 1
        elif client.uplink and roll < 0.75:
            op_id, base, op = client.uplink.popleft()
            result = server.receive(op_id, base, op, client.user, client.may_edit)
            if isinstance(result, Rejection):
                assert result.code == "forbidden", result
                assert not client.may_edit or "own" in (result.message or ""), result
                counts["forbidden"] += 1
                client.reload(server.seq.head, server.docs[-1])
                continue
            counts["accepted"] += 1
            counts["commenter ops"] += not client.may_edit
            for person in people:
                person.downlink.append(("ack", None) if person is client else ("op", result.delta))
        elif client.downlink:
            kind, op = client.downlink.popleft()
            if kind == "ack":
                client.ack()
            else:
                assert op is not None
                client.server_op(op)
    final = server.seq.content()
    assert server.docs[-1].ops == final, f"seed={seed}"
    for person in people:
        assert person.doc.ops == final, f"seed={seed} user={person.user}"
    parse_change(final)  # every mark left is valid
    _check_with_quill_delta(ot.calls, seed)
    return counts


def _check_with_quill_delta(calls: Recorded, seed: int) -> None:
    """Ask quill-delta every compose and transform; fail on the first difference."""
    cases = [
        {
            "id": n,
            "deltas": {"x": a, "y": b},
            "tasks": [
                ["transform", "x", "y", flag] if name == "transform" else ["compose", "x", "y"]
            ],
        }
        for n, (name, a, b, flag, _) in enumerate(calls)
    ]
    answers = ot_differential.node_answers(cases)
    canonical = ot_differential.canonical
    for (name, a, b, flag, ours), [theirs] in zip(calls, answers, strict=True):
        assert canonical(ours) == canonical(theirs), (
            f"seed={seed}: {name} differs from quill-delta\n x={a}\n y={b}\n flag={flag}\n"
            f" python={ours}\n quill={theirs}"
        )


@pytest.mark.parametrize(("editors", "commenters"), [(1, 2), (2, 2), (1, 4)])
def test_review_sessions_converge_as_quill_delta_computes(editors: int, commenters: int) -> None:
    # The oracle is required, never skipped: `make test` installs node and
    # quill-delta, and a missing oracle must fail rather than pass unseen.
    assert ot_differential.node_available(), "node and node_modules/quill-delta are needed"
    base = int(os.environ.get("REVIEW_SEED") or random.SystemRandom().randrange(2**32))
    print(f"review convergence seed={base} (REVIEW_SEED={base} to replay)")
    totals: dict[str, int] = {}
    for run in range(8):
        for key, value in session(
            base + run, editors=editors, commenters=commenters, moves=60
        ).items():
            totals[key] = totals.get(key, 0) + value
    print(totals)
    # The session exercised what it claims to.
    assert totals["commenter ops"] > 50 and totals["decisions"] > 5, totals
