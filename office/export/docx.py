"""Word (.docx) export with python-docx, from :func:`office.export.model.walk`.

What becomes what:

* headings: the built-in ``Heading 1``-``Heading 6`` styles (Word's outline
  and navigation pane see them); block quotes ``Quote``; code blocks a
  monospace, shaded paragraph;
* lists: real Word numbering. Two abstract numberings are added (bullets
  ``•◦▪`` and numbers ``1. a. i.`` repeating over nine levels); every run
  of list lines gets a numbering instance of its own, so numbers restart
  where the editor restarts them; ``indent`` is the list level. Checklist
  items are ``☐``/``☑`` paragraphs indented like list items;
* inline: bold, italic, underline, strike, sub/superscript, colour (run
  colour), highlight (run shading with the exact colour, since Word's
  highlight palette has 16 colours), code and ``font`` (Liberation Mono /
  Liberation Serif, with their metric-compatible Windows names), ``size``
  (9, 16.5 and 27.5 pt against 11 pt text); links are ``w:hyperlink``
  elements with an external relationship (styled as links);
* alignment and indentation of paragraphs; tables (``Table Grid``, one
  paragraph a cell, rows padded to the widest); pictures inline at their
  drawn width (px at 96 dpi) with the alt text as the picture's
  description; rules as a paragraph's bottom border; page breaks as a
  page-break run.

The page is A4 or Letter (``COLLABDOCS["EXPORT_PAGE_SIZE"]``) with 2 cm
margins; the title goes into the document's core properties.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document as new_document  # noqa: N813 -- a factory function, not the class (docx.document.Document)
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from documents.export import ExportRequest
from office.export.model import (
    SIZE_FACTORS,
    Grid,
    PageBreak,
    Paragraph,
    Picture,
    Rule,
    Style,
    Text,
    walk,
)
from office.export.page import page_size

_BASE_PT = 11
_MONO = "Liberation Mono"
_SERIF = "Liberation Serif"
_ALIGN = {
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
}
_PAGE_CM = {"A4": (21.0, 29.7), "Letter": (21.59, 27.94)}
_EMU_PER_PX = 9525
_BULLET_ABSTRACT = 9001
_ORDERED_ABSTRACT = 9002
_LEVELS = 9
_INDENT_TWIPS = 720  # half an inch per list level
# Word insists on the schema's order of properties: what may follow each we add.
_AFTER_PPR_SHD = (
    *("w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct"),
    *("w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd"),
    *("w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents"),
    *("w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment"),
    *("w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr"),
    "w:pPrChange",
)
_AFTER_PBDR = ("w:shd", *_AFTER_PPR_SHD)
_AFTER_RPR_SHD = (
    *("w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout"),
    *("w:specVanish", "w:oMath"),
)


def _abstract_numbering(abstract_id: int, ordered: bool) -> Any:
    levels = []
    for level in range(_LEVELS):
        if ordered:
            fmt = ("decimal", "lowerLetter", "lowerRoman")[level % 3]
            text = f"%{level + 1}."
        else:
            fmt = "bullet"
            text = ("\u2022", "\u25e6", "\u25aa")[level % 3]
        left = _INDENT_TWIPS * (level + 1)
        levels.append(
            f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{left}" w:hanging="360"/></w:pPr></w:lvl>'
        )
    return parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{"".join(levels)}</w:abstractNum>'
    )


class _Writer:
    def __init__(self, request: ExportRequest) -> None:
        self.size = page_size()
        self.document = new_document()
        self.document.core_properties.title = request.title[:255]
        self.request = request
        section = self.document.sections[0]
        section.start_type = WD_SECTION_START.NEW_PAGE
        width, height = _PAGE_CM[self.size]
        section.page_width, section.page_height = Cm(width), Cm(height)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2))
        numbering = self.document.part.numbering_part.element
        numbering.insert(0, _abstract_numbering(_ORDERED_ABSTRACT, True))
        numbering.insert(0, _abstract_numbering(_BULLET_ABSTRACT, False))
        self.numbering = numbering
        self.nums: dict[tuple[int, str], int] = {}
        self.next_num = 9001

    def num_id(self, list_id: int, kind: str) -> int:
        """Return the numbering instance of one run of list lines (bullets or numbers)."""
        key = (list_id, kind)
        if key not in self.nums:
            abstract = _ORDERED_ABSTRACT if kind == "ordered" else _BULLET_ABSTRACT
            num = self.next_num
            self.next_num += 1
            self.numbering.append(
                parse_xml(
                    f'<w:num {nsdecls("w")} w:numId="{num}">'
                    f'<w:abstractNumId w:val="{abstract}"/></w:num>'
                )
            )
            self.nums[key] = num
        return self.nums[key]

    def write(self) -> bytes:
        for block in walk(self.request, page_size=self.size):
            if isinstance(block, Paragraph):
                self.paragraph(block, self.document.add_paragraph())
            elif isinstance(block, Grid):
                self.table(block)
            elif isinstance(block, Rule):
                self.rule(self.document.add_paragraph())
            elif isinstance(block, PageBreak):
                self.document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()

    def table(self, grid: Grid) -> None:
        table = self.document.add_table(rows=len(grid.rows), cols=grid.columns)
        table.style = self.document.styles["Table Grid"]
        for row_index, row in enumerate(grid.rows):
            for column, cell in enumerate(row):
                target: _Cell = table.cell(row_index, column)
                self.paragraph(cell, target.paragraphs[0])

    def rule(self, paragraph: DocxParagraph) -> None:
        border = parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="6" w:space="1" '
            'w:color="999999"/></w:pBdr>'
        )
        paragraph._p.get_or_add_pPr().insert_element_before(border, *_AFTER_PBDR)

    def paragraph(self, block: Paragraph, paragraph: DocxParagraph) -> None:
        if block.kind == "heading":
            paragraph.style = self.document.styles[f"Heading {block.level}"]
        elif block.kind == "quote":
            paragraph.style = self.document.styles["Quote"]
        elif block.kind == "list" and block.list_kind in ("ordered", "bullet"):
            paragraph.style = self.document.styles["List Paragraph"]
            num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
            num_pr.get_or_add_ilvl().val = block.indent
            num_pr.get_or_add_numId().val = self.num_id(block.list_id, block.list_kind)
        elif block.kind == "list":
            paragraph.style = self.document.styles["List Paragraph"]
            paragraph.paragraph_format.left_indent = Emu(
                Pt(_INDENT_TWIPS / 20 * (block.indent + 1))
            )
            box = "\u2611 " if block.list_kind == "checked" else "\u2610 "
            paragraph.add_run(box)
        elif block.kind == "code":
            paragraph.paragraph_format.space_after = Pt(0)
            shading = parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:fill="F4F4F4"/>')
            paragraph._p.get_or_add_pPr().insert_element_before(shading, *_AFTER_PPR_SHD)
        if block.indent and block.kind != "list":
            paragraph.paragraph_format.left_indent = Pt(_INDENT_TWIPS / 20 * block.indent)
        if block.align:
            paragraph.alignment = _ALIGN[block.align]
        code_block = block.kind == "code"
        for run in block.runs:
            if isinstance(run, Picture):
                self.picture(paragraph, run)
            elif run.style.link:
                self.hyperlink(paragraph, run)
            else:
                self.text(paragraph, run, monospace=code_block)

    def text(self, paragraph: DocxParagraph, run: Text, *, monospace: bool = False) -> Any:
        out = paragraph.add_run(run.text)
        _style_run(out, run.style, monospace=monospace)
        return out

    def hyperlink(self, paragraph: DocxParagraph, run: Text) -> None:
        assert run.style.link is not None  # the caller checked
        rel = paragraph.part.relate_to(
            run.style.link, RELATIONSHIP_TYPE.HYPERLINK, is_external=True
        )
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), rel)
        inner = self.text(paragraph, run)
        # Links look like links: blue and underlined unless the person coloured them.
        if run.style.color is None:
            inner.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        inner.font.underline = True
        link.append(inner._r)
        paragraph._p.append(link)

    def picture(self, paragraph: DocxParagraph, picture: Picture) -> None:
        run = paragraph.add_run()
        shape = run.add_picture(
            io.BytesIO(picture.data),
            width=Emu(picture.width_px * _EMU_PER_PX),
            height=Emu(picture.height_px * _EMU_PER_PX),
        )
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", picture.alt)
        if picture.alt:
            doc_pr.set("title", picture.alt[:255])


def _style_run(out: Any, style: Style, *, monospace: bool = False) -> None:
    font = out.font
    font.bold = style.bold or None
    font.italic = style.italic or None
    font.underline = style.underline or None
    font.strike = style.strike or None
    if style.script == "sub":
        font.subscript = True
    elif style.script == "super":
        font.superscript = True
    if style.color:
        font.color.rgb = RGBColor.from_string(style.color.upper())
    if style.background:
        shading = parse_xml(
            f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" '
            f'w:fill="{style.background.upper()}"/>'
        )
        out._r.get_or_add_rPr().insert_element_before(shading, *_AFTER_RPR_SHD)
    if style.size:
        font.size = Pt(round(_BASE_PT * SIZE_FACTORS[style.size] * 2) / 2)
    if style.code or monospace or style.font == "monospace":
        font.name = _MONO
    elif style.font == "serif":
        font.name = _SERIF


def render_docx(request: ExportRequest) -> bytes:
    """Return the request's content as a .docx file."""
    return _Writer(request).write()
