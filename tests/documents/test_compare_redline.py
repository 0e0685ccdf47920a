"""The pure redline (realtime.ot.compare) against quill-delta as the oracle.

Random documents and edits (seeded; the seed is printed and can be pinned
with ``COMPARE_SEED``): quill-delta's ``diff`` (node) equals ``Delta.diff``,
the redline's ops without deletions are the new document, its ops without
insertions (format marks taking their old formats) are the old one, and the
summary counts the words that were added and removed, by whom.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from realtime.ot import Delta, DocumentText, authorship, op_length
from realtime.ot import compare as compare_module
from realtime.ot.compare import deleters, redline, words
from tests.realtime import ot_differential, ot_gen

CASES = 300


def _strip(op: dict[str, Any], *, old: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in op.items() if k not in ("diff", "diff-author", "diff-old")}
    if old and op.get("diff") == "format":
        out.pop("attributes", None)
        if op["diff-old"]:
            out["attributes"] = op["diff-old"]
    return out


def _sides(ops: list[dict[str, Any]]) -> tuple[Delta, Delta]:
    new = Delta([_strip(op) for op in ops if op.get("diff") != "delete"])
    old = Delta([_strip(op, old=True) for op in ops if op.get("diff") != "insert"])
    return old, new


def _formatted(rng: random.Random, doc: Delta) -> Delta:
    """Return ``doc`` with one stretch bolded or unbolded."""
    length = doc.length()
    start = rng.randint(0, max(0, length - 2))
    size = rng.randint(1, max(1, length - 1 - start))
    return doc.compose(Delta().retain(start).retain(size, {"bold": rng.choice([True, None])}))


def test_redline_matches_quill_delta_diff_and_gives_back_both_documents() -> None:
    assert ot_differential.node_available(), "node and quill-delta are needed: run `npm ci`"
    seed = int(os.environ.get("COMPARE_SEED", random.randrange(1 << 30)))
    print(f"COMPARE_SEED={seed}")
    rng = random.Random(seed)
    cases = []
    pairs = []
    for index in range(CASES):
        old = ot_gen.prose(rng) if rng.random() < 0.7 else ot_gen.document(rng)
        new = ot_gen.edit_prose(rng, old) if rng.random() < 0.8 else ot_gen.document(rng)
        if rng.random() < 0.4:
            new = _formatted(rng, new)
        pairs.append((old, new))
        cases.append(
            {"id": index, "deltas": {"a": old.ops, "b": new.ops}, "tasks": [["diff", "a", "b"]]}
        )
    answers = ot_differential.node_answers(cases)
    for index, ((old, new), [oracle]) in enumerate(zip(pairs, answers, strict=True)):
        where = f"seed={seed} case={index} old={old.ops!r} new={new.ops!r}"
        assert ot_differential.canonical(old.diff(new).ops) == ot_differential.canonical(oracle), (
            where
        )
        result = redline(old, new)
        back_old, back_new = _sides(result.ops)
        assert back_new == new, where
        assert back_old == old, where


def test_large_documents_are_matched_by_paragraph_and_still_give_back_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = int(os.environ.get("COMPARE_SEED", random.randrange(1 << 30)))
    print(f"COMPARE_SEED={seed}")
    rng = random.Random(seed)
    monkeypatch.setattr(compare_module, "EXACT_LIMIT", 0)
    for name in ("PAIR_LIMIT", "BLOCK_LIMIT", "FINE_BUDGET"):
        monkeypatch.setattr(compare_module, name, rng.choice([0, 10, 4000]))
    for index in range(CASES // 3):
        old = ot_gen.prose(rng) if rng.random() < 0.7 else ot_gen.document(rng)
        new = ot_gen.edit_prose(rng, old) if rng.random() < 0.8 else ot_gen.document(rng)
        if rng.random() < 0.4:
            new = _formatted(rng, new)
        where = f"seed={seed} case={index} old={old.ops!r} new={new.ops!r}"
        assert old.compose(compare_module.change_between(old, new)) == new, where
        back_old, back_new = _sides(redline(old, new).ops)
        assert (back_old, back_new) == (old, new), where


def test_marks_name_who_wrote_and_count_words() -> None:
    old = Delta([{"insert": "alpha beta gamma\n"}])
    new = Delta(
        [
            {"insert": "alpha "},
            {"insert": "delta", "attributes": {"bold": True}},
            {"insert": " epsilon gamma\n"},
        ]
    )
    # old: alpha (6) by 1, "beta gamma\n" by 2; new: "alpha " by 1, "delta epsilon " by 3.
    result = redline(old, new, [(6, 1), (11, 2)], [(6, 1), (14, 3), (6, 2)])
    marked = [(op["insert"], op.get("diff"), op.get("diff-author")) for op in result.ops]
    assert ("beta", "delete", 2) in marked
    assert any(kind == "insert" and author == 3 for _, kind, author in marked)
    summary = result.summary.as_json()
    assert summary["added_words"] == 2  # delta, epsilon
    assert summary["removed_words"] == 1  # beta
    assert {"id": 3, "added_words": 2, "removed_words": 0} in summary["by"]


def test_format_change_is_marked_with_old_formats() -> None:
    old = Delta([{"insert": "hello world\n"}])
    new = Delta(
        [
            {"insert": "hello "},
            {"insert": "world", "attributes": {"italic": True}},
            {"insert": "\n"},
        ]
    )
    result = redline(old, new)
    assert {
        "insert": "world",
        "attributes": {"italic": True},
        "diff": "format",
        "diff-old": {},
    } in result.ops
    assert result.summary.formatted == 5
    assert result.summary.added_words == result.summary.removed_words == 0


def test_only_others_leaves_the_readers_own_changes_unmarked() -> None:
    # "two t" or "o two"? The diff may align a deletion off the one made
    # (repeated letters): it deletes "wo t", which is still the reader's.
    old = Delta([{"insert": "one two three\n"}])
    # Reader 1 deletes "two ", then person 2 appends " four" before the newline.
    mine = Delta().retain(4).delete(4)
    theirs = Delta().retain(9).insert(" four")
    mid = old.compose(mine)
    new = mid.compose(theirs)
    new_runs = [(9, None), (5, 2), (1, None)]
    gone = deleters(old.length(), [(mine, 1), (theirs, 2)], budget=10_000)
    assert gone == [(4, None), (4, 1), (6, None)]
    result = redline(old, new, None, new_runs, only_others_than=1, deleted_by=gone)
    assert all(op.get("diff") != "delete" for op in result.ops), result.ops
    assert Delta([_strip(op) for op in result.ops]) == new
    assert [op["insert"] for op in result.ops if op.get("diff") == "insert"] == [" four"]
    # Without the filter the reader's deletion shows, credited to the reader.
    full = redline(old, new, None, new_runs, deleted_by=gone)
    assert [op["insert"] for op in full.ops if op.get("diff") == "delete"] == ["wo t"]
    assert [c.user for c in full.summary.by] == [1, 2]
    # Words are counted in what the diff marks ("wo", "t").
    assert full.summary.by[0].removed_words == 2


def test_deleters_gives_up_past_its_budget() -> None:
    change = Delta().retain(1).delete(1)
    assert deleters(10, [(change, 1)] * 50, budget=100) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [("", 0), ("one", 1), ("don’t stop", 2), ("a-b c", 3), ("😀 ok 42", 2), ("  \n", 0)],
)
def test_words(text: str, count: int) -> None:
    assert words(text) == count


def test_not_a_document_is_refused() -> None:
    with pytest.raises(ValueError, match="non-document"):
        redline(Delta().retain(1), Delta([{"insert": "\n"}]))


def test_authorship_as_a_hidden_format_replays_like_the_runs() -> None:
    """tag_authors + DocumentText + untag_authors == realtime.ot.authorship.apply, op by op."""
    seed = int(os.environ.get("COMPARE_SEED", random.randrange(1 << 30)))
    print(f"COMPARE_SEED={seed}")
    rng = random.Random(seed)
    for case in range(60):
        doc = ot_gen.document(rng)
        runs = authorship.initial(doc.length(), rng.choice([None, 1]))
        text = DocumentText.from_ops(compare_module.tag_authors(doc.ops, runs))
        for step in range(8):
            change = ot_gen.valid_change(rng, doc)
            author = rng.choice([1, 2, 3, None])
            inserted = sum(op_length(op) for op in change.ops if "insert" in op)
            attribution = None
            if inserted and rng.random() < 0.3:
                cut = rng.randint(0, inserted)
                attribution = [(n, who) for n, who in ((cut, 7), (inserted - cut, None)) if n]
            runs = authorship.apply(runs, change.ops, author, attribution)
            doc = doc.compose(change)
            text.apply(compare_module.tag_change(change.ops, author, attribution))
            content, got = compare_module.untag_authors(text.to_ops())
            where = f"seed={seed} case={case} step={step}"
            assert content == doc.ops, where
            assert got == runs, where


def _naive_deleters(old_length: int, changes: list[tuple[Delta, int | None]]) -> list:
    """Who deleted each old unit, one character at a time."""
    doc: list[int] = list(range(old_length))  # old index, or -1 for inserted
    who: list[int | None] = [None] * old_length
    for change, user in changes:
        out: list[int] = []
        at = 0
        for op in change.ops:
            if "retain" in op:
                out += doc[at : at + op["retain"]]
                at += op["retain"]
            elif "delete" in op:
                for origin in doc[at : at + op["delete"]]:
                    if origin >= 0:
                        who[origin] = user
                at += op["delete"]
            else:
                out += [-1] * op_length(op)
        doc = out + doc[at:]
    return who


def test_deleters_match_a_per_character_model() -> None:
    seed = int(os.environ.get("COMPARE_SEED", random.randrange(1 << 30)))
    print(f"COMPARE_SEED={seed}")
    rng = random.Random(seed)
    for case in range(80):
        doc = ot_gen.prose(rng)
        start = doc
        changes = []
        for _ in range(rng.randint(1, 12)):
            change = ot_gen.valid_change(rng, doc)
            changes.append((change, rng.choice([1, 2, None])))
            doc = doc.compose(change)
        runs = deleters(start.length(), changes, budget=1_000_000)
        assert runs is not None
        flat = [user for size, user in runs for _ in range(size)]
        assert flat == _naive_deleters(start.length(), changes), f"seed={seed} case={case}"
