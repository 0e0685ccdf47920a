"""Comment threads on a document and their messages.

A thread is anchored in the document's *content*, not here: the text it is
about carries the thread's id in its ``comment`` attribute (see
docs/review.md), so the anchor moves with every edit under OT and survives
compaction, restore and failover like the text itself. This table keeps
what is said about it.

Invariants:

* ``(document, public_id)`` is unique. The browser picks the id (16 random
  base-36 characters) before it marks the text, so the mark and the row can
  be made in either order; a mark whose thread does not exist is inert.
* A thread has at least one message while it exists: deleting its first
  message deletes the thread (``review.services``).
* A removed message (moderation) keeps its body here for the moderators;
  nothing outside the admin ever shows it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from documents.models import Document

#: Limits of what people type (also enforced by ``review.services``).
QUOTE_MAX_LENGTH = 1000
BODY_MAX_LENGTH = 10_000
THREAD_ID_MAX_LENGTH = 24


class Thread(models.Model):
    """A comment thread about a stretch of one document."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="review_threads")
    public_id = models.CharField(
        max_length=THREAD_ID_MAX_LENGTH, help_text="The id the document's comment marks carry."
    )
    quote = models.TextField(
        blank=True,
        max_length=QUOTE_MAX_LENGTH,
        help_text="The text the thread was about when it was started.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "public_id"], name="review_thread_unique_public_id"
            )
        ]
        indexes = [models.Index(fields=["document", "created_at"], name="review_thread_by_doc")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Thread {self.public_id} on {self.document_id}"

    @property
    def is_resolved(self) -> bool:
        """Return whether someone resolved the thread (and no one re-opened it)."""
        return self.resolved_at is not None


class Message(models.Model):
    """One message in a thread: the first one starts it, the others reply."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a moderator removed the message."
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["thread", "created_at"], name="review_message_by_thread")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Message {self.pk} in {self.thread_id}"

    @property
    def is_removed(self) -> bool:
        """Return whether a moderator removed the message."""
        return self.removed_at is not None


class Decision(models.Model):
    """One applied decision on suggestions, so that its maker can undo it.

    The change itself is in the document's op log at ``revision``; this row
    says who made it and whether it was undone (once: ``undone_at``).
    """

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="review_decisions"
    )
    revision = models.PositiveBigIntegerField()
    op_id = models.CharField(max_length=96)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accept = models.BooleanField()
    decided = models.PositiveIntegerField(help_text="How many suggestions it decided.")
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_revision = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "revision"], name="review_decision_unique_revision"
            )
        ]

    def __str__(self) -> str:
        verb = "Accepted" if self.accept else "Rejected"
        return f"{verb} {self.decided} at revision {self.revision}"
