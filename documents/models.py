"""Documents, their versions (snapshots) and their operation log.

A document's content at revision ``head_revision`` is the content of its
``snapshot`` (a :class:`DocumentVersion` at revision ``snapshot.revision``)
composed with the :class:`Operation` rows after that revision, in order.

Invariants:

* ``Operation`` revisions of one document are consecutive from
  ``snapshot.revision + 1`` to ``head_revision``; ``UNIQUE(document, revision)``
  is the fence that makes a second writer fail instead of forking history.
* Every stored delta is a valid Quill change (validated before it is stored).
* Compaction (``documents.compaction``) may keep a few ops at or before
  ``snapshot.revision`` for reconnecting clients; content is always the
  snapshot composed with the ops *after* its revision only.
* ``lease_holder``/``lease_expires_at`` record which worker has the document
  open (see ``documents.leases``); compaction skips documents with a live
  lease.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from documents.deepjson import DeepJSONDecoder, DeepJSONEncoder

INITIAL_CONTENT: list[dict] = [{"insert": "\n"}]


def new_link_token() -> str:
    """Return a fresh unguessable token for link sharing."""
    return secrets.token_urlsafe(24)


class LinkMode(models.TextChoices):
    """Who may open a document through its share link."""

    OFF = "off", "Off"
    VIEW = "view", "Anyone with the link can view"
    COMMENT = "comment", "Anyone with the link can comment"
    EDIT = "edit", "Anyone with the link can edit"


class Document(models.Model):
    """A collaborative rich-text document."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200, default="Untitled document")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_documents"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    head_revision = models.PositiveBigIntegerField(default=0)
    snapshot = models.ForeignKey(
        "DocumentVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The version the op log starts after.",
    )
    link_mode = models.CharField(max_length=8, choices=LinkMode.choices, default=LinkMode.OFF)
    link_token = models.CharField(max_length=64, default=new_link_token, editable=False)
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    history_visible_to_viewers = models.BooleanField(default=False)
    lease_holder = models.CharField(
        max_length=128, blank=True, default="", help_text="The worker that has the document open."
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last worker that had it open let go."
    )

    class Meta:
        ordering = ["-updated_at"]
        permissions = [
            ("share_document", "Can share document"),
            ("comment_document", "Can comment on and suggest changes to document"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_trashed(self) -> bool:
        """Return whether the document is in the trash."""
        return self.trashed_at is not None


class VersionKind(models.TextChoices):
    """Why a version was stored."""

    INITIAL = "initial", "Initial"
    COMPACTION = "compaction", "Compaction"
    NAMED = "named", "Named"
    RESTORE = "restore", "Restore"


class DocumentVersion(models.Model):
    """The full content of a document at one revision."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    revision = models.PositiveBigIntegerField()
    # Deep JSON: content stored before the schema may nest past the
    # recursion limit of the reader's stack (documents.deepjson).
    content = models.JSONField(default=list, encoder=DeepJSONEncoder, decoder=DeepJSONDecoder)
    kind = models.CharField(max_length=16, choices=VersionKind.choices)
    name = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Who wrote the changes this version is the first to include.
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    #: Operations folded into this version (compaction).
    ops_folded = models.PositiveIntegerField(default=0)
    restored_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Who wrote each character of ``content``: authorship runs
    #: ``[[length, user_id or null], ...]`` in Quill units, summing to the
    #: content's length (realtime.ot.authorship). Null: not recorded (a
    #: version stored before authorship was kept); derived where needed.
    authorship = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revision", "-created_at"]
        indexes = [models.Index(fields=["document", "revision"])]

    def __str__(self) -> str:
        label = self.name or self.get_kind_display()
        return f"{label} @ r{self.revision}"


class Operation(models.Model):
    """One accepted change, as the server transformed and applied it."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="operations")
    revision = models.PositiveBigIntegerField()
    op_id = models.CharField(max_length=96)
    delta = models.JSONField(default=list, encoder=DeepJSONEncoder, decoder=DeepJSONDecoder)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Who wrote the text this op inserts, when not ``author``: authorship
    #: runs ``[[length, user_id or null], ...]`` covering the op's inserts in
    #: order (a restore keeps the versions' original authors). Null: every
    #: insert is ``author``'s.
    attribution = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "revision"]
        constraints = [
            # The fence against a second writer: two workers can never both
            # store revision r of one document.
            models.UniqueConstraint(fields=["document", "revision"], name="op_unique_revision"),
            # An op id is applied at most once per document, even across workers.
            models.UniqueConstraint(fields=["document", "op_id"], name="op_unique_client_id"),
        ]

    def __str__(self) -> str:
        return f"r{self.revision} {self.op_id}"


class DocumentVisit(models.Model):
    """When a person last opened a document's page, and the opening before that.

    Recorded by the page (:mod:`documents.visits`); "changes since you last
    opened" compares ``previous_revision`` with now.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="visits")
    #: The document's revision when the page was last opened.
    revision = models.PositiveBigIntegerField()
    opened_at = models.DateTimeField()
    #: The same for the opening before (a visit of its own); null: none yet.
    previous_revision = models.PositiveBigIntegerField(null=True, blank=True)
    previous_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="visit_unique_user_document")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opened {self.document_id} at r{self.revision}"


class DocumentSearch(models.Model):
    """The plain text of a document's body, kept for content search.

    Written by :mod:`documents.search` off the commit path (a few seconds
    behind the live document; ``revision`` and ``title`` say what it was
    read from, so a search can tell a row that fell behind). On PostgreSQL
    ``vector`` is the ``tsvector`` of the title (weight A) and the body
    (weight B), under a GIN index the migration creates; elsewhere it
    stays null.
    """

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    #: The head revision the text was read at, and the title then.
    revision = models.PositiveBigIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True, default="")
    text = models.TextField(blank=True, default="")
    vector = SearchVectorField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"search text of {self.document_id} at r{self.revision}"


class Star(models.Model):
    """A person's star on a document (their own bookmark; no one else sees it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="star_unique_user_document")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} starred {self.document_id}"


class LinkOpen(models.Model):
    """A person opened a document through its share link, with this token.

    Lists it under "Shared with me" while the link stays on with the same
    token: the list compares ``token`` with ``Document.link_token`` when it
    reads, so turning the link off or making a new one drops it at once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="link_opens")
    token = models.CharField(max_length=64)
    opened_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document"], name="linkopen_unique_user_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opened {self.document_id} by link"
