"""The office app's download formats, registered with documents.export (docs/office.md).

:func:`register` runs from :meth:`office.apps.OfficeConfig.ready`, after
which ``/d/<id>/export/<pdf|docx|odt>`` and the version downloads serve them.
"""

from __future__ import annotations

from documents.export import register_format
from office.export.docx import render_docx
from office.export.odt import render_odt
from office.export.pdf import render_pdf

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def register() -> None:
    """Register pdf, docx and odt (idempotent: a second call replaces them)."""
    register_format(
        "pdf", label="PDF", content_type="application/pdf", extension="pdf", render=render_pdf
    )
    register_format(
        "docx", label="Word (.docx)", content_type=DOCX_TYPE, extension="docx", render=render_docx
    )
    register_format(
        "odt",
        label="OpenDocument (.odt)",
        content_type=ODT_TYPE,
        extension="odt",
        render=render_odt,
    )
