"""Seeded random documents and changes for the OT tests.

Everything takes a :class:`random.Random`, so a seed reproduces a case.
Text is drawn from tokens that are whole characters or clusters (astral
emoji, skin-tone modifiers, combining marks, CJK, CRLF, zero-width space),
so generated strings never hold a lone surrogate.

:func:`valid_change`, :func:`document`, :func:`keystroke` and :func:`prose`
produce what ``parse_change`` accepts: formats and embeds of the content
schema (``realtime/ot/schema.json``) with values of their kinds, line
formats only on newlines, embed attributes only on their embeds; and
:func:`valid_change` respects every rule of a valid change against its
document (reach, surrogate pairs, the final newline).
:func:`any_delta` does not: its attributes mix booleans, numbers and strings
outside the schema (``true`` beside ``1``, which quill-delta tells apart)
and its embeds are any one-key objects, to exercise quill-delta's general
semantics.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from realtime.ot import Delta
from realtime.ot.schema import load_schema
from realtime.ot.utf16 import to_units


@pytest.fixture(autouse=True)
def _fresh_realtime_state() -> Iterator[None]:
    """Stand in for the consumer tests' autouse fixture of this name.

    ``tests/realtime/conftest.py`` resets Django-backed realtime state around
    every test in the folder; the OT tests import this no-op under the same
    name so they run without Django (``-p no:django``).
    """
    yield


TOKENS = [
    "a",
    "b",
    "c",
    "x",
    "ab",
    "abc",
    "the ",
    "cat ",
    "dog",
    " ",
    "  ",
    ".",
    ",",
    "!",
    "\n",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    "é",
    "e\u0301",
    "n\u0303",
    "中",
    "文字",
    "\u200b",
    "ß",
    "😀",
    "👍🏽",
    "𝒜",
    "👨\u200d👩\u200d👧",
    "🇫🇷",
    "a😀",
    "😀b",
    "0",
    "42",
]
KEYSTROKE_TOKENS = ["a", "e", " ", "\n", "é", "😀", "x"]
# Outside the schema, for the algebra only (any_delta).
LOOSE_ATTR_VALUES: dict[str, list[Any]] = {
    "bold": [True, 1, False],
    "italic": [True],
    "color": ["red", "#00f", ""],
    "size": [1, 2.5, "large", 0],
    "header": [1, 2],
    "link": ["https://example.com/a?b=c"],
    "font": ["serif", "😀"],
}
LOOSE_EMBEDS: list[dict[str, Any]] = [
    {"image": "https://example.com/a.png"},
    {"formula": "e=mc^2"},
    {"video": {"src": "v.mp4", "w": 3}},
    {"divider": True},
    {"mention": {"id": 3, "name": "zoë"}},
]

# Inside the schema: values of each kind, by format name.
_SCHEMA = load_schema()
_EXAMPLES: dict[str, list[Any]] = {
    "color": ["#ff0000", "#00FF7f", "#000000"],
    "url": [
        "https://example.com/a?b=c",
        "http://a.example/😀",
        "mailto:zoë@example.com",
        "tel:+331234",
        "/relative/path",
        "#anchor",
    ],
    "alt": ["a cat", "zoë 😀", ""],
    "width": ["100", "50%", "9999px"],
    "height": ["1", "20px"],
    "table": ["row-a1b2", "row-k3x9zz"],
    # Review marks (realtime/ot/review.py): authors 7 and 42.
    "suggest-insert": ["7:lx3k9a1:ab12", "42:m0:zzzz9"],
    "suggest-delete": ["7:lx3k9a1:ab12", "42:lx3k9b2:0a0a0a0a0a0a"],
    "suggest-format": ['7:lx3k9a1:ab12|{"bold":true}', '42:m1:q1w2|{"header":2,"italic":null}'],
    "comment": ["abcdefghij0123", "abcdefghij0123 zz00zz00zz00zz00"],
}


def _values_of(name: str, spec: dict[str, Any]) -> list[Any]:
    """Return a few values of format ``name`` that the schema accepts."""
    kind = spec["kind"]
    if kind == "boolean":
        return [True, False]
    if kind == "enum":
        return list(spec["values"])
    return list(_EXAMPLES[name if kind == "string" else kind])


ATTR_VALUES: dict[str, list[Any]] = {
    name: _values_of(name, spec) for name, spec in _SCHEMA["formats"].items()
}
_SCOPE: dict[str, str] = {name: spec["scope"] for name, spec in _SCHEMA["formats"].items()}
INLINE = sorted(name for name, scope in _SCOPE.items() if scope == "inline")
BLOCK = sorted(name for name, scope in _SCOPE.items() if scope == "block")
# Images the default policy accepts (videos need VIDEO_HOSTS).
EMBEDS: list[dict[str, Any]] = [
    {"image": "/media/a.png"},
    {"image": "/media/photos/zo%C3%AB.jpeg"},
    {"image": "data:image/png;base64,iVBORw0KGgo="},
    {"image": "data:image/gif;base64,R0lGODlhAQABAAAAACw="},
]
# Rules and page breaks (the schema's markers): no source, exactly true.
MARKERS: list[dict[str, Any]] = [
    {name: True} for name, spec in _SCHEMA["embeds"].items() if spec["kind"] == "marker"
]
IMAGE_ATTRS = sorted({*INLINE, *_SCHEMA["embeds"]["image"]["attributes"]})


def text(rng: random.Random, tokens: int = 4) -> str:
    """Return a random non-empty string of whole characters."""
    return "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, tokens)))


def _pick(
    rng: random.Random, names: list[str], values: dict[str, list[Any]], nulls: bool
) -> dict[str, Any] | None:
    """Return 1-3 of ``names`` with random values (some None if ``nulls``)."""
    if rng.random() < 0.45:
        return None
    out: dict[str, Any] = {}
    for key in rng.sample(names, min(len(names), rng.randint(1, 3))):
        if nulls and rng.random() < 0.35:
            out[key] = None
        else:
            out[key] = rng.choice(values[key])
    return out


def attributes(
    rng: random.Random, *, nulls: bool = False, on: str = "retain"
) -> dict[str, Any] | None:
    """Return random schema-valid attributes (``None`` values only when ``nulls``).

    ``on`` is what they sit on: ``retain`` (any format), ``text`` (inline
    formats), ``newline`` (inline and line formats) or ``image``.
    """
    names = {
        "retain": sorted(ATTR_VALUES),
        "text": INLINE,
        "newline": sorted({*INLINE, *BLOCK}),
        "image": IMAGE_ATTRS,
    }[on]
    return _pick(rng, names, ATTR_VALUES, nulls)


def loose_attributes(rng: random.Random, *, nulls: bool = False) -> dict[str, Any] | None:
    """Return random attributes outside the schema (for the algebra only)."""
    return _pick(rng, sorted(LOOSE_ATTR_VALUES), LOOSE_ATTR_VALUES, nulls)


def _insert_op(
    rng: random.Random, *, nulls: bool = False, tokens: int = 4, loose: bool = False
) -> dict[str, Any]:
    """Return a random insert of text or an embed (schema-valid unless ``loose``)."""
    value: Any
    if rng.random() < 0.12:
        value = rng.choice(LOOSE_EMBEDS if loose else EMBEDS)
        on = "image"
    else:
        value = text(rng, tokens)
        on = "newline" if value.count("\n") == len(value) else "text"
    op: dict[str, Any] = {"insert": value}
    attrs = loose_attributes(rng, nulls=nulls) if loose else attributes(rng, nulls=nulls, on=on)
    if attrs:
        op["attributes"] = attrs
    return op


def document(rng: random.Random, max_ops: int = 6) -> Delta:
    """Return a random document: inserts only, ending in a newline."""
    ops = [_insert_op(rng) for _ in range(rng.randint(0, max_ops))]
    if rng.random() < 0.5:
        ops.append({"insert": text(rng, 2)})
    ops.append({"insert": "\n"})
    if rng.random() < 0.3:
        ops[-1]["attributes"] = {"header": 1}
    return Delta(ops)


PROSE = [
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "an",
    "😀",
    "é",
    "x",
    "y",
    "\n",
    "\n\n",
    ".",
    ",",
    "-",
    "  ",
    "ab",
    "ba",
    "abc",
    "cab",
]


def prose(rng: random.Random, words: int = 40) -> Delta:
    """Return a document of repetitive prose: what makes diff work hard."""
    parts = []
    for _ in range(rng.randint(1, words)):
        parts.append(rng.choice(PROSE))
        parts.append(rng.choice([" ", " ", "", "\n", ". "]))
    ops: list[dict[str, Any]] = []
    text_ = "".join(parts)
    cut = rng.randint(0, len(text_))
    for piece, attrs in ((text_[:cut], None), (text_[cut:], attributes(rng, on="text"))):
        if piece:
            ops.append({"insert": piece, **({"attributes": attrs} if attrs else {})})
    if rng.random() < 0.3:
        ops.insert(rng.randint(0, len(ops)), {"insert": rng.choice(EMBEDS)})
    ops.append({"insert": "\n"})
    return Delta(ops)


def edit_prose(rng: random.Random, doc: Delta, edits: int = 6) -> Delta:
    """Return ``doc`` after a few word-sized valid edits."""
    for _ in range(rng.randint(1, edits)):
        units = units_of(doc)
        pos = rng.randint(0, len(units) - 1)
        while _splits(units, pos):
            pos -= 1
        change = Delta().retain(pos)
        if rng.random() < 0.5:
            change.insert(" ".join(rng.choice(PROSE) for _ in range(rng.randint(1, 4))))
        else:
            end = min(len(units) - 1, pos + rng.randint(1, 12))
            while _splits(units, end):
                end -= 1
            change.delete(end - pos)
        doc = doc.compose(change)
    return doc


def units_of(doc: Delta) -> str:
    """Return a document's text in code-unit form, embeds as U+0000."""
    return to_units(
        "".join(op["insert"] if isinstance(op["insert"], str) else "\x00" for op in doc.ops)
    )


def _splits(units: str, pos: int) -> bool:
    """Return whether index ``pos`` of code units falls inside a pair."""
    return (
        0 < pos < len(units)
        and "\ud800" <= units[pos - 1] <= "\udbff"
        and "\udc00" <= units[pos] <= "\udfff"
    )


def valid_change(rng: random.Random, doc: Delta, *, max_ops: int = 5) -> Delta:
    """Return a random change that is valid against document ``doc``."""
    units = units_of(doc)
    length = len(units)
    if rng.random() < 0.35:
        return keystroke(rng, doc)
    ops: list[dict[str, Any]] = []
    pos = 0
    for _ in range(rng.randint(0, max_ops)):
        kind = rng.random()
        room = length - pos
        if kind < 0.4 and room > 0:
            count = rng.randint(1, min(room, 12))
            if _splits(units, pos + count):
                count += 1
            op: dict[str, Any] = {"retain": count}
            if rng.random() < 0.4:
                attrs = attributes(rng, nulls=True)
                if attrs:
                    op["attributes"] = attrs
            ops.append(op)
            pos += count
        elif kind < 0.65 and room > 1:
            count = rng.randint(1, min(room - 1, 8))
            if _splits(units, pos + count):
                count += 1
            if pos + count <= length - 1:
                ops.append({"delete": count})
                pos += count
        elif pos < length:
            ops.append(_insert_op(rng))
    return Delta(ops)


def keystroke(rng: random.Random, doc: Delta) -> Delta:
    """Return a typical keystroke (type, delete, or format) on ``doc``."""
    units = units_of(doc)
    length = len(units)
    pos = rng.randint(0, length - 1)
    while _splits(units, pos):
        pos -= 1
    kind = rng.random()
    change = Delta().retain(pos)
    if kind < 0.6:
        token = rng.choice(KEYSTROKE_TOKENS)
        return change.insert(token, attributes(rng, on="newline" if token == "\n" else "text"))
    end = pos + 1
    if _splits(units, end):
        end += 1
    if kind < 0.85 and end <= length - 1:
        return change.delete(end - pos)
    return change.retain(end - pos, attributes(rng, nulls=True) or {"bold": True})


def any_delta(rng: random.Random, max_ops: int = 6) -> Delta:
    """Return a random delta with no document rules (lone surrogates may
    appear in results when it cuts a pair, as in quill-delta)."""
    ops: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, max_ops)):
        kind = rng.random()
        if kind < 0.35:
            ops.append(_insert_op(rng, nulls=True, tokens=3, loose=True))
        elif kind < 0.7:
            op: dict[str, Any] = {"retain": rng.randint(1, 7)}
            attrs = loose_attributes(rng, nulls=True)
            if attrs:
                op["attributes"] = attrs
            ops.append(op)
        else:
            ops.append({"delete": rng.randint(1, 5)})
    return Delta(ops)


# Schema edge values: for the differential and storage tests --------------------

#: Counts at the edges of what quill-delta in a browser counts exactly.
EDGE_COUNTS = [1, 2, 3, 2**31 - 1, 2**31, 2**32 + 1, 2**52, 2**53 - 2**20]
#: Values at the edges of each kind, by format name (all accepted).
EDGE_VALUES: dict[str, list[Any]] = {
    "link": ["https://example.com/" + "a" * 2000, "mailto:" + "é" * 40, "HTTPS://X.EXAMPLE"],
    "alt": ["x" * 500, "😀" * 250, ""],
    "width": ["1", "9999", "9999px", "1%"],
    "height": ["9999%"],
    "color": ["#FFFFFF", "#abcdef"],
}


def schema_attributes(rng: random.Random, *, nulls: bool) -> dict[str, Any] | None:
    """Return attributes over every format name, edge values included."""
    if rng.random() < 0.3:
        return None
    out: dict[str, Any] = {}
    for key in rng.sample(sorted(ATTR_VALUES), rng.randint(1, 6)):
        if nulls and rng.random() < 0.25:
            out[key] = None
        else:
            out[key] = rng.choice(ATTR_VALUES[key] + EDGE_VALUES.get(key, []))
    return out


def schema_change(rng: random.Random, *, max_ops: int = 8, budget: int = 2**53 - 10_000) -> Delta:
    """Return a random change that ``parse_change`` accepts, edge values included.

    Counts add up to at most ``budget`` (below 2^53), so that sums of two
    such changes' inserts and counts stay exact in JavaScript.
    """
    ops: list[dict[str, Any]] = []
    left = budget
    for _ in range(rng.randint(0, max_ops)):
        kind = rng.random()
        if kind < 0.4:
            ops.append(
                _insert_op(rng)
                if rng.random() < 0.5
                else {
                    "insert": rng.choice(EMBEDS + MARKERS) if rng.random() < 0.3 else text(rng, 3),
                    **({"attributes": a} if (a := schema_attributes(rng, nulls=False)) else {}),
                }
            )
            continue
        count = min(left, rng.choice(EDGE_COUNTS) if rng.random() < 0.3 else rng.randint(1, 9))
        if count <= 0:
            break
        left -= count
        if kind < 0.75:
            op: dict[str, Any] = {"retain": count}
            attrs = schema_attributes(rng, nulls=True)
            if attrs:
                op["attributes"] = attrs
            ops.append(op)
        else:
            ops.append({"delete": count})
    return Delta(ops)
