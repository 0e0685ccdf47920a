"""The pure sequencer: accept, commit, rollback, rebase, dedupe, presence at head.

No event loop and no store: states are built in memory and the sequencer is
driven step by step, the way the authority drives it. Failure modes covered:
a refused op leaves no trace (all or nothing), a failed commit rolls back
exactly, a reload re-accepts pending ops (or finds them stored), another
user's op id is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from realtime import sequencer as sequencer_module
from realtime.oplog import Entry, LoadedState, Submission
from realtime.ot import Delta, DocumentText
from realtime.protocol import Rejection
from realtime.sequencer import Sequencer

ALICE, BOB = "alice", "bob"  # author keys are opaque: any hashable will do


def state(text: str = "\n", head: int = 0, window: list[Entry[Any]] | None = None) -> LoadedState:
    doc = DocumentText.from_ops([{"insert": text}])
    window = window or []
    return LoadedState(
        document_pk=1,
        text=doc,
        head=head,
        window_start=head - len(window),
        start_length=doc.length - sum(e.delta.change_length() for e in window),
        window=window,
    )


def make(text: str = "\n", *, window_size: int = 100, max_length: int = 1000) -> Sequencer[str]:
    return Sequencer(state(text), window_size=window_size, max_length=max_length, max_runs=None)


def sub(
    n: int,
    base: int,
    ops: list[dict[str, Any]],
    author: str | None = ALICE,
    user_id: int | None = 1,
    may_edit: bool | None = True,
) -> Submission[str]:
    return Submission(
        op_id=f"{author or 'server'}{'x' * 16}:{n}",
        base_rev=base,
        change=Delta(ops),
        author=author,
        user_id=user_id,
        may_edit=may_edit,
    )


def accepted(seq: Sequencer[str], submission: Submission[str]) -> Entry[str]:
    result = seq.accept(submission)
    assert isinstance(result, Entry), result
    return result


def commit_all(seq: Sequencer[str]) -> list[Entry[str]]:
    batch = seq.take_batch(500)
    seq.commit(batch)
    return batch


def test_ops_are_transformed_numbered_and_committed_only_by_commit() -> None:
    seq = make()
    first = accepted(seq, sub(1, 0, [{"insert": "a"}]))
    second = accepted(seq, sub(1, 0, [{"insert": "b"}], author=BOB, user_id=2))
    assert (first.rev, second.rev) == (1, 2)
    assert second.delta.ops == [{"retain": 1}, {"insert": "b"}]  # ties: the earlier op first
    assert seq.head == 0 and seq.content() == [{"insert": "\n"}] and seq.pending
    assert [e.rev for e in commit_all(seq)] == [1, 2]
    assert seq.head == 2 and seq.content() == [{"insert": "ab\n"}] and not seq.pending
    assert second.delta_json == '[{"retain":1},{"insert":"b"}]'


def test_a_resend_is_acked_and_another_users_id_is_refused() -> None:
    seq = make()
    pending = accepted(seq, sub(1, 0, [{"insert": "a"}]))
    # Pending: the author's resend (another socket of hers) is owed the ack too.
    assert seq.seen(pending.op_id, 1, "alice-new-socket") is pending
    assert pending.acks("alice-new-socket") and not pending.acks(BOB)
    taken = seq.seen(pending.op_id, 2, BOB)
    assert isinstance(taken, Rejection) and taken.code == "bad_message"
    commit_all(seq)
    # Committed: its revision; still refused to anyone else.
    assert seq.seen(pending.op_id, 1, ALICE) == 1
    assert isinstance(seq.seen(pending.op_id, 2, BOB), Rejection)
    assert seq.seen("unknown" + "x" * 16 + ":1", 1, ALICE) is None


@pytest.mark.parametrize(
    ("base", "ops", "code"),
    [
        (5, [{"insert": "x"}], "bad_message"),  # ahead of head
        (1, [{"retain": 9}], "bad_op"),  # reaches past the document at its base
        (1, [{"insert": "y" * 2000}], "too_large"),
    ],
)
def test_a_refused_op_changes_nothing(base: int, ops: list[dict[str, Any]], code: str) -> None:
    seq = make()
    accepted(seq, sub(1, 0, [{"insert": "abc"}]))
    commit_all(seq)
    queued = accepted(seq, sub(2, 1, [{"insert": "Q"}]))
    refused = seq.accept(sub(3, base, ops))
    assert isinstance(refused, Rejection) and refused.code == code, refused
    assert refused.op_id == sub(3, base, ops).op_id
    # The revision sequence, the tip and the queue are as they were.
    after = accepted(seq, sub(4, 1, [{"retain": 3}, {"insert": "!"}]))
    assert after.rev == queued.rev + 1 == 3
    assert [e.rev for e in commit_all(seq)] == [2, 3]
    assert seq.content() == [{"insert": "Qabc!\n"}]


def test_a_failure_half_way_through_applying_rebuilds_the_tip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seq = make()
    accepted(seq, sub(1, 0, [{"insert": "a"}]))
    commit_all(seq)
    real = DocumentText.apply_checked

    def broken(self: DocumentText, change: Delta) -> None:
        real(self, change)
        if any(op.get("insert") == "BOOM" for op in change.ops):
            raise MemoryError("injected after the mutation")

    monkeypatch.setattr(DocumentText, "apply_checked", broken)
    refused = seq.accept(sub(2, 1, [{"retain": 1}, {"insert": "BOOM"}]))
    assert isinstance(refused, Rejection) and refused.code == "unavailable"
    monkeypatch.undo()
    # The tip is the committed "a" again: nothing of BOOM stays in it.
    assert accepted(seq, sub(3, 1, [{"retain": 1}, {"insert": "b"}])).rev == 2
    commit_all(seq)
    assert seq.content() == [{"insert": "ab\n"}]


def test_the_transform_work_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    seq = make()
    for n in range(1, 6):
        accepted(seq, sub(n, n - 1, [{"insert": "x"}]))
        commit_all(seq)
    monkeypatch.setattr(sequencer_module, "MAX_TRANSFORM_WORK", 8)
    refused = seq.accept(
        sub(9, 0, [{"insert": "a"}, {"insert": "b", "attributes": {"bold": True}}])
    )
    assert isinstance(refused, Rejection) and refused.code == "stale"
    assert accepted(seq, sub(10, 4, [{"insert": "y"}])).rev == 6


def test_rollback_returns_every_pending_op_and_restores_the_tip() -> None:
    seq = make("base\n")
    inflight = seq.take_batch(500)
    assert inflight == []
    first = accepted(seq, sub(1, 0, [{"insert": "1"}]))
    seq.take_batch(500)  # in flight
    second = accepted(seq, sub(2, 0, [{"delete": 2}], author=BOB, user_id=2))
    assert seq.rollback() == [first, second]
    assert not seq.pending and seq.head == 0 and seq.content() == [{"insert": "base\n"}]
    # The same ops, sent again, are accepted from the committed text.
    assert accepted(seq, sub(1, 0, [{"insert": "1"}])).rev == 1
    assert accepted(seq, sub(2, 0, [{"delete": 2}], author=BOB, user_id=2)).rev == 2
    commit_all(seq)
    assert seq.content() == [{"insert": "1se\n"}]


def _stored(
    rev: int, op_id: str, ops: list[dict[str, Any]], length: int, user_id: int
) -> Entry[Any]:
    delta = Delta(ops)
    return Entry(
        rev=rev,
        op_id=op_id,
        delta=delta,
        delta_json="[]",
        user_id=user_id,
        author=None,
        length=length,
    )


def test_rebase_reaccepts_pending_ops_over_what_another_writer_stored() -> None:
    seq = make()
    mine = accepted(seq, sub(1, 0, [{"insert": "A"}]))
    seq.take_batch(500)
    late = sub(2, 0, [{"insert": "B"}], author=BOB, user_id=2)
    # Storage now holds someone else's revision 1.
    foreign = _stored(1, "f" * 16 + ":1", [{"insert": "X"}], 2, 9)
    reloaded = state("X\n", head=1, window=[foreign])
    answers = seq.rebase(reloaded, deferred=[late])
    assert answers == []
    assert seq.head == 1 and [e.rev for e in seq.queued] == [2, 3]
    assert seq.queued[0].op_id == mine.op_id
    commit_all(seq)
    assert seq.content() == [{"insert": "XAB\n"}]


def test_rebase_finds_ops_stored_by_their_first_attempt() -> None:
    seq = make()
    mine = accepted(seq, sub(1, 0, [{"insert": "A"}]))
    other = accepted(seq, sub(2, 0, [{"insert": "B"}], author=BOB, user_id=2))
    # Its commit answer was lost: "A" is stored, under the same id.
    stored = _stored(1, mine.op_id, [{"insert": "A"}], 2, 1)
    answers = seq.rebase(state("A\n", head=1, window=[stored]), stored_elsewhere={other.op_id: 7})
    assert seq.window[0].author == ALICE  # the delivery acks it to its author
    assert [(s.op_id, answer) for s, answer in answers] == [(other.op_id, 7)]
    assert not seq.pending


def test_rebase_with_a_refusal_accepts_nothing() -> None:
    seq = make()
    mine = accepted(seq, sub(1, 0, [{"insert": "A"}]))
    refusal = Rejection("unavailable", "not now", None, 500)
    answers = seq.rebase(
        state("X\n", head=1, window=[_stored(1, "f" * 16 + ":1", [{"insert": "X"}], 2, 9)]),
        refusal=refusal,
    )
    assert [(s.op_id, a) for s, a in answers] == [(mine.op_id, refusal.with_id(mine.op_id))]
    assert not seq.pending and seq.head == 1


def test_presence_moves_to_head_and_is_dropped_past_the_window() -> None:
    seq = make(window_size=4)
    accepted(seq, sub(1, 0, [{"insert": "abc"}]))
    commit_all(seq)
    assert seq.range_at_head(0, 0, 1) == (3, 1)  # pushed by the insert before it
    assert seq.range_at_head(1, 1, 0) == (1, 0)
    assert seq.length_at(0) == 1 and seq.length_at(1) == 4
    for n in range(2, 40):
        accepted(seq, sub(n, n - 1, [{"insert": "z"}]))
        commit_all(seq)
    assert seq.window_start > 0
    assert seq.range_at_head(0, 0, 0) is None
    stale = seq.accept(sub(99, 0, [{"insert": "late"}]))
    assert isinstance(stale, Rejection) and stale.code == "stale"


def test_a_large_batch_is_committed_by_copying_the_tip() -> None:
    seq = make()
    for n in range(1, 101):
        accepted(seq, sub(n, 0, [{"insert": "ab"[n % 2]}]))
    assert sum(len(e.delta.ops) for e in seq.queued) > sequencer_module.COPY_TIP_OPS
    commit_all(seq)
    text = seq.content()[0]["insert"]
    assert len(text) == 101 and seq.head == 100
    # The committed text is its own: later ops do not leak into it before commit.
    accepted(seq, sub(200, 100, [{"insert": "!"}]))
    assert seq.content()[0]["insert"] == text
