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
  a tag that loads anything; only an export that passes ``images`` (a
  function answering a ``data:image/...;base64`` URI for the document's own
  images) gets ``<img>`` tags, and only with such URIs;
* the result passes through nh3 (ammonia) with an allow-list matching the
  above, so a bug here cannot produce a script.

Layout (contract.md "Content schema additions"): a line whose newline
carries ``table: "row-…"`` is a table cell; consecutive cells with the same
row id are a row and consecutive table lines a table (``<table>``). The
block embeds ``divider`` and ``pagebreak`` become ``<hr>`` and
``<div class="page-break">``; ``size`` and ``font`` become Quill's
``ql-size-*`` / ``ql-font-*`` classes. :func:`blocks` walks content in these
terms for the other exporters (office.export).

Review state (:mod:`documents.proposals`): by default the content is shown
as accepted so far (pending suggestions rejected, comment anchors never
shown). With ``suggestions="markup"`` suggestions are drawn: proposed text
in ``<ins>``, text proposed for deletion in ``<del>`` (both with the
author and time in ``title`` and the time in ``datetime``), proposed
formats as a ``suggested-format`` span followed by a note; a suggestion on
a line break adds a ``¶`` (inserted or deleted) or a note at the line's end.
Plain text marks them ``[+inserted+]`` and ``[-deleted-]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3

from documents.proposals import (
    ACCEPTED,
    MARKUP,
    Names,
    Proposal,
    SuggestionMode,
    describe,
    group_pieces,
    proposals_of,
    readable,
)

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_RGB_COLOR = re.compile(
    r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*(0|1|0?\.\d+)\s*)?\)"
)
_LINK_SCHEMES = {"http", "https", "mailto"}
_ALIGNS = {"center", "right", "justify"}
_LIST_TAGS = {"ordered": "ol", "bullet": "ul", "checked": "ul", "unchecked": "ul"}
_MAX_INDENT = 8

_SIZES = ("small", "large", "huge")
_FONTS = ("serif", "monospace")
_TABLE_ROW = re.compile(r"row-[a-z0-9]{1,16}")
#: Embeds that stand on a line of their own (Quill block embeds drawn as markup).
BLOCK_MARKERS = ("divider", "pagebreak")
#: The only image data an ``<img>`` may carry.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_DATA_URI = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}")
_IMAGE_WIDTH = re.compile(r"([1-9][0-9]{0,3})(px|%)?")

_BLOCK_TAGS = {
    *("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ol", "ul", "li"),
    *("table", "tbody", "tr", "td", "hr", "div"),
}
_INLINE_TAGS = {"strong", "em", "u", "s", "code", "sub", "sup", "a", "span", "br", "img"}
_REVIEW_TAGS = {"ins", "del", "small"}
_ALLOWED_CLASSES = {
    *(f"ql-align-{align}" for align in _ALIGNS),
    *(f"ql-indent-{n}" for n in range(1, _MAX_INDENT + 1)),
    *(f"ql-size-{size}" for size in _SIZES),
    *(f"ql-font-{font}" for font in _FONTS),
    "ql-embed",
    "page-break",
    "suggested-format",
    "suggestion-note",
}


def _only_image_data(tag: str, attribute: str, value: str) -> str | None:
    """nh3 filter: ``data:`` is allowed, but only as an ``<img>``'s image data."""
    if attribute in ("src", "href") and value.strip().lower().startswith("data:"):
        return value if tag == "img" and attribute == "src" and _DATA_URI.fullmatch(value) else None
    if tag == "img" and attribute == "src":
        return None  # an image shows inline data only: nothing that loads
    return value


_CLEANER = nh3.Cleaner(
    tags=_BLOCK_TAGS | _INLINE_TAGS | _REVIEW_TAGS,
    attributes={
        "a": {"href"},
        "span": {"style", "data-embed", "title"},
        "li": {"data-list"},
        "ins": {"title", "datetime"},
        "del": {"title", "datetime"},
        "img": {"src", "alt", "style"},
    },
    attribute_filter=_only_image_data,
    allowed_classes={tag: _ALLOWED_CLASSES for tag in _BLOCK_TAGS | {"span", "small"}},
    filter_style_properties={"color", "background-color", "width"},
    url_schemes=_LINK_SCHEMES | {"data"},
    url_relative="deny",
    link_rel="noopener noreferrer nofollow",
)

#: ``src -> data: URI`` for the images an export may show (None: not shown).
ImageURIs = Callable[[str], str | None]

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


@dataclass
class Marker:
    """A block embed drawn as markup: ``divider`` (a rule) or ``pagebreak``."""

    name: str


@dataclass
class Table:
    """Consecutive table lines: rows of cells, each cell one line."""

    rows: list[list[Line]] = field(default_factory=list)


def table_row(attributes: Attributes) -> str | None:
    """Return the table row id a line's attributes put it in, else None."""
    value = attributes.get("table")
    return value if isinstance(value, str) and _TABLE_ROW.fullmatch(value) else None


def is_marker(piece: str | dict) -> bool:
    """Whether ``piece`` is a block embed drawn as markup (``{"divider": true}``...)."""
    return isinstance(piece, dict) and len(piece) == 1 and next(iter(piece)) in BLOCK_MARKERS


def blocks(lines: Iterable[Line]) -> Iterator[Line | Marker | Table]:
    """Group lines into what exporters draw: lines, markers and tables.

    A marker (a Quill block embed) is followed by no newline of its own, so
    it arrives among the next line's pieces: it is split out, and the text
    before it (if any) becomes a plain line of its own.
    """
    table: Table | None = None
    for line in lines:
        pieces: list[tuple[str | dict, Attributes]] = []
        for piece, attributes in line.pieces:
            if is_marker(piece):
                if table is not None:
                    yield table
                    table = None
                if pieces:
                    yield Line(pieces)
                    pieces = []
                assert isinstance(piece, dict)
                yield Marker(str(next(iter(piece))))
            else:
                pieces.append((piece, attributes))
        if not pieces and len(pieces) != len(line.pieces) and line.attributes == {}:
            continue  # the marker's own line: nothing else on it
        current = Line(pieces, line.attributes)
        row = table_row(line.attributes)
        if row is None:
            if table is not None:
                yield table
                table = None
            yield current
            continue
        if table is None:
            table = Table()
        if table.rows and table_row(table.rows[-1][0].attributes) == row:
            table.rows[-1].append(current)
        else:
            table.rows.append([current])
    if table is not None:
        yield table


def image_width(attributes: Attributes) -> tuple[int, str] | None:
    """Return an image's width as ``(number, "px" | "%")``, None when unset or bad."""
    value = attributes.get("width")
    match = _IMAGE_WIDTH.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2) or "px"
    return (number, unit) if unit == "px" or number <= 100 else None


def image_alt(attributes: Attributes) -> str:
    """Return an image's alt text ('' when none)."""
    value = attributes.get("alt")
    return value.strip() if isinstance(value, str) else ""


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


def _embed_html(embed: Mapping[str, Any], attributes: Attributes, images: ImageURIs | None) -> str:
    name = next(iter(embed), "embed") if embed else "embed"
    if name == "image" and images is not None and isinstance(embed.get("image"), str):
        uri = images(embed["image"])
        if uri is not None and _DATA_URI.fullmatch(uri):
            width = image_width(attributes)
            style = f' style="width: {width[0]}{width[1]}"' if width else ""
            return f'<img src="{uri}" alt="{escape(image_alt(attributes))}"{style}>'
    label = escape(str(name))
    alt = image_alt(attributes) if name == "image" else ""
    text = f"[{label}: {escape(alt)}]" if alt else f"[{label}]"
    return f'<span class="ql-embed" data-embed="{label}">{text}</span>'


def _inline_html(piece: str | dict, attributes: Attributes, images: ImageURIs | None = None) -> str:
    """Return one run of text (or an embed) with its inline formats."""
    if isinstance(piece, dict):
        return _embed_html(piece, attributes, images)
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
    classes = [
        f"ql-{name}-{value}"
        for name, values in (("size", _SIZES), ("font", _FONTS))
        if (value := attributes.get(name)) in values
    ]
    if classes:
        html = f'<span class="{" ".join(classes)}">{html}</span>'
    href = safe_link(attributes.get("link"))
    if href:
        html = f'<a href="{escape(href)}">{html}</a>'
    return html


def _datetime_attr(proposal: Proposal) -> str:
    at = proposal.at
    return f' datetime="{at.strftime("%Y-%m-%dT%H:%M:%SZ")}"' if at is not None else ""


def _note_html(proposal: Proposal, names: Names, *, line: bool = False) -> str:
    return (
        f'<small class="suggestion-note">({escape(describe(proposal, names, line=line))})</small>'
    )


def _marked_up_html(inner: str, proposals: tuple[Proposal, ...], names: Names) -> str:
    """Wrap one suggestion's HTML: the outermost proposal wraps last."""
    for proposal in reversed(proposals):
        title = escape(describe(proposal, names))
        if proposal.kind == "format":
            inner = (
                f'<span class="suggested-format" title="{title}">{inner}</span>'
                f"{_note_html(proposal, names)}"
            )
        else:
            tag = "ins" if proposal.kind == "insert" else "del"
            inner = f'<{tag} title="{title}"{_datetime_attr(proposal)}>{inner}</{tag}>'
    return inner


def _line_end_html(line: Line, names: Names) -> str:
    """Return the marks of suggestions on the line break itself."""
    out = []
    for proposal in proposals_of(line.attributes):
        if proposal.kind == "format":
            out.append(_note_html(proposal, names, line=True))
        else:
            tag = "ins" if proposal.kind == "insert" else "del"
            title = escape(describe(proposal, names, line=True))
            out.append(f'<{tag} title="{title}"{_datetime_attr(proposal)}>¶</{tag}>')
    return "".join(out)


def _line_inner(line: Line, names: Names | None = None, images: ImageURIs | None = None) -> str:
    """Return a line's inline HTML; ``names`` given: suggestions marked up."""
    if names is None:
        inner = "".join(_inline_html(piece, attrs, images) for piece, attrs in line.pieces)
        return inner or "<br>"
    inner = "".join(
        _marked_up_html("".join(_inline_html(p, a, images) for p, a in pieces), proposals, names)
        for proposals, pieces in group_pieces(line.pieces)
    )
    return (inner + _line_end_html(line, names)) or "<br>"


def _classes(attributes: Attributes, *, indent: bool) -> str:
    classes = []
    align = attributes.get("align")
    if align in _ALIGNS:
        classes.append(f"ql-align-{align}")
    level = _small_int(attributes.get("indent"), 1, _MAX_INDENT) if indent else None
    if level:
        classes.append(f"ql-indent-{level}")
    return f' class="{" ".join(classes)}"' if classes else ""


def _block_html(line: Line, names: Names | None, images: ImageURIs | None) -> str:
    attributes = line.attributes
    header = _small_int(attributes.get("header"), 1, 6)
    tag = f"h{header}" if header else "blockquote" if attributes.get("blockquote") is True else "p"
    inner = _line_inner(line, names, images)
    return f"<{tag}{_classes(attributes, indent=True)}>{inner}</{tag}>"


def _table_html(table: Table, names: Names | None, images: ImageURIs | None) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td{_classes(cell.attributes, indent=False)}>{_line_inner(cell, names, images)}</td>"
            for cell in row
        )
        + "</tr>"
        for row in table.rows
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _marker_html(marker: Marker) -> str:
    return "<hr>" if marker.name == "divider" else '<div class="page-break"></div>'


def _code_line(line: Line, names: Names | None) -> str:
    if names is None:
        return escape("".join(piece for piece, _ in line.pieces if isinstance(piece, str)))
    # Only the suggestion marks, no inline formats: code is shown as typed.
    return "".join(
        _marked_up_html(
            escape("".join(p for p, _ in pieces if isinstance(p, str))), proposals, names
        )
        for proposals, pieces in group_pieces(line.pieces)
    ) + _line_end_html(line, names)


def _code_html(lines: list[Line], names: Names | None) -> str:
    body = "\n".join(_code_line(line, names) for line in lines)
    return f"<pre>{body}</pre>"


def _list_html(lines: list[Line], names: Names | None, images: ImageURIs | None) -> str:
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
        classes = _classes(line.attributes, indent=False)
        out.append(f"<li{data}{classes}>{_line_inner(line, names, images)}")
    while stack:
        out.append(f"</li></{stack.pop()}>")
    return "".join(out)


def block_kind(block: Line | Marker | Table) -> str:
    """Return ``"code"``, ``"list"``, ``"table"``, ``"marker"`` or ``"block"`` (any other line)."""
    if isinstance(block, Table):
        return "table"
    if isinstance(block, Marker):
        return "marker"
    line = block
    if line.attributes.get("code-block"):
        return "code"
    if line.attributes.get("list") in _LIST_TAGS:
        return "list"
    return "block"


def render_html(
    ops: Iterable[Mapping[str, Any]],
    *,
    suggestions: SuggestionMode = ACCEPTED,
    names: Names | None = None,
    images: ImageURIs | None = None,
) -> str:
    """Return Delta content as sanitised semantic HTML.

    ``suggestions="markup"`` draws the suggestions (see the module
    docstring), naming their authors from ``names`` (user id -> name).
    ``images`` answers the ``data:`` URI of an image embed's src, or None
    (then, as without ``images``, a ``[image: alt]`` placeholder).
    """
    marked = suggestions == MARKUP
    people: Names | None = (names or {}) if marked else None
    content = readable(ops, suggestions=suggestions)

    def run_html(lines: list[Line], kind: str) -> str:
        if kind == "list":
            return _list_html(lines, people, images)
        return _code_html(lines, people)

    parts: list[str] = []
    run: list[Line] = []
    run_kind = ""
    for block in blocks(split_lines(content)):
        kind = block_kind(block)
        if run and kind != run_kind:
            parts.append(run_html(run, run_kind))
            run = []
        if isinstance(block, Table):
            parts.append(_table_html(block, people, images))
        elif isinstance(block, Marker):
            parts.append(_marker_html(block))
        elif kind == "block":
            parts.append(_block_html(block, people, images))
        else:
            run.append(block)
            run_kind = kind
    if run:
        parts.append(run_html(run, run_kind))
    return _CLEANER.clean("".join(parts))


def render_text(ops: Iterable[Mapping[str, Any]], *, suggestions: SuggestionMode = ACCEPTED) -> str:
    """Return Delta content as plain text; embeds are left out, as Quill's getText does.

    ``suggestions="markup"`` marks proposed text ``[+...+]`` and text
    proposed for deletion ``[-...-]`` (format proposals have no plain form).
    """
    content = readable(ops, suggestions=suggestions)
    if suggestions != MARKUP:
        return "".join(op["insert"] for op in content if isinstance(op["insert"], str))
    out: list[str] = []
    for proposals, pieces in group_pieces(
        [(op["insert"], op.get("attributes") or {}) for op in content]
    ):
        text = "".join(piece for piece, _ in pieces if isinstance(piece, str))
        if not text:
            continue
        for proposal in reversed(proposals):
            if proposal.kind == "insert":
                text = f"[+{text}+]"
            elif proposal.kind == "delete":
                text = f"[-{text}-]"
        out.append(text)
    return "".join(out)
