"""parse_change: every way an untrusted change is refused, and what passes."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from realtime.ot import Delta, InvalidDelta, parse_change

from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)


def refused(raw: Any) -> str:
    """Return the InvalidDelta message for ``raw``, failing if it passes."""
    with pytest.raises(InvalidDelta) as info:
        parse_change(raw)
    return str(info.value)


# The change itself ----------------------------------------------------------


@pytest.mark.parametrize("raw", [{"ops": []}, "[]", None, 3, ({"insert": "a"},)])
def test_not_a_list_is_refused(raw: Any) -> None:
    assert "must be a list" in refused(raw)


def test_empty_list_is_a_no_op() -> None:
    assert parse_change([]) == Delta()


@pytest.mark.parametrize("op", ["insert", 3, None, ["insert", "a"], True])
def test_op_not_an_object_is_refused(op: Any) -> None:
    assert refused([{"retain": 1}, op]).startswith("op 1: must be an object")


def test_error_names_the_op_index() -> None:
    message = refused([{"retain": 1}, {"insert": "a"}, {"delete": 0}])
    assert message.startswith("op 2: ")


# Keys and actions -----------------------------------------------------------


@pytest.mark.parametrize("key", ["foo", "Insert", "attribute", "id"])
def test_unknown_key_is_refused(key: str) -> None:
    assert refused([{"insert": "a", key: 1}]) == f"op 0: unknown key {key!r}"


def test_op_without_action_is_refused() -> None:
    assert "needs one of insert, retain or delete" in refused([{}])
    assert "needs one of" in refused([{"attributes": {"bold": True}}])


@pytest.mark.parametrize(
    "op",
    [
        {"insert": "a", "retain": 1},
        {"retain": 1, "delete": 1},
        {"insert": "a", "delete": 1},
        {"insert": "a", "retain": 1, "delete": 1},
    ],
)
def test_two_actions_in_one_op_are_refused(op: dict[str, Any]) -> None:
    assert "more than one action" in refused([op])


# Inserts --------------------------------------------------------------------


def test_empty_insert_is_refused() -> None:
    assert refused([{"insert": ""}]) == "op 0: insert of an empty string"


@pytest.mark.parametrize("value", [3, None, True, ["a"], 1.5])
def test_insert_of_non_string_non_embed_is_refused(value: Any) -> None:
    assert "insert must be a string or an embed" in refused([{"insert": value}])


def test_embed_without_keys_is_refused() -> None:
    assert "exactly one key, got 0" in refused([{"insert": {}}])


def test_embed_with_two_keys_is_refused() -> None:
    assert "exactly one key, got 2" in refused([{"insert": {"image": "a", "b": 1}}])


def test_embed_with_nested_value_is_refused() -> None:
    # Accepted before the content schema (issue 9): an embed value is now a
    # string, its source.
    message = refused([{"insert": {"image": {"src": "v", "size": [1, 2.5, None, True]}}}])
    assert message == "op 0: embed 'image' must be a string, got an object"


def test_embed_with_non_string_value_is_refused() -> None:
    assert "must be a string, got (1, 2)" in refused([{"insert": {"image": (1, 2)}}])
    assert "must be a string, got an object" in refused([{"insert": {"image": {"w": math.nan}}}])


# Counts ---------------------------------------------------------------------


@pytest.mark.parametrize("action", ["retain", "delete"])
@pytest.mark.parametrize("count", [0, -1, -100])
def test_non_positive_count_is_refused(action: str, count: int) -> None:
    assert f"{action} must be a positive integer, got {count}" in refused([{action: count}])


@pytest.mark.parametrize("action", ["retain", "delete"])
@pytest.mark.parametrize("count", [1.0, 2.5, "1", None, [1]])
def test_non_integer_count_is_refused_including_one_point_zero(action: str, count: Any) -> None:
    assert f"{action} must be a positive integer" in refused([{action: count}])


@pytest.mark.parametrize("action", ["retain", "delete"])
def test_boolean_count_is_refused(action: str) -> None:
    assert f"{action} must be a positive integer, got True" in refused([{action: True}])


def test_count_from_json_one_point_zero_is_refused() -> None:
    assert "got 1.0" in refused(json.loads('[{"retain": 1.0}]'))


def test_object_retain_is_refused() -> None:
    message = refused([{"retain": {"image": "x"}}])
    assert message == "op 0: retain of an object (embed change) is not supported"


# Attributes -----------------------------------------------------------------


def test_null_attributes_are_refused() -> None:
    assert "attributes must be an object, got None" in refused(
        [{"insert": "a", "attributes": None}]
    )


@pytest.mark.parametrize("value", [[], "bold", 1, True])
def test_non_object_attributes_are_refused(value: Any) -> None:
    assert "attributes must be an object" in refused([{"retain": 1, "attributes": value}])


def test_attributes_on_delete_are_refused() -> None:
    assert refused([{"delete": 1, "attributes": {"bold": True}}]) == (
        "op 0: attributes are not allowed on a delete"
    )
    assert "not allowed on a delete" in refused([{"delete": 1, "attributes": {}}])


def test_null_attribute_value_on_insert_is_refused() -> None:
    assert refused([{"insert": "a", "attributes": {"bold": None}}]) == (
        "op 0: attribute 'bold' is null on an insert"
    )


def test_null_attribute_value_on_retain_removes_and_passes() -> None:
    change = parse_change([{"retain": 2, "attributes": {"bold": None}}])
    assert change.ops == [{"retain": 2, "attributes": {"bold": None}}]


@pytest.mark.parametrize(
    ("value", "shown"), [({"a": 1}, "an object"), ([1], "an array"), (["red"], "an array")]
)
def test_object_or_list_attribute_value_is_refused(value: Any, shown: str) -> None:
    assert refused([{"retain": 1, "attributes": {"color": value}}]) == (
        f"op 0: attribute 'color' must be #rrggbb, got {shown}"
    )


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_attribute_value_is_refused(value: float) -> None:
    assert "attribute 'header' must be one of 1, 2, 3" in refused(
        [{"retain": 1, "attributes": {"header": value}}]
    )


def test_string_number_and_boolean_attribute_values_pass() -> None:
    attrs = {"bold": True, "italic": False, "color": "#ff0000", "link": "https://a.example/"}
    change = parse_change([{"insert": "a", "attributes": attrs}])
    assert change.ops == [{"insert": "a", "attributes": attrs}]
    line = parse_change([{"insert": "\n", "attributes": {"header": 2, "list": "bullet"}}])
    assert line.ops == [{"insert": "\n", "attributes": {"header": 2, "list": "bullet"}}]


def test_empty_attributes_mean_none() -> None:
    assert parse_change([{"insert": "a", "attributes": {}}]).ops == [{"insert": "a"}]
    assert parse_change([{"retain": 3, "attributes": {}}]).ops == [{"retain": 3}]


def test_non_string_attribute_name_is_refused() -> None:
    assert "is not a string" in refused([{"retain": 1, "attributes": {1: True}}])


# Strings --------------------------------------------------------------------

LONE = ["\ud800", "\udfff", "a\ud83d", "\ude00b"]


@pytest.mark.parametrize("text", LONE)
def test_lone_surrogate_in_text_is_refused(text: str) -> None:
    assert "inserted text contains a lone surrogate" in refused([{"insert": text}])


def test_lone_surrogate_from_json_escape_is_refused() -> None:
    raw = json.loads('[{"insert": "a\\ud83d"}]')
    assert "lone surrogate U+D83D" in refused(raw)


def test_escaped_surrogate_pair_from_json_passes() -> None:
    change = parse_change(json.loads('[{"insert": "a\\ud83d\\ude00"}]'))
    assert change.ops == [{"insert": "a😀"}]
    assert change.length() == 3


@pytest.mark.parametrize("text", LONE)
def test_lone_surrogate_in_attribute_value_is_refused(text: str) -> None:
    assert "attribute 'link' contains a lone surrogate" in refused(
        [{"retain": 1, "attributes": {"link": "https://a.example/" + text}}]
    )


def test_lone_surrogate_in_attribute_name_is_refused() -> None:
    assert "unknown attribute 'b\\ud800'" in refused(
        [{"retain": 1, "attributes": {"b\ud800": True}}]
    )


def test_lone_surrogate_in_embed_is_refused() -> None:
    assert "embed 'image' must be a path under /media/" in refused(
        [{"insert": {"image": "\udc00"}}]
    )
    assert "unknown embed type '\\ud800'" in refused([{"insert": {"\ud800": "x"}}])
    assert "embed 'image' must be a path" in refused([{"insert": {"image": "/media/\ud800.png"}}])


def test_nul_character_is_refused_everywhere() -> None:
    assert "contains U+0000" in refused([{"insert": "a\x00b"}])
    assert "contains U+0000" in refused([{"insert": "é\x00"}])
    assert "must not contain control characters" in refused(
        [{"retain": 1, "attributes": {"link": "https://a/\x00"}}]
    )
    assert "must match" in refused(
        [{"insert": {"image": "/media/a.png"}, "attributes": {"alt": "a\x00"}}]
    )
    assert "must be a path under" in refused([{"insert": {"image": "/media/a\x00"}}])


# What comes out ---------------------------------------------------------------


def test_valid_change_is_normalised_like_quill_push() -> None:
    change = parse_change(
        [
            {"retain": 1},
            {"retain": 2},
            {"delete": 1},
            {"insert": "a"},
            {"insert": "b", "attributes": {}},
            {"delete": 2},
        ]
    )
    assert change.ops == [{"retain": 3}, {"insert": "ab"}, {"delete": 3}]


def test_parsed_change_does_not_alias_the_input() -> None:
    raw = [{"insert": "a", "attributes": {"bold": True}}]
    change = parse_change(raw)
    raw[0]["attributes"]["bold"] = False
    assert change.ops == [{"insert": "a", "attributes": {"bold": True}}]
