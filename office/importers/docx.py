"""DOCX to a delta, with python-docx's parts and the WordprocessingML beneath.

python-docx opens the package (its lxml parser does not resolve entities,
and :mod:`.guards` has refused any DTD already); the body is walked in
document order:

* paragraphs: heading styles (``Heading 1``–``3``, deeper ones as 3, and
  styles based on them; ``Title`` as 1), quote and code styles (and a
  shaded paragraph all in a monospace font as code), alignment, left
  indentation (one level per half inch), page breaks before (and a
  paragraph holding only a page break as the break alone), an empty
  paragraph with a bottom border as a rule;
* lists from the numbering part: the level's ``numFmt`` (``bullet`` or a
  numbering) and ``ilvl`` as indentation; a bullet drawn as ☐/☑, a
  paragraph starting with a ☐/☑/☒ glyph, or a Word content-control
  checkbox (``w14:checkbox``) makes a checklist item;
* runs: bold, italic, underline, strike, colour, highlight and shading
  (background), size (a bucket relative to the document's body size),
  a font the editor has (serif, monospace) when it is not the body's own,
  code character styles; hyperlinks, both ``w:hyperlink`` and ``HYPERLINK``
  fields; tracked insertions kept, tracked deletions dropped;
* tables: one line per cell (paragraphs joined by spaces), a row id per
  row, merged cells as empty ones so every row keeps the grid;
* pictures (``a:blip`` and VML ``v:imagedata``): stored through
  ``store_image`` with their alt text and displayed size in pixels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from zipfile import BadZipFile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import nsmap, qn
from lxml import etree

from office.importers.delta import DeltaBuilder, bucket_size, classify_font, css_color
from office.importers.errors import ImportRefused
from office.importers.html import StoreImage

__all__ = ["docx_to_delta"]

_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_A = nsmap["a"]
_R = nsmap["r"]
_WP = nsmap["wp"]
_V = "urn:schemas-microsoft-com:vml"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_CHECK_GLYPH = re.compile(r"^\s*([☐☑☒✓✔])\s?")
_HYPERLINK_FIELD = re.compile(r'HYPERLINK\s+"([^"]+)"(?:\s+\\l\s+"([^"]+)")?')
_HIGHLIGHT = {
    "yellow": "#ffff00",
    "green": "#00ff00",
    "cyan": "#00ffff",
    "magenta": "#ff00ff",
    "blue": "#0000ff",
    "red": "#ff0000",
    "darkBlue": "#000080",
    "darkCyan": "#008080",
    "darkGreen": "#008000",
    "darkMagenta": "#800080",
    "darkRed": "#800000",
    "darkYellow": "#808000",
    "darkGray": "#808080",
    "lightGray": "#c0c0c0",
    "black": "#000000",
    "white": "#ffffff",
}
_CODE_STYLES = ("code", "source text", "preformatted", "html preformatted", "verbatim")
_QUOTE_STYLES = ("quote", "quotation", "block text", "intense quote")
_EMU_PER_PX = 9525
_LINK_STYLES = ("hyperlink", "internet link", "followedhyperlink", "visited internet link")


def _on(element: Any, name: str) -> bool | None:
    """Return a toggle property's value (``<w:b/>``, ``<w:b w:val="0"/>``), None if absent."""
    if element is None:
        return None
    child = element.find(qn(name))
    if child is None:
        return None
    return child.get(qn("w:val"), "true").lower() not in ("0", "false", "off", "none")


@dataclass
class _Style:
    name: str
    base: str | None
    ppr: Any
    rpr: Any


class _Reader:
    def __init__(self, document: Any, builder: DeltaBuilder, store_image: StoreImage) -> None:
        self.out = builder
        self.part = document.part
        self.store_image = store_image
        self.skipped_images = 0
        styles_element = document.styles.element
        self.styles: dict[str, _Style] = {}
        for style in styles_element.findall(qn("w:style")):
            style_id = style.get(qn("w:styleId"))
            name_el = style.find(qn("w:name"))
            based = style.find(qn("w:basedOn"))
            self.styles[style_id] = _Style(
                name=(name_el.get(qn("w:val")) if name_el is not None else style_id or "").lower(),
                base=based.get(qn("w:val")) if based is not None else None,
                ppr=style.find(qn("w:pPr")),
                rpr=style.find(qn("w:rPr")),
            )
        defaults = styles_element.find(qn("w:docDefaults"))
        default_rpr = (
            defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}") if defaults is not None else None
        )
        normal = next((s for s in self.styles.values() if s.name == "normal"), None)
        self.body_size = 10.0
        self.body_font: str | None = None
        for rpr in (default_rpr, normal.rpr if normal else None):
            if rpr is None:
                continue
            size = rpr.find(qn("w:sz"))
            if size is not None and (size.get(qn("w:val")) or "").isdigit():
                self.body_size = int(size.get(qn("w:val"))) / 2
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is not None and fonts.get(qn("w:ascii")):
                self.body_font = fonts.get(qn("w:ascii"))
        try:
            self.numbering = self.part.numbering_part.element
        except (KeyError, NotImplementedError):
            self.numbering = None
        self._last_line_table = False
        self._line_start = True
        self._item: dict[str, Any] | None = None
        self._in_cell = False
        self._space = False
        self._after_box = False
        self._ind_level = 0
        self._formats: dict[tuple[str, int], tuple[str, str]] = {}
        self._code_para = False

    # Styles and numbering --------------------------------------------

    def _chain(self, style_id: str | None) -> Iterator[_Style]:
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style
            style_id = style.base

    def _list_format(self, num_id: str, level: int) -> tuple[str, str]:
        """Return (numFmt, lvlText) of a numbering instance's level (looked up once)."""
        key = (num_id, level)
        if key not in self._formats:
            self._formats[key] = self._find_list_format(num_id, level)
        return self._formats[key]

    def _find_list_format(self, num_id: str, level: int) -> tuple[str, str]:
        if self.numbering is None:
            return "bullet", ""
        for num in self.numbering.findall(qn("w:num")):
            if num.get(qn("w:numId")) != num_id:
                continue
            abstract = num.find(qn("w:abstractNumId"))
            if abstract is None:
                break
            abstract_id = abstract.get(qn("w:val"))
            for definition in self.numbering.findall(qn("w:abstractNum")):
                if definition.get(qn("w:abstractNumId")) != abstract_id:
                    continue
                for lvl in definition.findall(qn("w:lvl")):
                    if lvl.get(qn("w:ilvl")) == str(level):
                        fmt = lvl.find(qn("w:numFmt"))
                        text = lvl.find(qn("w:lvlText"))
                        return (
                            fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal",
                            text.get(qn("w:val"), "") if text is not None else "",
                        )
        return "bullet", ""

    # Body ---------------------------------------------------------------

    def body(self, element: Any) -> None:
        for child in element:
            tag = child.tag
            if tag == qn("w:p"):
                self.paragraph(child)
            elif tag == qn("w:tbl"):
                self.table(child)
            elif tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.body(content)
            elif tag in (qn("w:ins"), qn("w:customXml")):
                self.body(child)

    def paragraph(self, p: Any) -> None:
        ppr = p.find(qn("w:pPr"))
        style_el = ppr.find(qn("w:pStyle")) if ppr is not None else None
        style_id = style_el.get(qn("w:val")) if style_el is not None else None
        chain = list(self._chain(style_id))
        names = [style.name for style in chain]
        block: dict[str, Any] = {}
        for name in names:
            if name == "title":
                block["header"] = 1
                break
            match = re.fullmatch(r"heading (\d)", name)
            if match:
                block["header"] = min(int(match.group(1)), 3)
                break
        if any(any(code in name for code in _CODE_STYLES) for name in names):
            block["code-block"] = True
        elif any(any(quote in name for quote in _QUOTE_STYLES) for name in names):
            block["blockquote"] = True
        pprs = [ppr] + [style.ppr for style in chain]
        num = next(
            (
                x.find(qn("w:numPr"))
                for x in pprs
                if x is not None and x.find(qn("w:numPr")) is not None
            ),
            None,
        )
        self._item = None
        if num is not None and "header" not in block:
            num_id_el = num.find(qn("w:numId"))
            level_el = num.find(qn("w:ilvl"))
            num_id = num_id_el.get(qn("w:val")) if num_id_el is not None else "0"
            level = int(level_el.get(qn("w:val"), "0")) if level_el is not None else 0
            if num_id and num_id != "0":
                fmt, text = self._list_format(num_id, level)
                kind = "ordered"
                if fmt == "bullet" or fmt == "none":
                    kind = "bullet"
                    if "☐" in text or "□" in text:
                        kind = "unchecked"
                    elif any(glyph in text for glyph in "☑☒✓✔"):
                        kind = "checked"
                self._item = {"list": kind}
                if level > 0:
                    self._item["indent"] = min(level, 8)
                block.pop("code-block", None)
                block.pop("blockquote", None)
        for x in pprs:
            if x is None:
                continue
            jc = x.find(qn("w:jc"))
            if jc is not None:
                value = jc.get(qn("w:val"), "")
                align = {"center": "center", "right": "right", "end": "right",
                         "both": "justify", "distribute": "justify"}.get(value)  # fmt: skip
                if align:
                    block["align"] = align
                break
        # Left indentation in half inches: a plain paragraph's indent, or
        # (one level less) a glyph checklist item's nesting.
        self._ind_level = 0
        if self._item is None and ppr is not None:
            ind = ppr.find(qn("w:ind"))
            if ind is not None:
                left = ind.get(qn("w:left")) or ind.get(qn("w:start")) or "0"
                if left.lstrip("-").isdigit() and int(left) >= 360:
                    self._ind_level = min(round(int(left) / 720) or 1, 9)
        if ppr is not None and _on(ppr, "w:pageBreakBefore") and not self._in_cell:
            self.out.marker("pagebreak")
        self._code_para = "code-block" not in block and self._item is None and _shaded_mono(p, ppr)
        if self._code_para:
            block["code-block"] = True  # a shaded paragraph all in a monospace font
        self._block = block
        self._line_start = True
        self._after_box = False
        before = self.out.length
        self.inline(p, {}, None)
        self._code_para = False
        has_text = self.out.length != before or self.out.line_open
        last = self.out.ops[-1]["insert"] if self.out.ops else None
        if not self.out.line_open and isinstance(last, dict) and self._item is None:
            return  # a paragraph holding only a page break is the break alone
        if not has_text and ppr is not None and not self._in_cell:
            border = ppr.find(qn("w:pBdr"))
            if (border is not None and border.find(qn("w:bottom")) is not None) or (
                "horizontal line" in names
            ):
                self.out.marker("divider")
                return
        if self._in_cell:
            if self.out.line_open:
                self._space = True
            return
        self._end_line()

    def _end_line(self) -> None:
        attrs = dict(self._block)
        if self._item is not None:
            attrs.update(self._item)
            if "indent" not in self._item and self._ind_level > 1:
                attrs["indent"] = min(self._ind_level - 1, 8)  # a glyph item, nested
        elif self._ind_level:
            attrs["indent"] = min(self._ind_level, 8)
        self.out.end_line(attrs)
        self._line_start = True
        self._last_line_table = False

    # Runs -----------------------------------------------------------------

    def inline(self, element: Any, link: dict[str, Any], _: Any) -> None:
        field_instr: list[str] = []
        field_state = ""  # "", "instr", "result"
        field_link: str | None = None
        for child in element:
            tag = child.tag
            if tag == qn("w:r"):
                chars = child.find(qn("w:fldChar"))
                if chars is not None:
                    kind = chars.get(qn("w:fldCharType"))
                    if kind == "begin":
                        field_state, field_instr, field_link = "instr", [], None
                    elif kind == "separate":
                        match = _HYPERLINK_FIELD.search("".join(field_instr))
                        if match:
                            field_link = match.group(1) + (
                                "#" + match.group(2) if match.group(2) else ""
                            )
                        field_state = "result"
                    elif kind == "end":
                        field_state, field_link = "", None
                    continue
                if field_state == "instr":
                    field_instr.extend(t.text or "" for t in child.iter(qn("w:instrText")))
                    continue
                attrs = dict(link)
                if field_link:
                    attrs["link"] = field_link
                self.run(child, attrs)
            elif tag == qn("w:hyperlink"):
                target = ""
                rid = child.get(qn("r:id"))
                if rid and rid in self.part.rels:
                    rel = self.part.rels[rid]
                    target = rel.target_ref if rel.is_external else ""
                anchor = child.get(qn("w:anchor"))
                if anchor and target:
                    target = f"{target}#{anchor}"
                self.inline(child, {**link, "link": target} if target else link, None)
            elif tag == qn("w:sdt"):
                checked = self._checkbox(child)
                if checked is not None and self._line_start:
                    self._item = {
                        **(self._item or {}),
                        "list": "checked" if checked else "unchecked",
                    }
                    self._after_box = True
                    continue  # its content is the glyph drawn for the box
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.inline(content, link, None)
            elif tag in (qn("w:ins"), qn("w:smartTag"), qn("w:fldSimple"), qn("w:customXml")):
                attrs = dict(link)
                if tag == qn("w:fldSimple"):
                    match = _HYPERLINK_FIELD.search(child.get(qn("w:instr"), ""))
                    if match:
                        attrs["link"] = match.group(1)
                self.inline(child, attrs, None)

    @staticmethod
    def _checkbox(sdt: Any) -> bool | None:
        props = sdt.find(qn("w:sdtPr"))
        if props is None:
            return None
        box = props.find(f"{{{_W14}}}checkbox")
        if box is None:
            return None
        checked = box.find(f"{{{_W14}}}checked")
        return checked is not None and checked.get(f"{{{_W14}}}val", "0") in ("1", "true")

    def _run_formats(self, rpr: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if rpr is None:
            return attrs
        style_el = rpr.find(qn("w:rStyle"))
        if style_el is not None:
            for style in reversed(list(self._chain(style_el.get(qn("w:val"))))):
                if style.name in _LINK_STYLES:
                    continue  # how the office program draws links, not the author's formatting
                if any(code in style.name for code in _CODE_STYLES):
                    attrs["code"] = True
                attrs.update(self._direct(style.rpr))
        attrs.update(self._direct(rpr))
        return attrs

    def _direct(self, rpr: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if rpr is None:
            return attrs
        for name, key in (("w:b", "bold"), ("w:i", "italic"), ("w:strike", "strike"),
                          ("w:dstrike", "strike")):  # fmt: skip
            value = _on(rpr, name)
            if value is not None:
                attrs[key] = value or None
        underline = rpr.find(qn("w:u"))
        if underline is not None:
            attrs["underline"] = underline.get(qn("w:val"), "single") != "none" or None
        color = rpr.find(qn("w:color"))
        if color is not None:
            attrs["color"] = css_color(color.get(qn("w:val")))
        highlight = rpr.find(qn("w:highlight"))
        if highlight is not None:
            attrs["background"] = _HIGHLIGHT.get(highlight.get(qn("w:val"), ""))
        shading = rpr.find(qn("w:shd"))
        if shading is not None and "background" not in attrs:
            attrs["background"] = css_color(shading.get(qn("w:fill")))
        size = rpr.find(qn("w:sz"))
        if size is not None and (size.get(qn("w:val")) or "").isdigit():
            attrs["size"] = bucket_size(int(size.get(qn("w:val"))) / 2, normal=self.body_size)
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is not None:
            face = fonts.get(qn("w:ascii")) or fonts.get(qn("w:hAnsi"))
            if face and face != self.body_font:
                attrs["font"] = classify_font(face)
                if self._code_para and attrs["font"] == "monospace":
                    attrs["font"] = None  # the code block's own font
        return attrs

    def run(self, r: Any, attrs: dict[str, Any]) -> None:
        formats = {**self._run_formats(r.find(qn("w:rPr"))), **attrs}
        for child in r:
            tag = child.tag
            if tag == qn("w:t"):
                self._text(child.text or "", formats)
            elif tag == qn("w:tab"):
                self._text("\t", formats)
            elif tag in (qn("w:br"), qn("w:cr")):
                if child.get(qn("w:type")) == "page" and not self._in_cell:
                    if self.out.line_open:
                        self._end_line()
                    self.out.marker("pagebreak")
                elif self._in_cell:
                    self._space = True
                else:
                    self._end_line()
            elif tag == qn("w:noBreakHyphen"):
                self._text("-", formats)
            elif tag in (qn("w:drawing"), qn("w:pict"), qn("w:object")):
                self._pictures(child, formats)
            elif tag == f"{{{_MC}}}AlternateContent":
                choice = child.find(f"{{{_MC}}}Choice")
                if choice is not None:
                    for inner in choice:
                        if inner.tag in (qn("w:drawing"), qn("w:pict")):
                            self._pictures(inner, formats)

    def _text(self, text: str, formats: dict[str, Any]) -> None:
        if self._after_box:
            text = text.lstrip()  # the space between the box and the item's words
            self._after_box = bool(not text)
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
        self.out.text(text, {k: v for k, v in formats.items() if v is not None})
        self._line_start = False

    def _pictures(self, element: Any, formats: dict[str, Any]) -> None:
        extent = element.find(f".//{{{_WP}}}extent")
        doc_pr = element.find(f".//{{{_WP}}}docPr")
        alt = None
        if doc_pr is not None:
            alt = (doc_pr.get("descr") or doc_pr.get("title") or "").strip() or None
        ids = [blip.get(f"{{{_R}}}embed") for blip in element.iter(f"{{{_A}}}blip")]
        ids += [data.get(f"{{{_R}}}id") for data in element.iter(f"{{{_V}}}imagedata")]
        for rid in ids:
            if not rid or rid not in self.part.related_parts:
                continue
            image_part = self.part.related_parts[rid]
            name = str(getattr(image_part, "partname", "image")).rsplit("/", 1)[-1]
            src = self.store_image(image_part.blob, name)
            if src is None:
                self.skipped_images += 1
                continue
            attrs = {k: v for k, v in formats.items() if v is not None}
            attrs["alt"] = alt[:500] if alt else None
            if extent is not None:
                width = _px(extent.get("cx"))
                height = _px(extent.get("cy"))
                if width and height:
                    attrs["width"], attrs["height"] = width, height
            if self._space and self.out.line_open:
                self.out.text(" ")
            self._space = False
            self.out.image(src, attrs)
            self._line_start = False

    # Tables ---------------------------------------------------------------

    def table(self, tbl: Any) -> None:
        if self._in_cell:
            for row in tbl.iter(qn("w:tc")):
                for p in row.iter(qn("w:p")):
                    self.paragraph(p)
            return
        if self.out.line_open:
            self._end_line()
        if self._last_line_table:
            self.out.end_line()  # two tables in a row stay two tables
        width = 0
        for tr in tbl.findall(qn("w:tr")):
            row_id = DeltaBuilder.new_row_id()
            cells = 0
            for tc in tr.findall(qn("w:tc")):
                tcpr = tc.find(qn("w:tcPr"))
                span = 1
                if tcpr is not None:
                    grid = tcpr.find(qn("w:gridSpan"))
                    if grid is not None and (grid.get(qn("w:val")) or "").isdigit():
                        span = max(1, min(int(grid.get(qn("w:val"))), 50))
                self._in_cell = True
                self._space = False
                self._item = None
                self._block = {}
                for child in tc:
                    if child.tag == qn("w:p"):
                        self.paragraph(child)
                    elif child.tag == qn("w:tbl"):
                        self.table(child)
                self._in_cell = False
                for _ in range(span):
                    self.out.end_line({"table": row_id})
                    cells += 1
            if cells:
                for _ in range(width - cells):
                    self.out.end_line({"table": row_id})
                width = max(width, cells)
        self._item = None
        self._block = {}
        self._last_line_table = width > 0
        self._space = False


def _shaded_mono(p: Any, ppr: Any) -> bool:
    """Return whether paragraph ``p`` is shaded and all its text in a monospace font."""
    shading = ppr.find(qn("w:shd")) if ppr is not None else None
    fill = (shading.get(qn("w:fill")) or "").lower() if shading is not None else ""
    if fill in ("", "auto", "ffffff"):
        return False
    runs = [r for r in p.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    for run in runs:
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        face = fonts.get(qn("w:ascii")) if fonts is not None else None
        if classify_font(face) != "monospace":
            return False
    return bool(runs)


def _px(emu: str | None) -> str | None:
    if not emu or not emu.isdigit():
        return None
    pixels = round(int(emu) / _EMU_PER_PX)
    return str(min(pixels, 9999)) if pixels >= 1 else None


def docx_to_delta(
    data: bytes, builder: DeltaBuilder, store_image: StoreImage
) -> tuple[str, list[str]]:
    """Map a DOCX file into ``builder``; return its title (core properties) and warnings."""
    try:
        document = docx.Document(BytesIO(data))
    except (PackageNotFoundError, BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise ImportRefused("bad_file", f"The file is not a readable DOCX file ({exc}).") from None
    reader = _Reader(document, builder, store_image)
    try:
        reader.body(document.element.body)
    except etree.XMLSyntaxError as exc:
        raise ImportRefused("bad_file", f"The file is damaged ({exc}).") from None
    warnings = []
    if reader.skipped_images:
        warnings.append(
            f"{reader.skipped_images} picture(s) in a format this editor cannot show "
            "(such as EMF or SVG) were left out."
        )
    title = (document.core_properties.title or "").strip()
    return " ".join(title.split()), warnings
