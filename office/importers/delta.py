"""The delta every importer builds: lines of formatted runs, checked as they come.

Each reader (DOCX, ODT, HTML) walks its file and calls :class:`DeltaBuilder`:
``text`` and ``image`` for a line's content, ``end_line`` with the line's
block formats, ``marker`` for a horizontal rule or a page break. The
builder

* keeps only what the content schema (``realtime/ot/schema.json``) holds:
  an attribute or value it does not know is dropped (and counted in
  ``warnings``), review marks are never produced, text loses control
  characters;
* counts the length as the editor does (UTF-16 code units) and refuses
  past ``max_length`` at once (``too_long``), so a huge file stops early;
* merges neighbouring runs of the same formats, and gives every table row
  a fresh ``row-…`` id (:meth:`new_row_id`).

:meth:`finish` runs the result through ``realtime.ot.parse_change`` with
the deployment's content policy, so what is stored can never be something
a client could not have sent.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from office.importers.errors import ImportRefused
from realtime.ot import ContentPolicy, InvalidDelta, parse_change, utf16_len
from realtime.ot.schema import MARKER, embeds, formats

__all__ = ["BLOCK", "INLINE", "DeltaBuilder", "bucket_size", "classify_font", "css_color"]

#: The importable formats by where they apply (review marks left out).
INLINE = frozenset(name for name, f in formats.items() if f.scope == "inline")
BLOCK = frozenset(name for name, f in formats.items() if f.scope == "block")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufeff]")
#: Link colours of Word (Hyperlink), LibreOffice (Internet Link) and browsers.
LINK_COLORS = frozenset({"#0563c1", "#0000ff", "#000080", "#0000ee", "#954f72"})


def _known(name: str, value: Any) -> bool:
    spec = formats.get(name)
    return spec is not None and spec.check(value) is None


class DeltaBuilder:
    """Collect a document's lines; see the module docstring."""

    def __init__(self, *, max_length: int, policy: ContentPolicy) -> None:
        self.max_length = max_length
        self.policy = policy
        self.ops: list[dict[str, Any]] = []
        self.length = 0
        self.warnings: list[str] = []
        self._dropped: dict[str, int] = {}
        self._open = False  # content since the last line end
        #: Lines ended so far (markers count: each is a line of its own).
        self.lines = 0

    # Content ----------------------------------------------------------

    def text(self, text: str, attrs: Mapping[str, Any] | None = None) -> None:
        """Add ``text`` (no line ends: a newline or CR becomes a space) with inline formats."""
        text = _CONTROL.sub("", text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
        if not text:
            return
        self._push(text, self._inline(attrs))
        self._open = True

    def image(self, src: str, attrs: Mapping[str, Any] | None = None) -> None:
        """Add an image embed of source ``src`` (alt, width, height, link...)."""
        spec = embeds.get("image")
        if spec is None:
            self._drop("image")
            return
        kept: dict[str, Any] = {}
        for name, value in (attrs or {}).items():
            if value is None:
                continue
            if (name in spec.attributes or name in INLINE) and _known(name, value):
                kept[name] = value
            else:
                self._drop(name)
        self._push({"image": src}, kept)
        self._open = True

    def marker(self, name: str) -> None:
        """Add a block marker (``divider``, ``pagebreak``) on a line of its own."""
        spec = embeds.get(name)
        if spec is None or spec.kind != MARKER:
            self._drop(name)
            return
        if self._open:
            self.end_line()
        self._push({name: True}, {})
        self.lines += 1

    def end_line(self, attrs: Mapping[str, Any] | None = None) -> None:
        """End the current line with block formats ``attrs`` (header, list, table...)."""
        kept: dict[str, Any] = {}
        for name, value in (attrs or {}).items():
            if value is None:
                continue
            if name in BLOCK and _known(name, value):
                kept[name] = value
            else:
                self._drop(name)
        self._trim()
        self._push("\n", kept)
        self._open = False
        self.lines += 1

    @property
    def line_open(self) -> bool:
        """Whether the current line has content."""
        return self._open

    @property
    def ends_with_space(self) -> bool:
        """Whether the last thing added is text ending with a space."""
        last = self.ops[-1]["insert"] if self.ops else None
        return isinstance(last, str) and last.endswith(" ")

    @staticmethod
    def new_row_id() -> str:
        """Return a fresh table row id (``row-`` and 12 base-36 characters)."""
        return "row-" + secrets.token_hex(6)

    # Result -----------------------------------------------------------

    def finish(self) -> list[dict[str, Any]]:
        """Return the checked ops; the content always ends with a plain line end.

        Never a table's or a marker's last: the editor keeps a table
        followed by a line of its own, and every document ends with one.

        :raises ImportRefused: ``too_long`` past the limit, ``bad_file`` if
            the result would not pass the schema (a bug, never a file's fault,
            but refused rather than stored).
        """
        last = self.ops[-1] if self.ops else None
        if (
            self._open
            or last is None
            or not isinstance(last["insert"], str)  # a rule or page break ends it
            or "table" in last.get("attributes", {})  # a table is followed by a plain line
        ):
            self.end_line()
        for name, count in sorted(self._dropped.items()):
            if name == "link":
                self.warnings.append(
                    f"{count} link(s) to addresses of a kind not allowed here (only http, "
                    "https, mailto and tel) were removed; their text was kept."
                )
            elif name in formats or name in embeds:
                self.warnings.append(f"{count} “{name}” value(s) not allowed here were left out.")
            else:
                self.warnings.append(f"{count} × “{name}” is not supported and was left out.")
        try:
            parse_change(self.ops, self.policy)
        except InvalidDelta as exc:
            raise ImportRefused(
                "bad_file", f"The file’s content could not be converted safely ({exc})."
            ) from None
        return self.ops

    # Internals --------------------------------------------------------

    def _inline(self, attrs: Mapping[str, Any] | None) -> dict[str, Any]:
        if attrs and attrs.get("link") and str(attrs.get("color", "")).lower() in LINK_COLORS:
            # How office programs draw a link (their blue, underlined), not
            # the author's formatting: the editor draws links its own way.
            attrs = {k: v for k, v in attrs.items() if k not in ("color", "underline")}
        kept: dict[str, Any] = {}
        for name, value in (attrs or {}).items():
            if value is None or value is False:
                continue
            if name in INLINE and _known(name, value):
                kept[name] = value
            else:
                self._drop(name)
        return kept

    def _trim(self) -> None:
        """Drop the spaces ending the current line (markup's, never meant)."""
        if not self._open or not self.ops or not isinstance(self.ops[-1]["insert"], str):
            return
        last = self.ops[-1]
        kept = last["insert"].rstrip(" ")
        if kept.endswith("\n") or kept == last["insert"]:
            return
        self.length -= len(last["insert"]) - len(kept)
        if kept:
            last["insert"] = kept
        else:
            self.ops.pop()

    def _drop(self, name: str) -> None:
        self._dropped[name] = self._dropped.get(name, 0) + 1

    def _push(self, insert: str | dict[str, Any], attrs: dict[str, Any]) -> None:
        size = utf16_len(insert) if isinstance(insert, str) else 1
        if self.length + size > self.max_length:
            raise ImportRefused(
                "too_long",
                f"The file’s text is longer than a document may be ({self.max_length:,} "
                "characters).",
            )
        self.length += size
        last = self.ops[-1] if self.ops else None
        if (
            isinstance(insert, str)
            and last is not None
            and isinstance(last["insert"], str)
            and last.get("attributes", {}) == attrs
        ):
            last["insert"] += insert
            return
        op: dict[str, Any] = {"insert": insert}
        if attrs:
            op["attributes"] = attrs
        self.ops.append(op)


# Shared mappings ------------------------------------------------------------

_MONO = re.compile(
    r"mono|courier|consolas|menlo|monaco|source code|fira code|inconsolata|"
    r"lucida console|andale|cascadia|jetbrains",
    re.IGNORECASE,
)
_SERIF = re.compile(
    r"^(?!.*sans).*(serif|times|georgia|cambria|garamond|palatino|book antiqua|"
    r"baskerville|bodoni|didot|constantia|minion|charter|caslon)",
    re.IGNORECASE,
)


def classify_font(family: str | None) -> str | None:
    """Return ``monospace``, ``serif`` or None (the editor's default) for a font family."""
    if not family:
        return None
    first = family.split(",")[0].strip().strip("'\"")
    if _MONO.search(first) or first.lower() == "monospace":
        return "monospace"
    if _SERIF.search(first):
        return "serif"
    return None


def bucket_size(points: float | None, *, normal: float = 12.0) -> str | None:
    """Return the editor's size (``small``, ``large``, ``huge``) for a font size in points.

    Relative to ``normal`` (the body text's size): at most 85 % is small,
    from 125 % large, from 190 % huge; the editor's own sizes are 0.75,
    1.5 and 2.5 em.
    """
    if points is None or points <= 0:
        return None
    ratio = points / normal
    if ratio <= 0.85:
        return "small"
    if ratio >= 1.9:
        return "huge"
    if ratio >= 1.25:
        return "large"
    return None


_HEX6 = re.compile(r"#?([0-9a-fA-F]{6})")
_HEX3 = re.compile(r"#([0-9a-fA-F]{3})")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*([\d.]+)\s*)?\)")
NAMED_COLORS = {
    "black": "#000000",
    "white": "#ffffff",
    "red": "#ff0000",
    "green": "#008000",
    "lime": "#00ff00",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "cyan": "#00ffff",
    "aqua": "#00ffff",
    "magenta": "#ff00ff",
    "fuchsia": "#ff00ff",
    "gray": "#808080",
    "grey": "#808080",
    "darkgray": "#a9a9a9",
    "lightgray": "#d3d3d3",
    "silver": "#c0c0c0",
    "maroon": "#800000",
    "olive": "#808000",
    "navy": "#000080",
    "purple": "#800080",
    "teal": "#008080",
    "orange": "#ffa500",
    "darkblue": "#00008b",
    "darkred": "#8b0000",
    "darkgreen": "#006400",
    "darkcyan": "#008b8b",
    "darkmagenta": "#8b008b",
    "darkyellow": "#808000",
}


def css_color(value: str | None) -> str | None:
    """Return ``#rrggbb`` for a CSS or office colour (hex, rgb(), a name), else None."""
    if not value:
        return None
    value = value.strip().lower()
    if value in ("auto", "transparent", "none", "inherit", "initial", "currentcolor"):
        return None
    if match := _HEX6.fullmatch(value):
        return "#" + match.group(1).lower()
    if match := _HEX3.fullmatch(value):
        return "#" + "".join(c * 2 for c in match.group(1).lower())
    if match := _RGB.fullmatch(value):
        if match.group(4) is not None and float(match.group(4)) == 0:
            return None
        parts = [min(255, int(match.group(i))) for i in (1, 2, 3)]
        return "#" + "".join(f"{p:02x}" for p in parts)
    return NAMED_COLORS.get(value)
