"""OpenDocument text (.odt) export with odfpy, from :func:`office.export.model.walk`.

What becomes what:

* named paragraph styles ``Heading 1``-``Heading 6`` (with their outline
  level, so LibreOffice's navigator and table of contents see them),
  ``Quotations``, ``Preformatted Text`` (code blocks, spaces kept through
  ``text:s``), ``Table Contents``, on top of ``Standard``; alignment,
  indentation, rules (a bottom border) and page breaks (``fo:break-after``)
  as automatic paragraph styles, one per combination used;
* lists: ``text:list`` nested as the editor nests them (``indent`` is the
  level), with list styles for numbers (``1. a. i.`` repeating), bullets
  (``•◦▪``) and checklists (``☐``/``☑`` as the bullet); each run of list
  lines is a new list, so numbering restarts where the editor restarts it;
* inline formats as automatic text styles (bold, italic, underline,
  strike, colour, highlight, size, font, sub/superscript, code in
  Liberation Mono); links as ``text:a``;
* tables as ``table:table`` with bordered cells, rows padded to the widest;
* images stored in the package under ``Pictures/`` (one file per distinct
  image) and drawn inline (``draw:frame`` anchored as a character) at their
  drawn size, the alt text as the frame's ``svg:title`` and ``svg:desc``.

The page is A4 or Letter (``COLLABDOCS["EXPORT_PAGE_SIZE"]``) with 2 cm
margins; the title is the document's ``dc:title``.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from odf import dc, draw, svg, teletype
from odf import table as odf_table
from odf import text as odf_text
from odf.opendocument import OpenDocumentText
from odf.style import (
    GraphicProperties,
    ListLevelProperties,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TextProperties,
)
from odf.text import ListLevelStyleBullet, ListLevelStyleNumber, ListStyle

from documents.export import ExportRequest
from office.export.model import (
    SIZE_FACTORS,
    Grid,
    PageBreak,
    Paragraph,
    Picture,
    Rule,
    Text,
    walk,
)
from office.export.model import Style as RunStyle
from office.export.page import page_size

_PAGE_CM = {"A4": ("21cm", "29.7cm"), "Letter": ("21.59cm", "27.94cm")}
_BASE_PT = 11
_HEADING_PT = {1: 20, 2: 16, 3: 14, 4: 12, 5: 11, 6: 11}
_MONO = "'Liberation Mono'"
_SERIF = "'Liberation Serif'"
_LEVELS = 10
_LEVEL_CM = 0.635  # a quarter inch per level, as Quill's 3em at 11 pt
_PX_PER_CM = 96 / 2.54


def _cm(value: float) -> str:
    return f"{value:.3f}cm"


class _Writer:
    def __init__(self, request: ExportRequest) -> None:
        self.request = request
        self.size = page_size()
        self.doc = OpenDocumentText()
        self.doc.meta.addElement(dc.Title(text=request.title[:255]))
        self.paragraph_styles: dict[tuple[str, str, int, str], str] = {}
        self.text_styles: dict[tuple[RunStyle, bool], str] = {}
        self.pictures: dict[bytes, str] = {}
        self.tables = 0
        self.frames = 0
        self._page()
        self._named_styles()
        self._list_styles()

    # ---- styles -----------------------------------------------------------

    def _page(self) -> None:
        width, height = _PAGE_CM[self.size]
        layout = PageLayout(name="Page")
        layout.addElement(
            PageLayoutProperties(
                pagewidth=width,
                pageheight=height,
                printorientation="portrait",
                margintop="2cm",
                marginbottom="2cm",
                marginleft="2cm",
                marginright="2cm",
            )
        )
        self.doc.automaticstyles.addElement(layout)
        self.doc.masterstyles.addElement(MasterPage(name="Standard", pagelayoutname=layout))

    def _named_styles(self) -> None:
        standard = Style(name="Standard", family="paragraph")
        standard.addElement(
            TextProperties(fontsize=f"{_BASE_PT}pt", fontfamily="'Liberation Sans'")
        )
        standard.addElement(ParagraphProperties(marginbottom="0.2cm"))
        self.doc.styles.addElement(standard)
        for level, points in _HEADING_PT.items():
            heading = Style(
                name=f"Heading_20_{level}",
                displayname=f"Heading {level}",
                family="paragraph",
                parentstylename="Standard",
                defaultoutlinelevel=str(level),
            )
            heading.addElement(TextProperties(fontsize=f"{points}pt", fontweight="bold"))
            heading.addElement(
                ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm", keepwithnext="always")
            )
            self.doc.styles.addElement(heading)
        quote = Style(
            name="Quotations",
            displayname="Quotations",
            family="paragraph",
            parentstylename="Standard",
        )
        quote.addElement(
            ParagraphProperties(
                marginleft="0.6cm", borderleft="1.5pt solid #cccccc", padding="0.2cm"
            )
        )
        self.doc.styles.addElement(quote)
        code = Style(
            name="Preformatted_20_Text",
            displayname="Preformatted Text",
            family="paragraph",
            parentstylename="Standard",
        )
        code.addElement(TextProperties(fontfamily=_MONO, fontsize="10pt"))
        code.addElement(ParagraphProperties(backgroundcolor="#f4f4f4", marginbottom="0cm"))
        self.doc.styles.addElement(code)
        cell = Style(name="Table_20_Contents", displayname="Table Contents", family="paragraph")
        cell.addElement(ParagraphProperties(marginbottom="0cm"))
        self.doc.styles.addElement(cell)
        cell_box = Style(name="Cell", family="table-cell")
        cell_box.addElement(TableCellProperties(border="0.5pt solid #999999", padding="0.1cm"))
        self.doc.automaticstyles.addElement(cell_box)
        self.frame_style = Style(name="Picture", family="graphic")
        self.frame_style.addElement(GraphicProperties(verticalpos="top", verticalrel="baseline"))
        self.doc.automaticstyles.addElement(self.frame_style)

    def _list_styles(self) -> None:
        kinds: dict[str, tuple[str, ...]] = {
            "bullet": ("\u2022", "\u25e6", "\u25aa"),
            "checked": ("\u2611",),
            "unchecked": ("\u2610",),
        }
        for kind, chars in kinds.items():
            style = ListStyle(name=f"List_{kind}")
            for level in range(1, _LEVELS + 1):
                bullet = ListLevelStyleBullet(
                    level=level, bulletchar=chars[(level - 1) % len(chars)]
                )
                bullet.addElement(self._level_properties(level))
                style.addElement(bullet)
            self.doc.automaticstyles.addElement(style)
        ordered = ListStyle(name="List_ordered")
        for level in range(1, _LEVELS + 1):
            number = ListLevelStyleNumber(
                level=level, numformat=("1", "a", "i")[(level - 1) % 3], numsuffix="."
            )
            number.addElement(self._level_properties(level))
            ordered.addElement(number)
        self.doc.automaticstyles.addElement(ordered)

    @staticmethod
    def _level_properties(level: int) -> Any:
        return ListLevelProperties(
            spacebefore=_cm(_LEVEL_CM * (level - 1)), minlabelwidth=_cm(_LEVEL_CM)
        )

    def paragraph_style(self, parent: str, align: str, indent: int, extra: str = "") -> str:
        """Return an automatic paragraph style on ``parent`` (created once per combination)."""
        if not align and not indent and not extra:
            return parent
        key = (parent, align, indent, extra)
        if key not in self.paragraph_styles:
            name = f"P{len(self.paragraph_styles) + 1}"
            style = Style(name=name, family="paragraph", parentstylename=parent)
            properties: dict[str, str] = {}
            if align:
                properties["textalign"] = align
            if indent:
                properties["marginleft"] = _cm(_LEVEL_CM * 2 * indent)
            if extra == "rule":
                properties.update(borderbottom="0.75pt solid #999999", padding="0.05cm")
            elif extra == "break":
                properties["breakafter"] = "page"
            style.addElement(ParagraphProperties(**properties))
            self.doc.automaticstyles.addElement(style)
            self.paragraph_styles[key] = name
        return self.paragraph_styles[key]

    def text_style(self, run: RunStyle, monospace: bool) -> str | None:
        """Return an automatic text style for a run's formats (None: plain)."""
        if run == RunStyle() and not monospace:
            return None
        key = (run, monospace)
        if key not in self.text_styles:
            name = f"T{len(self.text_styles) + 1}"
            properties: dict[str, str] = {}
            if run.bold:
                properties["fontweight"] = "bold"
            if run.italic:
                properties["fontstyle"] = "italic"
            if run.underline or run.link:
                properties.update(
                    textunderlinestyle="solid",
                    textunderlinewidth="auto",
                    textunderlinecolor="font-color",
                )
            if run.strike:
                properties["textlinethroughstyle"] = "solid"
            if run.color:
                properties["color"] = f"#{run.color}"
            elif run.link:
                properties["color"] = "#0563c1"
            if run.background:
                properties["backgroundcolor"] = f"#{run.background}"
            if run.size:
                properties["fontsize"] = f"{_BASE_PT * SIZE_FACTORS[run.size]:g}pt"
            if run.code or monospace or run.font == "monospace":
                properties["fontfamily"] = _MONO
            elif run.font == "serif":
                properties["fontfamily"] = _SERIF
            if run.script:
                properties["textposition"] = "sub 58%" if run.script == "sub" else "super 58%"
            style = Style(name=name, family="text")
            style.addElement(TextProperties(**properties))
            self.doc.automaticstyles.addElement(style)
            self.text_styles[key] = name
        return self.text_styles[key]

    # ---- content ----------------------------------------------------------

    def write(self) -> bytes:
        body = self.doc.text
        lists: list[list[Any]] = []  # open lists: [list element, kind, last item]
        for block in walk(self.request, page_size=self.size):
            if isinstance(block, Paragraph) and block.kind == "list":
                self.list_item(body, lists, block)
                continue
            lists.clear()
            if isinstance(block, Paragraph):
                body.addElement(self.paragraph(block))
            elif isinstance(block, Grid):
                body.addElement(self.table(block))
            elif isinstance(block, Rule):
                body.addElement(
                    odf_text.P(stylename=self.paragraph_style("Standard", "", 0, "rule"))
                )
            elif isinstance(block, PageBreak):
                body.addElement(
                    odf_text.P(stylename=self.paragraph_style("Standard", "", 0, "break"))
                )
        out = io.BytesIO()
        self.doc.write(out)
        return out.getvalue()

    def list_item(self, body: Any, lists: list[list[Any]], block: Paragraph) -> None:
        depth = block.indent + 1
        while len(lists) > depth or (len(lists) == depth and lists[-1][1] != block.list_kind):
            lists.pop()
        while len(lists) < depth:
            element = odf_text.List(stylename=f"List_{block.list_kind}")
            if lists:
                parent = lists[-1]
                if parent[2] is None:
                    parent[2] = odf_text.ListItem()
                    parent[0].addElement(parent[2])
                parent[2].addElement(element)
            else:
                body.addElement(element)
            lists.append([element, block.list_kind, None])
        item = odf_text.ListItem()
        item.addElement(self.paragraph(block))
        lists[-1][0].addElement(item)
        lists[-1][2] = item

    def paragraph(self, block: Paragraph, parent: str = "Standard") -> Any:
        if block.kind == "heading":
            name = self.paragraph_style(f"Heading_20_{block.level}", block.align, block.indent)
            element = odf_text.H(outlinelevel=block.level, stylename=name)
        else:
            if block.kind == "quote":
                parent = "Quotations"
            elif block.kind == "code":
                parent = "Preformatted_20_Text"
            indent = 0 if block.kind == "list" else block.indent
            element = odf_text.P(stylename=self.paragraph_style(parent, block.align, indent))
        monospace = block.kind == "code"
        for run in block.runs:
            if isinstance(run, Picture):
                element.addElement(self.frame(run))
            else:
                element.addElement(self.span(run, monospace))
        return element

    def span(self, run: Text, monospace: bool) -> Any:
        style = self.text_style(run.style, monospace)
        span = odf_text.Span(stylename=style) if style else odf_text.Span()
        teletype.addTextToElement(span, run.text)
        if run.style.link:
            link = odf_text.A(href=run.style.link, type="simple")
            link.addElement(span)
            return link
        return span

    def frame(self, picture: Picture) -> Any:
        digest = hashlib.sha256(picture.data).digest()
        if digest not in self.pictures:
            name = f"Pictures/{digest.hex()[:32]}.{picture.extension}"
            self.pictures[digest] = self.doc.addPicture(
                name, mediatype=picture.content_type, content=picture.data
            )
        self.frames += 1
        frame = draw.Frame(
            stylename=self.frame_style,
            name=f"Image{self.frames}",
            anchortype="as-char",
            width=_cm(picture.width_px / _PX_PER_CM),
            height=_cm(picture.height_px / _PX_PER_CM),
        )
        frame.addElement(draw.Image(href=self.pictures[digest]))
        if picture.alt:
            frame.addElement(svg.Title(text=picture.alt))
            frame.addElement(svg.Desc(text=picture.alt))
        return frame

    def table(self, grid: Grid) -> Any:
        self.tables += 1
        element = odf_table.Table(name=f"Table{self.tables}")
        column = Style(name=f"Table{self.tables}.A", family="table-column")
        column.addElement(TableColumnProperties(columnwidth=_cm(17 / grid.columns)))
        self.doc.automaticstyles.addElement(column)
        element.addElement(
            odf_table.TableColumn(stylename=column, numbercolumnsrepeated=grid.columns)
        )
        for row in grid.rows:
            row_element = odf_table.TableRow()
            for index in range(grid.columns):
                cell = odf_table.TableCell(stylename="Cell", valuetype="string")
                if index < len(row):
                    cell.addElement(self.paragraph(row[index], "Table_20_Contents"))
                else:
                    cell.addElement(odf_text.P(stylename="Table_20_Contents"))
                row_element.addElement(cell)
            element.addElement(row_element)
        return element


def render_odt(request: ExportRequest) -> bytes:
    """Return the request's content as an .odt file."""
    return _Writer(request).write()
