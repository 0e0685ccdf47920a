"""The comment throttle: threads and replies one person may post in a while.

Counted like documents' throttles (:mod:`documents.throttle`: fixed windows
in the ``throttle`` cache, atomic, open when the cache is down), per user,
before anything is stored: a refused post changes nothing. The rate is
``COLLABDOCS["THROTTLES"]["comment"]`` when set, else
:data:`DEFAULT_RATE`; ``COLLABDOCS_THROTTLE=0`` turns it off with the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from documents import throttle as documents_throttle
from documents.selectors import DocumentAccess

#: Threads plus replies per user, when the settings name no rate.
DEFAULT_RATE = "120/10m"


class Throttled(Exception):
    """Too many posts in a short time; ``seconds`` says how long to wait."""

    def __init__(self, message: str, seconds: int) -> None:
        super().__init__(message)
        self.seconds = seconds


@dataclass(frozen=True)
class _CommentThrottle(documents_throttle.Throttle):
    """A throttle whose rate has a default (the settings may not name it)."""

    @property
    def rate(self) -> str:
        """Return the rate in force, e.g. ``"120/10m"``."""
        return str(settings.COLLABDOCS["THROTTLES"].get(self.name, DEFAULT_RATE))


def _by_user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


COMMENT = _CommentThrottle(
    "comment", _by_user, "You have posted many comments in a short time; wait a little."
)


def check(request: HttpRequest, access: DocumentAccess) -> None:
    """Count one post by the request's user, or raise :class:`Throttled`.

    People who may not comment are not counted: their post is refused anyway.
    """
    if not access.can_comment:
        return
    wait = documents_throttle.hit(request, COMMENT)
    if wait is not None:
        raise Throttled(COMMENT.message, wait)
