"""The review policy on ops, through the sequencer that enforces it.

Failure modes covered: a commenter's op that is not a suggestion (plain
typing, deleting others' text, formatting, removing comment anchors,
touching ``suggest-insert``) is refused with ``forbidden`` and leaves the
document, the revision and the queue as they were; a suggestion mark in
someone else's name is refused for editors and commenters alike; allowed
suggestion ops are accepted; server-made changes are trusted; an editor's
op without marks never reads the document.

The random test compares the sequencer with an oracle written per
character (not per run, as :mod:`realtime.ot.review` is), over random
documents holding several people's marks and random changes built from the
moves a commenter's browser (or a forger) makes. It prints its seed.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest

from realtime.oplog import Entry, LoadedState, Submission
from realtime.ot import Delta, DocumentText, parse_change
from realtime.ot.review import parse_format_suggestion, parse_mark, policy_problem
from realtime.protocol import ErrorCode, Rejection
from realtime.sequencer import Sequencer

from . import ot_gen, review_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

ME = 7
OTHER = 42
MINE = "7:lx3k9a1:mine"
THEIRS = "42:lx3k9a1:them"


def _sequencer(doc: Delta) -> Sequencer[str]:
    text = DocumentText.from_ops(doc.ops)
    state = LoadedState(
        document_pk=1, text=text, head=5, window_start=5, start_length=text.length, window=[]
    )
    return Sequencer(state, window_size=100, max_length=1_000_000, max_runs=None)


def _submit(
    seq: Sequencer[str], change: list[dict[str, Any]], *, may_edit: bool | None, user: int = ME
) -> Entry[str] | Rejection:
    return seq.accept(
        Submission(
            op_id=f"{'c' * 16}:{len(seq.queued) + 1}",
            base_rev=seq.head,
            change=parse_change(change),
            author="socket",
            user_id=user,
            may_edit=may_edit,
        )
    )


def _doc(*ops: dict[str, Any]) -> Delta:
    return Delta([*ops, {"insert": "\n"}])


DOC = _doc(
    {"insert": "plain "},
    {"insert": "mine", "attributes": {"suggest-insert": MINE}},
    {"insert": " theirs", "attributes": {"suggest-insert": THEIRS}},
    {"insert": " anchored", "attributes": {"comment": "abcdefghij"}},
    {"insert": " struck", "attributes": {"suggest-delete": THEIRS}},
)
# plain 0-6, mine 6-10, " theirs" 10-17, " anchored" 17-26, " struck" 26-33


ALLOWED = {
    "an insert marked as my suggestion": [
        {"retain": 3},
        {"insert": "x", "attributes": {"suggest-insert": MINE, "bold": True}},
    ],
    "an insert of my suggestion with a comment anchor": [
        {"insert": "x", "attributes": {"suggest-insert": MINE, "comment": "kkkkkkkkkk"}},
    ],
    "marking text for deletion": [
        {"retain": 2},
        {"retain": 3, "attributes": {"suggest-delete": MINE}},
    ],
    "proposing a format": [
        {"retain": 4, "attributes": {"suggest-format": MINE + '|{"bold":true}'}}
    ],
    "deleting my own suggested text": [{"retain": 6}, {"delete": 4}],
    "formatting my own suggested text": [
        {"retain": 6},
        {"retain": 4, "attributes": {"bold": True}},
    ],
    "anchoring a comment": [{"retain": 1, "attributes": {"comment": "kkkkkkkkkk"}}],
    "adding a thread to an anchor": [
        {"retain": 17},
        {"retain": 3, "attributes": {"comment": "abcdefghij kkkkkkkkkk"}},
    ],
    "withdrawing my deletion mark where there is none": [
        {"retain": 1, "attributes": {"suggest-delete": None}},
    ],
    "a plain retain": [{"retain": 5}],
}

REFUSED = {
    "plain typing": ([{"retain": 3}, {"insert": "x"}], "only insert text marked as their own"),
    "typing in someone else's name": (
        [{"insert": "x", "attributes": {"suggest-insert": THEIRS}}],
        "suggestion marks must be your own",
    ),
    "inserting text also struck": (
        [{"insert": "x", "attributes": {"suggest-insert": MINE, "suggest-delete": MINE}}],
        "inserted text cannot also be suggested",
    ),
    "deleting plain text": ([{"delete": 2}], "only delete text they suggested"),
    "deleting someone's suggested text": ([{"retain": 10}, {"delete": 2}], "only delete text"),
    "formatting plain text": (
        [{"retain": 2, "attributes": {"bold": True}}],
        "only format text they suggested",
    ),
    "accepting my own insertion": (
        [{"retain": 6}, {"retain": 4, "attributes": {"suggest-insert": None}}],
        "may not change what is suggested for insertion",
    ),
    "rejecting someone's deletion mark": (
        [{"retain": 26}, {"retain": 2, "attributes": {"suggest-delete": None}}],
        "only withdraw their own suggestions",
    ),
    "removing a comment anchor": (
        [{"retain": 17}, {"retain": 2, "attributes": {"comment": None}}],
        "may not remove comment anchors",
    ),
    "replacing a thread on an anchor": (
        [{"retain": 17}, {"retain": 2, "attributes": {"comment": "kkkkkkkkkk"}}],
        "may not remove comment anchors",
    ),
    "proposing a format in someone's name": (
        [{"retain": 2, "attributes": {"suggest-format": THEIRS + '|{"bold":true}'}}],
        "suggestion marks must be your own",
    ),
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_commenter_suggestions_are_accepted(name: str) -> None:
    seq = _sequencer(DOC)
    result = _submit(seq, ALLOWED[name], may_edit=False)
    assert isinstance(result, Entry), result


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_commenter_edits_are_forbidden_and_change_nothing(name: str) -> None:
    change, reason = REFUSED[name]
    seq = _sequencer(DOC)
    result = _submit(seq, change, may_edit=False)
    assert isinstance(result, Rejection)
    assert result.code == ErrorCode.FORBIDDEN
    assert reason in (result.message or "")
    assert result.op_id is not None
    assert not seq.pending and seq.content() == DOC.ops
    # The next op is numbered as if the refused one never came.
    accepted = _submit(seq, [{"retain": 1}], may_edit=False)
    assert isinstance(accepted, Entry) and accepted.rev == 6


@pytest.mark.parametrize("may_edit", [True, False])
def test_forged_marks_are_refused_for_editors_and_commenters(may_edit: bool) -> None:
    for attributes in (
        {"suggest-insert": THEIRS},
        {"suggest-delete": THEIRS},
        {"suggest-format": THEIRS + '|{"italic":true}'},
    ):
        seq = _sequencer(DOC)
        for change in (
            [{"insert": "x", "attributes": attributes}],
            [{"retain": 3, "attributes": attributes}],
        ):
            result = _submit(seq, change, may_edit=may_edit)
            assert isinstance(result, Rejection), (attributes, change)
            assert result.code == ErrorCode.FORBIDDEN
            assert result.message == "suggestion marks must be your own"
            assert seq.content() == DOC.ops


def test_editors_may_do_anything_else_and_server_changes_are_trusted() -> None:
    seq = _sequencer(DOC)
    editor = [{"delete": 3}, {"retain": 7, "attributes": {"bold": True, "suggest-insert": None}}]
    assert isinstance(_submit(seq, editor, may_edit=True), Entry)
    # The server decides others' suggestions (and restores their marks).
    server = [{"retain": 2, "attributes": {"suggest-delete": THEIRS}}]
    assert isinstance(_submit(seq, server, may_edit=None, user=1), Entry)


def test_a_user_without_id_owns_no_mark() -> None:
    seq = _sequencer(DOC)
    change = [{"insert": "x", "attributes": {"suggest-insert": MINE}}]
    result = seq.accept(
        Submission(
            op_id="n" * 16 + ":1",
            base_rev=seq.head,
            change=parse_change(change),
            author="socket",
            user_id=None,
            may_edit=True,
        )
    )
    assert isinstance(result, Rejection) and result.code == ErrorCode.FORBIDDEN


def test_a_submission_nobody_marked_gets_the_commenter_rules() -> None:
    seq = _sequencer(DOC)
    result = seq.accept(
        Submission(
            op_id="d" * 16 + ":1",
            base_rev=seq.head,
            change=Delta([{"insert": "x"}]),
            author="socket",
            user_id=ME,
        )
    )
    assert isinstance(result, Rejection) and result.code == ErrorCode.FORBIDDEN


def test_the_policy_reads_the_tip_after_transformation() -> None:
    # Alice (editor) inserts before my suggested text; my delete of my own
    # text, based on the old revision, is moved onto it and stays allowed.
    seq = _sequencer(DOC)
    assert isinstance(_submit(seq, [{"insert": "AAAA"}], may_edit=True, user=OTHER), Entry)
    stale = Submission(
        op_id="s" * 16 + ":1",
        base_rev=5,
        change=Delta([{"retain": 6}, {"delete": 4}]),
        author="socket",
        user_id=ME,
        may_edit=False,
    )
    result = seq.accept(stale)
    assert isinstance(result, Entry), result
    assert result.delta.ops == [{"retain": 10}, {"delete": 4}]
    # Based on the old revision, a delete that lands on plain text is refused.
    plain = Submission(
        op_id="s" * 16 + ":2",
        base_rev=5,
        change=Delta([{"delete": 1}]),
        author="socket",
        user_id=ME,
        may_edit=False,
    )
    refused = seq.accept(plain)
    assert isinstance(refused, Rejection) and refused.code == ErrorCode.FORBIDDEN


def test_an_editor_op_without_marks_never_reads_the_document() -> None:
    class Untouchable(DocumentText):
        def slice(self, start: int = 0, end: int | None = None) -> list[dict[str, Any]]:
            raise AssertionError("the fast path read the document")

    text = Untouchable.from_ops(DOC.ops)
    change = Delta([{"retain": 3}, {"insert": "x", "attributes": {"bold": True}}, {"delete": 2}])
    assert policy_problem(text, change, user_id=ME, may_edit=True) is None
    with pytest.raises(AssertionError):
        policy_problem(text, Delta([{"delete": 1}]), user_id=ME, may_edit=False)


# -- random ops against a per-character oracle ---------------------------------


def _author(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if name == "suggest-format":
        parsed = parse_format_suggestion(value)
        return parsed[0].author if parsed else None
    mark = parse_mark(value)
    return mark.author if mark else None


def _chars(doc: Delta) -> list[dict[str, Any]]:
    """Return one attribute map per code unit of ``doc``."""
    out: list[dict[str, Any]] = []
    for op in doc.ops:
        length = Delta([op]).length()
        out.extend([op.get("attributes") or {}] * length)
    return out


def oracle(doc: Delta, change: Delta, user: int, may_edit: bool) -> bool:
    """Return whether the policy allows ``change``, decided character by character."""
    suggest = ("suggest-insert", "suggest-delete", "suggest-format")
    for op in change.ops:
        for name in suggest:
            value = (op.get("attributes") or {}).get(name)
            if value is not None and _author(name, value) != user:
                return False
    if may_edit:
        return True
    chars = _chars(doc)
    pos = 0
    for op in change.ops:
        attrs = op.get("attributes") or {}
        if "insert" in op:
            if _author("suggest-insert", attrs.get("suggest-insert")) != user:
                return False
            if attrs.get("suggest-delete") is not None or attrs.get("suggest-format") is not None:
                return False
            continue
        count = op.get("retain", 0) or op.get("delete", 0)
        for char in chars[pos : pos + count]:
            own_insert = _author("suggest-insert", char.get("suggest-insert")) == user
            if "delete" in op:
                if not own_insert:
                    return False
                continue
            for name, value in attrs.items():
                had = char.get(name)
                if name == "suggest-insert":
                    return False
                if name in ("suggest-delete", "suggest-format"):
                    if value is None and had is not None and _author(name, had) != user:
                        return False
                elif name == "comment":
                    old = set(had.split(" ")) if had else set()
                    if value is None and had is not None:
                        return False
                    if value is not None and not old <= set(value.split(" ")):
                        return False
                elif not own_insert:
                    return False
        pos += count
    return True


def _moves(rng: random.Random, user: int) -> dict[str, Any]:
    """Return one random attribute set a browser (or a forger) might send."""
    mine = review_gen.mark(rng, user)
    theirs = review_gen.mark(rng, OTHER if user != OTHER else ME)
    options: list[dict[str, Any]] = [
        {"suggest-delete": mine},
        {"suggest-delete": None},
        {"suggest-format": review_gen.format_mark(rng, user)},
        {"suggest-format": None},
        {"comment": review_gen.comment(rng)},
        {"comment": None},
        {"bold": True},
        {"header": 2, "suggest-delete": mine},
        {"suggest-insert": None},
        {"suggest-insert": mine},
        {"suggest-delete": theirs},
    ]
    return rng.choice(options)


def commenter_change(rng: random.Random, doc: Delta, user: int) -> Delta:
    """Return a random change made of a commenter's (and a forger's) moves."""
    units = ot_gen.units_of(doc)
    length = len(units)
    ops: list[dict[str, Any]] = []
    pos = 0
    for _ in range(rng.randint(1, 4)):
        room = length - 1 - pos
        kind = rng.random()
        if kind < 0.3:
            mark = review_gen.mark(rng, user if rng.random() < 0.8 else OTHER)
            attrs: dict[str, Any] = {}
            if rng.random() < 0.85:
                attrs["suggest-insert"] = mark
            if rng.random() < 0.2:
                attrs.update(rng.choice([{"bold": True}, {"comment": "kkkkkkkkkk"}]))
            if rng.random() < 0.05:
                attrs["suggest-delete"] = mark
            ops.append({"insert": ot_gen.text(rng, 2), **({"attributes": attrs} if attrs else {})})
            continue
        if room <= 0:
            break
        count = rng.randint(1, min(room, 6))
        if ot_gen._splits(units, pos + count):
            count += 1
        if pos + count > length - 1:
            break
        if kind < 0.5:
            ops.append({"delete": count})
        elif kind < 0.65:
            ops.append({"retain": count})
        else:
            ops.append({"retain": count, "attributes": _moves(rng, user)})
        pos += count
    return Delta(ops)


def _document(rng: random.Random, user: int) -> Delta:
    """Return a random document where ``user`` often has suggested text."""
    doc = review_gen.document(rng)
    if rng.random() < 0.6:
        own = {
            "insert": ot_gen.text(rng, 3),
            "attributes": {"suggest-insert": review_gen.mark(rng, user)},
        }
        doc = Delta([own, *doc.ops])
    return doc


def test_random_commenter_ops_against_the_oracle() -> None:
    seed = int(os.environ.get("REVIEW_POLICY_SEED", time.time_ns() % 2**32))
    print(f"review policy seed: {seed} (REVIEW_POLICY_SEED={seed} to replay)")
    rng = random.Random(seed)
    outcomes = {"accepted": 0, "forbidden": 0, "commenter accepted": 0}
    for case in range(1500):
        user = rng.choice(review_gen.AUTHORS)
        may_edit = rng.random() < 0.25
        doc = _document(rng, user)
        change = commenter_change(rng, doc, user)
        parse_change(change.to_json())  # schema-valid: only the policy may refuse it
        seq = _sequencer(doc)
        result = _submit(seq, change.to_json(), may_edit=may_edit, user=user)
        expected = oracle(doc, change, user, may_edit)
        where = f"seed {seed} case {case}: user {user} may_edit {may_edit} {doc!r} {change!r}"
        if expected:
            assert isinstance(result, Entry), f"{where}: refused {result}"
            outcomes["accepted"] += 1
            outcomes["commenter accepted"] += not may_edit
            after = DocumentText.from_ops(doc.ops)
            after.apply(change)
            assert seq._text == after, where
        else:
            assert isinstance(result, Rejection), where
            assert result.code == ErrorCode.FORBIDDEN, f"{where}: {result}"
            assert not seq.pending and seq.content() == doc.ops, where
            outcomes["forbidden"] += 1
    # Both answers are common, or the test proves little.
    print(outcomes)
    assert min(outcomes.values()) > 150, outcomes
