"""PDF export: the HTML export printed by WeasyPrint with a print stylesheet.

The page is the HTML export's page (:func:`documents.export.export_page`:
sanitised, images as data: URIs of the document's own images) plus
print rules: the page size (``COLLABDOCS["EXPORT_PAGE_SIZE"]``, A4 or
Letter), 2 cm margins, the document's title at the top of the first page,
"page / pages" at the foot of every page, headings kept with what follows,
images and table rows not split across pages, and ``.page-break`` starting
a new page.

WeasyPrint fetches nothing: its URL fetcher allows only ``data:`` URLs, so
no content can make the server request a URL (the sanitiser already keeps
only data: images; this is the second lock). Fonts are the system's
(fontconfig); the stylesheet names the Liberation families, which Debian's
fonts-liberation provides.
"""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from documents.export import ExportRequest, export_page
from office.export.page import page_size


def css_string(text: str) -> str:
    """Return ``text`` as a quoted CSS string: every character not plainly safe escaped."""
    out = []
    for char in text:
        if char.isalnum() or char in " .,;:!?-_()[]&@#%+=/'":
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")  # the space ends the escape and is eaten
    return '"' + "".join(out) + '"'


def print_style(title: str, size: str) -> str:
    """Return the print rules for a page of ``size`` headed by ``title``."""
    return f"""
@page {{
  size: {size};
  margin: 2cm 2cm 2.2cm 2cm;
  @bottom-center {{
    content: counter(page) " / " counter(pages);
    font: 9pt "Liberation Sans", sans-serif; color: #666;
  }}
}}
@page :first {{
  @top-center {{
    content: {css_string(title[:200])};
    font: 9pt "Liberation Sans", sans-serif; color: #666;
  }}
}}
body {{ font-size: 11pt; margin: 0; }}
h1, h2, h3, h4, h5, h6 {{ break-after: avoid; }}
img, tr {{ break-inside: avoid; }}
a {{ color: #0563c1; }}
"""


def render_pdf(request: ExportRequest) -> bytes:
    """Return the request's content as a PDF."""
    page = export_page(request, extra_style=print_style(request.title, page_size()))
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=5)
    pdf = HTML(string=page, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # write_pdf() without a target returns the bytes
    return pdf
