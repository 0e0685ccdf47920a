"""Quill Delta content to safe HTML and to plain text.

The HTML follows the shape of Quill 2's ``getSemanticHTML``: one block
element per line (``<p>``, ``<h1>``-``<h6>``, ``<blockquote>``), list lines
grouped into (nested) ``<ol>``/``<ul>``, consecutive code-block lines in one
``<pre>``, and inline formats as ``<strong>``, ``<em>``, ``<u>``, ``<s>``,
``<code>``, ``<sub>``/``<sup>``, ``<a>`` and ``<span style>``.

Content is written by people, so nothing in it is trusted:

* every string (text, attribute values, embed names) is escaped;
* only known attributes with valid values become markup: links only with
  http, https or mailto URLs, colours only as ``#hex`` or ``rgb(...)``,
  headers 1-6, known list kinds, small integer indents;
* embeds (images, videos, formulas...) become an escaped placeholder, never
  a tag that loads anything;
* the result passes through nh3 (ammonia) with an allow-list matching the
  above, so a bug here cannot produce a script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_RGB_COLOR = re.compile(
    r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(0|1|0?\.\d+)\s*)?\)"
)
_LINK_SCHEMES = {"http", "https", "mailto"}
_ALIGNS = {"center", "right", "justify"}
_LIST_TAGS = {"ordered": "ol", "bullet": "ul", "checked": "ul", "unchecked": "ul"}
_MAX_INDENT = 8

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ol", "ul", "li"}
_INLINE_TAGS = {"strong", "em", "u", "s", "code", "sub", "sup", "a", "span", "br"}
_ALLOWED_CLASSES = {
    *(f"ql-align-{align}" for align in _ALIGNS),
    *(f"ql-indent-{n}" for n in range(1, _MAX_INDENT + 1)),
    "ql-embed",
}
_CLEANER = nh3.Cleaner(
    tags=_BLOCK_TAGS | _INLINE_TAGS,
    attributes={"a": {"href"}, "span": {"style", "data-embed"}, "li": {"data-list"}},
    allowed_classes={tag: _ALLOWED_CLASSES for tag in _BLOCK_TAGS | {"span"}},
    filter_style_properties={"color", "background-color"},
    url_schemes=_LINK_SCHEMES,
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
)

Attributes = Mapping[str, Any]


@dataclass
class Line:
    """One line of the document: its pieces and the newline's attributes."""

    pieces: list[tuple[str | dict, Attributes]] = field(default_factory=list)
    attributes: Attributes = field(default_factory=dict)


def split_lines(ops: Iterable[Mapping[str, Any]]) -> Iterator[Line]:
    """Split content into lines; the attributes of each ``\\n`` format its line."""
    line = Line()
    for op in ops:
        if not isinstance(op, Mapping) or "insert" not in op:
            continue  # content holds inserts only; ignore anything else
        insert = op["insert"]
        attributes = op.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            attributes = {}
        if isinstance(insert, str):
            parts = insert.split("\n")
            for index, part in enumerate(parts):
                if part:
                    line.pieces.append((part, attributes))
                if index < len(parts) - 1:
                    line.attributes = attributes
                    yield line
                    line = Line()
        elif isinstance(insert, dict):
            line.pieces.append((insert, attributes))
    if line.pieces:
        yield line


def safe_link(value: Any) -> str | None:
    """Return ``value`` if it is an http, https or mailto URL, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return value


def safe_color(value: Any) -> str | None:
    """Return ``value`` if it is a ``#hex`` or ``rgb()``/``rgba()`` colour, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if _HEX_COLOR.fullmatch(value):
        return value
    match = _RGB_COLOR.fullmatch(value)
    if match and all(int(channel) <= 255 for channel in match.groups()[:3]):
        return value
    return None


def _small_int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high and str(number) == str(value).strip() else None


def _embed_html(embed: Mapping[str, Any]) -> str:
    name = next(iter(embed), "embed") if embed else "embed"
    label = escape(str(name))
    return f'<span class="ql-embed" data-embed="{label}">[{label}]</span>'


def _inline_html(piece: str | dict, attributes: Attributes) -> str:
    """Return one run of text (or an embed) with its inline formats."""
    if isinstance(piece, dict):
        return _embed_html(piece)
    html = escape(piece)
    if attributes.get("code") is True:
        html = f"<code>{html}</code>"
    script = attributes.get("script")
    if script in ("sub", "super"):
        tag = "sub" if script == "sub" else "sup"
        html = f"<{tag}>{html}</{tag}>"
    for name, tag in (("strike", "s"), ("underline", "u"), ("italic", "em"), ("bold", "strong")):
        if attributes.get(name) is True:
            html = f"<{tag}>{html}</{tag}>"
    styles = []
    color = safe_color(attributes.get("color"))
    if color:
        styles.append(f"color: {color}")
    background = safe_color(attributes.get("background"))
    if background:
        styles.append(f"background-color: {background}")
    if styles:
        html = f'<span style="{escape("; ".join(styles))}">{html}</span>'
    href = safe_link(attributes.get("link"))
    if href:
        html = f'<a href="{escape(href)}">{html}</a>'
    return html


def _line_inner(line: Line) -> str:
    inner = "".join(_inline_html(piece, attrs) for piece, attrs in line.pieces)
    return inner or "<br>"


def _classes(attributes: Attributes, *, indent: bool) -> str:
    classes = []
    align = attributes.get("align")
    if align in _ALIGNS:
        classes.append(f"ql-align-{align}")
    level = _small_int(attributes.get("indent"), 1, _MAX_INDENT) if indent else None
    if level:
        classes.append(f"ql-indent-{level}")
    return f' class="{" ".join(classes)}"' if classes else ""


def _block_html(line: Line) -> str:
    attributes = line.attributes
    header = _small_int(attributes.get("header"), 1, 6)
    tag = f"h{header}" if header else "blockquote" if attributes.get("blockquote") is True else "p"
    return f"<{tag}{_classes(attributes, indent=True)}>{_line_inner(line)}</{tag}>"


def _code_html(lines: list[Line]) -> str:
    text = "\n".join(
        "".join(piece for piece, _ in line.pieces if isinstance(piece, str)) for line in lines
    )
    return f"<pre>{escape(text)}</pre>"


def _list_html(lines: list[Line]) -> str:
    """Return consecutive list lines as nested lists, as Quill nests them."""
    out: list[str] = []
    stack: list[str] = []  # the tags of the open lists, outermost first
    for line in lines:
        kind = line.attributes["list"]
        tag = _LIST_TAGS[kind]
        depth = (_small_int(line.attributes.get("indent"), 1, _MAX_INDENT) or 0) + 1
        while len(stack) > depth or (len(stack) == depth and stack[-1] != tag):
            out.append(f"</li></{stack.pop()}>")
        if len(stack) == depth:
            out.append("</li>")
        while len(stack) < depth:
            stack.append(tag)
            out.append(f"<{stack[-1]}>")
            if len(stack) < depth:
                out.append("<li>")
        data = f' data-list="{kind}"' if kind in ("checked", "unchecked") else ""
        out.append(f"<li{data}{_classes(line.attributes, indent=False)}>{_line_inner(line)}")
    while stack:
        out.append(f"</li></{stack.pop()}>")
    return "".join(out)


def _kind(line: Line) -> str:
    if line.attributes.get("code-block"):
        return "code"
    if line.attributes.get("list") in _LIST_TAGS:
        return "list"
    return "block"


def render_html(ops: Iterable[Mapping[str, Any]]) -> str:
    """Return Delta content as sanitised semantic HTML."""
    parts: list[str] = []
    run: list[Line] = []
    run_kind = ""
    for line in split_lines(ops):
        kind = _kind(line)
        if run and kind != run_kind:
            parts.append(_list_html(run) if run_kind == "list" else _code_html(run))
            run = []
        if kind == "block":
            parts.append(_block_html(line))
        else:
            run.append(line)
            run_kind = kind
    if run:
        parts.append(_list_html(run) if run_kind == "list" else _code_html(run))
    return _CLEANER.clean("".join(parts))


def render_text(ops: Iterable[Mapping[str, Any]]) -> str:
    """Return Delta content as plain text; embeds are left out, as Quill's getText does."""
    return "".join(
        op["insert"] for op in ops if isinstance(op, Mapping) and isinstance(op.get("insert"), str)
    )
