"""HTML to a delta: a strict mapper on the standard library's ``html.parser``.

Only what the content schema can hold is kept, by allowlist: headings,
paragraphs, lists (with checklists: Quill's ``data-list``, GitHub's task
list checkboxes, a leading ``[ ]``/``[x]`` or a ☐/☑ glyph), block quotes,
preformatted code, tables (one line per cell, ``table`` = the row's id; ``th`` as ``td``;
``colspan`` padded with empty cells, short rows padded to the widest row
so far), links (http, https, mailto, tel), bold, italic, underline,
strike, inline code, colours, sizes, fonts, alignment, indentation,
horizontal rules and page breaks (``page-break-before``/``break-before``,
the editor's own ``class="page-break"``).

Nothing executable or remote survives: ``script``, ``style``, ``iframe``,
``object``, ``embed``, ``svg``, forms and the like are dropped with their
content, event-handler attributes are never read, a link's scheme must be
one the schema allows. Images: a ``data:`` image is decoded and stored
(through the ``store_image`` callback, so it lands in the project's
storage); a remote one becomes a link to it (the person is told); any
other source is left out. The parser is ``html.parser`` (no network, no
external entities, character references only).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from office.importers.delta import DeltaBuilder, bucket_size, classify_font, css_color

__all__ = ["MAX_DEPTH", "StoreImage", "decode_html", "html_to_delta"]

#: Elements open at once past which more are ignored: the formats in force
#: are merged over the open elements for each run of text, so this bounds
#: that work on hostile nesting.
MAX_DEPTH = 200

#: ``(bytes, filename) -> src`` or None when the image's type cannot be stored.
StoreImage = Callable[[bytes, str], "str | None"]

_DROP = frozenset(
    [
        "script",
        "style",
        "template",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noscript",
        "head",
        "svg",
        "math",
        "canvas",
        "video",
        "audio",
        "source",
        "track",
        "select",
        "textarea",
        "button",
        "noembed",
        "noframes",
        "param",
        "dialog",
        "portal",
        "map",
    ]
)
_VOID = frozenset(
    [
        "br",
        "hr",
        "img",
        "input",
        "meta",
        "link",
        "base",
        "col",
        "area",
        "wbr",
        "param",
        "source",
        "track",
    ]
)
_BLOCK = frozenset(
    [
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "figure",
        "figcaption",
        "dl",
        "dt",
        "dd",
        "address",
        "center",
        "details",
        "summary",
        "caption",
        "hgroup",
    ]
)
_BOLD = frozenset({"b", "strong"})
_ITALIC = frozenset({"i", "em", "cite", "dfn", "var"})
_UNDERLINE = frozenset({"u", "ins"})
_STRIKE = frozenset({"s", "strike", "del"})
_CODE = frozenset({"code", "kbd", "samp", "tt"})
_CHECK = re.compile(r"^\s*(?:\[( |x|X)\]|([☐☑☒✓✔]))\s?")
_DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+);base64,(.*)", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_SIZE_WORDS = {
    "xx-small": 7.0,
    "x-small": 7.5,
    "small": 10.0,
    "medium": 12.0,
    "large": 13.5,
    "x-large": 18.0,
    "xx-large": 24.0,
    "xxx-large": 36.0,
}
_FONT_TAG_SIZES = {"1": 7.5, "2": 10.0, "3": 12.0, "4": 13.5, "5": 18.0, "6": 24.0, "7": 36.0}
_LENGTH = re.compile(r"([\d.]+)\s*(px|pt|em|rem|%)?")


def decode_html(data: bytes) -> str:
    """Return the text of an HTML file: its BOM, its ``<meta charset>``, else UTF-8."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):  # fmt: skip
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    match = _CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return data.decode("utf-8", errors="replace")


def _style(value: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (value or "").split(";"):
        name, sep, val = part.partition(":")
        if sep:
            out[name.strip().lower()] = val.strip().lower().replace("!important", "").strip()
    return out


def _points(value: str) -> float | None:
    if value in _SIZE_WORDS:
        return _SIZE_WORDS[value]
    match = _LENGTH.fullmatch(value.strip())
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2) or "px"
    return {
        "px": number * 0.75,
        "pt": number,
        "em": number * 12,
        "rem": number * 12,
        "%": number * 0.12,
    }[unit]


def _dimension(value: str | None) -> str | None:
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d{1,4})(?:\.\d+)?\s*(px|%)?\s*", value)
    if not match or int(match.group(1)) == 0:
        return None
    return match.group(1) + (match.group(2) if match.group(2) == "%" else "")


@dataclass
class _Frame:
    """One open element: what it adds to the formats in force."""

    tag: str
    inline: dict[str, Any] = field(default_factory=dict)
    block: dict[str, Any] = field(default_factory=dict)
    is_block: bool = False
    cell: int = 0  # a table cell: how many grid columns it spans
    nested_cell: bool = False  # a cell of a table inside a cell
    item: bool = False  # a list item
    lines: int = 0  # the builder's line count when it opened


class _Mapper(HTMLParser):
    def __init__(self, builder: DeltaBuilder, store_image: StoreImage) -> None:
        super().__init__(convert_charrefs=True)
        self.out = builder
        self.store_image = store_image
        self.stack: list[_Frame] = []
        self.drop_depth = 0
        self.pre_depth = 0
        self.lists: list[str] = []  # "ordered" / "bullet", innermost last
        self.title = ""
        self._in_title = False
        self._space = False  # a collapsed space waits for the next text
        self._line_start = True  # no text yet on this line (for checklist prefixes)
        self._item: dict[str, Any] | None = None  # the open list item's block formats
        # Tables: the open row's id and cells, the widest row so far.
        self._row: str | None = None
        self._cells = 0
        self._width = 0
        self._cell_depth = 0
        self._last_line_table = False
        self.remote_images = 0
        self.skipped_images = 0

    # Formats in force -------------------------------------------------

    def _inline(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for frame in self.stack:
            merged.update(frame.inline)
        return merged

    def _block(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for frame in self.stack:
            merged.update(frame.block)
        if self._item is not None:
            merged.update(self._item)
        if self.pre_depth:
            merged["code-block"] = True
        return merged

    def _end_line(self) -> None:
        attrs = self._block()
        if self._cell_depth:
            return  # a cell is one line: its paragraphs are joined by spaces
        self.out.end_line(attrs)
        self._last_line_table = False
        self._space = False
        self._line_start = True

    def _break_block(self) -> None:
        """End the open line (a block element starts or ends)."""
        if self._cell_depth:
            if self.out.line_open:
                self._space = True
            return
        if self.out.line_open:
            self._end_line()

    # Parser callbacks -------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.title:
            self._in_title = True
            return
        if self.drop_depth:
            if tag not in _VOID:
                self.drop_depth += 1
            return
        if tag in _DROP:
            self.drop_depth = 1
            return
        attr = {name.lower(): (value or "") for name, value in attrs}
        if tag in _VOID:
            self._void(tag, attr)
            return
        if len(self.stack) >= MAX_DEPTH:
            return  # deeper elements add nothing (their text keeps the formats so far)
        frame = _Frame(tag)
        style = _style(attr.get("style"))
        classes = attr.get("class", "").split()
        self._inline_formats(tag, attr, style, classes, frame)
        if tag in _BLOCK or tag in ("ul", "ol", "table", "tr", "td", "th"):
            frame.is_block = True
            self._open_block(tag, attr, style, classes, frame)
        self.stack.append(frame)
        if tag == "pre":
            self.pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_title and tag == "title":
            self._in_title = False
            return
        if self.drop_depth:
            if tag not in _VOID:
                self.drop_depth -= 1
            return
        if tag in _VOID or not any(frame.tag == tag for frame in self.stack):
            return  # a stray end tag
        while self.stack:
            frame = self.stack[-1]
            if frame.is_block:
                self._close_block(frame)
            self.stack.pop()
            if frame.tag == "pre":
                self.pre_depth -= 1
            if frame.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self.drop_depth:
            return
        if self.pre_depth and not self._cell_depth:
            lines = data.split("\n")
            for index, line in enumerate(lines):
                if index:
                    self.out.end_line(self._block())
                    self._line_start = True
                self._text(line.replace("\t", "    "))
            return
        collapsed = re.sub(r"\s+", " ", data)
        if not self.out.line_open or self.out.ends_with_space:
            collapsed = collapsed.lstrip(" ")
        self._text(collapsed)

    # Elements ---------------------------------------------------------

    def _text(self, text: str) -> None:
        if not text:
            return
        if self._line_start and self._item is not None:
            match = _CHECK.match(text)
            if match:
                box, glyph = match.group(1), match.group(2)
                checked = box in ("x", "X") if glyph is None else glyph != "☐"
                self._item["list"] = "checked" if checked else "unchecked"
                text = text[match.end() :]
                if not text:
                    return
        if self._space and self.out.line_open and not self.out.ends_with_space:
            self.out.text(" ")
        self._space = False
        self.out.text(text, self._inline())
        self._line_start = False

    def _inline_formats(
        self,
        tag: str,
        attr: dict[str, str],
        style: dict[str, str],
        classes: list[str],
        frame: _Frame,
    ) -> None:
        inline = frame.inline
        if tag in _BOLD:
            inline["bold"] = True
        elif tag in _ITALIC:
            inline["italic"] = True
        elif tag in _UNDERLINE:
            inline["underline"] = True
        elif tag in _STRIKE:
            inline["strike"] = True
        elif tag in _CODE and not self.pre_depth:
            inline["code"] = True
        elif tag == "mark":
            inline["background"] = "#ffff00"
        elif tag == "small":
            inline["size"] = "small"
        elif tag == "big":
            inline["size"] = "large"
        elif tag == "a" and attr.get("href"):
            inline["link"] = attr["href"].strip()
        elif tag == "font":
            if color := css_color(attr.get("color")):
                inline["color"] = color
            if font := classify_font(attr.get("face")):
                inline["font"] = font
            if size := bucket_size(_FONT_TAG_SIZES.get(attr.get("size", "").strip())):
                inline["size"] = size
        weight = style.get("font-weight", "")
        if weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600):
            inline["bold"] = True
        elif weight in ("normal", "lighter") or (weight.isdigit() and int(weight) < 600):
            inline["bold"] = None
        if style.get("font-style") in ("italic", "oblique"):
            inline["italic"] = True
        decoration = style.get("text-decoration", "") + " " + style.get("text-decoration-line", "")
        if "underline" in decoration:
            inline["underline"] = True
        if "line-through" in decoration:
            inline["strike"] = True
        if color := css_color(style.get("color")):
            inline["color"] = color
        background = style.get("background-color") or style.get("background", "").split(" ")[0]
        if (color := css_color(background)) and color != "#ffffff":
            inline["background"] = color
        if "font-size" in style and (points := _points(style["font-size"])) is not None:
            inline["size"] = bucket_size(points)
        if font := classify_font(style.get("font-family")):
            inline["font"] = font
        for name in classes:
            if name.startswith("ql-size-"):
                inline["size"] = name[len("ql-size-") :]
            elif name.startswith("ql-font-"):
                inline["font"] = name[len("ql-font-") :]

    def _open_block(
        self,
        tag: str,
        attr: dict[str, str],
        style: dict[str, str],
        classes: list[str],
        frame: _Frame,
    ) -> None:
        breaks = style.get("page-break-before", "") + style.get("break-before", "")
        if "always" in breaks or "page" in breaks or "page-break" in classes:
            self._break_block()
            if not self._cell_depth:
                self.out.marker("pagebreak")
        if tag == "table":
            self._break_block()
            if self._cell_depth:
                return  # a table in a cell: its text joins the cell's
            if self._last_line_table:
                self.out.end_line()  # two tables in a row stay two tables
            self._width = 0
            return
        if tag == "tr":
            if self._cell_depth:
                return
            self._break_block()
            self._row = DeltaBuilder.new_row_id()
            self._cells = 0
            return
        if tag in ("td", "th"):
            if self._cell_depth or self._row is None:
                self._cell_depth += 1
                frame.nested_cell = True
                return
            self._cell_depth += 1
            span = attr.get("colspan", "1").strip()
            frame.cell = max(1, min(int(span) if span.isdigit() else 1, 50))
            self._line_start = True
            return
        self._break_block()
        block = frame.block
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            block["header"] = min(int(tag[1]), 3)
        elif tag == "blockquote":
            block["blockquote"] = True
        elif tag in ("ul", "ol"):
            kind = "ordered" if tag == "ol" else "bullet"
            if "contains-task-list" in classes:
                kind = "unchecked"
            self.lists.append(kind)
        elif tag == "li":
            kind = self.lists[-1] if self.lists else "bullet"
            data_list = attr.get("data-list", "")
            if data_list in ("ordered", "bullet", "checked", "unchecked"):
                kind = data_list
            item: dict[str, Any] = {"list": kind}
            depth = len(self.lists) - 1
            if depth > 0:
                item["indent"] = min(depth, 8)
            self._item = item
            self._line_start = True
            frame.item = True
            frame.lines = self.out.lines
        align = style.get("text-align") or attr.get("align", "").lower()
        for name in classes:
            if name.startswith("ql-align-"):
                align = name[len("ql-align-") :]
            elif name.startswith("ql-indent-") and name[len("ql-indent-") :].isdigit():
                block["indent"] = min(int(name[len("ql-indent-") :]), 8)
        if align in ("center", "right", "justify"):
            block["align"] = align

    def _close_block(self, frame: _Frame) -> None:
        tag = frame.tag
        if frame.nested_cell:
            self._cell_depth -= 1
            self._space = self.out.line_open
            return
        if frame.cell:
            self._cell_depth -= 1
            row = self._row or DeltaBuilder.new_row_id()
            for _ in range(frame.cell):
                self.out.end_line({"table": row})
                self._cells += 1
            self._space = False
            self._line_start = True
            return
        if tag == "tr" and self._row is not None and not self._cell_depth:
            if self._cells:
                for _ in range(self._width - self._cells):
                    self.out.end_line({"table": self._row})
                self._width = max(self._width, self._cells)
                self._last_line_table = True
            self._row = None
            return
        if tag == "table":
            return
        if self._cell_depth:
            self._break_block()
            return
        if self.out.line_open:
            self._end_line()
        elif frame.item and self._item is not None and self.out.lines == frame.lines:
            self.out.end_line(self._block())  # an empty list item is still an item
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if frame.item:
            self._item = None

    def _void(self, tag: str, attr: dict[str, str]) -> None:
        if tag == "br":
            if self._cell_depth:
                self._space = self.out.line_open
            else:
                self.out.end_line(self._block())
                self._space = False
                self._line_start = True
        elif tag == "hr":
            if not self._cell_depth:
                self._break_block()
                self.out.marker("divider")
        elif tag == "input" and attr.get("type", "").lower() == "checkbox":
            if self._item is not None:
                self._item["list"] = "checked" if "checked" in attr else "unchecked"
        elif tag == "img":
            self._image(attr)

    def _image(self, attr: dict[str, str]) -> None:
        src = attr.get("src", "").strip()
        style = _style(attr.get("style"))
        alt = re.sub(r"\s+", " ", attr.get("alt", "")).strip()[:500] or None
        match = _DATA_URL.fullmatch(src)
        if match:
            mime = match.group(1).lower()
            try:
                data = base64.b64decode(re.sub(r"\s+", "", match.group(2)), validate=True)
            except (binascii.Error, ValueError):
                self.skipped_images += 1
                return
            stored = self.store_image(data, "image." + _EXT.get(mime, "bin"))
            if stored is None:
                self.skipped_images += 1
                return
            attrs = self._inline()
            attrs.update(
                alt=alt,
                width=_dimension(attr.get("width") or style.get("width")),
                height=_dimension(attr.get("height") or style.get("height")),
            )
            if self._space and self.out.line_open and not self.out.ends_with_space:
                self.out.text(" ")
            self._space = False
            self.out.image(stored, attrs)
            self._line_start = False
        elif src.lower().startswith(("http://", "https://")):
            self.remote_images += 1
            self.stack.append(_Frame("img", inline={"link": src}))
            self._text(alt or src)
            self.stack.pop()
        else:
            self.skipped_images += 1


def html_to_delta(
    text: str, builder: DeltaBuilder, store_image: StoreImage
) -> tuple[str, list[str]]:
    """Map HTML ``text`` into ``builder``; return the ``<title>`` and warnings."""
    mapper = _Mapper(builder, store_image)
    mapper.feed(text)
    mapper.close()
    if builder.line_open:
        builder.end_line(mapper._block())
    warnings = []
    if mapper.remote_images:
        warnings.append(f"{mapper.remote_images} image(s) from other sites became links to them.")
    if mapper.skipped_images:
        warnings.append(
            f"{mapper.skipped_images} image(s) could not be used (not stored here, or in a "
            "format this editor cannot show) and were left out."
        )
    return " ".join(mapper.title.split()), warnings
