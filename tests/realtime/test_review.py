"""Review marks, pure: parsing, deciding, uncommenting, read-outs.

The property tests search random documents with suggestion marks of
several authors (``review_gen``) for a case where deciding leaves a
selected suggestion behind, produces an invalid change, deletes the final
newline, or touches a suggestion that was not selected.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.ot import Delta, DocumentText, parse_change
from realtime.ot.review import (
    REVIEW_ATTRIBUTES,
    Mark,
    decide,
    parse_format_suggestion,
    parse_mark,
    suggestions,
    uncomment,
    without_review,
)

from . import review_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
rngs = st.randoms(use_true_random=False)

A = "7:lx3k9a1:aaaa"  # by user 7
B = "42:lx3k9b2:bbbb"  # by user 42


def _doc(*ops: dict[str, Any]) -> Delta:
    return Delta([*ops, {"insert": "\n"}])


def _apply(doc: Delta, change: Delta) -> Delta:
    """Apply ``change`` as the authority would: checked, then composed."""
    text = DocumentText.from_ops(doc.ops)
    text.apply(change)
    return text.to_delta()


def _marks(doc: Delta) -> set[str]:
    """Return every suggestion mark the document holds."""
    found = set()
    for op in doc.ops:
        for name in ("suggest-insert", "suggest-delete"):
            value = (op.get("attributes") or {}).get(name)
            if value:
                found.add(value)
        proposal = parse_format_suggestion((op.get("attributes") or {}).get("suggest-format"))
        if proposal:
            found.add(proposal[0].raw)
    return found


# -- Marks --------------------------------------------------------------------


def test_parse_mark_reads_author_and_time() -> None:
    assert parse_mark("42:lx3k9a1:ab12") == Mark("42:lx3k9a1:ab12", 42, int("lx3k9a1", 36))
    for bad in ("0:1:abcd", "42:1:abc", "42:1", "x:1:abcd", "42:1:abcd ", 42, None):
        assert parse_mark(bad) is None, bad


def test_parse_format_suggestion_returns_the_proposal() -> None:
    parsed = parse_format_suggestion('42:1:abcd|{"bold":true,"header":null}')
    assert parsed is not None
    assert parsed[0].author == 42
    assert parsed[1] == {"bold": True, "header": None}
    assert parse_format_suggestion('42:1:abcd|{"bold":"yes"}') is None
    assert parse_format_suggestion("42:1:abcd|{}") is None


def test_review_attributes_are_schema_formats_on_any_content() -> None:
    assert REVIEW_ATTRIBUTES == ("suggest-insert", "suggest-delete", "suggest-format", "comment")
    change = parse_change(
        [
            {"insert": "x", "attributes": {"suggest-insert": A, "comment": "abcdefghij"}},
            {"insert": {"image": "/media/a.png"}, "attributes": {"suggest-delete": A}},
            {"insert": "\n", "attributes": {"suggest-format": A + '|{"header":1}'}},
        ]
    )
    assert len(change.ops) == 3


# -- decide ------------------------------------------------------------------


def test_accepting_an_insertion_keeps_the_text_and_drops_the_mark() -> None:
    doc = _doc({"insert": "ab"}, {"insert": "XY", "attributes": {"suggest-insert": A}})
    change = decide(doc, accept=True, select=lambda m: True)
    assert change == Delta().retain(2).retain(2, {"suggest-insert": None})
    assert _apply(doc, change) == _doc({"insert": "abXY"})


def test_rejecting_an_insertion_deletes_it() -> None:
    doc = _doc({"insert": "ab"}, {"insert": "XY", "attributes": {"suggest-insert": A}})
    assert _apply(doc, decide(doc, accept=False, select=lambda m: True)) == _doc({"insert": "ab"})


def test_accepting_a_deletion_deletes_and_rejecting_keeps() -> None:
    doc = _doc({"insert": "ab", "attributes": {"suggest-delete": A, "bold": True}}, {"insert": "c"})
    assert _apply(doc, decide(doc, accept=True, select=lambda m: True)) == _doc({"insert": "c"})
    assert _apply(doc, decide(doc, accept=False, select=lambda m: True)) == _doc(
        {"insert": "ab", "attributes": {"bold": True}}, {"insert": "c"}
    )


def test_accepting_a_format_applies_it_rejecting_drops_it() -> None:
    proposal = A + '|{"bold":true,"italic":null}'
    doc = _doc({"insert": "ab", "attributes": {"suggest-format": proposal, "italic": True}})
    assert _apply(doc, decide(doc, accept=True, select=lambda m: True)) == _doc(
        {"insert": "ab", "attributes": {"bold": True}}
    )
    assert _apply(doc, decide(doc, accept=False, select=lambda m: True)) == _doc(
        {"insert": "ab", "attributes": {"italic": True}}
    )


def test_only_selected_marks_are_decided() -> None:
    doc = _doc(
        {"insert": "a", "attributes": {"suggest-insert": A}},
        {"insert": "b", "attributes": {"suggest-insert": B}},
    )
    by_42 = decide(doc, accept=False, select=lambda m: m.author == 42)
    assert _apply(doc, by_42) == _doc({"insert": "a", "attributes": {"suggest-insert": A}})
    assert decide(doc, accept=True, select=lambda m: m.raw == "nope") == Delta()


def test_deletion_wins_over_keeping() -> None:
    # B suggests deleting text A suggested inserting: accepting both deletes it.
    doc = _doc({"insert": "x", "attributes": {"suggest-insert": A, "suggest-delete": B}})
    assert _apply(doc, decide(doc, accept=True, select=lambda m: True)) == _doc()


def test_the_final_newline_is_never_deleted() -> None:
    doc = Delta([{"insert": "ab\n", "attributes": {"suggest-insert": A, "header": 1}}])
    change = decide(doc, accept=False, select=lambda m: True)
    assert _apply(doc, change) == Delta([{"insert": "\n", "attributes": {"header": 1}}])


def _check_decide(rng: random.Random, accept: bool) -> None:
    doc = review_gen.document(rng)
    marks = sorted(_marks(doc))
    chosen = set(rng.sample(marks, rng.randint(0, len(marks)))) if marks else set()
    change = decide(doc, accept=accept, select=lambda m: m.raw in chosen)
    # A valid change for this content (reach, final newline), schema-clean.
    parse_change(change.to_json())
    after = _apply(doc, change)
    assert after.ops[-1]["insert"][-1:] == "\n"
    # Nothing chosen is left, nothing else was touched.
    assert not (_marks(after) & chosen)
    untouched = set().union(
        *(_marks(Delta([op])) for op in doc.ops if not (_marks(Delta([op])) & chosen))
    )
    assert untouched <= _marks(after) <= _marks(doc) - chosen
    assert decide(after, accept=not accept, select=lambda m: m.raw in chosen) == Delta()
    if not chosen:
        assert change == Delta()


@SETTINGS
@given(rngs)
def test_accepting_leaves_nothing_to_reject(rng: random.Random) -> None:
    _check_decide(rng, accept=True)


@SETTINGS
@given(rngs)
def test_rejecting_leaves_nothing_to_accept(rng: random.Random) -> None:
    _check_decide(rng, accept=False)


@SETTINGS
@given(rngs)
def test_rejecting_everything_equals_the_accepted_export(rng: random.Random) -> None:
    doc = review_gen.document(rng)
    rejected = _apply(doc, decide(doc, accept=False, select=lambda m: True))
    assert without_review(rejected, suggestions="markup") == without_review(
        doc, suggestions="accepted"
    )


# -- uncomment -----------------------------------------------------------------


def test_uncomment_removes_only_the_named_threads() -> None:
    doc = _doc(
        {"insert": "a", "attributes": {"comment": "abcdefghij kkkkkkkkkk"}},
        {"insert": "b", "attributes": {"comment": "abcdefghij"}},
        {"insert": "c", "attributes": {"comment": "llllllllll"}},
    )
    after = _apply(doc, uncomment(doc, ["abcdefghij"]))
    assert after == _doc(
        {"insert": "a", "attributes": {"comment": "kkkkkkkkkk"}},
        {"insert": "b"},
        {"insert": "c", "attributes": {"comment": "llllllllll"}},
    )
    assert uncomment(after, ["abcdefghij"]) == Delta()


# -- read-outs -----------------------------------------------------------------


def test_suggestions_lists_each_mark_and_kind_in_order() -> None:
    doc = _doc(
        {"insert": "ab"},
        {"insert": "cd", "attributes": {"suggest-delete": A}},
        {"insert": "EF", "attributes": {"suggest-insert": A}},
        {"insert": "g"},
        {"insert": "hi", "attributes": {"suggest-format": B + '|{"bold":true}'}},
        {"insert": "j", "attributes": {"suggest-delete": A}},
    )
    found = [item.as_json() for item in suggestions(doc)]
    assert found == [
        {
            "id": A,
            "kind": "delete",
            "author": 7,
            "at_ms": int("lx3k9a1", 36),
            "index": 2,
            "length": 8,  # cd ... j: one suggestion across others' text
            "text": "cdj",
            "formats": None,
        },
        {
            "id": A,
            "kind": "insert",
            "author": 7,
            "at_ms": int("lx3k9a1", 36),
            "index": 4,
            "length": 2,
            "text": "EF",
            "formats": None,
        },
        {
            "id": B,
            "kind": "format",
            "author": 42,
            "at_ms": int("lx3k9b2", 36),
            "index": 7,
            "length": 2,
            "text": "hi",
            "formats": {"bold": True},
        },
    ]


def test_suggestion_preview_is_capped() -> None:
    doc = _doc({"insert": "x" * 5000, "attributes": {"suggest-insert": A}})
    (item,) = suggestions(doc)
    assert item.length == 5000
    assert item.text == "x" * 200


def test_without_review_accepted_and_markup() -> None:
    doc = _doc(
        {"insert": "keep", "attributes": {"comment": "abcdefghij", "bold": True}},
        {"insert": "new", "attributes": {"suggest-insert": A}},
        {"insert": "old", "attributes": {"suggest-delete": B}},
        {"insert": "fmt", "attributes": {"suggest-format": A + '|{"bold":true}'}},
    )
    assert without_review(doc, suggestions="accepted") == [
        {"insert": "keep", "attributes": {"bold": True}},
        {"insert": "oldfmt\n"},
    ]
    assert without_review(doc, suggestions="markup") == [
        {"insert": "keep", "attributes": {"bold": True}},
        {"insert": "new", "attributes": {"suggest-insert": A}},
        {"insert": "old", "attributes": {"suggest-delete": B}},
        {"insert": "fmt", "attributes": {"suggest-format": A + '|{"bold":true}'}},
        {"insert": "\n"},
    ]
    with pytest.raises(ValueError, match="accepted"):
        without_review(doc, suggestions="all")  # type: ignore[arg-type]  # the refusal is tested
