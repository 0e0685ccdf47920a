"""Admin: notifications (read-only: they record what happened) and email choices."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification, NotificationSetting


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications by recipient; staff may delete but not forge or edit them."""

    list_display = ("created_at", "recipient", "kind", "document", "actor", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__username", "actor__username", "document__title", "text")
    raw_id_fields = ("recipient", "actor", "document")
    readonly_fields = ("recipient", "kind", "document", "actor", "text", "url", "created_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Refuse: notifications are made by what happens, not by hand."""
        return False


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    """Who chose fewer emails than the default."""

    list_display = ("user", "email")
    list_filter = ("email",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
