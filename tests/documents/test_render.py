"""documents.render: Delta content to safe semantic HTML and plain text."""

from __future__ import annotations

import pytest

from documents.render import render_html, render_text, safe_color, safe_link


def html(*ops: dict) -> str:
    return render_html(list(ops))


def test_empty_document_is_one_empty_paragraph() -> None:
    assert html({"insert": "\n"}) == "<p><br></p>"
    assert render_html([]) == ""


def test_lines_become_paragraphs() -> None:
    assert html({"insert": "one\n\ntwo\n"}) == "<p>one</p><p><br></p><p>two</p>"


def test_text_without_a_final_newline_is_still_shown() -> None:
    assert html({"insert": "tail"}) == "<p>tail</p>"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"bold": True}, "<strong>x</strong>"),
        ({"italic": True}, "<em>x</em>"),
        ({"underline": True}, "<u>x</u>"),
        ({"strike": True}, "<s>x</s>"),
        ({"code": True}, "<code>x</code>"),
        ({"script": "sub"}, "<sub>x</sub>"),
        ({"script": "super"}, "<sup>x</sup>"),
        ({"bold": True, "italic": True}, "<strong><em>x</em></strong>"),
        ({"color": "#ff0000"}, '<span style="color:#ff0000">x</span>'),
        ({"background": "rgb(1, 2, 3)"}, '<span style="background-color:rgb(1, 2, 3)">x</span>'),
        (
            {"link": "https://example.com/a?b=1&c=2"},
            '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">x</a>',
        ),
        (
            {"link": "mailto:a@example.com"},
            '<a href="mailto:a@example.com" rel="noopener noreferrer nofollow">x</a>',
        ),
        ({"bold": "yes"}, "x"),  # only true turns a format on
        ({"unknown": True}, "x"),
    ],
)
def test_inline_formats(attributes: dict, expected: str) -> None:
    assert html({"insert": "x", "attributes": attributes}, {"insert": "\n"}) == f"<p>{expected}</p>"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"header": 1}, "<h1>x</h1>"),
        ({"header": 6}, "<h6>x</h6>"),
        ({"header": 7}, "<p>x</p>"),
        ({"header": "2"}, "<h2>x</h2>"),
        ({"header": "2 onclick=x"}, "<p>x</p>"),
        ({"blockquote": True}, "<blockquote>x</blockquote>"),
        ({"align": "center"}, '<p class="ql-align-center">x</p>'),
        ({"align": 'center" onclick="x'}, "<p>x</p>"),
        ({"indent": 2}, '<p class="ql-indent-2">x</p>'),
        ({"indent": 99}, "<p>x</p>"),
    ],
)
def test_block_formats(attributes: dict, expected: str) -> None:
    assert html({"insert": "x"}, {"insert": "\n", "attributes": attributes}) == expected


def test_lists_group_and_nest_like_quill() -> None:
    out = html(
        {"insert": "a"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
        {"insert": "b"},
        {"insert": "\n", "attributes": {"list": "bullet", "indent": 1}},
        {"insert": "c"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
        {"insert": "after\n"},
    )
    assert out == "<ol><li>a<ul><li>b</li></ul></li><li>c</li></ol><p>after</p>"


def test_checklists_and_a_change_of_list_kind() -> None:
    out = html(
        {"insert": "done"},
        {"insert": "\n", "attributes": {"list": "checked"}},
        {"insert": "todo"},
        {"insert": "\n", "attributes": {"list": "unchecked"}},
        {"insert": "one"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
    )
    assert out == (
        '<ul><li data-list="checked">done</li><li data-list="unchecked">todo</li></ul>'
        "<ol><li>one</li></ol>"
    )


def test_code_blocks_join_lines_and_escape() -> None:
    out = html(
        {"insert": "if a < b:"},
        {"insert": "\n", "attributes": {"code-block": "plain"}},
        {"insert": "  print('<b>')", "attributes": {"bold": True}},
        {"insert": "\n", "attributes": {"code-block": True}},
    )
    assert out == "<pre>if a &lt; b:\n  print('&lt;b&gt;')</pre>"


def test_text_is_escaped() -> None:
    out = html({"insert": "<script>alert(1)</script> & \"quotes\" 'too'\n"})
    assert "<script" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in out


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "/relative/path",
        "//evil.example.com",
        "https:no-host",
        "http://[bad",
        42,
        None,
    ],
)
def test_unsafe_links_are_dropped_but_the_text_stays(link: object) -> None:
    out = html({"insert": "click", "attributes": {"link": link}}, {"insert": "\n"})
    assert out == "<p>click</p>"


@pytest.mark.parametrize(
    "color",
    [
        "red",
        "#ff000",
        "#ggg",
        "rgb(300, 0, 0)",
        "red; background: url(javascript:alert(1))",
        '#fff" onmouseover="alert(1)',
        "expression(alert(1))",
        7,
    ],
)
def test_unsafe_colors_are_dropped(color: object) -> None:
    assert html({"insert": "x", "attributes": {"color": color}}, {"insert": "\n"}) == "<p>x</p>"


def test_safe_helpers() -> None:
    assert safe_link("https://example.com") == "https://example.com"
    assert safe_link("ftp://example.com") is None
    assert safe_color("#ABCDEF") == "#ABCDEF"
    assert safe_color("rgba(0, 0, 0, 0.5)") == "rgba(0, 0, 0, 0.5)"
    assert safe_color("hsl(0, 0%, 0%)") is None


def test_embeds_become_escaped_placeholders() -> None:
    out = html(
        {"insert": {"image": 'https://example.com/x.png" onerror="alert(1)'}},
        {"insert": {"<img src=x onerror=alert(1)>": "v"}},
        {"insert": "\n"},
    )
    assert "<img" not in out and 'onerror="' not in out
    assert out.startswith('<p><span class="ql-embed" data-embed="image">[image]</span>')
    assert "[&lt;img src=x onerror=alert(1)&gt;]" in out


def test_malformed_ops_are_ignored() -> None:
    ops: list = [
        "text",
        {"retain": 3},
        {"insert": 5},
        {"insert": "ok", "attributes": "bold"},
        {"insert": "\n"},
    ]
    out = render_html(ops)
    assert out == "<p>ok</p>"


def test_plain_text() -> None:
    ops = [
        {"insert": "Title", "attributes": {"bold": True}},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": {"image": "x"}},
        {"insert": "<b>a</b>\n"},
    ]
    assert render_text(ops) == "Title\n<b>a</b>\n"
