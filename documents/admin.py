"""Django admin for documents, their versions and their operations.

Staff act on documents here (the pages give staff nothing special). Object
permissions are managed through guardian's admin views ("Object
permissions" on a document). Versions and operations are history and stay
read-only. Changes made here reach open sockets the same way the services'
do: through :mod:`documents.events`, which sends after the transaction commits.

Two history actions go through the same code paths as the app: "Compact
now" (:func:`documents.compaction.version_compact`, which leaves open
documents to the worker serving them) and "Restore this version"
(:func:`documents.history.version_restore`, a new change applied through
the document's authority, so people editing see it live).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from guardian.admin import GuardedModelAdmin

from documents import events
from documents.compaction import Status, get_guard, version_compact
from documents.content import document_content
from documents.history import RestoreFailed, version_label, version_restore
from documents.models import Document, DocumentVersion, DocumentVisit, LinkOpen, Operation, Star
from documents.people import display_name
from documents.render import render_text
from documents.selectors import document_group_shares, document_people_shares
from documents.services import clean_title, delete_documents

PREVIEW_CHARS = 2000


class TrashedFilter(admin.SimpleListFilter):
    """Filter documents by whether they are in the trash."""

    title = "in trash"
    parameter_name = "trashed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "In trash"), ("no", "Not in trash")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(trashed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(trashed_at__isnull=True)
        return queryset


class ReadOnlyMixin:
    """Let staff look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DocumentVersionInline(ReadOnlyMixin, admin.TabularInline):
    """The document's stored versions, newest first."""

    model = DocumentVersion
    fields = ("revision", "kind", "name", "author", "ops_folded", "created_at")
    readonly_fields = fields
    ordering = ("-revision",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[DocumentVersion]:
        # Each version holds a whole document: the list needs none of them.
        return super().get_queryset(request).defer("content").select_related("author")


#: The only document fields staff edit directly in the admin.
EDITABLE_FIELDS = ("title", "link_mode", "history_visible_to_viewers")


class DocumentAdminForm(forms.ModelForm):
    """The document form, with titles tidied and checked as the pages do."""

    class Meta:
        model = Document
        fields = ("title", "link_mode", "history_visible_to_viewers")

    def clean_title(self) -> str:
        """Return the title as :func:`documents.services.clean_title` stores it."""
        return clean_title(self.cleaned_data["title"])


@admin.register(Document)
class DocumentAdmin(GuardedModelAdmin):
    """Documents with their owner, revision, last edit and size of op log.

    Documents are created by people in the app (with their first version and
    the owner's permissions), never here.
    """

    form = DocumentAdminForm

    list_display = (
        "title",
        "owner",
        "head_revision",
        "updated_at",
        "last_edited_by",
        "op_count",
        "link_mode",
        "is_in_trash",
    )
    list_select_related = ("owner", "last_edited_by")
    list_filter = ("link_mode", TrashedFilter)
    search_fields = ("title", "owner__username", "owner__email", "=public_id")
    date_hierarchy = "updated_at"
    ordering = ("-updated_at",)
    fields = (
        "title",
        "public_id",
        "owner",
        "link_mode",
        "history_visible_to_viewers",
        "head_revision",
        "snapshot",
        "created_at",
        "updated_at",
        "last_edited_by",
        "trashed_at",
        "lease_holder",
        "lease_expires_at",
        "closed_at",
        "op_count",
        "shares",
        "comment_threads",
        "content_preview",
    )
    # Everything but EDITABLE_FIELDS is shown read-only: revisions, snapshots
    # and leases belong to the realtime server, ownership to the transfer.
    readonly_fields = tuple(name for name in fields if name not in EDITABLE_FIELDS)
    inlines = (DocumentVersionInline,)
    actions = ("compact_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(
        description="Compact now (fold the op log into a snapshot)", permissions=["change"]
    )
    def compact_now(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        """Compact the selected documents at once; open ones are left to their worker."""
        guard = get_guard()
        try:
            results = [version_compact(document=document, guard=guard) for document in queryset]
        finally:
            guard.close()
        done = [r for r in results if r.status == Status.COMPACTED]
        if done:
            folded = sum(r.ops_folded for r in done)
            self.message_user(
                request,
                f"Compacted {len(done)} document(s), {folded} ops folded.",
                messages.SUCCESS,
            )
        for result in results:
            if result.status == Status.SKIPPED:
                self.message_user(
                    request, f"“{result.title}” skipped: {result.reason}.", messages.WARNING
                )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return super().get_queryset(request).annotate(_op_count=Count("operations", distinct=True))

    @admin.display(description="ops", ordering="_op_count")
    def op_count(self, document: Document) -> int:
        """Return the number of operations stored after the snapshot."""
        return getattr(document, "_op_count", None) or document.operations.count()

    @admin.display(description="in trash", boolean=True, ordering="trashed_at")
    def is_in_trash(self, document: Document) -> bool:
        """Return whether the document is in the trash."""
        return document.is_trashed

    @admin.display(description="shared with")
    def shares(self, document: Document) -> str:
        """Return who has which role: people, then groups (change them under Object permissions)."""
        people = [
            (
                display_name(share.user),
                share.role.label + (", can share" if share.can_share else ""),
            )
            for share in document_people_shares(document=document)
        ]
        groups = [
            (f"group {share.group.name}", share.role.label)
            for share in document_group_shares(document=document)
        ]
        if not people and not groups:
            return "nobody"
        return format_html_join(", ", "{} ({})", people + groups)

    @admin.display(description="comment threads")
    def comment_threads(self, document: Document) -> str:
        """Return a link to the document's comment threads in the review admin.

        ``review_threads`` is the reverse name of ``review.Thread.document``:
        the review app sits above documents, so it is reached by name, never
        imported.
        """
        count = document.review_threads.count()
        url = reverse("admin:review_thread_changelist") + f"?document__id__exact={document.pk}"
        return format_html('<a href="{}">Comment threads ({})</a>', url, count)

    @admin.display(description="content (plain text)")
    def content_preview(self, document: Document) -> str:
        """Return the start of the current content as escaped plain text."""
        text = render_text(document_content(document))
        more = "…" if len(text) > PREVIEW_CHARS else ""
        return format_html(
            '<div style="white-space: pre-wrap; max-width: 60em">{}{}</div>',
            text[:PREVIEW_CHARS],
            more,
        )

    def save_model(self, request: HttpRequest, obj: Document, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        public_id, changed = obj.public_id, set(form.changed_data)
        if change and "title" in changed:
            events.title_changed(public_id=public_id, title=obj.title)
        if change and "link_mode" in changed:
            events.access_changed(public_id=public_id)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list, dict, set, list]:
        """Summarise a deletion: the documents, with their history and shares.

        Django's own collector would refuse: versions are read-only here and
        the snapshot pointer protects them. :func:`delete_documents` removes
        them together, in one transaction.
        """
        documents = list(objs)
        items = [
            format_html(
                '{}: <a href="{}">{}</a>',
                "Document",
                reverse("admin:documents_document_change", args=[document.pk]),
                document.title,
            )
            for document in documents
        ]
        counts = {
            "documents": len(documents),
            "document versions": DocumentVersion.objects.filter(document__in=documents).count(),
            "operations": Operation.objects.filter(document__in=documents).count(),
        }
        missing = set() if self.has_delete_permission(request) else {"document"}
        return items, counts, missing, []

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        self.delete_queryset(request, Document.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        """Delete documents with their history and object permissions."""
        delete_documents(queryset)


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Stored versions (snapshots), read-only, with a restore action."""

    list_display = ("document", "revision", "kind", "name", "author", "ops_folded", "created_at")
    list_select_related = ("document", "author")
    list_filter = ("kind",)
    search_fields = ("document__title", "name", "=document__public_id")
    raw_id_fields = ("document",)
    actions = ("restore_version",)

    def has_restore_permission(self, request: HttpRequest) -> bool:
        """Restoring changes the document: it takes the change-document permission."""
        return request.user.has_perm("documents.change_document")

    @admin.action(
        description="Restore this version (as a new change everyone sees)", permissions=["restore"]
    )
    def restore_version(self, request: HttpRequest, queryset: QuerySet[DocumentVersion]) -> None:
        """Restore the selected version through the document's authority."""
        versions = list(queryset.select_related("document")[:2])
        if len(versions) != 1:
            self.message_user(request, "Select exactly one version to restore.", messages.ERROR)
            return
        version = versions[0]
        try:
            restore = version_restore(
                document=version.document,
                actor=request.user,
                version_id=version.pk,
                check_access=False,
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        except RestoreFailed as exc:
            self.message_user(request, f"Could not restore: {exc}", messages.ERROR)
            return
        self.message_user(
            request,
            f"Restored “{version_label(version)}” of “{version.document.title}” "
            f"as revision {restore.revision}.",
            messages.SUCCESS,
        )


@admin.register(Operation)
class OperationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Stored operations, read-only."""

    list_display = ("document", "revision", "op_id", "author", "created_at")
    list_select_related = ("document", "author")
    search_fields = ("document__title", "op_id", "=document__public_id")
    raw_id_fields = ("document",)


@admin.register(Star)
class StarAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """People's stars on documents, read-only (each person's own bookmarks)."""

    list_display = ("document", "user", "created_at")
    list_select_related = ("document", "user")
    search_fields = ("document__title", "=document__public_id", "user__username")
    raw_id_fields = ("document", "user")


@admin.register(LinkOpen)
class LinkOpenAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Who opened a document through its share link (listed while the link holds)."""

    list_display = ("document", "user", "opened_at")
    list_select_related = ("document", "user")
    search_fields = ("document__title", "=document__public_id", "user__username")
    raw_id_fields = ("document", "user")
    exclude = ("token",)


@admin.register(DocumentVisit)
class DocumentVisitAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """When people last opened documents ("changes since you last opened")."""

    list_display = ("document", "user", "revision", "opened_at", "previous_opened_at")
    list_select_related = ("document", "user")
    search_fields = ("document__title", "=document__public_id", "user__username")
    raw_id_fields = ("document", "user")
