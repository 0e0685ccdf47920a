"""Django admin for comment threads: find them by document, moderate messages.

Threads are what people wrote; staff look at them here and may remove an
abusive message, nothing more: threads and messages are never added or
edited from the admin (a changed message would put words in someone's
mouth). "Remove message" (an action on messages, and a link per message in
its thread's page) hides the body everywhere, records who removed it and
when, and tells every open socket on the document at once
(:func:`review.services.message_remove`). Deleting a thread here deletes its
rows and tells open sockets (the card goes); its anchors stay in the
content, inert (a mark naming no thread shows nothing): the admin does not
edit documents people are typing in.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from review.models import Decision, Message, Thread
from review.services import message_remove, thread_removed_by_staff

BODY_PREVIEW = 80


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_PREVIEW else text[: BODY_PREVIEW - 1] + "…"


class MessageInline(admin.TabularInline):
    """A thread's messages, read-only, each with its moderation link."""

    model = Message
    fields = ("author", "created_at", "edited_at", "body", "removed", "moderate")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="removed")
    def removed(self, message: Message) -> str:
        if not message.is_removed:
            return "—"
        by = message.removed_by.get_username() if message.removed_by else "someone"
        return f"by {by} at {message.removed_at:%Y-%m-%d %H:%M}"

    @admin.display(description="moderate")
    def moderate(self, message: Message) -> str:
        if message.is_removed or message.pk is None:
            return ""
        url = reverse("admin:review_message_remove", args=[message.pk])
        return format_html('<a class="button" href="{}">Remove message</a>', url)


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    """Threads, filterable by document, with their messages inline."""

    list_display = ("public_id", "document", "quote_preview", "created_by", "messages", "state")
    list_filter = ("document", ("resolved_at", admin.EmptyFieldListFilter))
    list_select_related = ("document", "created_by")
    search_fields = ("public_id", "quote", "document__title", "messages__body")
    fields = ("document", "public_id", "quote", "created_by", "created_at", "resolved_by")
    readonly_fields = fields
    inlines = [MessageInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Thread]:
        return super().get_queryset(request).annotate(message_count=Count("messages"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="quote")
    def quote_preview(self, thread: Thread) -> str:
        return _preview(thread.quote)

    @admin.display(description="messages", ordering="message_count")
    def messages(self, thread: Thread) -> int:
        return int(getattr(thread, "message_count", 0))

    @admin.display(description="state")
    def state(self, thread: Thread) -> str:
        return "resolved" if thread.is_resolved else "open"

    def delete_model(self, request: HttpRequest, obj: Thread) -> None:
        """Delete the thread and tell the document's sockets after commit."""
        thread_removed_by_staff([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        """Delete the threads and tell their documents' sockets after commit."""
        thread_removed_by_staff(list(queryset.select_related("document")))
        super().delete_queryset(request, queryset)

    def get_urls(self) -> list:
        remove = self.admin_site.admin_view(self.remove_message_view)
        return [
            path("message/<int:message_id>/remove/", remove, name="review_message_remove"),
            *super().get_urls(),
        ]

    def remove_message_view(self, request: HttpRequest, message_id: int) -> HttpResponse:
        """Ask to confirm on GET; remove the message on POST (moderation)."""
        message = get_object_or_404(Message.objects.select_related("thread"), pk=message_id)
        back = reverse("admin:review_thread_change", args=[message.thread_id])
        if not self.has_moderate_permission(request):
            self.message_user(request, "You may not remove messages.", messages.ERROR)
            return HttpResponseRedirect(back)
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": "Remove this message?",
                "message_obj": message,
                "body_preview": message.body,
                "back": back,
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/review/remove_message.html", context)
        message_remove(message=message, moderator=request.user)
        self.message_user(request, "Removed: people now see “removed” in its place.")
        return HttpResponseRedirect(back)

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        """Return whether the user may remove messages (change permission on messages)."""
        return bool(request.user.has_perm("review.change_message"))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Every message, searchable, with the "Remove message" action."""

    list_display = ("id", "thread", "author", "body_preview", "created_at", "is_removed")
    list_filter = (("removed_at", admin.EmptyFieldListFilter), "thread__document")
    list_select_related = ("thread", "author")
    search_fields = ("body", "author__username", "thread__public_id")
    readonly_fields = (
        "thread",
        "author",
        "body",
        "created_at",
        "edited_at",
        "removed_at",
        "removed_by",
    )
    exclude = ("mentions",)
    actions = ["remove_messages"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="body")
    def body_preview(self, message: Message) -> str:
        return _preview(message.body)

    @admin.display(description="removed", boolean=True)
    def is_removed(self, message: Message) -> bool:
        return message.is_removed

    @admin.action(description="Remove the selected messages", permissions=["change"])
    def remove_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = 0
        for message in queryset.filter(removed_at__isnull=True):
            message_remove(message=message, moderator=request.user)
            count += 1
        self.message_user(request, f"Removed {count} message{'s' if count != 1 else ''}.")


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Decisions on suggestions, for the record: who accepted or rejected what, when."""

    list_display = ("document", "revision", "actor", "accept", "decided", "created_at", "undone_at")
    list_filter = ("accept", "document")
    list_select_related = ("document", "actor")
    readonly_fields = (
        "document",
        "revision",
        "op_id",
        "actor",
        "accept",
        "decided",
        "created_at",
        "undone_at",
        "undone_revision",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
