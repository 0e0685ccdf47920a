"""DocumentText: checked, atomic, fast application of changes."""

from __future__ import annotations

import os
import random

import pytest

from realtime.ot import Delta, DocumentText, DocumentTooLarge, InvalidDelta, parse_change

from . import ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

BOLD = {"bold": True}


def doc_of(*ops: dict) -> DocumentText:
    """Return a document built from ops."""
    return DocumentText.from_ops(list(ops))


def refused(doc: DocumentText, raw: list) -> str:
    """Apply ``raw`` expecting a refusal; check nothing changed; return it."""
    before = doc.to_ops()
    with pytest.raises(InvalidDelta) as info:
        doc.apply(parse_change(raw))
    assert doc.to_ops() == before
    return str(info.value)


# Building and reading ---------------------------------------------------------


def test_new_document_is_a_newline() -> None:
    doc = DocumentText()
    assert doc.length == 1
    assert doc.to_ops() == [{"insert": "\n"}]


def test_lengths_are_utf16_and_embeds_count_one() -> None:
    doc = doc_of({"insert": "a😀"}, {"insert": {"image": "x"}}, {"insert": "\n"})
    assert doc.length == 5
    assert doc.text() == "a😀\ufffc\n"


@pytest.mark.parametrize(
    "ops",
    [
        [],
        [{"insert": "abc"}],
        [{"insert": "a\n"}, {"insert": {"image": "x"}}],
        [{"retain": 1}, {"insert": "\n"}],
        [{"insert": "a\n"}, {"delete": 1}],
        [{"insert": 3}],
        [{"insert": "\n", "attributes": ["bold"]}],
    ],
)
def test_from_ops_refuses_what_is_not_a_document(ops: list) -> None:
    with pytest.raises(InvalidDelta):
        DocumentText.from_ops(ops)


def test_to_ops_merges_like_quill() -> None:
    doc = doc_of(
        {"insert": "ab", "attributes": BOLD},
        {"insert": "c", "attributes": BOLD},
        {"insert": "d"},
        {"insert": "\n"},
    )
    assert doc.to_ops() == [{"insert": "abc", "attributes": BOLD}, {"insert": "d\n"}]


def test_slice_and_copy() -> None:
    doc = doc_of({"insert": "ab😀", "attributes": BOLD}, {"insert": "cd\n"})
    assert doc.slice(1, 5) == [{"insert": "b😀", "attributes": BOLD}, {"insert": "c"}]
    copy = doc.copy()
    copy.apply(Delta().insert("X"))
    assert doc.to_ops()[0] == {"insert": "ab😀", "attributes": BOLD}
    assert copy.to_ops()[0] == {"insert": "X"}


def test_to_ops_is_a_safe_copy() -> None:
    doc = doc_of({"insert": "a", "attributes": {"bold": True}}, {"insert": "\n"})
    doc.to_ops()[0]["attributes"]["bold"] = False
    assert doc.to_ops()[0]["attributes"] == {"bold": True}


# Applying -------------------------------------------------------------------


def test_apply_equals_compose() -> None:
    doc = doc_of({"insert": "Hello world\n"})
    change = parse_change(
        [
            {"retain": 6, "attributes": {"bold": True}},
            {"delete": 5},
            {"insert": "😀"},
            {"retain": 1, "attributes": {"header": 1}},
        ]
    )
    expected = Delta(doc.to_ops()).compose(change)
    doc.apply(change)
    assert doc.to_ops() == expected.ops
    assert doc.length == expected.length()


def test_retaining_the_final_newline_to_format_it_is_fine() -> None:
    doc = doc_of({"insert": "a\n"})
    doc.apply(parse_change([{"retain": 2, "attributes": {"header": 2}}]))
    assert doc.to_ops() == [{"insert": "a\n", "attributes": {"header": 2}}]


def test_formatting_the_last_line() -> None:
    doc = doc_of({"insert": "a\n"})
    doc.apply(parse_change([{"retain": 1}, {"retain": 1, "attributes": {"header": 2}}]))
    assert doc.to_ops() == [{"insert": "a"}, {"insert": "\n", "attributes": {"header": 2}}]


def test_null_attribute_removes_formatting() -> None:
    doc = doc_of({"insert": "ab", "attributes": {"bold": True, "color": "red"}}, {"insert": "\n"})
    doc.apply(parse_change([{"retain": 1, "attributes": {"bold": None}}]))
    assert doc.to_ops() == [
        {"insert": "a", "attributes": {"color": "red"}},
        {"insert": "b", "attributes": {"bold": True, "color": "red"}},
        {"insert": "\n"},
    ]


def test_change_reaching_past_the_end_is_refused() -> None:
    doc = doc_of({"insert": "abc\n"})
    assert "past the end" in refused(doc, [{"retain": 5}])
    assert "past the end" in refused(doc, [{"retain": 2}, {"delete": 3}])


def test_deleting_the_final_newline_is_refused() -> None:
    doc = doc_of({"insert": "abc\n"})
    assert "deletes the final newline" in refused(doc, [{"retain": 3}, {"delete": 1}])
    assert "deletes the final newline" in refused(doc, [{"delete": 4}])


def test_inserting_after_the_final_newline_is_refused() -> None:
    doc = doc_of({"insert": "abc\n"})
    assert "after the final newline" in refused(doc, [{"retain": 4}, {"insert": "x"}])


def test_inserting_before_the_final_newline_is_fine() -> None:
    doc = doc_of({"insert": "abc\n"})
    doc.apply(parse_change([{"retain": 3}, {"insert": "x"}]))
    assert doc.to_ops() == [{"insert": "abcx\n"}]


@pytest.mark.parametrize(
    "raw",
    [
        [{"retain": 2}, {"insert": "x"}],
        [{"retain": 2, "attributes": {"bold": True}}],
        [{"retain": 1}, {"delete": 1}],
        [{"retain": 2}, {"delete": 1}],
        [{"delete": 2}],
    ],
)
def test_boundary_inside_a_surrogate_pair_is_refused(raw: list) -> None:
    doc = doc_of({"insert": "a😀b\n"})
    assert "surrogate pair" in refused(doc, raw)


def test_boundaries_around_a_surrogate_pair_are_fine() -> None:
    doc = doc_of({"insert": "a😀b\n"})
    doc.apply(parse_change([{"retain": 1}, {"delete": 2}, {"insert": "👍"}]))
    assert doc.to_ops() == [{"insert": "a👍b\n"}]


def test_refusal_is_atomic_even_late_in_the_change() -> None:
    doc = doc_of({"insert": "abc\n"})
    raw = [{"insert": "x"}, {"retain": 1, "attributes": BOLD}, {"delete": 1}, {"retain": 9}]
    assert refused(doc, raw).startswith("op 3:")


def test_document_too_large_is_a_distinct_invalid_delta() -> None:
    doc = doc_of({"insert": "abc\n"})
    with pytest.raises(DocumentTooLarge):
        doc.apply(parse_change([{"insert": "xy"}]), max_length=5)
    assert issubclass(DocumentTooLarge, InvalidDelta)
    assert doc.length == 4
    doc.apply(parse_change([{"insert": "x"}]), max_length=5)
    assert doc.length == 5


def test_empty_change_is_a_no_op() -> None:
    doc = doc_of({"insert": "abc\n"})
    doc.apply(Delta())
    assert doc.to_ops() == [{"insert": "abc\n"}]


# Structure under load ---------------------------------------------------------


def _big_document(rng: random.Random, runs: int) -> Delta:
    """Return a document of ``runs`` alternating runs and a long last line."""
    ops = []
    for index in range(runs):
        text = ot_gen.text(rng, 12) * rng.randint(1, 3)
        ops.append(
            {"insert": text, "attributes": {"bold": True}} if index % 2 else {"insert": text}
        )
    ops.append({"insert": "x" * 3000 + "\n"})
    return Delta(ops)


def _wide_change(rng: random.Random, doc: Delta) -> Delta:
    """Return a valid change with long inserts and block-spanning ranges."""
    units = ot_gen.units_of(doc)
    length = len(units)
    start = rng.randint(0, length - 1)
    while ot_gen._splits(units, start):
        start -= 1
    end = min(length - 1, start + rng.randint(1, 5000))
    while ot_gen._splits(units, end):
        end -= 1
    change = Delta().retain(start)
    kind = rng.random()
    if kind < 0.3 and end > start:
        return change.delete(end - start)
    if kind < 0.6 and end > start:
        return change.retain(end - start, ot_gen.attributes(rng, nulls=True) or {"italic": True})
    if kind < 0.8:
        return change.insert("long " * rng.randint(1, 700), rng.choice([None, BOLD]))
    return ot_gen.valid_change(rng, doc)


def test_random_edits_on_a_large_document_match_compose() -> None:
    seed = int(os.environ.get("OT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"seed={seed}")
    rng = random.Random(seed)
    expected = _big_document(rng, 600)
    doc = DocumentText.from_ops(expected.ops)
    assert len(doc._blocks) > 4  # The edits cross, split and merge blocks.
    for step in range(300):
        change = (
            _wide_change(rng, expected) if step % 3 == 0 else ot_gen.valid_change(rng, expected)
        )
        expected = expected.compose(change)
        doc.apply(change)
        assert doc.length == expected.length(), f"seed={seed} step={step}"
        if step % 10 == 0:
            assert doc.to_ops() == expected.ops, f"seed={seed} step={step}"
            start = rng.randint(0, doc.length)
            end = rng.randint(start, doc.length + 3)
            assert Delta(doc.slice(start, end)) == expected.slice(start, end), (
                f"seed={seed} step={step} slice({start}, {end})"
            )
    assert doc.to_ops() == expected.ops, f"seed={seed}"
    assert doc.text() == "".join(
        op["insert"] if isinstance(op["insert"], str) else "\ufffc" for op in expected.ops
    )
