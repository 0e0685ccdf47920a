"""``/favicon.ico``: the site's icon where browsers look for it unasked.

Pages name ``static/favicon.svg`` in a ``<link rel="icon">`` (base.html),
but a browser showing something that is not a page (a JSON answer, an
image, a PDF export, the static 500 page) asks for ``/favicon.ico``, and
some clients never read the link. ``static/favicon.ico`` is the same mark
drawn at 16, 32 and 48 px (with Pillow, from the SVG's shapes).

The file is read once per process and answered with a day's caching; a
missing file (a broken checkout) is a 404, never a 500.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

__all__ = ["CONTENT_TYPE", "favicon"]

#: The type IANA registered for ICO files.
CONTENT_TYPE = "image/vnd.microsoft.icon"


@lru_cache(maxsize=1)
def _icon() -> bytes | None:
    found = finders.find("favicon.ico")
    if not isinstance(found, str):
        return None
    with open(found, "rb") as icon:
        return icon.read()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Answer the icon (GET and HEAD)."""
    icon = _icon()
    if icon is None:
        raise Http404("static/favicon.ico is missing")
    return HttpResponse(icon, content_type=CONTENT_TYPE)
