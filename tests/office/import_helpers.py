"""Helpers of the import tests: the real office files and an in-memory image store.

``report.docx`` and ``report.odt`` were made by LibreOffice from
``fixtures/source/report.html`` (fixtures/README.md).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


class MemoryImages:
    """``store_image`` keeping bytes in a dict, with srcs shaped like the real ones."""

    def __init__(self) -> None:
        self.by_src: dict[str, bytes] = {}
        self.names: list[str] = []

    def __call__(self, data: bytes, filename: str) -> str | None:
        self.names.append(filename)
        src = f"/media/i/{uuid.UUID(hashlib.sha256(data).hexdigest()[:32])}.png"
        self.by_src[src] = data
        return src

    def source(self, document: object, src: str) -> tuple[bytes, str] | None:
        """The export's image source over the stored images."""
        data = self.by_src.get(src)
        return None if data is None else (data, "image/png")


def fixture_bytes(name: str) -> bytes:
    """Return the bytes of ``tests/office/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()
