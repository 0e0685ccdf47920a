"""PDF, Word and OpenDocument exports read back: what a person opening the file sees.

One content with every format the schema allows is exported once per module
in each format (through documents.export's registry, as the download views
do) and read back with independent tools: python-docx for .docx, odfpy for
.odt, poppler's pdftotext/pdfinfo/pdfimages for PDF. Images come through the
export's image source, here a dict of the document's images keyed by src:
the one embed pointing elsewhere must come out as its alt text, never its
bytes.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.shared import RGBColor
from odf import draw, svg, teletype
from odf import table as odf_table
from odf import text as odf_text
from odf.opendocument import load as load_odt
from odf.style import Style, TextProperties
from PIL import Image as PILImage
from weasyprint.urls import URLFetcher

from documents.export import ExportRequest, export_document, formats, register_format

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DOC = object()  # the exported document (the image source compares identity)
OTHER_IMAGE = "/media/i/00000000-0000-0000-0000-000000000000.png"


def _image(size: tuple[int, int], color: tuple[int, int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


IMAGES = {
    "/media/i/11111111-1111-1111-1111-111111111111.png": (
        _image((400, 200), (200, 30, 30), "PNG"),
        "image/png",
    ),
    "/media/i/22222222-2222-2222-2222-222222222222.webp": (
        _image((100, 100), (30, 30, 200), "WEBP"),
        "image/webp",
    ),
}
PNG_SRC, WEBP_SRC = IMAGES


def source(document: Any, src: str) -> tuple[bytes, str] | None:
    """The document's images only (as images.services.export_image answers)."""
    return IMAGES.get(src) if document is DOC else None


CONTENT: list[dict] = [
    {"insert": "Quarterly plan"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Hello "},
    {"insert": "red bold", "attributes": {"bold": True, "color": "#ff0000"}},
    {"insert": " "},
    {"insert": "our site", "attributes": {"link": "https://example.com/plan"}},
    {"insert": " "},
    {"insert": "marked", "attributes": {"background": "#ffff00", "size": "large"}},
    {"insert": " "},
    {"insert": "serif", "attributes": {"font": "serif", "italic": True}},
    {"insert": " "},
    {"insert": "x()", "attributes": {"code": True}},
    {"insert": " "},
    {"insert": "evil", "attributes": {"link": "javascript:alert(1)", "color": "red;x"}},
    {"insert": "\n", "attributes": {"align": "center"}},
    {"insert": "Goals"},
    {"insert": "\n", "attributes": {"header": 2}},
    {"insert": "first"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "first a"},
    {"insert": "\n", "attributes": {"list": "ordered", "indent": 1}},
    {"insert": "second"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "a bullet"},
    {"insert": "\n", "attributes": {"list": "bullet"}},
    {"insert": "to do"},
    {"insert": "\n", "attributes": {"list": "unchecked"}},
    {"insert": "done"},
    {"insert": "\n", "attributes": {"list": "checked"}},
    {"insert": "Between lists\n"},
    {"insert": "restarted"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "A quote"},
    {"insert": "\n", "attributes": {"blockquote": True}},
    {"insert": "x  =  1"},
    {"insert": "\n", "attributes": {"code-block": True}},
    {"insert": "Region"},
    {"insert": "\n", "attributes": {"table": "row-a1"}},
    {"insert": "Sales"},
    {"insert": "\n", "attributes": {"table": "row-a1"}},
    {"insert": "North"},
    {"insert": "\n", "attributes": {"table": "row-b2"}},
    {"insert": "12"},
    {"insert": "\n", "attributes": {"table": "row-b2"}},
    {"insert": {"divider": True}},
    {"insert": {"image": PNG_SRC}, "attributes": {"alt": "red box", "width": "200"}},
    {"insert": {"image": WEBP_SRC}, "attributes": {"alt": "blue square"}},
    {"insert": {"image": OTHER_IMAGE}, "attributes": {"alt": "not ours"}},
    {"insert": "\n"},
    {"insert": {"pagebreak": True}},
    {"insert": "Second page"},
    {"insert": "\n", "attributes": {"align": "right"}},
]
ORDER = [
    "Quarterly plan",
    "Hello",
    "Goals",
    "first",
    "first a",
    "second",
    "a bullet",
    "to do",
    "done",
    "Between lists",
    "restarted",
    "A quote",
    "x",
    "Region",
    "North",
    "[image: not ours]",
    "Second page",
]


@pytest.fixture(scope="module")
def exported() -> dict[str, bytes]:
    return {
        fmt: export_document(CONTENT, fmt=fmt, title="Plan «Q3»", document=DOC, source=source)
        for fmt in ("pdf", "docx", "odt", "html", "md", "txt")
    }


def _in_order(text: str, needles: list[str]) -> None:
    at = 0
    for needle in needles:
        found = text.find(needle, at)
        assert found >= 0, f"{needle!r} missing or out of order after {text[at : at + 80]!r}"
        at = found + len(needle)


def test_office_formats_are_registered_with_their_labels() -> None:
    registered = formats()
    assert {"txt", "html", "md", "pdf", "docx", "odt"} <= set(registered)
    assert registered["docx"].label == "Word (.docx)"
    assert registered["odt"].content_type == "application/vnd.oasis.opendocument.text"
    assert registered["pdf"].extension == "pdf"
    with pytest.raises(ValueError, match="bad export format"):
        register_format("PDF!", label="x", content_type="x", extension="pdf", render=lambda _: b"")


# --------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def word(exported: dict[str, bytes]) -> Any:
    return docx.Document(io.BytesIO(exported["docx"]))


def _paragraph(document: Any, text: str) -> Any:
    return next(p for p in document.paragraphs if p.text.endswith(text))


def _num(paragraph: Any) -> tuple[int, int] | None:
    num_pr = paragraph._p.find(qn("w:pPr") + "/" + qn("w:numPr"))
    if num_pr is None:
        return None
    return (
        int(num_pr.find(qn("w:numId")).get(qn("w:val"))),
        int(num_pr.find(qn("w:ilvl")).get(qn("w:val"))),
    )


def test_docx_headings_use_word_heading_styles_and_keep_order(word: Any) -> None:
    assert word.core_properties.title == "Plan «Q3»"
    assert _paragraph(word, "Quarterly plan").style.name == "Heading 1"
    assert _paragraph(word, "Goals").style.name == "Heading 2"
    assert _paragraph(word, "A quote").style.name == "Quote"
    hello = next(p for p in word.paragraphs if p.text.startswith("Hello"))
    assert hello.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert _paragraph(word, "Second page").alignment == WD_ALIGN_PARAGRAPH.RIGHT
    in_cells = {"Region", "North"}
    _in_order("\n".join(p.text for p in word.paragraphs), [o for o in ORDER if o not in in_cells])


def test_docx_lists_are_real_numbering_restarting_per_list(word: Any) -> None:
    first, first_a, second = (_num(_paragraph(word, t)) for t in ("first", "first a", "second"))
    restarted = _num(_paragraph(word, "restarted"))
    bullet = _num(_paragraph(word, "a bullet"))
    assert first and first_a and second and restarted and bullet
    assert first[0] == second[0] == first_a[0] and (first[1], first_a[1]) == (0, 1)
    assert restarted[0] != first[0], "a list after a paragraph must number from 1 again"
    numbering = word.part.numbering_part.element
    formats_by_num = {}
    for num in numbering.findall(qn("w:num")):
        abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
        abstract = next(
            a
            for a in numbering.findall(qn("w:abstractNum"))
            if a.get(qn("w:abstractNumId")) == abstract_id
        )
        level0 = abstract.find(qn("w:lvl")).find(qn("w:numFmt")).get(qn("w:val"))
        formats_by_num[int(num.get(qn("w:numId")))] = level0
    assert formats_by_num[first[0]] == "decimal"
    assert formats_by_num[bullet[0]] == "bullet"
    assert _paragraph(word, "to do").text == "\u2610 to do"
    assert _paragraph(word, "done").text == "\u2611 done"


def test_docx_runs_keep_colour_link_and_fonts_and_drop_unsafe_values(word: Any) -> None:
    hello = next(p for p in word.paragraphs if p.text.startswith("Hello"))
    runs = {run.text: run for run in hello.runs}
    assert runs["red bold"].bold and runs["red bold"].font.color.rgb == RGBColor(0xFF, 0, 0)
    assert runs["serif"].italic and runs["serif"].font.name == "Liberation Serif"
    assert runs["x()"].font.name == "Liberation Mono"
    assert runs["marked"].font.size.pt == 16.5
    links = hello._p.findall(qn("w:hyperlink"))
    assert len(links) == 1 and "".join(t.text for t in links[0].iter(qn("w:t"))) == "our site"
    target = hello.part.rels[links[0].get(qn("r:id"))]
    assert target.reltype == RELATIONSHIP_TYPE.HYPERLINK
    assert target.target_ref == "https://example.com/plan"
    assert runs["evil"].font.color.rgb is None  # "red;x" is no colour
    external = [rel.target_ref for rel in hello.part.rels.values() if rel.is_external]
    assert external == ["https://example.com/plan"], "a javascript: link is never written"


def test_docx_table_pictures_and_page_break(word: Any) -> None:
    (table,) = word.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Region", "Sales"],
        ["North", "12"],
    ]
    shapes = word.inline_shapes
    assert len(shapes) == 2, "the document's two images, not the other document's"
    assert shapes[0].width == 200 * 9525 and shapes[0].height == 100 * 9525
    described = [s._inline.docPr.get("descr") for s in shapes]
    assert described == ["red box", "blue square"]
    body = word.element.body
    breaks = [br for br in body.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]
    assert len(breaks) == 1
    assert "[image: not ours]" in "\n".join(p.text for p in word.paragraphs)


def test_docx_package_holds_only_the_documents_images(exported: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(exported["docx"])) as package:
        media = [n for n in package.namelist() if n.startswith("word/media/")]
    assert len(media) == 2
    assert all(not n.endswith(".webp") for n in media), "WebP becomes PNG for Word"


# --------------------------------------------------------------------------
# OpenDocument
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def odt(exported: dict[str, bytes]) -> Any:
    return load_odt(io.BytesIO(exported["odt"]))


def test_odt_headings_lists_and_order(odt: Any) -> None:
    headings = odt.text.getElementsByType(odf_text.H)
    assert [(h.getAttribute("outlinelevel"), teletype.extractText(h)) for h in headings] == [
        ("1", "Quarterly plan"),
        ("2", "Goals"),
    ]
    top_lists = [node for node in odt.text.childNodes if node.qname == odf_text.List().qname]
    # ordered (with its nested list), bullets, two checklists, then the restarted list
    styles = [node.getAttribute("stylename") for node in top_lists]
    assert styles == [
        "List_ordered",
        "List_bullet",
        "List_unchecked",
        "List_checked",
        "List_ordered",
    ]
    nested = [n for n in top_lists[0].getElementsByType(odf_text.List) if n is not top_lists[0]]
    assert len(nested) == 1 and teletype.extractText(nested[0]) == "first a"
    _in_order(teletype.extractText(odt.text), ORDER)


def test_odt_styles_table_links_and_pictures(odt: Any, exported: dict[str, bytes]) -> None:
    (table,) = odt.text.getElementsByType(odf_table.Table)
    rows = [
        [teletype.extractText(c) for c in row.getElementsByType(odf_table.TableCell)]
        for row in table.getElementsByType(odf_table.TableRow)
    ]
    assert rows == [["Region", "Sales"], ["North", "12"]]
    (link,) = odt.text.getElementsByType(odf_text.A)
    assert link.getAttribute("href") == "https://example.com/plan"
    assert teletype.extractText(link) == "our site"
    colours = {
        style.getAttribute("name"): props.getAttribute("color")
        for style in odt.automaticstyles.getElementsByType(Style)
        for props in style.getElementsByType(TextProperties)
    }
    red = next(
        span
        for span in odt.text.getElementsByType(odf_text.Span)
        if teletype.extractText(span) == "red bold"
    )
    assert colours[red.getAttribute("stylename")] == "#ff0000"
    frames = odt.text.getElementsByType(draw.Frame)
    assert len(frames) == 2
    assert [teletype.extractText(f.getElementsByType(svg.Desc)[0]) for f in frames] == [
        "red box",
        "blue square",
    ]
    assert frames[0].getAttribute("width") == "5.292cm"  # 200 px at 96 dpi
    with zipfile.ZipFile(io.BytesIO(exported["odt"])) as package:
        pictures = [n for n in package.namelist() if n.startswith("Pictures/")]
        manifest = package.read("META-INF/manifest.xml").decode()
    assert len(pictures) == 2 and all(p in manifest for p in pictures)
    code = next(
        p for p in odt.text.getElementsByType(odf_text.P) if teletype.extractText(p) == "x  =  1"
    )
    assert code.getAttribute("stylename") == "Preformatted_20_Text"


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------


def _poppler(tmp_path: Path, tool: str, pdf: bytes, *args: str) -> str:
    # Fail, never skip: make test installs poppler-utils (pdftotext, pdfimages).
    assert shutil.which(tool), f"{tool} missing: install poppler-utils (make test does)"
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout


def test_pdf_text_order_pages_and_images(exported: dict[str, bytes], tmp_path: Path) -> None:
    pdf = exported["pdf"]
    assert pdf.startswith(b"%PDF-")
    info = _poppler(tmp_path, "pdfinfo", pdf)
    assert re.search(r"^Pages:\s+2$", info, re.M), info
    assert "(A4)" in info
    first = _poppler(tmp_path, "pdftotext", pdf, "-l", "1")
    second = _poppler(tmp_path, "pdftotext", pdf, "-f", "2")
    _in_order(first, ["Plan «Q3»", *ORDER[:-1]])
    assert "1/2" in first.replace(" ", "") and "2/2" in second.replace(" ", "")  # the footers
    assert "Second page" in second and "Second page" not in first
    assert "Plan «Q3»" not in second, "the title heads the first page only"
    listing = _poppler(tmp_path, "pdfimages", pdf, "-list").splitlines()[2:]
    assert len(listing) == 2
    assert [row.split()[3:5] for row in listing] == [["400", "200"], ["100", "100"]]


def test_pdf_page_size_follows_the_setting(settings: Any, tmp_path: Path) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "EXPORT_PAGE_SIZE": "Letter"}
    pdf = export_document([{"insert": "hi\n"}], fmt="pdf", title="t")
    assert "(letter)" in _poppler(tmp_path, "pdfinfo", pdf)


def test_pdf_fetches_nothing_from_outside() -> None:
    """Even if markup slipped through, WeasyPrint may load only data: URLs."""
    with pytest.raises(ValueError, match="disallowed protocol"):
        URLFetcher(allowed_protocols={"data"}).fetch("http://127.0.0.1:9/x.png")


# --------------------------------------------------------------------------
# Text formats and every format's edge cases
# --------------------------------------------------------------------------


def test_html_markdown_and_text_draw_the_same_content(exported: dict[str, bytes]) -> None:
    html = exported["html"].decode()
    assert html.count('src="data:image/png;base64,') == 1
    assert html.count('src="data:image/webp;base64,') == 1
    assert "[image: not ours]" in html and OTHER_IMAGE not in html
    assert "<table><tbody><tr><td>Region</td><td>Sales</td></tr>" in html
    assert "<hr>" in html and '<div class="page-break"></div>' in html
    md = exported["md"].decode()
    assert "| Region | Sales |\n|---|---|\n| North | 12 |" in md
    assert f"![red box]({PNG_SRC})" in md
    txt = exported["txt"].decode()
    assert "Region\tSales\nNorth\t12\n" in txt and "[image: red box]" in txt and "\f" in txt


@pytest.mark.parametrize("fmt", ["pdf", "docx", "odt"])
@pytest.mark.parametrize(
    "content",
    [
        [{"insert": "\n"}],
        [{"insert": {"divider": True}}, {"insert": {"pagebreak": True}}, {"insert": "\n"}],
        [{"insert": "x"}, {"insert": "\n", "attributes": {"table": "row-1", "header": 9}}],
        [{"insert": {"image": PNG_SRC}, "attributes": {"width": "99999"}}, {"insert": "\n"}],
    ],
    ids=["empty", "markers-only", "odd-table", "huge-width"],
)
def test_edge_content_still_gives_a_readable_file(fmt: str, content: list[dict]) -> None:
    out = export_document(content, fmt=fmt, title="", document=DOC, source=source)
    if fmt == "pdf":
        assert out.startswith(b"%PDF-")
    else:
        with zipfile.ZipFile(io.BytesIO(out)) as package:
            assert package.testzip() is None
        reader: Callable[[io.BytesIO], Any] = docx.Document if fmt == "docx" else load_odt
        reader(io.BytesIO(out))


def test_pictures_fit_the_text_column_and_page() -> None:
    pictures = {
        PNG_SRC: (_image((1200, 600), (0, 0, 0), "PNG"), "image/png"),
        WEBP_SRC: (_image((100, 3000), (0, 0, 0), "PNG"), "image/png"),
    }

    def sized(document: Any, src: str) -> tuple[bytes, str] | None:
        return pictures.get(src)

    content: list[dict] = [
        {"insert": {"image": PNG_SRC}, "attributes": {"width": "50%"}},
        {"insert": {"image": PNG_SRC}},
        {"insert": {"image": WEBP_SRC}, "attributes": {"width": "5000"}},
        {"insert": "\n"},
    ]
    out = export_document(content, fmt="docx", title="t", document=DOC, source=sized)
    shapes = docx.Document(io.BytesIO(out)).inline_shapes
    px = [(round(s.width / 9525), round(s.height / 9525)) for s in shapes]
    # 50 % of A4's 642 px column; no width: its own 1200 px, capped to the
    # column; a tall picture shrinks to the 971 px text height, keeping its shape.
    assert px == [(321, 160), (642, 321), (32, 971)]


def test_an_unreadable_image_keeps_its_alt_text() -> None:
    def broken(document: Any, src: str) -> tuple[bytes, str] | None:
        return (b"not an image", "image/png")

    content: list[dict] = [
        {"insert": {"image": PNG_SRC}, "attributes": {"alt": "chart"}},
        {"insert": "\n"},
    ]
    out = export_document(content, fmt="docx", title="t", document=DOC, source=broken)
    document = docx.Document(io.BytesIO(out))
    assert len(document.inline_shapes) == 0 and "[image: chart]" in document.paragraphs[0].text


def test_suggestions_marked_up_in_word_show_insertions_and_deletions(db: None) -> None:
    content: list[dict] = [
        {"insert": "kept "},
        {"insert": "new", "attributes": {"suggest-insert": "7:mxawvd40:ab12"}},
        {"insert": "old", "attributes": {"suggest-delete": "7:mxawvd40:cd34"}},
        {"insert": "\n"},
    ]
    accepted = docx.Document(io.BytesIO(export_document(content, fmt="docx", title="t")))
    assert accepted.paragraphs[0].text == "kept old"
    marked = docx.Document(
        io.BytesIO(export_document(content, fmt="docx", title="t", suggestions="markup"))
    )
    runs = {run.text: run for run in marked.paragraphs[0].runs}
    assert runs["new"].font.underline and runs["new"].font.color.rgb == RGBColor(0x13, 0x73, 0x33)
    assert runs["old"].font.strike and runs["old"].font.color.rgb == RGBColor(0xA5, 0x0E, 0x0E)


def test_pdf_with_suggestions_marked_up_prints_both_sides(db: None, tmp_path: Path) -> None:
    content: list[dict] = [
        {"insert": "kept "},
        {"insert": "proposed", "attributes": {"suggest-insert": "7:mxawvd40:ab12"}},
        {"insert": " doomed", "attributes": {"suggest-delete": "7:mxawvd40:cd34"}},
        {"insert": {"video": "https://www.youtube.com/embed/x"}},
        {"insert": "\n"},
    ]
    accepted = _poppler(tmp_path, "pdftotext", export_document(content, fmt="pdf", title="t"))
    assert "kept doomed" in accepted and "proposed" not in accepted and "[video]" in accepted
    marked = export_document(content, fmt="pdf", title="t", suggestions="markup")
    text = _poppler(tmp_path, "pdftotext", marked)
    assert "kept proposed doomed" in text  # drawn as <ins> and <del>: underlined, struck
    odt = load_odt(io.BytesIO(export_document(content, fmt="odt", title="t")))
    assert teletype.extractText(odt.text) == "kept  doomed[video]"  # spaces kept (text:s)


def test_export_request_reads_each_image_once() -> None:
    calls: list[str] = []

    def counting(document: Any, src: str) -> tuple[bytes, str] | None:
        calls.append(src)
        return IMAGES.get(src)

    request = ExportRequest(content=[], title="t", document=DOC, source=counting)
    assert request.image(PNG_SRC) == request.image(PNG_SRC) == IMAGES[PNG_SRC]
    assert request.image(42) is None and calls == [PNG_SRC]


def test_the_editors_own_table_reads_back_in_word_and_odt() -> None:
    """The table delta exactly as Chromium's editor made it (H3's layout browser test)."""
    content: list[dict] = [
        {"insert": "Budget\nalpha"},
        {"insert": "\n\n", "attributes": {"table": "row-y9qwub"}},
        {"insert": "\n", "attributes": {"table": "row-0t7st4"}},
        {"insert": "beta"},
        {"insert": "\n", "attributes": {"table": "row-0t7st4"}},
        {"insert": "\n\n", "attributes": {"table": "row-ppn9"}},
        {"insert": "\n"},
    ]
    expected = [["alpha", ""], ["", "beta"], ["", ""]]
    word = docx.Document(io.BytesIO(export_document(content, fmt="docx", title="t")))
    (table,) = word.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == expected
    odt = load_odt(io.BytesIO(export_document(content, fmt="odt", title="t")))
    (grid,) = odt.text.getElementsByType(odf_table.Table)
    assert [
        [teletype.extractText(c) for c in row.getElementsByType(odf_table.TableCell)]
        for row in grid.getElementsByType(odf_table.TableRow)
    ] == expected
