"""Layout in the HTML renderer and the text exports: tables, rules, page breaks, images.

The renderer gains ``<img>`` only for data: URIs of image types the export
answers; everything else about an image (a javascript: or data:text/html
src, a lying image source, an odd width) must end as a placeholder or be
dropped, never as markup that loads or runs something.
"""

from __future__ import annotations

import pytest

from documents.export import export_markdown, export_text, image_data_uri
from documents.render import Line, Marker, Table, blocks, render_html, split_lines

PNG_URI = "data:image/png;base64,iVBORw0KGgo="


def _blocks(ops: list[dict]) -> list[object]:
    return list(blocks(split_lines(ops)))


def test_table_lines_group_into_rows_and_tables() -> None:
    ops: list[dict] = [
        {"insert": "a"},
        {"insert": "\n", "attributes": {"table": "row-1"}},
        {"insert": "b"},
        {"insert": "\n", "attributes": {"table": "row-1"}},
        {"insert": "c"},
        {"insert": "\n", "attributes": {"table": "row-2"}},
        {"insert": "between\n"},
        {"insert": "d"},
        {"insert": "\n", "attributes": {"table": "row-3"}},
        {"insert": "e"},
        {"insert": "\n", "attributes": {"table": "ROW-bad"}},
    ]
    found = _blocks(ops)
    assert [type(b).__name__ for b in found] == ["Table", "Line", "Table", "Line"]
    first = found[0]
    assert isinstance(first, Table)
    assert [[cell.pieces[0][0] for cell in row] for row in first.rows] == [["a", "b"], ["c"]]
    html = render_html(ops)
    assert html.startswith("<table><tbody><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>")
    assert "<p>e</p>" in html, "a bad row id is an ordinary line"


def test_markers_split_out_of_the_line_they_arrive_in() -> None:
    ops: list[dict] = [
        {"insert": "before\n"},
        {"insert": {"divider": True}},
        {"insert": "after"},
        {"insert": {"pagebreak": True}},
        {"insert": "next\n"},
    ]
    found = _blocks(ops)
    assert [type(b).__name__ for b in found] == ["Line", "Marker", "Line", "Marker", "Line"]
    assert isinstance(found[1], Marker) and found[1].name == "divider"
    assert isinstance(found[2], Line) and found[2].pieces[0][0] == "after"
    assert render_html(ops) == (
        '<p>before</p><hr><p>after</p><div class="page-break"></div><p>next</p>'
    )
    assert export_text(ops) == "before\n" + "-" * 40 + "\nafter\n\f\nnext\n"
    assert export_markdown(ops) == "before\n\n---\n\nafter\n\n<!-- pagebreak -->\n\nnext\n"


def test_size_and_font_become_quill_classes_only_for_known_values() -> None:
    ops: list[dict] = [
        {"insert": "big", "attributes": {"size": "huge", "font": "monospace"}},
        {"insert": "odd", "attributes": {"size": "10px", "font": "Comic Sans"}},
        {"insert": "\n"},
    ]
    assert render_html(ops) == '<p><span class="ql-size-huge ql-font-monospace">big</span>odd</p>'


def test_images_become_img_only_with_image_data() -> None:
    ops: list[dict] = [
        {"insert": {"image": "/media/i/a.png"}, "attributes": {"alt": 'a "cat"', "width": "50%"}},
        {"insert": {"image": "/media/i/b.png"}, "attributes": {"width": "120"}},
        {"insert": {"image": "/media/i/c.png"}, "attributes": {"alt": "gone"}},
        {"insert": "\n"},
    ]
    answers = {
        "/media/i/a.png": PNG_URI,
        "/media/i/b.png": PNG_URI,
        "/media/i/c.png": "data:text/html;base64,PHNjcmlwdD4=",  # a lying source
    }
    html = render_html(ops, images=answers.get)
    assert html == (
        f'<p><img src="{PNG_URI}" alt="a &quot;cat&quot;" style="width:50%">'
        f'<img src="{PNG_URI}" alt="" style="width:120px">'
        '<span class="ql-embed" data-embed="image">[image: gone]</span></p>'
    )
    assert "<img" not in render_html(ops), "no image source: placeholders only"


@pytest.mark.parametrize(
    "src",
    ["javascript:alert(1)", "https://tracker.example/p.gif", "data:text/html,<script>", "//x"],
)
def test_nothing_but_inline_image_data_survives_the_sanitiser(src: str) -> None:
    ops: list[dict] = [{"insert": {"image": src}}, {"insert": "link", "attributes": {"link": src}}]
    html = render_html([*ops, {"insert": "\n"}], images=lambda _: src)
    assert "<img" not in html
    assert 'href="data:' not in html and "javascript" not in html


def test_image_data_uri_accepts_only_image_types() -> None:
    assert image_data_uri((b"\x89PNG", "image/png")) == "data:image/png;base64,iVBORw=="
    assert image_data_uri((b"<svg/>", "image/svg+xml")) is None
    assert image_data_uri(None) is None


def test_markdown_and_text_images_and_tables() -> None:
    ops: list[dict] = [
        {"insert": {"image": "/media/i/a.png"}, "attributes": {"alt": "a [cat]"}},
        {"insert": {"image": "https://example.com/x.png"}},
        {"insert": {"image": "javascript:alert(1)"}},
        {"insert": "\n"},
        {"insert": "h|1"},
        {"insert": "\n", "attributes": {"table": "row-1"}},
        {"insert": "h2"},
        {"insert": "\n", "attributes": {"table": "row-1"}},
        {"insert": "only"},
        {"insert": "\n", "attributes": {"table": "row-2"}},
    ]
    md = export_markdown(ops)
    assert md.startswith(
        "![a \\[cat\\]](/media/i/a.png)![image](https://example.com/x.png)\\[image\\]\n\n"
    )
    assert "| h\\|1 | h2 |\n|---|---|\n| only |  |" in md
    assert export_text(ops) == "[image: a [cat]][image][image]\nh|1\th2\nonly\n"


#: Deltas exactly as Chromium's editor made them (H3's tests/browser/test_layout_browser.py).
BROWSER_TABLE: list[dict] = [
    {"insert": "Budget\nalpha"},
    {"insert": "\n\n", "attributes": {"table": "row-y9qwub"}},
    {"insert": "\n", "attributes": {"table": "row-0t7st4"}},
    {"insert": "beta"},
    {"insert": "\n", "attributes": {"table": "row-0t7st4"}},
    {"insert": "\n\n", "attributes": {"table": "row-ppn9"}},
    {"insert": "\n"},
]
BROWSER_MARKERS: list[dict] = [
    {"insert": "Top\n"},
    {"insert": {"divider": True}},
    {"insert": {"pagebreak": True}},
    {"insert": "\n"},
]


def test_the_editors_own_table_and_markers_export_as_drawn() -> None:
    html = render_html(BROWSER_TABLE)
    assert html == (
        "<p>Budget</p><table><tbody>"
        "<tr><td>alpha</td><td><br></td></tr>"
        "<tr><td><br></td><td>beta</td></tr>"
        "<tr><td><br></td><td><br></td></tr>"
        "</tbody></table><p><br></p>"
    )
    assert "| alpha |  |\n|---|---|\n|  | beta |\n|  |  |" in export_markdown(BROWSER_TABLE)
    assert render_html(BROWSER_MARKERS) == '<p>Top</p><hr><div class="page-break"></div>'
