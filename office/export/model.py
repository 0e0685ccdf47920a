"""Content as the office exporters draw it: paragraphs of styled runs, tables, rules.

DOCX and ODT are built from the same walk of the content
(:func:`walk`), so both keep the same things and drop the same things. The
walk trusts nothing in the content: every value the writers will put in a
file is checked here (colours become ``rrggbb``, links only http, https or
mailto, headers 1-6, indents 0-8, image widths as the schema allows) and
anything else is dropped, never passed on.

Lines are grouped as :func:`documents.render.blocks` groups them (tables,
rules and page breaks). List lines carry the number of the list they belong
to (``list_id``: a run of consecutive list lines), so ordered lists restart
where the editor restarts them. Images are read through the export's image
source (only the exported document's images); an image that cannot be read
keeps its alt text as ``[image: alt]``. WebP and other types some readers
do not show are converted to PNG once per image.

With suggestions marked up, proposed text is drawn underlined in green and
text proposed for deletion struck through in red, as the HTML export does.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from documents.export import ExportRequest
from documents.proposals import MARKUP, proposals_of, readable
from documents.render import (
    Line,
    Marker,
    Table,
    blocks,
    image_alt,
    image_width,
    safe_color,
    safe_link,
    split_lines,
)

#: Width of the text column in CSS pixels (96 per inch) for A4 with 2 cm
#: margins (17 cm) and Letter with 2 cm margins (17.59 cm): percentages and
#: over-wide images are sized against it.
TEXT_WIDTH_PX = {"A4": 642, "Letter": 665}
#: Height of the text area likewise (25.7 cm and 23.94 cm): taller pictures shrink to fit.
TEXT_HEIGHT_PX = {"A4": 971, "Letter": 904}
#: Picture types every word processor shows; anything else is converted to PNG.
PORTABLE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
#: Relative sizes of the ``size`` format, as Quill's stylesheet has them.
SIZE_FACTORS = {"small": 0.75, "large": 1.5, "huge": 2.5}
HEADER_LEVELS = range(1, 7)
_INSERTED_COLOR = "137333"
_DELETED_COLOR = "a50e0e"
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")


def hex_color(value: Any) -> str | None:
    """Return a safe colour as six lowercase hex digits, else None."""
    color = safe_color(value)
    if color is None:
        return None
    if color.startswith("#"):
        digits = color[1:]
        if len(digits) in (3, 4):
            digits = "".join(ch * 2 for ch in digits[:3])
        return digits[:6].lower()
    match = _RGB.match(color)
    return "".join(f"{int(c):02x}" for c in match.groups()) if match else None


@dataclass(frozen=True)
class Style:
    """The inline formats of a run, checked."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    code: bool = False
    color: str | None = None  # rrggbb
    background: str | None = None  # rrggbb
    link: str | None = None
    size: str | None = None  # small | large | huge
    font: str | None = None  # serif | monospace
    script: str | None = None  # sub | super


def style_of(attributes: Mapping[str, Any], *, markup: bool = False) -> Style:
    """Return the checked inline style of ``attributes``."""
    style = Style(
        bold=attributes.get("bold") is True,
        italic=attributes.get("italic") is True,
        underline=attributes.get("underline") is True,
        strike=attributes.get("strike") is True,
        code=attributes.get("code") is True,
        color=hex_color(attributes.get("color")),
        background=hex_color(attributes.get("background")),
        link=safe_link(attributes.get("link")),
        size=attributes["size"] if attributes.get("size") in SIZE_FACTORS else None,
        font=attributes["font"] if attributes.get("font") in ("serif", "monospace") else None,
        script=attributes["script"] if attributes.get("script") in ("sub", "super") else None,
    )
    if markup:
        kinds = {proposal.kind for proposal in proposals_of(attributes)}
        if "delete" in kinds:
            style = replace(style, strike=True, color=_DELETED_COLOR)
        elif "insert" in kinds:
            style = replace(style, underline=True, color=_INSERTED_COLOR)
    return style


@dataclass(frozen=True)
class Text:
    """A run of text."""

    text: str
    style: Style


@dataclass(frozen=True)
class Picture:
    """An image of the document: its (portable) bytes and the size to draw it."""

    data: bytes
    extension: str  # png | jpg | gif
    content_type: str
    width_px: int  # drawn size, CSS pixels
    height_px: int
    alt: str
    style: Style


Run = Text | Picture


@dataclass
class Paragraph:
    """One line: its runs and block formats.

    ``kind`` is ``p``, ``heading``, ``quote``, ``code`` or ``list``;
    ``list_kind`` ``ordered``, ``bullet``, ``checked`` or ``unchecked``.
    """

    runs: list[Run] = field(default_factory=list)
    kind: str = "p"
    level: int = 0  # heading level 1-6
    list_kind: str = ""
    list_id: int = 0
    indent: int = 0
    align: str = ""  # center | right | justify


@dataclass
class Grid:
    """A table: rows of cells, one paragraph a cell."""

    rows: list[list[Paragraph]]

    @property
    def columns(self) -> int:
        """The widest row's cell count."""
        return max(len(row) for row in self.rows)


@dataclass(frozen=True)
class Rule:
    """A horizontal rule (``divider``)."""


@dataclass(frozen=True)
class PageBreak:
    """A page break (``pagebreak``)."""


Block = Paragraph | Grid | Rule | PageBreak


def _small(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value if low <= value <= high else 0


class _Walker:
    def __init__(self, request: ExportRequest, page_size: str) -> None:
        self.request = request
        self.markup = request.suggestions == MARKUP
        self.text_width_px = TEXT_WIDTH_PX.get(page_size, TEXT_WIDTH_PX["A4"])
        self.text_height_px = TEXT_HEIGHT_PX.get(page_size, TEXT_HEIGHT_PX["A4"])
        self.pictures: dict[str, tuple[bytes, str, str, int, int] | None] = {}
        self.list_id = 0
        self.in_list = False

    def picture(self, src: Any, attributes: Mapping[str, Any]) -> Run:
        alt = image_alt(attributes)
        style = style_of(attributes, markup=self.markup)
        image = self._portable(src) if isinstance(src, str) else None
        if image is None:
            return Text(f"[image: {alt}]" if alt else "[image]", style)
        data, extension, content_type, width, height = image
        wanted = image_width(attributes)
        if wanted is None:
            drawn = width
        elif wanted[1] == "%":
            drawn = self.text_width_px * wanted[0] // 100
        else:
            drawn = wanted[0]
        drawn = max(1, min(drawn, self.text_width_px))
        tall = max(1, round(height * drawn / width))
        if tall > self.text_height_px:
            drawn, tall = max(1, round(drawn * self.text_height_px / tall)), self.text_height_px
        return Picture(data, extension, content_type, drawn, tall, alt, style)

    def _portable(self, src: str) -> tuple[bytes, str, str, int, int] | None:
        if src in self.pictures:
            return self.pictures[src]
        found = self.request.image(src)
        result = None
        if found is not None:
            data, content_type = found
            try:
                with PILImage.open(io.BytesIO(data)) as image:
                    width, height = image.size
                    if content_type not in PORTABLE_TYPES or image.format not in (
                        "PNG",
                        "JPEG",
                        "GIF",
                    ):
                        out = io.BytesIO()
                        image.save(out, format="PNG")
                        data, content_type = out.getvalue(), "image/png"
                    else:
                        content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(
                            image.format or "", "image/gif"
                        )
                if width > 0 and height > 0:
                    result = (data, PORTABLE_TYPES[content_type], content_type, width, height)
            except (UnidentifiedImageError, OSError, ValueError):
                result = None  # bytes that are not an image: alt text instead
        self.pictures[src] = result
        return result

    def paragraph(self, line: Line) -> Paragraph:
        attributes = line.attributes
        runs: list[Run] = []
        for piece, piece_attributes in line.pieces:
            if isinstance(piece, str):
                runs.append(Text(piece, style_of(piece_attributes, markup=self.markup)))
            elif "image" in piece:
                runs.append(self.picture(piece.get("image"), piece_attributes))
            elif piece:  # a video or an embed this version does not know: a placeholder
                name = str(next(iter(piece)))[:40]
                runs.append(Text(f"[{name}]", style_of(piece_attributes, markup=self.markup)))
        paragraph = Paragraph(runs=runs)
        align = attributes.get("align")
        paragraph.align = align if align in ("center", "right", "justify") else ""
        paragraph.indent = _small(attributes.get("indent"), 1, 8)
        header = _small(attributes.get("header"), 1, 6)
        kind = attributes.get("list")
        if attributes.get("code-block"):
            paragraph.kind = "code"
        elif kind in ("ordered", "bullet", "checked", "unchecked"):
            if not self.in_list:
                self.list_id += 1
            paragraph.kind, paragraph.list_kind, paragraph.list_id = "list", kind, self.list_id
        elif header:
            paragraph.kind, paragraph.level = "heading", header
        elif attributes.get("blockquote") is True:
            paragraph.kind = "quote"
        self.in_list = paragraph.kind == "list"
        return paragraph

    def walk(self) -> Iterator[Block]:
        content = readable(self.request.content, suggestions=self.request.suggestions)
        for block in blocks(split_lines(content)):
            if isinstance(block, Table):
                self.in_list = False
                yield Grid([[self.cell(cell) for cell in row] for row in block.rows])
            elif isinstance(block, Marker):
                self.in_list = False
                yield Rule() if block.name == "divider" else PageBreak()
            else:
                yield self.paragraph(block)

    def cell(self, line: Line) -> Paragraph:
        paragraph = self.paragraph(Line(line.pieces, {"align": line.attributes.get("align")}))
        self.in_list = False
        return paragraph


def walk(request: ExportRequest, *, page_size: str = "A4") -> list[Block]:
    """Return the request's content as blocks (see the module docstring)."""
    return list(_Walker(request, page_size).walk())
