"""Accounts: sign up, and the Django auth views this site uses.

Sign-in, sign-out, password change and password reset by email
(:mod:`documents.password_reset`) are Django's own views with this site's
templates (``templates/registration/``). Signing out is a POST; a GET of
``/accounts/logout/`` (a typed or bookmarked address) shows a page asking
to confirm, with the POST button and Cancel, and signs nobody out. Sign-up
can be turned off with ``COLLABDOCS["SIGNUP_ENABLED"]`` (env
``SIGNUP_ENABLED``); the page then answers 404 with a clear message.

Throttles (documents/throttle.py): sign-in refuses, with HTTP 429, an
account's next attempt from an address after too many failures from it
(and any attempt from an address with too many failures in all), even with
the right password, until the window passes (the admin's sign-in likewise,
through the throttle's authentication backend); sign-up refuses new accounts
from an address that made too many. A refusal checks no password and
creates nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from documents import password_reset, throttle


class SignupForm(UserCreationForm):
    """A new account: username, email address and password."""

    email = forms.EmailField(
        help_text="People can share documents with you by this address.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        """Refuse an email address another account already uses."""
        email = self.cleaned_data["email"].strip()
        if get_user_model()._default_manager.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in, unless sign-up is turned off."""
    if not settings.COLLABDOCS["SIGNUP_ENABLED"]:
        return render(request, "registration/signup_closed.html", status=404)
    if request.user.is_authenticated:
        return redirect("documents:list")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        wait = throttle.wait_seconds(request, throttle.SIGNUP)
        if wait is not None:
            return throttle.refusal(request, throttle.SIGNUP, wait)
    if request.method == "POST" and form.is_valid():
        # Take the slot atomically before creating: parallel sign-ups
        # cannot all pass the check above.
        wait = throttle.hit(request, throttle.SIGNUP)
        if wait is not None:
            return throttle.refusal(request, throttle.SIGNUP, wait)
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}! Create your first document.")
        return redirect("documents:list")
    return render(request, "registration/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    """Django's sign-in, throttled on failures (see the module docstring)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Answer 429 while a failure throttle is used up; otherwise sign in.

        Failures are counted, and every other sign-in path refused, in
        ``documents.throttle.LoginThrottleBackend``.
        """
        refused = throttle.used_up(request, throttle.LOGIN, throttle.LOGIN_IP)
        if refused is not None:
            return throttle.refusal(request, *refused)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    """Django's sign-out on POST; on GET, a page asking to confirm it."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Show the confirm page, or go to sign-in when nobody is signed in."""
        if not request.user.is_authenticated:
            return redirect(settings.LOGOUT_REDIRECT_URL)
        return render(request, "registration/logout_confirm.html")


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("signup/", signup, name="signup"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    *password_reset.urlpatterns,
]
