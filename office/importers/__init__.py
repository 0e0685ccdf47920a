"""Import: DOCX, ODT, HTML and Markdown files into document content (docs/office.md).

:func:`convert` is the one entry point: it checks the raw bytes first
(:mod:`.guards`: size, format, zip bombs, macros, entity declarations),
then hands the file to its reader (:mod:`.docx`, :mod:`.odt`,
:mod:`.html`, :mod:`.markdown`), which builds the content with
:class:`.delta.DeltaBuilder` (nothing outside the content schema; the
result passes ``parse_change`` under the deployment's content policy).

Images are stored by the caller's ``store_image(data, filename) -> src``
(``None``: a type that cannot be stored, left out with a warning); it
raises :class:`ImportRefused` (``image_rejected``) for an image that must
stop the import (too large, too many pixels, over quota). The views in
:mod:`office.views` run the whole import in one transaction, so a refusal
stores nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from office.importers import guards
from office.importers.delta import DeltaBuilder
from office.importers.docx import docx_to_delta
from office.importers.errors import CODES, ImportRefused
from office.importers.html import StoreImage, decode_html, html_to_delta
from office.importers.markdown import markdown_to_delta
from office.importers.odt import odt_to_delta
from realtime.ot import ContentPolicy

logger = logging.getLogger(__name__)

__all__ = ["CODES", "Converted", "ImportRefused", "StoreImage", "convert"]


@dataclass(frozen=True)
class Converted:
    """A converted file: its content (ops), a title, and what was left out."""

    delta: list[dict[str, Any]]
    title: str
    warnings: list[str] = field(default_factory=list)
    kind: str = ""


def _stem(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return " ".join(stem.replace("_", " ").split())


def convert(
    data: bytes,
    filename: str,
    *,
    store_image: StoreImage,
    max_bytes: int = 20 * 1024 * 1024,
    max_expanded: int = 200 * 1024 * 1024,
    max_length: int = 1_048_576,
    policy: ContentPolicy | None = None,
) -> Converted:
    """Return the content of the file ``data`` named ``filename``.

    :raises ImportRefused: the file is refused (see :data:`CODES`).
    """
    guards.check_size(data, max_bytes)
    kind = guards.sniff(data, filename)
    builder = DeltaBuilder(max_length=max_length, policy=policy or ContentPolicy())
    try:
        if kind in ("docx", "odt"):
            guards.check_zip(data, max_expanded=max_expanded)
            reader = docx_to_delta if kind == "docx" else odt_to_delta
            title, warnings = reader(data, builder, store_image)
        elif kind == "html":
            title, warnings = html_to_delta(decode_html(data), builder, store_image)
        else:
            text = data.decode("utf-8-sig", errors="replace")
            title, warnings = markdown_to_delta(text, builder, store_image)
    except RecursionError:
        # Elements nested thousands deep (the readers walk them recursively).
        raise ImportRefused(
            "bad_file", "The file nests its content too deeply to be read."
        ) from None
    except ImportRefused:
        raise
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        # A damaged file in a way no reader anticipated (a mutated attribute
        # value, a part of the wrong shape): refused like any damaged file,
        # never a server error. Storage failures (OSError) are not this.
        logger.info("import of %r refused as damaged: %r", filename[:100], exc)
        raise ImportRefused(
            "bad_file", "The file is damaged: part of it could not be read."
        ) from None
    ops = builder.finish()
    return Converted(
        delta=ops,
        title=(title or _stem(filename))[:200],
        warnings=warnings + builder.warnings,
        kind=kind,
    )
