"""ODT to a delta, with odfpy (the OASIS reference library; it parses through defusedxml).

The text body is walked in document order:

* ``text:h`` (its outline level; deeper than 3 as 3), ``text:p`` with its
  style chain: ``Heading N``, ``Title``, quotations and preformatted styles,
  alignment, left margin (one indent level per 1.27 cm), page breaks
  before and after (an empty paragraph breaking the page after it is the
  break alone), an empty paragraph with a bottom border as a rule; a
  paragraph's automatic style's text properties (bold, colour...
  applied to the whole paragraph) count as its runs';
* ``text:list``: each ``text:list-item`` a line, its nesting depth the
  indent, the list style's level (a number style or a bullet; a ☐/☑
  bullet character, or a ☐/☑ glyph starting the item, makes a checklist);
* ``text:span`` styles (automatic and common): bold, italic, underline,
  strike, colour, background, size (a bucket relative to the body's
  size), fonts the editor has (serif, monospace, by family or the font
  face's generic family and pitch) when not the body's own, ``Source
  Text`` as inline code; ``text:a`` links; spaces, tabs and line breaks;
* ``table:table``: one line per cell (its paragraphs joined by spaces), a
  row id per row; a covered (merged) cell is an empty one, so every row
  keeps the grid;
* ``draw:frame``/``draw:image``: stored through ``store_image`` with the
  frame's size in pixels (96 per inch) and its ``svg:title``/``svg:desc``
  as alt text.

Notes (footnotes) and tracked changes are left out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from xml.parsers import expat
from xml.sax import SAXException
from zipfile import BadZipFile, ZipFile

from odf import namespaces as odf_namespaces
from odf import opendocument
from odf.element import Element
from odf.namespaces import DCNS, DRAWNS, STYLENS, SVGNS, TABLENS, TEXTNS, XLINKNS
from odf.opendocument import load as load_odf

from office.importers.delta import DeltaBuilder, bucket_size, classify_font, css_color
from office.importers.errors import ImportRefused
from office.importers.html import StoreImage

__all__ = ["odt_to_delta"]

_TEXT_NODE = 3
_CHECK_GLYPH = re.compile(r"^\s*([☐☑☒✓✔])\s?")
_LENGTH = re.compile(r"(-?[\d.]+)\s*(cm|mm|in|pt|pc|px)?")
_TO_POINTS = {"cm": 72 / 2.54, "mm": 72 / 25.4, "in": 72.0, "pt": 1.0, "pc": 12.0, "px": 0.75}
_CODE_STYLES = ("preformatted", "source text", "code")
_ZERO = re.compile(r"(?:0+(?:\.0*)?|\.0+)[a-z]*(?:\s|$)")  # a border of width 0
_QUOTE_STYLES = ("quotation", "quote")


def _points(value: str | None) -> float | None:
    if not value:
        return None
    match = _LENGTH.fullmatch(value.strip())
    if not match:
        return None
    return float(match.group(1)) * _TO_POINTS[match.group(2) or "pt"]


def _attr(element: Any, ns: str, name: str) -> str | None:
    value = element.attributes.get((ns, name))
    return None if value is None else str(value)


def _children(element: Any) -> list[Any]:
    return list(element.childNodes)


def _is(element: Any, ns: str, name: str) -> bool:
    return getattr(element, "qname", None) == (ns, name)


@dataclass
class _Style:
    name: str
    display: str
    parent: str | None
    automatic: bool
    text: dict[str, str] = field(default_factory=dict)
    paragraph: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(self, doc: Any, builder: DeltaBuilder, store_image: StoreImage) -> None:
        self.doc = doc
        self.out = builder
        self.store_image = store_image
        self.skipped_images = 0
        self.styles: dict[tuple[str, str], _Style] = {}
        self.list_styles: dict[str, dict[int, tuple[str, str]]] = {}
        self.fonts: dict[str, tuple[str, str, str]] = {}
        self.body_size = 12.0
        self.body_font: str | None = None
        for decls in (doc.fontfacedecls,):
            for face in _children(decls):
                if _is(face, STYLENS, "font-face"):
                    self.fonts[_attr(face, STYLENS, "name") or ""] = (
                        _attr(face, SVGNS, "font-family") or "",
                        _attr(face, STYLENS, "font-family-generic") or "",
                        _attr(face, STYLENS, "font-pitch") or "",
                    )
        self._read_styles(doc.styles, automatic=False)
        self._read_styles(doc.automaticstyles, automatic=True)
        standard = self.styles.get(("paragraph", "Standard"))
        for props in (self._default_text, standard.text if standard else {}):
            size = _points(props.get("font-size"))
            if size:
                self.body_size = size
            if props.get("font-name"):
                self.body_font = props["font-name"]
        self._line_start = True
        self._item: dict[str, Any] | None = None
        self._block: dict[str, Any] = {}
        self._in_cell = False
        self._space = False
        self._last_line_table = False
        self._code = False

    # Styles -------------------------------------------------------------

    _default_text: dict[str, str] = {}

    def _read_styles(self, container: Any, *, automatic: bool) -> None:
        for node in _children(container):
            if _is(node, STYLENS, "default-style") and _attr(node, STYLENS, "family") == (
                "paragraph"
            ):
                for props in _children(node):
                    if _is(props, STYLENS, "text-properties"):
                        self._default_text = self._props(props)
            elif _is(node, STYLENS, "style"):
                name = _attr(node, STYLENS, "name") or ""
                style = _Style(
                    name=name,
                    display=(_attr(node, STYLENS, "display-name") or name.replace("_20_", " ")),
                    parent=_attr(node, STYLENS, "parent-style-name"),
                    automatic=automatic,
                )
                for props in _children(node):
                    if _is(props, STYLENS, "text-properties"):
                        style.text = self._props(props)
                    elif _is(props, STYLENS, "paragraph-properties"):
                        style.paragraph = self._props(props)
                family = _attr(node, STYLENS, "family") or ""
                self.styles[(family, name)] = style
            elif _is(node, TEXTNS, "list-style"):
                levels: dict[int, tuple[str, str]] = {}
                for level in _children(node):
                    raw_depth = _attr(level, TEXTNS, "level") or "1"
                    depth = int(raw_depth) if raw_depth.isdigit() else 1
                    if _is(level, TEXTNS, "list-level-style-number"):
                        fmt = _attr(level, STYLENS, "num-format") or "1"
                        levels[depth] = ("ordered" if fmt else "bullet", "")
                    elif _is(level, TEXTNS, "list-level-style-bullet"):
                        levels[depth] = ("bullet", _attr(level, TEXTNS, "bullet-char") or "")
                self.list_styles[_attr(node, STYLENS, "name") or ""] = levels

    @staticmethod
    def _props(element: Any) -> dict[str, str]:
        return {name: str(value) for (_, name), value in element.attributes.items()}

    def _chain(self, family: str, name: str | None) -> list[_Style]:
        chain: list[_Style] = []
        while name and (family, name) in self.styles and len(chain) < 20:
            style = self.styles[(family, name)]
            if style in chain:
                break
            chain.append(style)
            name = style.parent
        return chain

    def _text_formats(self, props: dict[str, str]) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        weight = props.get("font-weight")
        if weight:
            attrs["bold"] = weight == "bold" or (weight.isdigit() and int(weight) >= 600) or None
        style = props.get("font-style")
        if style:
            attrs["italic"] = style in ("italic", "oblique") or None
        underline = props.get("text-underline-style")
        if underline:
            attrs["underline"] = underline != "none" or None
        strike = props.get("text-line-through-style")
        if strike:
            attrs["strike"] = strike != "none" or None
        if props.get("color"):
            attrs["color"] = css_color(props["color"])
        if props.get("background-color"):
            attrs["background"] = css_color(props["background-color"])
        size = props.get("font-size")
        if size:
            if size.endswith("%"):
                with suppress(ValueError):
                    share = float(size[:-1]) / 100
                    attrs["size"] = bucket_size(self.body_size * share, normal=self.body_size)
            else:
                attrs["size"] = bucket_size(_points(size), normal=self.body_size)
        font_name = props.get("font-name")
        if font_name and font_name != self.body_font:
            family, generic, pitch = self.fonts.get(font_name, (font_name, "", ""))
            font = classify_font(family)
            if font is None and pitch == "fixed":
                font = "monospace"
            elif font is None and generic == "roman":
                font = "serif"
            attrs["font"] = font
        elif props.get("font-family"):
            attrs["font"] = classify_font(props["font-family"])
        return attrs

    def _span_formats(self, name: str | None) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for style in reversed(self._chain("text", name)):
            if any(code in style.display.lower() for code in ("source text", "code")):
                attrs["code"] = True
            attrs.update(self._text_formats(style.text))
        return attrs

    # Body ---------------------------------------------------------------

    def body(self, element: Any) -> None:
        for node in _children(element):
            qname = getattr(node, "qname", None)
            if qname == (TEXTNS, "p") or qname == (TEXTNS, "h"):
                self.paragraph(node)
            elif qname == (TEXTNS, "list"):
                self.list_(node, depth=0, style=_attr(node, TEXTNS, "style-name"))
            elif qname == (TABLENS, "table"):
                self.table(node)
            elif qname in ((TEXTNS, "section"), (TEXTNS, "index-body")) or (
                qname is not None and qname[0] == TEXTNS and qname[1].endswith("index")
            ):
                self.body(node)
            elif qname == (DRAWNS, "frame"):
                self._frame(node, {})
                if self.out.line_open:
                    self._end_line()

    def paragraph(self, p: Any) -> None:
        chain = self._chain("paragraph", _attr(p, TEXTNS, "style-name"))
        names = [style.display.lower() for style in chain]
        block: dict[str, Any] = {}
        if _is(p, TEXTNS, "h"):
            level = _attr(p, TEXTNS, "outline-level") or "1"
            block["header"] = min(max(int(level) if level.isdigit() else 1, 1), 3)
        else:
            for name in names:
                if name == "title":
                    block["header"] = 1
                    break
                match = re.fullmatch(r"heading (\d)", name)
                if match:
                    block["header"] = min(max(int(match.group(1)), 1), 3)
                    break
            if any(any(code in name for code in _CODE_STYLES) for name in names):
                block["code-block"] = True
            elif any(any(quote in name for quote in _QUOTE_STYLES) for name in names):
                block["blockquote"] = True
        props: dict[str, str] = {}
        for style in reversed(chain):
            props.update(style.paragraph)
        align = {"center": "center", "end": "right", "right": "right", "justify": "justify"}.get(
            props.get("text-align", "")
        )
        if align:
            block["align"] = align
        if self._item is None:
            margin = _points(props.get("margin-left"))
            if margin and margin >= 18:
                block["indent"] = min(max(round(margin / 36), 1), 8)
        if props.get("break-before") == "page" and not self._in_cell:
            if self.out.line_open:
                self._end_line()
            self.out.marker("pagebreak")
        # Direct formatting of the whole paragraph lives in its automatic style.
        base: dict[str, Any] = {}
        for style in reversed(chain):
            if style.automatic:
                base.update(self._text_formats(style.text))
        self._block = block
        self._code = "code-block" in block
        self._line_start = True
        before = self.out.length
        self.inline(p, base)
        if self._in_cell:
            if self.out.line_open:
                self._space = True
            return
        empty = self.out.length == before and not self.out.line_open
        border = props.get("border-bottom") or props.get("border") or "none"
        page_after = props.get("break-after") == "page"
        if empty and self._item is None and border != "none" and not _ZERO.match(border):
            self.out.marker("divider")  # an empty paragraph drawn as a rule
        elif not (empty and page_after and self._item is None):
            self._end_line()
        if page_after:
            self.out.marker("pagebreak")
        self._item = None

    def _end_line(self) -> None:
        attrs = dict(self._block)
        if self._item is not None:
            attrs.update(self._item)
            attrs.pop("code-block", None)
            attrs.pop("blockquote", None)
            if "header" in self._block:
                attrs.pop("list", None)
                attrs.pop("indent", None)
        self.out.end_line(attrs)
        self._line_start = True
        self._last_line_table = False

    def list_(self, element: Any, *, depth: int, style: str | None) -> None:
        style = _attr(element, TEXTNS, "style-name") or style
        levels = self.list_styles.get(style or "", {})
        kind, char = levels.get(depth + 1, ("bullet", ""))
        if kind == "bullet" and char in ("☐", "□"):
            kind = "unchecked"
        elif kind == "bullet" and char in ("☑", "☒", "✓", "✔"):
            kind = "checked"
        for item in _children(element):
            if not (_is(item, TEXTNS, "list-item") or _is(item, TEXTNS, "list-header")):
                continue
            for node in _children(item):
                if _is(node, TEXTNS, "list"):
                    self.list_(node, depth=depth + 1, style=style)
                elif _is(node, TEXTNS, "p") or _is(node, TEXTNS, "h"):
                    if _is(item, TEXTNS, "list-header") or self._in_cell:
                        self._item = None
                    else:
                        self._item = {"list": kind}
                        if depth:
                            self._item["indent"] = min(depth, 8)
                    self.paragraph(node)
                    self._item = None
                elif _is(node, TABLENS, "table"):
                    self.table(node)

    # Inline -------------------------------------------------------------

    def inline(self, element: Any, formats: dict[str, Any]) -> None:
        for node in _children(element):
            if node.nodeType == _TEXT_NODE:
                self._text(str(node.data), formats)
                continue
            qname = getattr(node, "qname", None)
            if qname == (TEXTNS, "span"):
                inner = {**formats, **self._span_formats(_attr(node, TEXTNS, "style-name"))}
                self.inline(node, inner)
            elif qname == (TEXTNS, "a"):
                href = _attr(node, XLINKNS, "href") or ""
                inner = dict(formats)
                if href and not href.startswith("#"):
                    inner["link"] = href
                self.inline(node, inner)
            elif qname == (TEXTNS, "s"):
                count = _attr(node, TEXTNS, "c") or "1"
                self._text(" " * min(int(count) if count.isdigit() else 1, 100), formats)
            elif qname == (TEXTNS, "tab"):
                self._text("\t", formats)
            elif qname == (TEXTNS, "line-break"):
                if self._in_cell:
                    self._space = True
                else:
                    self._end_line()
            elif qname == (DRAWNS, "frame"):
                self._frame(node, formats)
            elif qname in (
                (TEXTNS, "note"),
                (TEXTNS, "tracked-changes"),
                (TEXTNS, "bookmark-ref"),
                (DRAWNS, "a"),
            ):
                continue
            elif qname is not None and qname[0] == TEXTNS:
                # Fields, meta, ruby and the like: their text.
                self.inline(node, formats)

    def _text(self, text: str, formats: dict[str, Any]) -> None:
        if not text:
            return
        if self._line_start and not self._in_cell:
            match = _CHECK_GLYPH.match(text)
            if match:
                checked = match.group(1) != "☐"
                self._item = {**(self._item or {}), "list": "checked" if checked else "unchecked"}
                text = text[match.end() :]
                self._line_start = False
                if not text:
                    return
        if self._space and self.out.line_open:
            self.out.text(" ")
        self._space = False
        kept = {k: v for k, v in formats.items() if v is not None}
        if self._code and kept.get("font") == "monospace":
            del kept["font"]  # the code block's own font
        self.out.text(text, kept)
        self._line_start = False

    def _frame(self, frame: Any, formats: dict[str, Any]) -> None:
        alt = None
        for node in _children(frame):
            if _is(node, SVGNS, "title") or _is(node, SVGNS, "desc"):
                text = "".join(str(t.data) for t in _children(node) if t.nodeType == _TEXT_NODE)
                alt = alt or " ".join(text.split()) or None
        for node in _children(frame):
            if _is(node, DRAWNS, "text-box"):
                self.inline(node, formats)  # a caption frame: its paragraphs' text
                continue
            if not _is(node, DRAWNS, "image"):
                continue
            href = _attr(node, XLINKNS, "href") or ""
            picture = self.doc.Pictures.get(href)
            if picture is None or not isinstance(picture[1], bytes):
                self.skipped_images += 1
                continue
            src = self.store_image(picture[1], href.rsplit("/", 1)[-1])
            if src is None:
                self.skipped_images += 1
                continue
            attrs = {k: v for k, v in formats.items() if v is not None}
            attrs["alt"] = alt[:500] if alt else None
            width = _points(_attr(frame, SVGNS, "width"))
            height = _points(_attr(frame, SVGNS, "height"))
            if width and height and width > 0 and height > 0:
                attrs["width"] = str(min(max(round(width / 0.75), 1), 9999))
                attrs["height"] = str(min(max(round(height / 0.75), 1), 9999))
            if self._space and self.out.line_open:
                self.out.text(" ")
            self._space = False
            self.out.image(src, attrs)
            self._line_start = False
            break  # a frame's other draw:image children are fallbacks of the same picture

    # Tables ---------------------------------------------------------------

    def _rows(self, element: Any) -> list[Any]:
        rows: list[Any] = []
        for node in _children(element):
            if _is(node, TABLENS, "table-row"):
                rows.append(node)
            elif getattr(node, "qname", (None, ""))[0] == TABLENS and node.qname[1] in (
                "table-header-rows",
                "table-rows",
                "table-row-group",
            ):
                rows.extend(self._rows(node))
        return rows

    def table(self, element: Any) -> None:
        if self._in_cell:
            for row in self._rows(element):
                for cell in _children(row):
                    self.body_in_cell(cell)
            return
        if self.out.line_open:
            self._end_line()
        if self._last_line_table:
            self.out.end_line()  # two tables in a row stay two tables
        width = 0
        for row in self._rows(element):
            row_id = DeltaBuilder.new_row_id()
            cells = 0
            for cell in _children(row):
                if _is(cell, TABLENS, "table-cell"):
                    self._in_cell = True
                    self._space = False
                    self._item = None
                    self.body_in_cell(cell)
                    self._in_cell = False
                elif not _is(cell, TABLENS, "covered-table-cell"):
                    continue
                repeat = _attr(cell, TABLENS, "number-columns-repeated") or "1"
                for _ in range(min(int(repeat) if repeat.isdigit() else 1, 50)):
                    self.out.end_line({"table": row_id})
                    cells += 1
            if cells:
                for _ in range(width - cells):
                    self.out.end_line({"table": row_id})
                width = max(width, cells)
        self._block = {}
        self._last_line_table = width > 0
        self._space = False

    def body_in_cell(self, cell: Any) -> None:
        for node in _children(cell):
            if _is(node, TEXTNS, "p") or _is(node, TEXTNS, "h"):
                self.paragraph(node)
            elif _is(node, TEXTNS, "list"):
                self.list_(node, depth=0, style=_attr(node, TEXTNS, "style-name"))
            elif _is(node, TABLENS, "table"):
                self.table(node)


def _title(doc: Any) -> str:
    for node in _children(doc.meta):
        if isinstance(node, Element) and node.qname == (DCNS, "title"):
            return " ".join(
                "".join(str(t.data) for t in _children(node) if t.nodeType == _TEXT_NODE).split()
            )
    return ""


#: The parts odfpy parses, and its own repair of their namespace declarations
#: (it adds the xmlns its elements need before parsing).
_PARTS = ("content.xml", "styles.xml", "meta.xml", "settings.xml")
_FIX_PART = getattr(opendocument, "__fixXmlPart", lambda text: text)


def _check_parts(data: bytes) -> None:
    """Refuse a part odfpy would fail to parse.

    odfpy prints a part it cannot parse (the whole XML, to stdout: a
    person's document in the server's log) and goes on with what it read,
    so a damaged file would import half its content without a word. Each
    part is parsed here first as odfpy would (its namespace repair, then a
    namespace-aware expat parse) and a damaged one refuses the file.
    """
    with ZipFile(BytesIO(data)) as archive:
        names = set(archive.namelist())
        for name in _PARTS:
            if name not in names:
                continue
            parser = expat.ParserCreate(namespace_separator=" ")
            try:
                text = archive.read(name).decode("utf-8")
                parser.Parse(_FIX_PART(text).encode("utf-8"), True)
            except (expat.ExpatError, UnicodeDecodeError) as exc:
                raise ImportRefused("bad_file", f"The file is damaged ({name}: {exc}).") from None


#: odfpy's namespace tables are dicts for the whole process (below):
#: loading a file that declares a namespace odfpy does not know adds it, and
#: every ODT written afterwards declares it too. An imported file with
#: ``xmlns:x=""`` would make every later ODT export of the worker unreadable
#: ("must not undeclare prefix"). So an import puts the table back as it
#: found it; the lock keeps two imports (or an import and an export on
#: another thread) from seeing each other's additions.
_NAMESPACES_LOCK = threading.Lock()


@contextmanager
def _odfpy_namespaces_kept() -> Iterator[None]:
    """Run the body with odfpy's process-wide namespace tables restored afterwards.

    Two tables: ``odf.namespaces.nsdict`` (prefix per namespace) and
    ``Element.namespaces``, a class attribute every element shares ("due to
    shallow copy this is a static variable", odf/element.py), which the
    writer declares on every document's root.
    """
    with _NAMESPACES_LOCK:
        saved = dict(odf_namespaces.nsdict)
        declared = dict(Element.namespaces)
        try:
            yield
        finally:
            odf_namespaces.nsdict.clear()
            odf_namespaces.nsdict.update(saved)
            Element.namespaces.clear()
            Element.namespaces.update(declared)


def odt_to_delta(
    data: bytes, builder: DeltaBuilder, store_image: StoreImage
) -> tuple[str, list[str]]:
    """Map an ODT file into ``builder``; return its title (meta.xml) and warnings."""
    with _odfpy_namespaces_kept():
        return _odt_to_delta(data, builder, store_image)


def _odt_to_delta(
    data: bytes, builder: DeltaBuilder, store_image: StoreImage
) -> tuple[str, list[str]]:
    try:
        _check_parts(data)
        doc = load_odf(BytesIO(data))
    except (BadZipFile, KeyError, ValueError, SAXException, IndexError, AttributeError) as exc:
        raise ImportRefused("bad_file", f"The file is not a readable ODT file ({exc}).") from None
    if doc.text is None:
        raise ImportRefused("bad_file", "The file is an OpenDocument file without text.")
    reader = _Reader(doc, builder, store_image)
    reader.body(doc.text)
    warnings = []
    if reader.skipped_images:
        warnings.append(
            f"{reader.skipped_images} picture(s) in a format this editor cannot show "
            "(such as SVG or WMF) were left out."
        )
    return _title(doc), warnings
