"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Expose product-wide flags to templates."""
    return {
        "signup_enabled": settings.COLLABDOCS["SIGNUP_ENABLED"],
        "title_max_length": settings.COLLABDOCS["TITLE_MAX_LENGTH"],
        # The editor sends larger changes in pieces (static/src/editor/ot-client.js).
        "max_change_ops": settings.COLLABDOCS["MAX_CHANGE_OPS"],
    }
