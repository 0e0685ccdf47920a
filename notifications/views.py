"""Pages: every notification, opening one, and the email settings."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import services
from notifications.models import EmailChoice, Notification
from notifications.selectors import email_choice, notification_list, notification_unread_count

PAGE_SIZE = 30


class EmailSettingForm(forms.Form):
    """The one choice: which notifications also come by email."""

    email = forms.ChoiceField(
        label="Email me about",
        choices=EmailChoice.choices,
        widget=forms.RadioSelect,
        help_text="Every notification also shows under the bell, whatever you choose here.",
    )


@login_required
@require_GET
def notification_page(request: HttpRequest) -> HttpResponse:
    """List all of the user's notifications, newest first, a page at a time."""
    page = Paginator(notification_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": notification_unread_count(user=request.user)},
    )


@login_required
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of the user's notifications read and go to its place.

    The target is the notification's stored path on this site, never a
    parameter, so this cannot redirect elsewhere.
    """
    notification = Notification.objects.filter(pk=notification_id, recipient=request.user).first()
    if notification is None:
        raise Http404("No such notification.")
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification.url)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every notification of the user read (the page's button without scripts)."""
    marked = services.notification_mark_read(user=request.user, ids=None)
    if marked:
        messages.success(request, "All notifications marked read.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Show and save the user's choice of notification emails."""
    if request.method == "POST":
        form = EmailSettingForm(request.POST)
        if form.is_valid():
            services.notification_setting_set(user=request.user, email=form.cleaned_data["email"])
            messages.success(request, "Notification settings saved.")
            return redirect("notifications:settings")
    else:
        form = EmailSettingForm(initial={"email": email_choice(user=request.user)})
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "has_email": bool((request.user.email or "").strip())},
    )
