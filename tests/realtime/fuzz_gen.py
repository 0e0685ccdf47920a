"""Random frames for the fuzz test: valid changes from the schema, and bad frames.

Valid values are generated from ``realtime/ot/schema.json`` itself (read
here as data, not through the server's ``realtime.ot.schema``), so a valid
frame stays valid whatever the server's checks look like, as long as both
follow the one schema.

Bad frames come with what the server may answer:

* :data:`REFUSED`: the frame must never be acked (any error code will do;
  the exact code of borderline cases belongs to the server's own tests);
* :data:`EITHER`: valid or not depending on concurrency or on rules this
  test does not pin down (a plain retain past the end at an old revision,
  a surrogate split that a concurrent delete may remove); acked or refused,
  the document must stay consistent.

Nothing here imports Django or does I/O.
"""

from __future__ import annotations

import json
import random
import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtime.ot import Delta, DocumentText

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "realtime" / "ot" / "schema.json").read_text()
)
MAX_SAFE = SCHEMA["limits"]["maxSafeInteger"]

REFUSED = "refused"
EITHER = "either"

#: Names that JavaScript objects inherit: never formats.
BUILTIN_NAMES = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf", "prototype"]
UNKNOWN_EMBEDS = ["formula", "cursor", "scroll", "foo", "video2", "Image", "hr"]
TEXTS = ["a", "b", "xyz", "hello ", "😀", "e\u0301", "中文", "👍🏽", "\t", "🙂🙃", "ok"]


def _by_scope(scope: str) -> list[str]:
    return sorted(name for name, spec in SCHEMA["formats"].items() if spec["scope"] == scope)


INLINE = _by_scope("inline")
BLOCK = _by_scope("block")


def valid_value(name: str, rng: random.Random) -> Any:
    """Return a random value that the schema accepts for format ``name``."""
    spec = SCHEMA["formats"][name]
    kind = spec["kind"]
    if kind == "boolean":
        return True
    if kind == "enum":
        return rng.choice(spec["values"])
    if kind == "color":
        return f"#{rng.randrange(1 << 24):06x}"
    if kind == "url":
        scheme = rng.choice(spec["schemes"])
        value = {"mailto": "mailto:someone@example.com", "tel": "tel:+15551234567"}.get(
            scheme, f"{scheme}://example.com/page/{rng.randrange(1000)}?q=1#x"
        )
        assert len(value) <= spec["maxLength"]
        return value
    if kind == "string":
        candidates = {
            "alt": ["a picture", "Grafik 😀", "x"],
            "width": ["100", "50%", "320px", "1"],
            "height": ["20", "75%", "9999px"],
            "table": ["row-a1b2", "row-zz9"],
        }.get(name, ["x"])
        value = rng.choice(candidates)
        pattern = spec.get("pattern")
        assert pattern is None or re.search(pattern, value), (name, value)
        return value
    raise AssertionError(f"schema kind {kind!r} unknown to the fuzz generator")


def valid_attributes(
    names: list[str], rng: random.Random, *, most: int = 2, nulls: bool = False
) -> dict[str, Any]:
    """Return 1..``most`` of ``names`` with valid values (or null, on a retain)."""
    chosen = rng.sample(names, rng.randint(1, min(most, len(names))))
    return {
        name: (None if nulls and rng.random() < 0.25 else valid_value(name, rng)) for name in chosen
    }


def image_embed(rng: random.Random) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Return an image embed from the project's own storage, with its attributes."""
    prefix = "/media/"
    embed = {"image": f"{prefix}fuzz/{rng.randrange(10_000)}.png"}
    names = SCHEMA["embeds"]["image"]["attributes"]
    return embed, (valid_attributes(names, rng) if rng.random() < 0.5 else None)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
#: Past this length deletes get longer, so the document settles around it.
SETTLE_LENGTH = 1500


class _Units:
    """UTF-16 positions of a document's text, without a loop over every character."""

    def __init__(self, doc: DocumentText) -> None:
        self.text = doc.text()
        # Character index of each astral character; its pair's middle is
        # at that index + the astral characters before it + 1.
        self.astral = [m.start() for m in _ASTRAL.finditer(self.text)]
        self.inside = {index + n + 1 for n, index in enumerate(self.astral)}

    def unit(self, index: int) -> int:
        """Return the UTF-16 position of character ``index``."""
        return index + bisect_left(self.astral, index)

    def point(self, rng: random.Random, lo: int, hi: int) -> int:
        """Return a random position in ``lo..hi`` that is not inside a pair."""
        pos = rng.randint(lo, hi)
        return pos - 1 if pos in self.inside else pos


def valid_change(doc: DocumentText, rng: random.Random) -> Delta:
    """Return a random change that is valid for ``doc`` under the schema.

    Inline formats go on text, line formats only on newlines (inserted, or
    retained one at a time), embed attributes only on images; never the
    final newline deleted, never a surrogate pair split.
    """
    units = _Units(doc)
    last = doc.length - 1  # the final "\n"
    roll = rng.random()

    def at(pos: int) -> Delta:
        return Delta().retain(pos) if pos else Delta()

    def span(most: int) -> tuple[int, int]:
        start = units.point(rng, 0, last - 1)
        end = min(last, start + rng.randint(1, most))
        # Inside a pair: step past it (its low half is before ``last``).
        return start, end + 1 if end in units.inside else end

    # Inserts outweigh deletes until the document has some size (longer
    # ranges, more runs, emoji); past SETTLE_LENGTH deletes grow.
    if roll < 0.55 or last < 4:
        pos = units.point(rng, 0, last)
        pick = rng.random()
        if pick < 0.04:
            embed, attributes = image_embed(rng)
            return at(pos).insert(embed, attributes)
        if pick < 0.14:
            attributes = valid_attributes(BLOCK, rng) if rng.random() < 0.6 else None
            return at(pos).insert("\n", attributes)
        attributes = valid_attributes(INLINE, rng) if rng.random() < 0.3 else None
        return at(pos).insert(rng.choice(TEXTS), attributes)
    if roll < 0.72:
        start, end = span(6 if last < SETTLE_LENGTH else 60)
        return at(start).delete(end - start)
    newlines = [m.start() for m in re.finditer("\n", units.text)]
    if roll < 0.82:
        pos = units.unit(rng.choice(newlines))
        return at(pos).retain(1, valid_attributes(BLOCK, rng, nulls=True))
    start, end = span(20)
    return at(start).retain(end - start, valid_attributes(INLINE, rng, nulls=True))


# --------------------------------------------------------------------------
# Bad frames
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One frame to send, what it is, and what the server may answer.

    ``op_id`` is the id the server will name in its answer (a well-formed id
    of an op frame), or None when the answer carries none; ``expect`` is
    :data:`REFUSED` or :data:`EITHER`; ``binary`` sends ``text`` encoded.
    """

    kind: str
    text: str
    op_id: str | None
    expect: str
    binary: bool = False


def op_text(op_id: Any, rev: Any, delta: Any) -> str:
    """Return an op frame's JSON text (any values, as the attacker chooses)."""
    # ASCII with \\u escapes: a lone surrogate can be sent only escaped.
    return json.dumps({"type": "op", "id": op_id, "rev": rev, "delta": delta})


def deep_value(depth: int) -> str:
    """Return JSON text of an object nested ``depth`` levels (built as text)."""
    return '{"a":' * depth + "1" + "}" * depth


def _schema_accepts(name: str, value: Any) -> bool:
    """Return whether ``value`` is of format ``name``'s kind (this test's reading)."""
    spec = SCHEMA["formats"][name]
    kind = spec["kind"]
    if kind == "boolean":
        return type(value) is bool
    if kind == "enum":
        return any(type(value) is type(v) and value == v for v in spec["values"])
    if kind == "color":
        return type(value) is str and re.fullmatch("#[0-9A-Fa-f]{6}", value) is not None
    if type(value) is not str or len(value) > spec.get("maxLength", 1 << 30):
        return False
    if kind == "url":
        return value.split(":", 1)[0] in spec["schemes"] and "\n" not in value
    return re.search(spec.get("pattern", ""), value) is not None


def _formatted(name: str, value: Any) -> list[dict[str, Any]]:
    """Return an insert that ``name`` may sit on, carrying ``value``."""
    scope = SCHEMA["formats"][name]["scope"]
    target: Any = {"block": "\n", "inline": "x"}.get(scope) or {"image": "/media/a.png"}
    return [{"insert": target, "attributes": {name: value}}]


class BadFrames:
    """Make random frames a valid client never sends, for one socket.

    ``next_id()`` hands out well-formed op ids of this socket, so every
    answer can be matched to its frame.
    """

    def __init__(self, client_id: str, rng: random.Random) -> None:
        self.client_id = client_id
        self.rng = rng
        self.seq = 0

    def next_id(self) -> str:
        """Return a fresh well-formed op id."""
        self.seq += 1
        return f"{self.client_id}:{self.seq}"

    def make(self, doc: DocumentText, rev: int) -> Frame:
        """Return one random bad frame, built against ``doc`` at revision ``rev``."""
        maker = self.rng.choice(_MAKERS)
        return maker(self, doc, rev)

    # Each maker returns a Frame; those needing the document build on it.

    def _op(self, kind: str, rev: int, delta: Any, expect: str = REFUSED) -> Frame:
        op_id = self.next_id()
        return Frame(kind, op_text(op_id, rev, delta), op_id, expect)

    def _raw_op(self, kind: str, rev: int, delta_json: str) -> Frame:
        op_id = self.next_id()
        text = f'{{"type":"op","id":"{op_id}","rev":{rev},"delta":{delta_json}}}'
        return Frame(kind, text, op_id, REFUSED)

    def unknown_attribute(self, doc: DocumentText, rev: int) -> Frame:
        name = self.rng.choice(BUILTIN_NAMES + ["foo", "direction", "script", "Bold", "style"])
        return self._op("unknown attribute", rev, [{"insert": "x", "attributes": {name: True}}])

    def unknown_embed(self, doc: DocumentText, rev: int) -> Frame:
        name = self.rng.choice(UNKNOWN_EMBEDS + BUILTIN_NAMES)
        return self._op("unknown embed", rev, [{"insert": {name: self.rng.choice([1, "x", True])}}])

    def embed_shape(self, doc: DocumentText, rev: int) -> Frame:
        bad = self.rng.choice(
            [
                {},
                {"image": "/media/a.png", "video": "/media/b.mp4"},
                {"image": 1},
                {"image": {"src": "/media/a.png"}},
                {"image": "https://tracker.example/p.gif"},
                {"image": "javascript:alert(1)"},
                {"video": "https://evil.example/x"},
                {"image": "//evil.example/a.png"},
                {"image": "data:text/html;base64,PHNjcmlwdD4="},
            ]
        )
        return self._op("bad embed", rev, [{"insert": bad}])

    def wrong_value(self, doc: DocumentText, rev: int) -> Frame:
        name = self.rng.choice(sorted(SCHEMA["formats"]))
        kind = SCHEMA["formats"][name]["kind"]
        wrong = {
            "boolean": ["true", 1, 0, "yes", [], {}],
            "enum": [0, 4, 9, "1", 1.5, "h1", True, "Bullet", "left"],
            "color": ["red", "#fff", "#gggggg", "#12345678", 0xFFFFFF, "rgb(0,0,0)"],
            "url": [
                "javascript:alert(1)",
                "data:text/html,x",
                "ftp://x",
                "java\nscript:x",
                "vbscript:x",
                42,
                "https://" + "a" * 3000,
            ],
            "string": [5, "x" * 600, "\u0001", "0", "-1px", "12345", None],
        }[kind]
        value = self.rng.choice([v for v in wrong if not _schema_accepts(name, v)])
        return self._op(f"wrong value of {name}", rev, _formatted(name, value))

    def nested_value(self, doc: DocumentText, rev: int) -> Frame:
        name = self.rng.choice(sorted(SCHEMA["formats"]))
        value = self.rng.choice([{"x": 1}, [1], [[True]], {"$ref": "#"}])
        return self._op("nested value", rev, _formatted(name, value))

    def deep_nesting(self, doc: DocumentText, rev: int) -> Frame:
        depth = self.rng.choice([2, 30, 500, 965, 990, 1100, 5000])
        where = self.rng.choice(["embed", "attribute", "delta"])
        if where == "embed":
            return self._raw_op(
                f"deep embed {depth}", rev, f'[{{"insert":{{"image":{deep_value(depth)}}}}}]'
            )
        if where == "attribute":
            return self._raw_op(
                f"deep attribute {depth}",
                rev,
                f'[{{"insert":"x","attributes":{{"bold":{deep_value(depth)}}}}}]',
            )
        return self._raw_op(f"deep delta {depth}", rev, "[" * depth + "]" * depth)

    def big_integer(self, doc: DocumentText, rev: int) -> Frame:
        value = self.rng.choice([MAX_SAFE + 1, 2**63, 2**64 + 1, 10**30, -1, 0])
        shape = self.rng.choice(["retain", "delete", "header", "indent"])
        if shape in ("retain", "delete"):
            delta: Any = [{shape: value}]
        else:
            delta = [{"insert": "\n", "attributes": {shape: value}}]
        return self._op("big integer", rev, delta)

    def huge_number(self, doc: DocumentText, rev: int) -> Frame:
        place = self.rng.choice(["retain", "delete", "rev"])
        tokens = ["1e400", "-1e400", "NaN", "Infinity", "1.0", "1e2", "0.5"]
        # JSON's -0 is the integer 0: a fine revision, a refused count.
        token = self.rng.choice(tokens if place == "rev" else [*tokens, "-0"])
        op_id = self.next_id()
        if place == "rev":
            text = f'{{"type":"op","id":"{op_id}","rev":{token},"delta":[{{"insert":"x"}}]}}'
        else:
            text = f'{{"type":"op","id":"{op_id}","rev":{rev},"delta":[{{"{place}":{token}}}]}}'
        # Non-JSON constants are refused before the id is read.
        named = None if token in ("NaN", "Infinity") else op_id
        return Frame("huge number", text, named, REFUSED)

    def wrong_types(self, doc: DocumentText, rev: int) -> Frame:
        delta = self.rng.choice(
            [
                {"insert": "x"},
                "insert",
                5,
                None,
                [None],
                [[]],
                [{"insert": ""}],
                [{"insert": "x", "retain": 1}],
                [{"retain": 1, "attributes": None}],
                [{"insert": "x", "attributes": []}],
                [{"delete": 1, "attributes": {"bold": True}}],
                [{"insert": "x", "attributes": {"bold": None}}],
                [{"insert": "\ud800"}],
                [{"insert": "a\u0000b"}],
                [{"insert": 5}],
                [{"retain": "3"}],
                [{"delete": True}],
                [{"retain": 1.0}],
                [{"retain": {"image": "/media/a.png"}}],
                [{"op": 1}],
            ]
        )
        return self._op("wrong type", rev, delta)

    def block_format_on_text(self, doc: DocumentText, rev: int) -> Frame:
        # The schema's scopes say where Quill applies a format; whether the
        # server refuses one out of scope is its choice (schema.json).
        name = self.rng.choice(BLOCK)
        return self._op(
            "line format on text",
            rev,
            [{"insert": "abc", "attributes": {name: valid_value(name, self.rng)}}],
            EITHER,
        )

    def past_the_end(self, doc: DocumentText, rev: int) -> Frame:
        length = doc.length
        shape = self.rng.choice(["insert after", "format", "plain retain", "delete newline"])
        if shape == "insert after":
            return self._op("insert past the end", rev, [{"retain": length}, {"insert": "x"}])
        if shape == "format":
            return self._op(
                "format past the end",
                rev,
                [{"retain": length + self.rng.randint(1, 5), "attributes": {"bold": True}}],
            )
        if shape == "delete newline":
            return self._op("delete final newline", rev, [{"retain": length - 1}, {"delete": 1}])
        # A plain trailing retain past the end: refused at the head; at an
        # older revision transform may drop it (docs/protocol.md, Differences).
        return self._op("plain retain past the end", rev, [{"retain": length + 3}], EITHER)

    def surrogate_split(self, doc: DocumentText, rev: int) -> Frame:
        inside = sorted(_Units(doc).inside)
        if not inside:
            return self.unknown_attribute(doc, rev)
        pos = self.rng.choice(inside)
        delta = self.rng.choice(
            [[{"retain": pos}, {"insert": "x"}], [{"retain": pos}, {"delete": 1}]]
        )
        # Refused at the base revision; a concurrent delete of that emoji
        # can make the transformed change valid.
        return self._op("surrogate split", rev, delta, EITHER)

    def bad_rev(self, doc: DocumentText, rev: int) -> Frame:
        op_id = self.next_id()
        value = self.rng.choice([-1, "1", 1.5, True, None, [rev], rev + 1000, 2**70])
        text = json.dumps({"type": "op", "id": op_id, "rev": value, "delta": [{"insert": "x"}]})
        return Frame("bad rev", text, op_id, REFUSED)

    def bad_op_id(self, doc: DocumentText, rev: int) -> Frame:
        value = self.rng.choice(
            [
                "",
                "short:1",
                f"{self.client_id}:0",
                f"{self.client_id}:-1",
                f"{self.client_id}:01",
                f"{self.client_id}",
                f"{self.client_id}:1:2",
                "x" * 65 + ":1",
                f"{self.client_id} :1",
                7,
                None,
                ["id"],
                f"{self.client_id}:１",
            ]
        )
        text = json.dumps({"type": "op", "id": value, "rev": rev, "delta": [{"insert": "x"}]})
        return Frame("bad op id", text, None, REFUSED)

    def not_json(self, doc: DocumentText, rev: int) -> Frame:
        text = self.rng.choice(
            [
                "{oops",
                "",
                "null",
                "[]",
                "42",
                '"op"',
                "{'type': 'op'}",
                '{"type":"op"',
                "\ufeff{}",
                '{"type":"nope"}',
                '{"type":null}',
                '{"type":"presence"}',
                '{"type":"op","id":1}',
                '{"type":"hello","rev":0}',
                "{" * 3000 + "}" * 3000,
            ]
        )
        return Frame("not JSON", text, None, REFUSED)

    def binary(self, doc: DocumentText, rev: int) -> Frame:
        op_id = self.next_id()
        return Frame("binary", op_text(op_id, rev, [{"insert": "x"}]), None, REFUSED, binary=True)

    def missing_fields(self, doc: DocumentText, rev: int) -> Frame:
        op_id = self.next_id()
        data: dict[str, Any] = {"type": "op", "id": op_id, "rev": rev, "delta": [{"insert": "x"}]}
        del data[self.rng.choice(["rev", "delta"])]
        return Frame("missing field", json.dumps(data), op_id, REFUSED)

    def bad_presence(self, doc: DocumentText, rev: int) -> Frame:
        rng = self.rng.choice(
            [
                {"index": doc.length + 1, "length": 0},
                {"index": 0, "length": doc.length + 5},
                {"index": -1, "length": 0},
                {"index": 0},
                {"index": 1.5, "length": 0},
                "0",
                [0, 1],
                {"index": True, "length": 0},
                {"index": MAX_SAFE + 10, "length": 0},
            ]
        )
        value = self.rng.choice([rev, rev, -1, rev + 1000, "1"])
        text = json.dumps({"type": "presence", "rev": value, "range": rng})
        return Frame("bad presence", text, None, REFUSED)

    def too_many_ops(self, doc: DocumentText, rev: int) -> Frame:
        # Many one-character runs formatted at once: within the frame limit,
        # valid in shape, refused (too_large, bad_op) or accepted within the
        # budget; never allowed to stall the worker. Kept small here: the
        # heavy-frame attack has its own test.
        ops: list[dict[str, Any]] = []
        for _ in range(self.rng.choice([10, 300, 3000])):
            ops.append({"retain": 1, "attributes": {"bold": True}})
            ops.append({"retain": 1})
        return self._op("many ops", rev, ops, EITHER)

    def too_large(self, doc: DocumentText, rev: int) -> Frame:
        # Over the frame limit (512 KiB) and under daphne's 1 MiB.
        op_id = self.next_id()
        return Frame(
            "too large", op_text(op_id, rev, [{"insert": "y" * (600 * 1024)}]), None, REFUSED
        )


_WEIGHTED = {
    BadFrames.unknown_attribute: 8,
    BadFrames.unknown_embed: 6,
    BadFrames.embed_shape: 6,
    BadFrames.wrong_value: 10,
    BadFrames.nested_value: 5,
    BadFrames.deep_nesting: 4,
    BadFrames.big_integer: 6,
    BadFrames.huge_number: 5,
    BadFrames.wrong_types: 10,
    BadFrames.block_format_on_text: 4,
    BadFrames.past_the_end: 8,
    BadFrames.surrogate_split: 5,
    BadFrames.bad_rev: 6,
    BadFrames.bad_op_id: 6,
    BadFrames.not_json: 6,
    BadFrames.binary: 1,
    BadFrames.missing_fields: 3,
    BadFrames.bad_presence: 8,
    BadFrames.too_many_ops: 1,
}
_MAKERS = [maker for maker, weight in _WEIGHTED.items() for _ in range(weight)]
