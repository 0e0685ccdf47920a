"""The printed page's size, shared by the PDF, DOCX and ODT exports."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PAGE_SIZES = ("A4", "Letter")


def page_size() -> str:
    """Return ``COLLABDOCS["EXPORT_PAGE_SIZE"]``: ``A4`` (the default) or ``Letter``.

    :raises ImproperlyConfigured: any other value.
    """
    value = settings.COLLABDOCS.get("EXPORT_PAGE_SIZE", "A4")
    for size in PAGE_SIZES:
        if isinstance(value, str) and value.strip().lower() == size.lower():
            return size
    raise ImproperlyConfigured(
        f"COLLABDOCS_EXPORT_PAGE_SIZE={value!r} is not one of {', '.join(PAGE_SIZES)}."
    )
