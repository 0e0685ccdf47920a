"""Forgot password: a one-time link by email, through Django's own views.

The four steps are Django's ``PasswordReset*`` views with this site's
templates (``templates/registration/password_reset_*``):

1. ``/accounts/password/reset/``: the person types their email address;
2. ``…/sent/``: the same page for every address, known or not, so the form
   never tells who has an account here (no account enumeration). Only an
   active account with a usable password and that address gets an email;
3. ``…/<uidb64>/<token>/``: the link in the email. Django moves the token
   into the session and redirects to ``…/set-password/`` so that the token
   never leaks through a ``Referer``; a link that was used already (the
   token signs the password hash and last sign-in), has expired
   (``PASSWORD_RESET_TIMEOUT``, three days) or was mistyped shows a page
   that says so and offers a new one;
4. ``…/complete/``: the password is set. Saving it changes the password
   hash, which signs out every other session of the account, and
   ``documents.revocation`` closes their open sockets (4401).

The link starts with ``SITE_URL`` (``COLLABDOCS_SITE_URL``), never with the
request's Host header: a forged Host cannot send someone a link to another
site ("password reset poisoning").

Throttles (documents/throttle.py's style and 429 page): requests per email
address (``password_reset``, 3/h) and per client address
(``password_reset_ip``, 20/h). Both count every accepted request, whether or
not the address has an account, so the throttle reveals nothing either; a
refused request sends nothing.

Failure modes: a mail server that is down or refuses the message is logged
by Django's form (``django.contrib.auth`` logger) and the person sees the
same "check your email" page; asking again later works. Sending takes the
mail server's time only for known addresses, so a patient attacker timing
the answers could tell; the throttles bound how many addresses they can try.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse_lazy
from django_ratelimit.core import _get_ip

from documents import throttle

__all__ = [
    "RESET_EMAIL",
    "RESET_IP",
    "PasswordResetView",
    "urlpatterns",
    "valid_for",
]


def _by_email(group: str, request: HttpRequest) -> str:
    # The address as PasswordResetForm matches it: case-insensitively.
    return str(request.POST.get("email", "")).strip().casefold()[:254]


def _by_ip(group: str, request: HttpRequest) -> str:
    # django-ratelimit's reading of the address, as documents.throttle's.
    return str(_get_ip(request))


RESET_EMAIL = throttle.Throttle(
    "password_reset", _by_email, "Too many password reset emails were asked for this address."
)
RESET_IP = throttle.Throttle(
    "password_reset_ip", _by_ip, "Too many password reset emails were asked from your address."
)


def valid_for() -> str:
    """Return how long a reset link works, in words ("3 days", "2 hours")."""
    seconds = int(settings.PASSWORD_RESET_TIMEOUT)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, throttled, with links that start with SITE_URL."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        """Take a slot on both throttles, then email a known address; else 429."""
        # Counted before sending, atomically (throttle.hit), so parallel
        # requests cannot all get through.
        for limit in (RESET_EMAIL, RESET_IP):
            wait = throttle.hit(self.request, limit)
            if wait is not None:
                return throttle.refusal(self.request, limit, wait)
        self.extra_email_context = {"site_url": settings.SITE_URL, "valid_for": valid_for()}
        return super().form_valid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Add how long a link works, for the page's explanation."""
        return {**super().get_context_data(**kwargs), "valid_for": valid_for()}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    """The same "check your email" page for every address."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Add how long a link works."""
        return {**super().get_context_data(**kwargs), "valid_for": valid_for()}


urlpatterns = [
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
