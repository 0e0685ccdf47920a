"""The content schema, table-driven: every format and embed, valid and not.

Each row is (format, value, accepted). A value is tried on the op it
belongs on (inline formats on text, line formats on a newline, embed
attributes on an image) and on a retain; refusals must name the op and the
attribute. The tables cover every name in ``schema.json`` (a test checks
that), so a format added to the schema without rows here fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from documents.deepjson import call_deep
from documents.history import _json_size
from realtime.ot import MAX_SAFE_INTEGER, ContentPolicy, InvalidDelta, parse_change
from realtime.ot.schema import SCHEMA, embeds, formats

from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

MAX = MAX_SAFE_INTEGER
BUILTINS = [
    "toString",
    "constructor",
    "__proto__",
    "hasOwnProperty",
    "valueOf",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "__defineGetter__",
    "prototype",
    "length",
]

FORMAT_ROWS: list[tuple[str, Any, bool]] = [
    # booleans: true or false, nothing that JavaScript would coerce
    *[
        (name, value, ok)
        for name in ("bold", "italic", "underline", "strike", "code", "blockquote", "code-block")
        for value, ok in (
            (True, True),
            (False, True),
            (1, False),
            (0, False),
            ("true", False),
            ([True], False),
            ({"a": True}, False),
        )
    ],
    ("color", "#ff0000", True),
    ("color", "#00FF7f", True),
    ("color", "red", False),
    ("color", "#f00", False),
    ("color", "rgb(1,2,3)", False),
    ("color", "#ff00001", False),
    ("color", "#ff0000\n", False),
    ("color", 16711680, False),
    ("color", "", False),
    ("background", "#ffff00", True),
    ("background", "yellow", False),
    ("link", "https://example.com/a?b=c#d", True),
    ("link", "http://a.example", True),
    ("link", "mailto:a@example.com", True),
    ("link", "tel:+33123", True),
    ("link", "HTTPS://EXAMPLE.COM", True),
    ("link", "/relative/path", True),
    ("link", "example.com/no-scheme", True),
    ("link", "https://zoë.example/😀", True),
    ("link", "javascript:alert(1)", False),
    ("link", "JavaScript:alert(1)", False),
    ("link", "java\tscript:alert(1)", False),
    ("link", " javascript:alert(1)", False),
    ("link", "data:text/html,<b>x</b>", False),
    ("link", "vbscript:x", False),
    ("link", "sms:+33123", False),
    ("link", "https://a/" + "x" * 2048, False),
    ("link", "", False),
    ("link", True, False),
    ("link", {"href": "https://a"}, False),
    ("header", 1, True),
    ("header", 2, True),
    ("header", 3, True),
    ("header", 4, False),
    ("header", 0, False),
    ("header", "1", False),
    ("header", 1.0, False),
    ("header", True, False),
    ("header", MAX + 2, False),
    ("header", -1, False),
    ("list", "ordered", True),
    ("list", "bullet", True),
    ("list", "checked", True),
    ("list", "unchecked", True),
    ("list", "check", False),
    ("list", "Ordered", False),
    ("list", 1, False),
    ("indent", 1, True),
    ("indent", 8, True),
    ("indent", 9, False),
    ("indent", 0, False),
    ("indent", "+1", False),
    ("indent", 2.5, False),
    ("indent", 2**64, False),
    ("align", "center", True),
    ("align", "right", True),
    ("align", "justify", True),
    ("align", "left", False),
    ("align", "", False),
    ("alt", "a cat on a mat", True),
    ("alt", "", True),
    ("alt", "zoë 😀", True),
    ("alt", "line\nbreak", False),
    ("alt", "x" * 501, False),
    ("alt", 5, False),
    # A table cell's line end carries its row id, as Quill's table module makes it.
    ("table", "row-a1b2", True),
    ("table", "row-x", True),
    ("table", "row-0123456789abcdef", True),
    ("table", "row-0123456789abcdefg", False),  # 17 characters of id
    ("table", "row-", False),
    ("table", "row-AB12", False),
    ("table", "row-a b", False),
    ("table", "row-ab\n", False),
    ("table", "cell-ab", False),
    ("table", True, False),
    ("table", 1, False),
    ("size", "small", True),
    ("size", "large", True),
    ("size", "huge", True),
    ("size", "normal", False),
    ("size", "12px", False),
    ("size", 12, False),
    ("font", "serif", True),
    ("font", "monospace", True),
    ("font", "sans-serif", False),
    ("font", "Arial", False),
    ("font", True, False),
    ("width", "100", True),
    ("width", "50%", True),
    ("width", "9999px", True),
    ("width", "0", False),
    ("width", "10000", False),
    ("width", "100em", False),
    ("width", "100\n", False),
    ("width", 100, False),
    ("height", "20px", True),
    ("height", "-1", False),
    # Review marks (realtime/ot/review.py, docs/schema.md "Review marks").
    *[
        (name, value, ok)
        for name in ("suggest-insert", "suggest-delete")
        for value, ok in (
            ("42:lx3k9a1:ab12", True),
            ("1:0:0000", True),
            ("999999999999:zzzzzzzzzz:zzzzzzzzzzzz", True),
            ("0:lx3k9a1:ab12", False),  # no user 0, no leading zero
            ("042:lx3k9a1:ab12", False),
            ("1000000000000:lx3k9a1:ab12", False),  # 13 digits
            ("42:LX3K:ab12", False),  # base 36 is lower case
            ("42:lx3k9a1:ab1", False),  # random part too short
            ("42:lx3k9a1:ab12\n", False),
            ("42:lx3k9a1", False),
            (42, False),
            ("", False),
        )
    ],
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":true,"header":2}', True),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":null}', True),
    ("suggest-format", '42:lx3k9a1:ab12|{"link":"https://a.example"}', True),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":1}', False),  # not a bold value
    ("suggest-format", '42:lx3k9a1:ab12|{"link":"javascript:x"}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"header":2.0}', False),  # as header 1.0 above
    ("suggest-format", "42:lx3k9a1:ab12|{}", False),  # proposes nothing
    ("suggest-format", '42:lx3k9a1:ab12|{"comment":"abcdefghij"}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"suggest-insert":null}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"nope":true}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":true,"bold":false}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":NaN}', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":true', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"bold":\ntrue}', False),
    ("suggest-format", '42:lx3k9a1:ab12|["bold"]', False),
    ("suggest-format", '42:lx3k9a1:ab12|{"alt":"' + "x" * 1000 + '"}', False),  # > 1024
    ("suggest-format", '0:lx3k9a1:ab12|{"bold":true}', False),
    ("suggest-format", "42:lx3k9a1:ab12", False),
    ("comment", "abcdefghij", True),
    ("comment", "0123456789abcdef 0123456789abcdeg", True),
    ("comment", " ".join(f"{i:016d}" for i in range(10)), True),
    ("comment", " ".join(f"{i:016d}" for i in range(11)), False),  # 11 threads
    ("comment", "0123456789abcdef 0123456789abcdef", False),  # twice
    ("comment", "abcdefghi", False),  # 9 characters
    ("comment", "ABCDEFGHIJ", False),
    ("comment", "abcdefghij  abcdefghik", False),
    ("comment", "abcdefghij ", False),
    ("comment", "", False),
    ("comment", ["abcdefghij"], False),
]

IMAGE = "/media/a.png"


def _where(name: str) -> dict[str, Any]:
    """Return an insert on which format ``name`` belongs."""
    scope = formats[name].scope
    if scope == "block":
        return {"insert": "\n"}
    if scope == "embed":
        return {"insert": {"image": IMAGE}}
    return {"insert": "abc"}


def test_the_tables_cover_every_format_and_embed_of_the_schema() -> None:
    assert {row[0] for row in FORMAT_ROWS} == set(SCHEMA["formats"]) == set(formats)
    assert {row[0] for row in EMBED_ROWS} == set(SCHEMA["embeds"]) == set(embeds)
    for name in formats:
        assert any(ok for n, _, ok in FORMAT_ROWS if n == name), name
        assert any(not ok for n, _, ok in FORMAT_ROWS if n == name), name


@pytest.mark.parametrize(
    ("name", "value", "ok"), FORMAT_ROWS, ids=[f"{n}={v!r:.30}" for n, v, _ in FORMAT_ROWS]
)
def test_format_value(name: str, value: Any, ok: bool) -> None:
    for op in (
        {**_where(name), "attributes": {name: value}},
        {"retain": 1, "attributes": {name: value}},
    ):
        raw = [{"retain": 2}, op]
        if ok:
            assert parse_change(raw).ops[-1]["attributes"] == {name: value}
        else:
            with pytest.raises(InvalidDelta) as info:
                parse_change(raw)
            assert str(info.value).startswith(f"op 1: attribute {name!r} "), info.value


def test_refusal_message_says_what_is_expected() -> None:
    with pytest.raises(InvalidDelta) as info:
        parse_change([{"retain": 1}, {"retain": 1}, {"retain": 1, "attributes": {"color": "red"}}])
    assert str(info.value) == "op 2: attribute 'color' must be #rrggbb, got 'red'"


@pytest.mark.parametrize("name", BUILTINS + ["script", "direction", "formula", "Bold", "bold ", ""])
def test_unknown_attribute_names_are_refused_by_name(name: str) -> None:
    for op in (
        {"insert": "a", "attributes": {name: True}},
        {"retain": 1, "attributes": {name: None}},
    ):
        with pytest.raises(InvalidDelta) as info:
            parse_change([op])
        assert str(info.value) == f"op 0: unknown attribute {name!r}"


def test_null_removes_any_known_format_on_a_retain_only() -> None:
    removal = {name: None for name in formats}
    assert parse_change([{"retain": 3, "attributes": removal}]).ops == [
        {"retain": 3, "attributes": removal}
    ]
    with pytest.raises(InvalidDelta, match="'bold' is null on an insert"):
        parse_change([{"insert": "a", "attributes": {"bold": None}}])


# Scopes ---------------------------------------------------------------------


def test_scopes_are_not_enforced_so_composed_changes_stay_valid() -> None:
    # A client composes its pending edits: typing "abc" then making the
    # line a heading over the selection gives one insert carrying a line
    # format. Both changes alone are valid, so the composition must be.
    typed = parse_change([{"insert": "abc"}])
    heading = parse_change([{"retain": 3, "attributes": {"header": 1, "width": "10"}}])
    composed = typed.compose(heading)
    assert parse_change(composed.ops) == composed
    policy = ContentPolicy(video_hosts=frozenset({"video.example"}))
    video = {"video": "https://video.example/embed/1"}
    assert parse_change([{"insert": video, "attributes": {"bold": True}}], policy)


# Embeds ---------------------------------------------------------------------

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
EMBED_ROWS: list[tuple[str, Any, bool]] = [
    ("image", "/media/a.png", True),
    ("image", "/media/2026/12/zo%C3%AB.jpeg", True),
    ("image", PNG, True),
    ("image", "data:image/jpeg;base64,/9j/4AAQ", True),
    ("image", "data:image/gif;base64,R0lGOD==", True),
    ("image", "data:image/webp;base64,UklG", True),
    ("image", "https://tracker.example/pixel.gif", False),
    ("image", "//tracker.example/p.gif", False),
    ("image", "/static/x.png", False),
    ("image", "/media/../admin/", False),
    ("image", "/media//evil.example/x", False),
    ("image", "/media/a b.png", False),
    ("image", "/media/a\\b.png", False),
    ("image", "data:image/svg+xml;base64,PHN2Zz4=", False),
    ("image", "data:text/html;base64,PGI+", False),
    ("image", "data:image/png,rawbytes", False),
    ("image", "data:image/png;base64,%%%", False),
    ("image", "javascript:alert(1)", False),
    ("image", "data:image/png;base64," + "A" * (256 * 1024), False),
    ("image", {"src": "/media/a.png"}, False),
    ("image", ["/media/a.png"], False),
    ("image", True, False),
    ("image", None, False),
    ("image", 1, False),
    # Percent-encoded dot, slash and backslash, any case: a browser resolves
    # /media/%2e%2e/x as /x. Other escapes, and a literal "%2e" (%252e), stay.
    ("image", "/media/%2e%2e/admin/x.png", False),
    ("image", "/media/%2E%2E/x.png", False),
    ("image", "/media/.%2e/x.png", False),
    ("image", "/media/a%2e.png", False),
    ("image", "/media/a%2fb.png", False),
    ("image", "/media/a%2F..%2Fb.png", False),
    ("image", "/media/a%5cb.png", False),
    ("image", "/media/a%5C..%5Cb.png", False),
    ("image", "/media/a%20b.png", True),
    ("image", "/media/%252e%252e/x.png", True),
    ("video", "https://video.example/embed/1?t=3", True),
    ("video", "https://VIDEO.example/x", True),
    ("video", "https://video.example:8443/x", True),
    ("video", "http://video.example/embed/1", False),
    ("video", "https://evil.example/x", False),
    ("video", "https://video.example.evil.example/x", False),
    ("video", "https://user@video.example/x", False),
    ("video", "https://evil.example/video.example", False),
    ("video", "javascript:alert(1)", False),
    ("video", "https://video.example/a b", False),
    ("video", {"src": "https://video.example/"}, False),
    # Markers have no source: exactly true, nothing JavaScript would coerce.
    *[
        (name, value, ok)
        for name in ("divider", "pagebreak")
        for value, ok in (
            (True, True),
            (False, False),
            (1, False),
            ("true", False),
            (None, False),
            ({}, False),
            ([True], False),
            ("", False),
        )
    ],
]
POLICY = ContentPolicy(video_hosts=frozenset({"video.example"}))


@pytest.mark.parametrize(
    ("name", "value", "ok"), EMBED_ROWS, ids=[f"{n}={v!r:.40}" for n, v, _ in EMBED_ROWS]
)
def test_embed_value(name: str, value: Any, ok: bool) -> None:
    raw = [{"retain": 1}, {"insert": {name: value}}]
    if ok:
        assert parse_change(raw, POLICY).ops[-1] == {"insert": {name: value}}
    else:
        with pytest.raises(InvalidDelta) as info:
            parse_change(raw, POLICY)
        assert str(info.value).startswith(f"op 1: embed {name!r} "), info.value


def test_no_video_hosts_means_no_videos() -> None:
    with pytest.raises(InvalidDelta) as info:
        parse_change([{"insert": {"video": "https://www.youtube.com/embed/x"}}])
    assert (
        str(info.value) == "op 0: embed 'video' is not allowed: this server allows no video hosts"
    )


def test_data_image_limit_follows_the_policy() -> None:
    small = ContentPolicy(image_data_max_bytes=len(PNG))
    assert parse_change([{"insert": {"image": PNG}}], small)
    with pytest.raises(InvalidDelta, match=f"at most {len(PNG) - 1} characters"):
        parse_change([{"insert": {"image": PNG}}], ContentPolicy(image_data_max_bytes=len(PNG) - 1))
    with pytest.raises(InvalidDelta, match="must be a path under /uploads/"):
        parse_change([{"insert": {"image": IMAGE}}], ContentPolicy(image_path_prefix="/uploads/"))


@pytest.mark.parametrize("prefix", ["", "/", "//", "media/", "/media", "https://x/", "/a/../"])
def test_unsafe_image_prefix_is_refused_at_configuration(prefix: str) -> None:
    with pytest.raises(ValueError):
        ContentPolicy(image_path_prefix=prefix)


@pytest.mark.parametrize(
    "embed",
    [
        {"foo": 1},
        {"formula": "e=mc^2"},
        {"cursor": "x"},
        {"scroll": "x"},
        {"hr": True},
        {"page-break": True},
        {"toString": "x"},
        {"__proto__": "x"},
        {"Image": IMAGE},
    ],
)
def test_unknown_embed_types_are_refused_by_name(embed: dict[str, Any]) -> None:
    (name,) = embed
    with pytest.raises(InvalidDelta) as info:
        parse_change([{"insert": embed}])
    assert str(info.value) == f"op 0: unknown embed type {name!r}"


@pytest.mark.parametrize("depth", [1, 10, 100, 965, 1000, 5000])
def test_nested_embed_values_are_refused_at_any_depth(depth: int) -> None:
    text = '[{"insert":{"formula":' + '{"a":' * depth + "1" + "}" * depth + "}}]"
    raw = call_deep(json.loads, text)
    for name in ("formula", "image"):
        raw[0]["insert"] = {name: raw[0]["insert"]["formula"]}
        with pytest.raises(InvalidDelta) as info:
            parse_change(raw)
        assert str(info.value).startswith("op 0: ")
        assert name in str(info.value)


def test_version_size_of_deep_legacy_content_is_measured() -> None:
    # Content stored before the schema may nest deeper than plain json.dumps
    # recurses; the version quota still measures it (SQLite's path).

    depth = 5000
    value: Any = ["é"]
    for _ in range(depth - 1):
        value = [value]
    # "[" and "]" per level, the quotes and "é" (two bytes in UTF-8).
    assert _json_size([{"insert": {"formula": value}}]) == (
        len('[{"insert": {"formula": ') + 2 * depth + 4 + len("}}]")
    )


# Integers -------------------------------------------------------------------


@pytest.mark.parametrize("action", ["retain", "delete"])
def test_counts_up_to_max_safe_integer(action: str) -> None:
    assert parse_change([{action: MAX}]).ops == [{action: MAX}]
    for count in (MAX + 1, MAX + 2, 2**64, 10**400):
        with pytest.raises(InvalidDelta) as info:
            parse_change([{action: count}])
        assert str(info.value).startswith(f"op 0: {action} must be at most {MAX}")


def test_counts_that_add_up_past_max_safe_integer_are_refused() -> None:
    with pytest.raises(InvalidDelta, match="add up to more than"):
        parse_change([{"retain": MAX}, {"retain": 2}])
    with pytest.raises(InvalidDelta, match="add up to more than"):
        parse_change([{"retain": MAX - 1}, {"insert": "a"}, {"delete": 2}])
    # Merged by normalisation into what looks like a keystroke.
    for raw in (
        [{"retain": MAX}, {"retain": 2}, {"insert": "a"}],
        [{"insert": "a"}, {"delete": MAX}, {"delete": 1}],
        [{"delete": MAX}, {"delete": 1}],
    ):
        with pytest.raises(InvalidDelta, match="add up to more than"):
            parse_change(raw)
    assert parse_change([{"retain": MAX - 1}, {"insert": "a"}, {"delete": 1}])


def test_schema_file_is_the_one_the_module_reads() -> None:
    on_disk = json.loads(
        (Path(__file__).resolve().parents[2] / "realtime" / "ot" / "schema.json").read_text()
    )
    assert on_disk == SCHEMA
    assert SCHEMA["limits"]["maxSafeInteger"] == 2**53 - 1 == MAX
