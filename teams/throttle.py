"""The teams app's throttles: people searches, and teams created, per person.

Counted like every other throttle of the app (``documents.throttle``):
django-ratelimit's fixed windows in the ``throttle`` cache, atomic, per
user, open when the cache is unreachable (a Redis outage must not break
the share dialog), off with the rest when ``COLLABDOCS_THROTTLE=0``. This
layer sits below ``documents``, so it counts through django-ratelimit
directly rather than through that module. Each rate is
``COLLABDOCS["THROTTLES"][<name>]`` when set, else the throttle's default:

==========  ========================================  =======
Throttle    Counts                                    Default
==========  ========================================  =======
people      autocomplete searches (``/api/people``)   300/5m
team        teams created                             20/h
==========  ========================================  =======

The search rate is generous for typing (the dialog asks at most once per
pause) and tight enough that the endpoint cannot probe addresses in bulk;
the creation rate keeps one person from taking many group names at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: The exceptions that mean the throttle cache is unreachable.
_CACHE_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)


@dataclass(frozen=True)
class Throttle:
    """One per-user limit: its settings name, default rate and refusal message."""

    name: str
    default_rate: str
    message: str

    @property
    def rate(self) -> str:
        """Return the rate in force, e.g. ``"300/5m"`` (read at call time)."""
        return str(settings.COLLABDOCS.get("THROTTLES", {}).get(self.name, self.default_rate))


PEOPLE = Throttle(
    "people",
    "300/5m",
    "You have searched for people many times in a short time; wait a little.",
)
TEAM = Throttle("team", "20/h", "You have created many teams in a short time; wait a little.")


def _by_user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def hit(request: HttpRequest, throttle: Throttle) -> int | None:
    """Count one event by the request's user; return seconds to wait if over, else None.

    The increment is atomic: a caller that gets a number must not do the work.
    """
    try:
        usage = get_usage(
            request,
            group=f"collabdocs.{throttle.name}",
            key=_by_user,
            rate=throttle.rate,
            increment=True,
        )
    except _CACHE_ERRORS as exc:
        logger.warning("throttle %s not applied: its cache is unreachable (%s)", throttle.name, exc)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage.get("time_left") or 1))
