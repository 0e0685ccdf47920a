"""The image throttle: uploads and copies one person may make in a while.

Counted like the other write APIs (:mod:`documents.throttle`: fixed windows
in the ``throttle`` cache, atomic, open when the cache is down), per user,
after the permission check and before any work: a refused request changes
nothing. The rate is ``COLLABDOCS["THROTTLES"]["image"]`` when set, else
:data:`DEFAULT_RATE`; ``COLLABDOCS_THROTTLE=0`` turns it off with the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from documents import throttle as documents_throttle

#: Uploads plus copy requests per user, when the settings name no rate.
DEFAULT_RATE = "200/10m"


@dataclass(frozen=True)
class _ImageThrottle(documents_throttle.Throttle):
    """A throttle whose rate has a default (the settings may not name it)."""

    @property
    def rate(self) -> str:
        """Return the rate in force, e.g. ``"200/10m"``."""
        return str(settings.COLLABDOCS["THROTTLES"].get(self.name, DEFAULT_RATE))


def _by_user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


IMAGE = _ImageThrottle(
    "image", _by_user, "You have added many images in a short time; wait a little."
)


def wait(request: HttpRequest) -> int | None:
    """Count one request by the request's user; return seconds to wait if over, else None."""
    return documents_throttle.hit(request, IMAGE)
