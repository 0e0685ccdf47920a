"""Export Delta content as plain text, a standalone HTML page or Markdown.

All three take content as stored (a list of insert ops) and trust none of
it: the HTML comes from :func:`documents.render.render_html` (escaped and
sanitised), Markdown escapes every character that would otherwise become
markup and keeps links and images only with http, https or mailto URLs.

Markdown, line by line as Quill stores lines (the attributes of each
``\\n`` format its line): headers ``#``, quotes ``>``, bulleted, numbered
and check lists (nested by ``indent``), code blocks fenced with backticks
longer than any run inside; inline bold, italic, strike, code and links.
Formats Markdown has no syntax for (underline, colours, alignment) are
dropped; embeds become images (``![image](url)``) or ``[name]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from documents.render import Line, render_html, render_text, safe_link, split_lines

#: ``format name -> (file extension, MIME type)``.
FORMATS: dict[str, tuple[str, str]] = {
    "txt": ("txt", "text/plain; charset=utf-8"),
    "html": ("html", "text/html; charset=utf-8"),
    "md": ("md", "text/markdown; charset=utf-8"),
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)")
_MAX_INDENT = 8

Attributes = Mapping[str, Any]


def export_text(ops: Iterable[Mapping[str, Any]]) -> str:
    """Return the content as plain text (embeds left out, as Quill's getText)."""
    return render_text(ops)


def export_html(ops: Iterable[Mapping[str, Any]], *, title: str) -> str:
    """Return the content as a standalone, sanitised HTML page."""
    return (
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{render_html(ops)}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _embed_md(embed: Mapping[str, Any]) -> str:
    name = str(next(iter(embed), "embed"))
    url = safe_link(embed.get("image")) if name == "image" else None
    if url and not url.lower().startswith("mailto:"):
        return f"![image]({_md_url(url)})"
    return f"\\[{_md_escape(name)}\\]"


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _inline_md(piece: str | dict, attributes: Attributes) -> str:
    if isinstance(piece, dict):
        return _embed_md(piece)
    # Emphasis markers must touch the text: keep edge spaces outside them.
    stripped = piece.strip(" \t")
    if not stripped:
        return piece
    lead = piece[: len(piece) - len(piece.lstrip(" \t"))]
    trail = piece[len(piece.rstrip(" \t")) :]
    code = attributes.get("code") is True
    text = _code_span(stripped) if code else _md_escape(stripped)
    if attributes.get("strike") is True:
        text = f"~~{text}~~"
    if attributes.get("italic") is True:
        text = f"*{text}*"
    if attributes.get("bold") is True:
        text = f"**{text}**"
    href = safe_link(attributes.get("link"))
    if href:
        text = f"[{text}]({_md_url(href)})"
    return f"{lead}{text}{trail}"


def _line_md(line: Line) -> str:
    text = "".join(_inline_md(piece, attrs) for piece, attrs in line.pieces)
    # A line that would read as a heading, quote or list item is not one.
    return _MD_LINE_START.sub(_escape_marker, text, count=1)


def _escape_marker(match: re.Match[str]) -> str:
    space, marker = match.group(1), match.group(2)
    if marker[0].isdigit():
        return f"{space}{marker[:-1]}\\{marker[-1]}"
    return f"{space}\\{marker}"


def _indent(attributes: Attributes) -> int:
    value = attributes.get("indent")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_INDENT:
        return value
    return 0


def _list_marker(kind: str, number: int) -> str:
    return {
        "ordered": f"{number}.",
        "bullet": "-",
        "checked": "- [x]",
        "unchecked": "- [ ]",
    }[kind]


def export_markdown(ops: Iterable[Mapping[str, Any]]) -> str:
    """Return the content as Markdown (see the module docstring)."""
    blocks: list[str] = []
    code: list[str] = []
    items: list[str] = []
    counters: dict[int, int] = {}

    def flush_code() -> None:
        if code:
            body = "\n".join(code)
            longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
            fence = "`" * (longest + 1)
            blocks.append(f"{fence}\n{body}\n{fence}")
            code.clear()

    def flush_items() -> None:
        if items:
            blocks.append("\n".join(items))
            items.clear()
            counters.clear()

    for line in split_lines(ops):
        attributes = line.attributes
        if attributes.get("code-block"):
            flush_items()
            code.append("".join(p for p, _ in line.pieces if isinstance(p, str)))
            continue
        flush_code()
        kind = attributes.get("list")
        if kind in ("ordered", "bullet", "checked", "unchecked"):
            depth = _indent(attributes)
            for deeper in [d for d in counters if d > depth]:
                del counters[deeper]
            counters[depth] = counters.get(depth, 0) + 1 if kind == "ordered" else 0
            marker = _list_marker(kind, counters[depth])
            items.append(f"{'    ' * depth}{marker} {_line_md(line)}".rstrip())
            continue
        flush_items()
        text = _line_md(line)
        header = attributes.get("header")
        if header in (1, 2, 3, 4, 5, 6) and not isinstance(header, bool):
            blocks.append(f"{'#' * header} {text}".rstrip())
        elif attributes.get("blockquote") is True:
            blocks.append(f"> {text}".rstrip())
        elif text.strip():
            blocks.append(text)
    flush_code()
    flush_items()
    return "\n\n".join(blocks) + "\n"


def export(ops: list[dict], *, fmt: str, title: str) -> str:
    """Return ``ops`` exported as ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt == "txt":
        return export_text(ops)
    if fmt == "html":
        return export_html(ops, title=title)
    if fmt == "md":
        return export_markdown(ops)
    raise ValueError(f"unknown export format {fmt!r}")
