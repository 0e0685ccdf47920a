"""Office formats: PDF, DOCX and ODT export; DOCX, ODT, HTML and Markdown import."""
