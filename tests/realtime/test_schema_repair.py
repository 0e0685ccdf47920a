"""Legacy content: repair_change brings it inside the schema; deep JSON reads back.

Pure tests (no Django): the repair of every kind of outside content, that
the repair itself passes ``parse_change`` and applies to the document it was
made for, and that nothing is touched inside the schema.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import pytest

from documents.deepjson import DEEP_LIMIT, DeepJSONDecoder, DeepJSONEncoder, call_deep
from realtime.ot import DocumentText, parse_change
from realtime.repair import repair_change, repaired, split_change

from . import ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)


def nested(depth: int) -> Any:
    """Return ``{"a": {"a": ... 1}}`` nested ``depth`` deep, without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def check_repair(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repair ``content``; check the change is valid and applies; return the result."""
    change = repair_change(content)
    parse_change(change.ops)  # the authority will accept it
    text = DocumentText.from_ops(content)
    text.apply(change)  # it fits the document (final newline kept)
    result = text.to_ops()
    assert result == repaired(content)
    assert not repair_change(result).ops, "a repaired document needs no second repair"
    parse_change(result)  # the whole document is inside the schema
    return result


def test_content_inside_the_schema_is_left_alone() -> None:
    rng = random.Random(7)
    for _ in range(300):
        doc = ot_gen.document(rng)
        assert not repair_change(doc.ops).ops
        assert repaired(doc.ops) is doc.ops


def test_unknown_embeds_become_placeholders() -> None:
    content = [
        {"insert": "a"},
        {"insert": {"formula": "e=mc^2"}},
        {"insert": {"foo": 1}},
        {"insert": {"<b>": 1}},
        {"insert": "b\n"},
    ]
    assert check_repair(content) == [
        {"insert": "a[formula removed][foo removed][embed removed]b\n"}
    ]


@pytest.mark.parametrize("depth", [10, 965, 1000, 5000])
def test_deeply_nested_embed_is_replaced_without_recursing(depth: int) -> None:
    content = [
        {"insert": {"formula": nested(depth)}},
        {"insert": {"image": nested(depth)}},
        {"insert": "\n"},
    ]
    assert check_repair(content) == [{"insert": "[formula removed][image removed]\n"}]


def test_remote_image_becomes_a_link_and_bad_sources_a_placeholder() -> None:
    content = [
        {"insert": {"image": "https://tracker.example/p.gif"}},
        {"insert": {"image": "javascript:alert(1)"}},
        {"insert": {"video": "https://evil.example/v"}},
        {"insert": "\n"},
    ]
    assert check_repair(content) == [
        {"insert": "[image]", "attributes": {"link": "https://tracker.example/p.gif"}},
        {"insert": "[image removed][video removed]\n"},
    ]


def test_invalid_values_of_known_formats_are_removed() -> None:
    content = [
        {"insert": "red", "attributes": {"color": "red", "bold": True}},
        {"insert": "\n", "attributes": {"header": 6}},
    ]
    change = repair_change(content)
    assert change.ops == [
        {"retain": 3, "attributes": {"color": None}},
        {"retain": 1, "attributes": {"header": None}},
    ]
    assert check_repair(content) == [
        {"insert": "red", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]


@pytest.mark.parametrize("name", ["script", "toString", "__proto__", "constructor"])
def test_unknown_attribute_names_are_dropped_by_rewriting_the_run(name: str) -> None:
    content = [
        {"insert": "ab", "attributes": {name: "x", "italic": True}},
        {"insert": {"image": "/media/a.png"}, "attributes": {name: 1, "alt": "cat"}},
        {"insert": "c\n"},
    ]
    assert check_repair(content) == [
        {"insert": "ab", "attributes": {"italic": True}},
        {"insert": {"image": "/media/a.png"}, "attributes": {"alt": "cat"}},
        {"insert": "c\n"},
    ]


def test_final_newline_is_never_deleted() -> None:
    content = [{"insert": "x\n", "attributes": {"script": "sub", "color": "nope"}}]
    # The body is rewritten; on the final newline only the known name can go.
    result = check_repair_partial(content)
    assert result == [{"insert": "x"}, {"insert": "\n", "attributes": {"script": "sub"}}]


def check_repair_partial(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Like :func:`check_repair` for content that cannot be fully repaired."""
    change = repair_change(content)
    parse_change(change.ops)
    text = DocumentText.from_ops(content)
    text.apply(change)
    return text.to_ops()


# Deep JSON ------------------------------------------------------------------


@pytest.mark.parametrize("depth", [10, 965, 1000, 5000])
def test_deep_json_round_trips_from_any_stack(depth: int) -> None:
    value = [{"insert": {"formula": nested(depth)}}]
    text = json.dumps(value, cls=DeepJSONEncoder)
    assert text == '[{"insert": {"formula": ' + '{"a": ' * depth + "1" + "}" * depth + "}}]"
    back = json.loads(text, cls=DeepJSONDecoder)
    assert json.dumps(back, cls=DeepJSONEncoder) == text
    assert sys.getrecursionlimit() < DEEP_LIMIT, "the raised limit is restored"


def test_deeper_than_the_bound_still_raises() -> None:
    text = "[" * (DEEP_LIMIT * 2) + "]" * (DEEP_LIMIT * 2)
    with pytest.raises(RecursionError):
        json.loads(text, cls=DeepJSONDecoder)


def test_call_deep_passes_other_errors_through() -> None:
    with pytest.raises(json.JSONDecodeError):
        call_deep(json.loads, "[1,")


def test_random_legacy_content_is_repaired_inside_the_schema() -> None:
    seed = random.SystemRandom().randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    for _ in range(500):
        ops = [ot_gen._insert_op(rng, loose=rng.random() < 0.5) for _ in range(rng.randint(0, 8))]
        ops.append(
            {"insert": "\n", **({"attributes": {"header": 7}} if rng.random() < 0.2 else {})}
        )
        content = DocumentText.from_ops(ops).to_ops()
        result = check_repair(content)
        # Text is never lost: every run of the content is in the result, in order.
        text = "".join(op["insert"] for op in result if isinstance(op["insert"], str))
        at = 0
        for op in content:
            if isinstance(op["insert"], str):
                at = text.find(op["insert"], at)
                assert at >= 0, f"seed={seed}: lost {op['insert']!r}"
                at += len(op["insert"])


@pytest.mark.parametrize(
    ("size", "splits"), [(1, True), (2, True), (3, True), (7, True), (500, False)]
)
def test_a_large_repair_splits_into_pieces_that_apply_in_order(size: int, splits: bool) -> None:
    rng = random.Random(size)
    ops: list[dict[str, Any]] = []
    for i in range(300):
        roll = rng.random()
        if roll < 0.3:
            ops.append({"insert": {"formula": str(i)}})
        elif roll < 0.5:
            ops.append({"insert": f"w{i}é😀", "attributes": {"script": "sub", "bold": True}})
        elif roll < 0.7:
            ops.append({"insert": f"c{i}", "attributes": {"color": "red"}})
        else:
            ops.append({"insert": f"ok{i} ", "attributes": {"italic": True} if i % 2 else {}})
    ops.append({"insert": "\n"})
    content = DocumentText.from_ops(ops).to_ops()
    change = repair_change(content)
    pieces = split_change(change, size)
    assert all(len(piece.ops) <= size + 1 for piece in pieces)
    text = DocumentText.from_ops(content)
    for piece in pieces:
        parse_change(piece.ops)
        text.apply(piece)
    assert text.to_ops() == repaired(content)
    assert (len(pieces) > 1) is splits  # 500 ops hold the whole repair
