"""Delta: quill-delta's semantics on hand-picked cases, UTF-16 and embeds.

The differential suite checks the same operations on random input against
the real quill-delta; these cases document the behaviour a reader needs.
"""

from __future__ import annotations

import json

import pytest

from realtime.ot import Delta, InvalidDelta, op_length, utf16_len
from realtime.ot.utf16 import from_units, join, to_units, utf16_slice

from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

BOLD = {"bold": True}


# UTF-16 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("a", 1),
        ("é", 1),
        ("e\u0301", 2),
        ("中文", 2),
        ("😀", 2),
        ("a😀", 3),
        ("👍🏽", 4),
        ("👨\u200d👩\u200d👧", 8),
        ("🇫🇷\n", 5),
    ],
)
def test_utf16_len_counts_code_units_like_javascript(text: str, length: int) -> None:
    assert utf16_len(text) == length


def test_astral_text_has_utf16_length() -> None:
    assert Delta().insert("a😀").length() == 3
    assert op_length({"insert": "a😀"}) == 3


def test_embed_has_length_one() -> None:
    delta = Delta().insert({"image": "https://example.com/a.png"}).insert("\n")
    assert delta.length() == 2
    assert op_length({"insert": {"formula": "x"}}) == 1


def test_code_unit_form_round_trips() -> None:
    text = "a😀b👍🏽\n"
    units = to_units(text)
    assert len(units) == utf16_len(text)
    assert from_units(units) == text


def test_utf16_slice_cuts_a_pair_into_lone_surrogates_as_javascript() -> None:
    assert utf16_slice("a😀b", 0, 2) == "a\ud83d"
    assert utf16_slice("a😀b", 2) == "\ude00b"
    assert utf16_slice("a😀b", 1, 3) == "😀"


def test_join_recombines_a_split_pair() -> None:
    assert join("a\ud83d", "\ude00b") == "a😀b"
    assert join("a", "b") == "ab"


# Building -------------------------------------------------------------------


def test_push_merges_like_quill() -> None:
    delta = Delta().insert("a").insert("b").retain(1).retain(2).delete(1).delete(2)
    assert delta.ops == [{"insert": "ab"}, {"retain": 3}, {"delete": 3}]


def test_push_keeps_different_attributes_apart() -> None:
    delta = Delta().insert("a", BOLD).insert("b").insert("c", BOLD)
    assert delta.ops == [
        {"insert": "a", "attributes": BOLD},
        {"insert": "b"},
        {"insert": "c", "attributes": BOLD},
    ]


def test_push_puts_insert_before_delete() -> None:
    assert Delta().retain(1).delete(2).insert("x").ops == [
        {"retain": 1},
        {"insert": "x"},
        {"delete": 2},
    ]
    assert Delta().delete(2).insert("x").ops == [{"insert": "x"}, {"delete": 2}]
    assert Delta().insert("a").delete(1).insert("b").ops == [{"insert": "ab"}, {"delete": 1}]


def test_push_never_merges_embeds() -> None:
    delta = Delta().insert({"image": "a"}).insert({"image": "a"})
    assert len(delta.ops) == 2


def test_true_is_not_one_when_merging() -> None:
    delta = Delta().insert("a", {"bold": True}).insert("b", {"bold": 1})
    assert len(delta.ops) == 2
    assert Delta().insert("a", {"size": 1}).insert("b", {"size": 1.0}).ops == [
        {"insert": "ab", "attributes": {"size": 1.0}}
    ]


def test_constructor_normalises_and_drops_empty_ops() -> None:
    delta = Delta(
        [
            {"insert": ""},
            {"retain": 0},
            {"delete": 0},
            {"insert": "a", "attributes": {}},
            {"insert": "b"},
        ]
    )
    assert delta.ops == [{"insert": "ab"}]


def test_constructor_refuses_object_retain() -> None:
    with pytest.raises(InvalidDelta):
        Delta([{"retain": {"image": "a"}}])


def test_equality_follows_lodash_is_equal() -> None:
    assert Delta().insert("a", {"x": True}) != Delta().insert("a", {"x": 1})
    assert Delta().insert("a", {"x": 1}) == Delta().insert("a", {"x": 1.0})
    assert Delta().insert("a") == Delta([{"insert": "a"}])


def test_to_json_is_a_safe_copy() -> None:
    delta = Delta().insert("a", BOLD)
    out = delta.to_json()
    out[0]["attributes"]["bold"] = False
    assert delta.ops == [{"insert": "a", "attributes": {"bold": True}}]
    assert json.loads(json.dumps(out)) == out


def test_length_and_change_length() -> None:
    change = Delta().retain(3).insert("😀").delete(4).retain(2, BOLD)
    assert change.length() == 3 + 2 + 4 + 2
    assert change.change_length() == 2 - 4


# Compose ----------------------------------------------------------------------


def test_compose_insert_then_retain_with_attributes() -> None:
    a = Delta().insert("A")
    b = Delta().retain(1, {"bold": True, "color": "red", "font": None})
    assert a.compose(b) == Delta().insert("A", {"bold": True, "color": "red"})


def test_compose_retain_keeps_null_to_remove_later() -> None:
    a = Delta().retain(1, {"color": "blue"})
    b = Delta().retain(1, {"bold": True, "color": None})
    assert a.compose(b) == Delta().retain(1, {"bold": True, "color": None})


def test_compose_insert_then_delete_cancels() -> None:
    assert Delta().insert("A").compose(Delta().delete(1)) == Delta()


def test_compose_delete_then_insert() -> None:
    assert Delta().delete(1).compose(Delta().insert("B")) == Delta().insert("B").delete(1)


def test_compose_into_document() -> None:
    doc = Delta().insert("Hello\n")
    change = Delta().retain(5).insert(" world").retain(1, {"header": 1})
    assert doc.compose(change) == Delta().insert("Hello world").insert("\n", {"header": 1})


def test_compose_astral_positions() -> None:
    doc = Delta().insert("a😀b\n")
    assert doc.compose(Delta().retain(3).insert("X")) == Delta().insert("a😀Xb\n")
    assert doc.compose(Delta().retain(1).delete(2)) == Delta().insert("ab\n")


# Transform ------------------------------------------------------------------


def test_transform_insert_tie_follows_priority() -> None:
    a = Delta().insert("A")
    b = Delta().insert("B")
    assert a.transform(b, True) == Delta().retain(1).insert("B")
    assert a.transform(b, False) == Delta().insert("B")


def test_transform_delete_against_delete() -> None:
    a = Delta().retain(1).delete(2)
    b = Delta().retain(2).delete(2)
    assert a.transform(b, True) == Delta().retain(1).delete(1)


def test_transform_attributes_priority() -> None:
    a = Delta().retain(1, {"bold": True, "color": "red"})
    b = Delta().retain(1, {"bold": False, "italic": True})
    assert a.transform(b, True) == Delta().retain(1, {"italic": True})
    assert a.transform(b, False) == b


def test_transform_converges() -> None:
    doc = Delta().insert("abc\n")
    a = Delta().retain(1).insert("X").delete(1)
    b = Delta().retain(2).insert("Y", BOLD)
    left = doc.compose(a).compose(a.transform(b, True))
    right = doc.compose(b).compose(b.transform(a, False))
    assert left == right == Delta().insert("aX").insert("Y", BOLD).insert("c\n")


def test_transform_position() -> None:
    change = Delta().retain(2).insert("xyz").delete(2)
    assert change.transform_position(1) == 1
    assert change.transform_position(2) == 5
    assert change.transform_position(2, True) == 2
    assert change.transform_position(3) == 5
    assert change.transform_position(6) == 7


# Invert, diff, slice, concat ------------------------------------------------


def test_invert_undoes_a_change() -> None:
    base = Delta().insert("Hello", BOLD).insert(" 😀 world\n")
    change = Delta().retain(2).delete(5).insert("Z").retain(3, {"bold": None, "color": "red"})
    inverse = change.invert(base)
    assert base.compose(change).compose(inverse) == base


def test_diff_of_documents() -> None:
    a = Delta().insert("Hello world\n")
    b = Delta().insert("Hello brave world\n")
    assert a.diff(b) == Delta().retain(6).insert("brave ")
    assert a.diff(a) == Delta()


def test_diff_of_attributes_and_embeds() -> None:
    a = Delta().insert("ab").insert({"image": "x"}).insert("\n")
    b = Delta().insert("a").insert("b", BOLD).insert({"image": "y"}).insert("\n")
    assert a.diff(b) == Delta().retain(1).retain(1, BOLD).insert({"image": "y"}).delete(1)
    assert a.compose(a.diff(b)) == b


def test_diff_refuses_non_documents() -> None:
    with pytest.raises(ValueError, match="diff\\(\\) called with non-document"):
        Delta().retain(1).diff(Delta().insert("a"))
    with pytest.raises(ValueError, match="diff\\(\\) called on non-document"):
        Delta().insert("a").diff(Delta().retain(1))


def test_slice_by_utf16_index() -> None:
    doc = Delta().insert("a😀", BOLD).insert({"image": "x"}).insert("b\n")
    assert doc.slice(1, 4) == Delta().insert("😀", BOLD).insert({"image": "x"})
    assert doc.slice(2) == Delta().insert("\ude00", BOLD).insert({"image": "x"}).insert("b\n")


def test_concat_merges_at_the_seam() -> None:
    assert Delta().insert("a").concat(Delta().insert("b").retain(1)) == Delta(
        [{"insert": "ab"}, {"retain": 1}]
    )
