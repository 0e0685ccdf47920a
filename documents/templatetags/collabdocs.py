"""Template helpers: static bundles that may not be built yet, relative times."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.contrib.staticfiles import finders
from django.utils import timezone
from django.utils.timesince import timesince

from documents.people import user_color as people_user_color

register = template.Library()


@register.simple_tag
def static_exists(path: str) -> bool:
    """Return whether a static file exists, e.g. a bundle built by ``npm run build``.

    Templates include ``dist/editor.js`` only when it exists, so a checkout
    without the bundle still serves a working (read-only) page.
    """
    return bool(finders.find(path))


@register.simple_tag
def script_path(name: str) -> str:
    """Return the static path of a page script: the bundle, else its source.

    ``app.js`` and ``history.js`` are ES modules; their sources run as
    module scripts when ``static/dist`` has not been built.
    """
    built = f"dist/{name}"
    return built if finders.find(built) else f"src/{name}"


@register.filter
def user_color(user_id: int | None) -> str:
    """Return a user's one colour (:func:`documents.people.user_color`); "" for none.

    For ``data-user-color`` on a person's dot; app.js paints it.
    """
    return people_user_color(user_id) if isinstance(user_id, int) else ""


@register.filter
def ago(value: datetime | None) -> str:
    """Return "just now" or "5 minutes ago" for a past time."""
    if value is None:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"
