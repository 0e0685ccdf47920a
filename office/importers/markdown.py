"""Markdown to a delta: CommonMark with tables and strikethrough, through the HTML mapper.

markdown-it-py renders the file (the ``commonmark`` preset plus its own
``table`` and ``strikethrough`` rules: GitHub's tables and ``~~strike~~``);
the HTML mapper (:mod:`office.importers.html`) then keeps only what the
schema holds, so raw HTML inside the Markdown is held to the same
allowlist. Task list items (``- [ ]``, ``- [x]``) need no plugin: the
mapper reads a list item's leading ``[ ]``/``[x]`` as a checklist.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from office.importers.delta import DeltaBuilder
from office.importers.html import StoreImage, html_to_delta

__all__ = ["markdown_to_delta"]


def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_to_delta(
    text: str, builder: DeltaBuilder, store_image: StoreImage
) -> tuple[str, list[str]]:
    """Map Markdown ``text`` into ``builder``; return the first heading (if it opens the file)."""
    tokens = _renderer().parse(text)
    title = ""
    if len(tokens) > 1 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        title = tokens[1].content
    html = _renderer().renderer.render(tokens, _renderer().options, {})
    _, warnings = html_to_delta(html, builder, store_image)
    return " ".join(title.split()), warnings
