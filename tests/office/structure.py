"""What a person sees in imported content, independent of how the runs were split.

``structure(delta)`` reduces content to its lines (text and block formats,
table row ids replaced by row numbers), the links, the images and the inline
formats with the text they cover, so that two imports of the same document
(or an import and an import of its export) compare equal where it matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Structure:
    """A document's lines and inline features."""

    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    formats: dict[str, set[Any]] = field(default_factory=dict)
    formatted: dict[str, list[str]] = field(default_factory=dict)

    def texts(self, **block: Any) -> list[str]:
        """Return the text of the lines whose block formats include ``block``."""
        return [
            text
            for text, attrs in self.lines
            if all(attrs.get(name) == value for name, value in block.items())
        ]

    def table(self) -> list[list[str]]:
        """Return the first table's cells, row by row."""
        rows: dict[int, list[str]] = {}
        for text, attrs in self.lines:
            if "table" in attrs:
                rows.setdefault(attrs["table"], []).append(text)
        return [rows[key] for key in sorted(rows)]


def structure(delta: list[dict[str, Any]]) -> Structure:
    """Return the :class:`Structure` of ``delta`` (inserts only)."""
    out = Structure()
    text = ""
    row_numbers: dict[str, int] = {}
    for op in delta:
        insert = op["insert"]
        attrs = op.get("attributes", {})
        if isinstance(insert, dict):
            if "image" in insert:
                out.images.append({"src": insert["image"], **attrs})
                text += "\ufffc"
            else:
                out.lines.append((next(iter(insert)), {}))
            continue
        for name, value in attrs.items():
            if name == "link":
                out.links.append((insert, value))
            elif "\n" not in insert:
                out.formats.setdefault(name, set()).add(value)
                out.formatted.setdefault(f"{name}={value}", []).append(insert)
        parts = insert.split("\n")
        for part in parts[:-1]:
            block = dict(attrs)
            if "table" in block:
                block["table"] = row_numbers.setdefault(block["table"], len(row_numbers))
            out.lines.append((text + part, block))
            text = ""
        text += parts[-1]
    return out
