"""Throttles on signing in, signing up and creating documents.

Counting is django-ratelimit's (``get_usage``: fixed windows in a cache,
atomic ``incr``); this module names the throttles, reads their rates from
``COLLABDOCS["THROTTLES"]`` at call time and answers a refusal with HTTP 429,
a page that says how long to wait and a ``Retry-After`` header.

==============  ===================================  ====================
Throttle        Counts                               Default (env)
==============  ===================================  ====================
login           failed sign-ins per username and IP  10/5m
login_ip        failed sign-ins per IP, any username 50/5m
signup          accounts created per IP              10/h
document        documents created per user           60/10m
==============  ===================================  ====================

Other apps name throttles of their own in the same settings table, counted
the same way: ``comment`` (review/throttle.py), ``image``
(images/throttle.py), ``password_reset`` (reset emails per address, 3/h)
and ``password_reset_ip`` (per IP, 20/h; documents/password_reset.py),
``people`` and ``team`` (teams/throttle.py).

A refused request changes nothing: the check comes before the work.

Sign-in is throttled where every sign-in path meets, Django's
``authenticate()``: :class:`LoginThrottleBackend`, first in
``AUTHENTICATION_BACKENDS``, refuses while a sign-in throttle is used up
(raising ``PermissionDenied`` stops the other backends, so no password is
checked), and every failure, from the site's form or the admin's, is counted
on ``user_login_failed``. The site's sign-in page checks first too, to
answer with the 429 page rather than its form. Failures are counted after
the password was checked, so a burst of parallel guesses can pass the limit
by its own width, once; sign-ups and documents take their slot atomically
before anything is created, so no burst gets past them.

The counts live in the ``throttle`` cache (collabdocs/settings.py): Redis when
``REDIS_URL`` is set, so every worker of a cluster counts together, and
this process's memory otherwise. If that cache cannot be reached the
request is let through and a warning logged: a Redis outage must not stop
people from signing in (issue 10), and it costs only the throttle while it
lasts. ``COLLABDOCS_THROTTLE=0`` turns every throttle off
(``RATELIMIT_ENABLE``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import _get_ip, get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

__all__ = [
    "DOCUMENT",
    "LOGIN",
    "LOGIN_IP",
    "SIGNUP",
    "LoginThrottleBackend",
    "Throttle",
    "hit",
    "refusal",
    "used_up",
    "wait_seconds",
]


def _ip(request: HttpRequest) -> str:
    # django-ratelimit's own reading of the address (RATELIMIT_IP_META_KEY
    # behind a proxy, IPv6 by /64), so that every throttle agrees on it.
    return str(_get_ip(request))


def _username_and_ip(group: str, request: HttpRequest) -> str:
    username = str(request.POST.get("username", "")).strip().casefold()[:150]
    return f"{username}\n{_ip(request)}"


def _by_ip(group: str, request: HttpRequest) -> str:
    return _ip(request)


def _by_user(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


@dataclass(frozen=True)
class Throttle:
    """One named limit: what it counts by, and what a refusal says."""

    name: str
    key: Callable[[str, HttpRequest], str]
    message: str

    @property
    def rate(self) -> str:
        """Return the rate in force, e.g. ``"10/5m"``."""
        return str(settings.COLLABDOCS["THROTTLES"][self.name])


LOGIN = Throttle(
    "login", _username_and_ip, "Too many failed sign-ins for this account from your address."
)
LOGIN_IP = Throttle("login_ip", _by_ip, "Too many failed sign-ins from your address.")
SIGNUP = Throttle("signup", _by_ip, "Too many accounts were created from your address.")
DOCUMENT = Throttle("document", _by_user, "You have created many documents in a short time.")


#: The exceptions that mean the throttle cache is unreachable (OSError:
#: ConnectionError, TimeoutError; redis comes with channels-redis).
_CACHE_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)


def _usage(request: HttpRequest, throttle: Throttle, *, increment: bool) -> dict | None:
    try:
        return get_usage(
            request,
            group=f"collabdocs.{throttle.name}",
            key=throttle.key,
            rate=throttle.rate,
            increment=increment,
        )
    except _CACHE_ERRORS as exc:
        logger.warning("throttle %s not applied: its cache is unreachable (%s)", throttle.name, exc)
        return None


def _seconds_left(usage: dict) -> int:
    return max(1, int(usage.get("time_left") or 1))


def wait_seconds(request: HttpRequest, *throttles: Throttle) -> int | None:
    """Return how long to wait if any throttle is used up, else None (counts nothing)."""
    waits = []
    for throttle in throttles:
        usage = _usage(request, throttle, increment=False)
        # Used up once the count reaches the limit: the next one is refused.
        if usage is not None and usage["count"] >= usage["limit"]:
            waits.append(_seconds_left(usage))
    return max(waits) if waits else None


def used_up(request: HttpRequest, *throttles: Throttle) -> tuple[Throttle, int] | None:
    """Return the first used-up throttle with its wait, else None (counts nothing)."""
    for throttle in throttles:
        wait = wait_seconds(request, throttle)
        if wait is not None:
            return throttle, wait
    return None


def hit(request: HttpRequest, *throttles: Throttle) -> int | None:
    """Count one event on each throttle; return how long to wait if one is over.

    The increment is atomic: of N concurrent callers at most the limit get
    None, so a caller that gets a number must not do the work.
    """
    waits = []
    for throttle in throttles:
        usage = _usage(request, throttle, increment=True)
        if usage is not None and usage["should_limit"]:
            waits.append(_seconds_left(usage))
    return max(waits) if waits else None


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def refusal(request: HttpRequest, throttle: Throttle, seconds: int) -> HttpResponse:
    """Return the 429 page for ``throttle`` with a ``Retry-After`` of ``seconds``."""
    response = render(
        request,
        "429.html",
        {
            "message": throttle.message,
            "retry_after": _in_words(seconds),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class LoginThrottleBackend:
    """Refuse every sign-in (site, admin, any form) while a sign-in throttle is used up.

    It authenticates no one itself: it answers None to let the next backend
    check the password, or raises ``PermissionDenied``, which makes
    ``authenticate()`` stop and fail. Calls without a request (the test
    client's ``login``, ``manage.py`` code) are not throttled. It has no
    ``get_user`` (nor permission methods) on purpose: Django then never
    records it as the backend of a session (``force_login`` picks the first
    backend that has one) and skips it for permission checks.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: object) -> None:
        """Raise PermissionDenied if the caller is throttled; else return None."""
        if request is not None and used_up(request, LOGIN, LOGIN_IP) is not None:
            raise PermissionDenied("too many failed sign-ins")
        return None


@receiver(user_login_failed, dispatch_uid="collabdocs.throttle.count_login_failure")
def count_login_failure(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object
) -> None:
    """Count a failed sign-in (connected when the backend above is loaded)."""
    if request is not None:
        hit(request, LOGIN, LOGIN_IP)
