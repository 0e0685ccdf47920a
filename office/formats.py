"""The office app's download formats, registered with documents.export (docs/office.md).

:func:`register` runs from :meth:`office.apps.OfficeConfig.ready`, after
which ``/d/<id>/export/<pdf|docx|odt>`` and the version downloads serve them.
"""

from __future__ import annotations

from documents.export import ExportRequest, register_format

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


# The renderers import on first use: WeasyPrint, python-docx and odfpy take
# about 0.5 s to import, which every worker (and every test's daphne) paid at
# start-up for a download few of them ever serve.


def render_pdf(request: ExportRequest) -> bytes:
    """Render ``request`` as PDF (WeasyPrint, imported on first use)."""
    from office.export.pdf import render_pdf as render

    return render(request)


def render_docx(request: ExportRequest) -> bytes:
    """Render ``request`` as DOCX (python-docx, imported on first use)."""
    from office.export.docx import render_docx as render

    return render(request)


def render_odt(request: ExportRequest) -> bytes:
    """Render ``request`` as ODT (odfpy, imported on first use)."""
    from office.export.odt import render_odt as render

    return render(request)


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
