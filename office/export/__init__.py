"""The office export formats: PDF (WeasyPrint), Word (.docx) and OpenDocument (.odt).

:mod:`office.export.model` walks content into paragraphs, tables, rules and
page breaks for the DOCX and ODT writers; the PDF is printed from the HTML
export (:func:`documents.export.export_page`). See docs/office.md.
"""
