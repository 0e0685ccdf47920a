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
dropped. Tables become pipe tables (the first row as the header row
Markdown requires), rules ``---`` and page breaks an HTML comment; images
become ``![alt](url)`` for http(s) URLs and the site's own image paths
(``/media/i/...``), other embeds ``[name]``.

Plain text (accepted): a table's cells tab-separated, one row a line;
images ``[image: alt]``; rules a dashed line; page breaks a form feed.
HTML: :func:`documents.render.render_html` in a page with a stylesheet for
Quill's classes, checklists, tables and page breaks (:data:`PAGE_STYLE`);
the document's own images as ``data:`` URIs.

Suggestions (:mod:`documents.proposals`): every export shows the document
as accepted so far unless asked for ``suggestions="markup"``. Then HTML
draws them as :func:`documents.render.render_html` does (with a small
stylesheet), plain text as ``[+inserted+]``/``[-deleted-]``, and Markdown in
CriticMarkup: ``{++inserted++}``, ``{--deleted--}``, ``{==text==}`` for a
format proposal, each followed by ``{>>who suggested what · when<<}``.
Braces in text are escaped there, so no text can close a mark early; code
is shown as typed.
Authors' names are read once per export (:func:`documents.selectors.user_display_names`).

The registry: every download format is an :class:`ExportFormat` registered
with :func:`register_format` (name, label, content type, extension and a
``render(ExportRequest) -> bytes``). txt, html and md are registered here;
the office app registers pdf, docx and odt from its ``ready()``
(docs/office.md). :func:`export_document` renders any registered format and
is what the download views call.

Images: documents must not import the images app, so exports read image
bytes through a port. The images app installs an :data:`ImageSource` with
:func:`install_image_source`; it answers ``(bytes, content type)`` for an
image *of the exported document* and None for anything else, so an embed
pointing at another document's image never leaks its bytes. Without a
source installed every image is left out (its alt text kept).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, Protocol

from documents.proposals import (
    ACCEPTED,
    MARKUP,
    SUGGESTION_MODES,
    Names,
    Proposal,
    SuggestionMode,
    authors,
    describe,
    group_pieces,
    proposals_of,
    readable,
)
from documents.render import (
    IMAGE_TYPES,
    ImageURIs,
    Line,
    Marker,
    Table,
    blocks,
    image_alt,
    render_html,
    render_text,
    safe_link,
    split_lines,
)
from documents.selectors import user_display_names

__all__ = [
    "FORMATS",
    "SUGGESTION_MODES",
    "ExportFormat",
    "ExportRequest",
    "ImageSource",
    "export",
    "export_document",
    "export_html",
    "export_markdown",
    "formats",
    "install_image_source",
    "register_format",
]

#: ``format name -> (file extension, MIME type)``, kept in step with the registry.
FORMATS: dict[str, tuple[str, str]] = {}


class ImageSource(Protocol):
    """Answers an image embed's bytes for an export: ``(bytes, content type)``.

    Only images of ``document`` are answered; any other src (another
    document's image, an outside URL, garbage) gives None.
    """

    def __call__(self, document: Any, src: str) -> tuple[bytes, str] | None: ...


def _no_images(document: Any, src: str) -> tuple[bytes, str] | None:
    return None


_image_source: ImageSource = _no_images


def install_image_source(source: ImageSource) -> None:
    """Install the function exports read image bytes through (the images app's)."""
    global _image_source
    _image_source = source


def image_source() -> ImageSource:
    """Return the installed image source (one that answers nothing if none is)."""
    return _image_source


@dataclass
class ExportRequest:
    """What a format's ``render`` gets: the content and how to show it.

    ``content`` is stored content (insert ops), untrusted. ``names`` maps
    suggestion authors' ids to names (``suggestions == "markup"`` only).
    :meth:`image` reads an image embed's bytes through the image source,
    once per src per export.
    """

    content: list[dict]
    title: str
    suggestions: SuggestionMode = ACCEPTED
    document: Any = None
    names: Names | None = None
    source: ImageSource | None = None
    _images: dict[str, tuple[bytes, str] | None] = field(default_factory=dict, repr=False)

    def image(self, src: Any) -> tuple[bytes, str] | None:
        """Return ``(bytes, content type)`` of the document's image ``src``, else None."""
        if not isinstance(src, str) or self.document is None:
            return None
        if src not in self._images:
            source = self.source or image_source()
            try:
                self._images[src] = source(self.document, src)
            except (OSError, ValueError):
                self._images[src] = None  # a missing or unreadable blob: left out, alt kept
        return self._images[src]


@dataclass(frozen=True)
class ExportFormat:
    """One download format."""

    name: str
    label: str
    content_type: str
    extension: str
    render: Callable[[ExportRequest], bytes]


_REGISTRY: dict[str, ExportFormat] = {}
_FORMAT_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")


def register_format(
    name: str,
    *,
    label: str,
    content_type: str,
    extension: str,
    render: Callable[[ExportRequest], bytes],
) -> ExportFormat:
    """Register (or replace) the download format ``name``; it is served at once.

    :raises ValueError: a name or extension that is not a short lowercase word.
    """
    if not _FORMAT_NAME.fullmatch(name) or not _FORMAT_NAME.fullmatch(extension):
        raise ValueError(f"bad export format name or extension: {name!r}, {extension!r}")
    entry = ExportFormat(name, label, content_type, extension, render)
    _REGISTRY[name] = entry
    FORMATS[name] = (extension, content_type)
    return entry


def formats() -> dict[str, ExportFormat]:
    """Return the registered formats, in registration order."""
    return dict(_REGISTRY)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)")
_MAX_INDENT = 8

Attributes = Mapping[str, Any]


#: How an HTML export draws what semantic HTML alone does not (Quill's classes,
#: checklists, tables, page breaks); the PDF export prints from the same page.
PAGE_STYLE = """\
body { font-family: "Liberation Sans", Arial, sans-serif; line-height: 1.45; }
img { max-width: 100%; height: auto; vertical-align: bottom; }
table { border-collapse: collapse; margin: .5em 0; }
td { border: 1px solid #999; padding: 4px 8px; vertical-align: top; }
td > p { margin: 0; }
blockquote { border-left: 4px solid #ccc; margin-left: 0; padding-left: 16px; }
pre { background: #f4f4f4; padding: 8px; white-space: pre-wrap; }
hr { border: 0; border-top: 1px solid #999; }
ol ol { list-style-type: lower-alpha; }
ol ol ol { list-style-type: lower-roman; }
li[data-list] { list-style: none; }
li[data-list="unchecked"]::before { content: "\\2610\\00a0"; }
li[data-list="checked"]::before { content: "\\2611\\00a0"; }
.page-break { break-after: page; page-break-after: always; }
.ql-align-center { text-align: center; }
.ql-align-right { text-align: right; }
.ql-align-justify { text-align: justify; }
.ql-size-small { font-size: .75em; }
.ql-size-large { font-size: 1.5em; }
.ql-size-huge { font-size: 2.5em; }
.ql-font-serif { font-family: "Liberation Serif", Georgia, serif; }
.ql-font-monospace { font-family: "Liberation Mono", monospace; }
""" + "".join(f".ql-indent-{n} {{ padding-left: {3 * n}em; }}\n" for n in range(1, 9))

#: How an HTML export with suggestions marked up shows them.
_MARKUP_STYLE = (
    "<style>\n"
    "ins { background: #e6f4ea; color: #137333; text-decoration: underline; }\n"
    "del { background: #fce8e6; color: #a50e0e; }\n"
    ".suggested-format { outline: 1px dashed #1a73e8; }\n"
    ".suggestion-note { color: #5f6368; font-size: .8em; margin-left: .25em; }\n"
    "</style>\n"
)


def _text_line(line: Line) -> str:
    out = []
    for piece, attributes in line.pieces:
        if isinstance(piece, str):
            out.append(piece)
        elif "image" in piece:
            alt = image_alt(attributes)
            out.append(f"[image: {alt}]" if alt else "[image]")
    return "".join(out)


def export_text(ops: Iterable[Mapping[str, Any]], *, suggestions: SuggestionMode = ACCEPTED) -> str:
    """Return the content as plain text.

    As accepted: one line per line, a table's cells separated by tabs (one
    line per row), images as ``[image: alt]``, rules as a dashed line and
    page breaks as a form feed; other embeds are left out, as Quill's
    getText. With suggestions marked up: :func:`documents.render.render_text`.
    """
    if suggestions == MARKUP:
        return render_text(ops, suggestions=suggestions)
    out: list[str] = []
    for block in blocks(split_lines(readable(ops, suggestions=suggestions))):
        if isinstance(block, Table):
            out.extend("\t".join(_text_line(cell) for cell in row) for row in block.rows)
        elif isinstance(block, Marker):
            out.append("-" * 40 if block.name == "divider" else "\f")
        else:
            out.append(_text_line(block))
    return "".join(line + "\n" for line in out)


def image_data_uri(image: tuple[bytes, str] | None) -> str | None:
    """Return ``data:<type>;base64,...`` for an image's bytes (None: no image, odd type)."""
    if image is None or image[1] not in IMAGE_TYPES:
        return None
    return f"data:{image[1]};base64,{base64.b64encode(image[0]).decode('ascii')}"


def export_html(
    ops: Iterable[Mapping[str, Any]],
    *,
    title: str,
    suggestions: SuggestionMode = ACCEPTED,
    names: Names | None = None,
    images: ImageURIs | None = None,
    extra_style: str = "",
) -> str:
    """Return the content as a standalone, sanitised HTML page.

    ``images`` answers the ``data:`` URI of an image embed (see
    :func:`documents.render.render_html`); ``extra_style`` is appended to
    the page's stylesheet (the PDF export's print rules).
    """
    body = render_html(ops, suggestions=suggestions, names=names, images=images)
    style = f"<style>\n{PAGE_STYLE}{extra_style}</style>\n"
    if suggestions == MARKUP:
        style += _MARKUP_STYLE
    return (
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n{style}</head>\n<body>\n{body}\n</body>\n</html>\n"
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


_RELATIVE_SRC = re.compile(r"/[A-Za-z0-9._~/-]{1,500}")


def _embed_md(embed: Mapping[str, Any], attributes: Attributes) -> str:
    name = str(next(iter(embed), "embed"))
    src = embed.get("image") if name == "image" else None
    url = safe_link(src)
    if url is None and isinstance(src, str) and _RELATIVE_SRC.fullmatch(src) and "//" not in src:
        url = src  # the document's own image (/media/i/<id>.<ext>), relative to the site
    if url and not url.lower().startswith("mailto:"):
        alt = _md_escape(image_alt(attributes).replace("\n", " ")) or "image"
        return f"![{alt}]({_md_url(url)})"
    return f"\\[{_md_escape(name)}\\]"


def _md_url(url: str) -> str:
    url = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return url.replace("{", "%7B").replace("}", "%7D")


def _inline_md(piece: str | dict, attributes: Attributes, *, critic: bool = False) -> str:
    if isinstance(piece, dict):
        return _embed_md(piece, attributes)
    # Emphasis markers must touch the text: keep edge spaces outside them.
    stripped = piece.strip(" \t")
    if not stripped:
        return piece
    lead = piece[: len(piece) - len(piece.lstrip(" \t"))]
    trail = piece[len(piece.rstrip(" \t")) :]
    code = attributes.get("code") is True
    if code:
        text = _code_span(stripped)
    else:
        text = _md_escape(stripped)
        text = _critic_escape(text) if critic else text
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


def _critic_escape(text: str) -> str:
    """Escape braces, so no text can open or close a CriticMarkup mark."""
    return text.replace("{", "\\{").replace("}", "\\}")


def _critic(inner: str, proposals: tuple[Proposal, ...], names: Names) -> str:
    """Wrap one suggestion's Markdown in CriticMarkup, with a note per proposal."""
    for proposal in reversed(proposals):
        note = _critic_escape(describe(proposal, names))
        if proposal.kind == "insert":
            inner = f"{{++{inner}++}}"
        elif proposal.kind == "delete":
            inner = f"{{--{inner}--}}"
        else:
            inner = f"{{=={inner}==}}"
        inner = f"{inner}{{>>{note}<<}}"
    return inner


def _critic_line_end(line: Line, names: Names) -> str:
    """Return the marks of suggestions on the line break itself."""
    out = []
    for proposal in proposals_of(line.attributes):
        note = _critic_escape(describe(proposal, names, line=True))
        mark = {"insert": "{++¶++}", "delete": "{--¶--}"}.get(proposal.kind, "")
        out.append(f"{mark}{{>>{note}<<}}")
    return (" " + "".join(out)) if out else ""


def _line_md(line: Line, names: Names | None = None) -> str:
    if names is None:
        text = "".join(_inline_md(piece, attrs) for piece, attrs in line.pieces)
    else:
        text = "".join(
            _critic("".join(_inline_md(p, a, critic=True) for p, a in pieces), proposals, names)
            for proposals, pieces in group_pieces(line.pieces)
        )
    # A line that would read as a heading, quote or list item is not one.
    text = _MD_LINE_START.sub(_escape_marker, text, count=1)
    return text + _critic_line_end(line, names) if names is not None else text


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


def export_markdown(
    ops: Iterable[Mapping[str, Any]],
    *,
    suggestions: SuggestionMode = ACCEPTED,
    names: Names | None = None,
) -> str:
    """Return the content as Markdown (see the module docstring)."""
    people: Names | None = (names or {}) if suggestions == MARKUP else None
    content = readable(ops, suggestions=suggestions)
    blocks_md: list[str] = []
    code: list[str] = []
    items: list[str] = []
    counters: dict[int, int] = {}

    def flush_code() -> None:
        if code:
            body = "\n".join(code)
            longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
            fence = "`" * (longest + 1)
            blocks_md.append(f"{fence}\n{body}\n{fence}")
            code.clear()

    def flush_items() -> None:
        if items:
            blocks_md.append("\n".join(items))
            items.clear()
            counters.clear()

    for line in blocks(split_lines(content)):
        if isinstance(line, Table | Marker):
            flush_code()
            flush_items()
            blocks_md.append(
                _table_md(line, people) if isinstance(line, Table) else _marker_md(line)
            )
            continue
        attributes = line.attributes
        if attributes.get("code-block"):
            flush_items()
            code.append(_code_md(line, people))
            continue
        flush_code()
        kind = attributes.get("list")
        if kind in ("ordered", "bullet", "checked", "unchecked"):
            depth = _indent(attributes)
            for deeper in [d for d in counters if d > depth]:
                del counters[deeper]
            counters[depth] = counters.get(depth, 0) + 1 if kind == "ordered" else 0
            marker = _list_marker(kind, counters[depth])
            items.append(f"{'    ' * depth}{marker} {_line_md(line, people)}".rstrip())
            continue
        flush_items()
        text = _line_md(line, people)
        header = attributes.get("header")
        if header in (1, 2, 3, 4, 5, 6) and not isinstance(header, bool):
            blocks_md.append(f"{'#' * header} {text}".rstrip())
        elif attributes.get("blockquote") is True:
            blocks_md.append(f"> {text}".rstrip())
        elif text.strip():
            blocks_md.append(text)
    flush_code()
    flush_items()
    return "\n\n".join(blocks_md) + "\n"


def _marker_md(marker: Marker) -> str:
    # Markdown has no page break: an HTML comment says where it was.
    return "---" if marker.name == "divider" else "<!-- pagebreak -->"


def _table_md(table: Table, names: Names | None) -> str:
    """Return a pipe table; its first row is the header row Markdown requires."""
    width = max(len(row) for row in table.rows)
    rows = [
        [_line_md(cell, names).replace("\n", " ") for cell in row] + [""] * (width - len(row))
        for row in table.rows
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * width)
    return "\n".join(lines)


def _code_md(line: Line, names: Names | None) -> str:
    """Return a code line: as typed, with CriticMarkup when marking up."""
    if names is None:
        return "".join(p for p, _ in line.pieces if isinstance(p, str))
    return "".join(
        _critic("".join(p for p, _ in pieces if isinstance(p, str)), proposals, names)
        for proposals, pieces in group_pieces(line.pieces)
    ) + _critic_line_end(line, names)


def _mode(suggestions: str) -> SuggestionMode:
    if suggestions == ACCEPTED:
        return ACCEPTED
    if suggestions == MARKUP:
        return MARKUP
    raise ValueError(f"unknown suggestions mode {suggestions!r}")


def export_document(
    content: list[dict],
    *,
    fmt: str,
    title: str,
    suggestions: SuggestionMode | str = ACCEPTED,
    document: Any = None,
    source: ImageSource | None = None,
) -> bytes:
    """Return ``content`` rendered as the registered format ``fmt``.

    ``document`` is whose images may be embedded (none when None);
    ``suggestions`` is ``"accepted"`` (the document as accepted so far) or
    ``"markup"`` (suggestions shown, with their authors' names, read here).

    :raises ValueError: an unknown format or suggestions mode.
    """
    mode = _mode(suggestions)
    entry = _REGISTRY.get(fmt)
    if entry is None:
        raise ValueError(f"unknown export format {fmt!r}")
    names = user_display_names(ids=authors(content)) if mode == MARKUP else None
    request = ExportRequest(
        content=content,
        title=title,
        suggestions=mode,
        document=document,
        names=names,
        source=source,
    )
    return entry.render(request)


def export(
    ops: list[dict], *, fmt: str, title: str, suggestions: SuggestionMode | str = ACCEPTED
) -> str:
    """Return ``ops`` exported as the text format ``fmt`` (txt, html or md), images left out.

    :raises ValueError: an unknown format or suggestions mode.
    """
    if fmt not in ("txt", "html", "md"):
        raise ValueError(f"unknown text export format {fmt!r}")
    return export_document(ops, fmt=fmt, title=title, suggestions=suggestions).decode("utf-8")


def _render_txt(request: ExportRequest) -> bytes:
    return export_text(request.content, suggestions=request.suggestions).encode("utf-8")


def export_page(request: ExportRequest, *, extra_style: str = "") -> str:
    """Return the request's HTML page, its document's images embedded as data: URIs."""
    return export_html(
        request.content,
        title=request.title,
        suggestions=request.suggestions,
        names=request.names,
        images=lambda src: image_data_uri(request.image(src)),
        extra_style=extra_style,
    )


def _render_html(request: ExportRequest) -> bytes:
    return export_page(request).encode("utf-8")


def _render_md(request: ExportRequest) -> bytes:
    md = export_markdown(request.content, suggestions=request.suggestions, names=request.names)
    return md.encode("utf-8")


register_format(
    "txt",
    label="Plain text",
    content_type="text/plain; charset=utf-8",
    extension="txt",
    render=_render_txt,
)
register_format(
    "html",
    label="HTML",
    content_type="text/html; charset=utf-8",
    extension="html",
    render=_render_html,
)
register_format(
    "md",
    label="Markdown",
    content_type="text/markdown; charset=utf-8",
    extension="md",
    render=_render_md,
)
