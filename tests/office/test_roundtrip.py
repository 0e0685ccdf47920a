"""Round trips: a real file imported, exported (DOCX, ODT, PDF) and read back the same.

Each LibreOffice-made fixture is imported, exported through the download
formats (documents.export's registry, as the download views do), and the
export imported again: headings, list items and their kinds, checklists,
table cells, link targets, images (count, size, alt) and inline formats
(colours, sizes, fonts...) must be what the first import found. The PDF is
read with poppler's ``pdftotext`` (installed by ``make test``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from documents.export import export_document
from office.importers import Converted, convert
from tests.office.import_helpers import MemoryImages, fixture_bytes
from tests.office.structure import Structure, structure

DOC = object()  # the exported document: the image source answers for it


def _import(name: str) -> tuple[Converted, MemoryImages]:
    images = MemoryImages()
    return convert(fixture_bytes(name), name, store_image=images), images


def assert_same(first: Structure, again: Structure) -> None:
    assert again.lines == first.lines
    assert again.links == first.links
    assert again.formatted == first.formatted
    assert [(i["width"], i["height"], i.get("alt")) for i in again.images] == [
        (i["width"], i["height"], i.get("alt")) for i in first.images
    ]


@pytest.mark.parametrize("source", ["report.docx", "report.odt"])
@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_import_export_import_keeps_the_structure(source: str, fmt: str) -> None:
    first, images = _import(source)
    exported = export_document(
        first.delta, fmt=fmt, title=first.title, document=DOC, source=images.source
    )
    again_images = MemoryImages()
    again = convert(exported, f"again.{fmt}", store_image=again_images)
    assert again.warnings == []
    assert again.title == first.title
    assert_same(structure(first.delta), structure(again.delta))
    # The picture's bytes made the whole trip.
    assert list(again_images.by_src.values()) == list(images.by_src.values())


def test_a_pdf_export_of_an_import_reads_back_with_pdftotext(tmp_path: Path) -> None:
    first, images = _import("report.odt")
    pdf = export_document(
        first.delta, fmt="pdf", title=first.title, document=DOC, source=images.source
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    at = 0
    for needle in (
        "Quarterly report",
        "Goals",
        "Ship the editor",
        "DOCX first",
        "Plan",
        "Checklist",
        "Write the tests",
        "the specification",
        "Region",
        "Sales",
        "South",
        "95",
        "Centered closing line.",
    ):
        found = text.find(needle, at)
        assert found >= 0, f"{needle!r} missing or out of order in:\n{text}"
        at = found + len(needle)
    images_listed = subprocess.run(
        ["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    assert len(images_listed.strip().splitlines()) - 2 >= 1  # header lines, then the chart
