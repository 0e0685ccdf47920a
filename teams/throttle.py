"""The people-search throttle: autocomplete requests one person may make.

Counted like every other throttle of the app (``documents.throttle``):
django-ratelimit's fixed windows in the ``throttle`` cache, atomic, per
user, open when the cache is unreachable (a Redis outage must not break
the share dialog), off with the rest when ``COLLABDOCS_THROTTLE=0``. This
layer sits below ``documents``, so it counts through django-ratelimit
directly rather than through that module. The rate is
``COLLABDOCS["THROTTLES"]["people"]`` when set, else :data:`DEFAULT_RATE`:
generous for typing (the dialog asks at most once per pause), tight enough
that the endpoint cannot be used to probe addresses in bulk.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: Searches per user, when the settings name no rate.
DEFAULT_RATE = "300/5m"
#: The ratelimit group, named like the other throttles' ("collabdocs.<name>").
GROUP = "collabdocs.people"
MESSAGE = "You have searched for people many times in a short time; wait a little."

#: The exceptions that mean the throttle cache is unreachable.
_CACHE_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)


def rate() -> str:
    """Return the rate in force, e.g. ``"300/5m"`` (read at call time)."""
    return str(settings.COLLABDOCS.get("THROTTLES", {}).get("people", DEFAULT_RATE))


def _by_user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def wait(request: HttpRequest) -> int | None:
    """Count one search by the request's user; return seconds to wait if over, else None."""
    try:
        usage = get_usage(request, group=GROUP, key=_by_user, rate=rate(), increment=True)
    except _CACHE_ERRORS as exc:
        logger.warning("throttle people not applied: its cache is unreachable (%s)", exc)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage.get("time_left") or 1))
