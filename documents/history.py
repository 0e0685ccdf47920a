"""Version history: who may see it, the list, naming and restoring versions.

A document's history is its :class:`DocumentVersion` rows (the initial
version, snapshots stored by compaction, versions people named and the
records of restores), newest first, plus the current state at the top.

Who may do what:

* Editors and the owner browse history, preview and export versions, name
  the current version and restore old ones.
* Viewers browse, preview and export only while the owner allows it
  (``Document.history_visible_to_viewers``, off by default); they never
  name or restore.
* Only the owner changes that setting.

A restore is a new change, not a rewrite: the diff from the current
content to the version's is applied through the document's authority
(:mod:`documents.live`, installed by the composition root), so everyone
connected sees it at once, the log keeps everything before it, and
restoring the version that preceded it
undoes it. A ``restore`` version records it at the revision it got.

The person who restored may undo it (:func:`restore_undo`) while it is the
last restore and for :data:`UNDO_WINDOW`: the restore's inverse,
transformed over what was typed since, recorded as a restore version.

The list comes a page at a time (:func:`version_page`, newest first, a
cursor on the version). Pages open on the document hear of a version
named, restored (or its restore undone) and of an autosave (a compaction
snapshot) through :func:`documents.events.history_changed`, after commit
(payload: :func:`_announce`; docs/history.md).

Named and restored versions are full copies made on a person's request,
so they are bounded per document (:func:`quota_room`, :func:`quota_bytes`): at most
``COLLABDOCS["MAX_NAMED_VERSIONS"]`` of them, together at most
``COLLABDOCS["MAX_VERSION_BYTES"]`` of JSON. Past a bound naming or
restoring is refused with a ``ValidationError`` (code ``version_quota``)
and nothing is stored or changed. The initial version and compaction
snapshots are the system's own and do not count.

Services here are keyword-only and check the actor through
:func:`documents.selectors.document_access`; refusals are those of
:mod:`documents.services` (``DocumentNotFound``, ``ActionNotAllowed``,
``ValidationError``), plus :class:`RestoreFailed` when the change could
not be stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from documents.authorship import AuthorshipUnavailable, authorship_json_at
from documents.content import document_state, lock_for_read
from documents.deepjson import DeepJSONEncoder
from documents.events import history_changed
from documents.exceptions import ActionNotAllowed, DocumentNotFound
from documents.export import FORMATS
from documents.live import ServerChangeFailed, content_edit, live_documents, revert_edit
from documents.models import Document, DocumentVersion, Operation, VersionKind
from documents.people import display_name
from documents.replay import replay
from documents.selectors import DocumentAccess, document_access
from documents.services import clean_title
from documents.store import StoreError
from realtime.ot import InvalidDelta

NOT_SHARED_WITH_VIEWERS = "The owner hasn’t shared this document’s version history with viewers."


#: How long the person who restored a version may undo it.
UNDO_WINDOW = timedelta(minutes=15)


class RestoreFailed(Exception):
    """The restore could not be stored (storage down, or the change was refused)."""


@dataclass(frozen=True)
class HistoryAccess:
    """What one user may do with one document's history."""

    can_browse: bool = False
    can_change: bool = False
    can_configure: bool = False


def history_access(*, access: DocumentAccess, document: Document) -> HistoryAccess:
    """Return what the holder of ``access`` may do with the history."""
    if not access.can_view or document.is_trashed:
        return HistoryAccess(can_browse=access.is_owner)
    browse = access.can_edit or access.is_owner or document.history_visible_to_viewers
    return HistoryAccess(
        can_browse=browse, can_change=access.can_edit, can_configure=access.is_owner
    )


def _history_for(
    *, actor: AbstractBaseUser, document: Document, link_token: str | None
) -> tuple[DocumentAccess, HistoryAccess]:
    access = document_access(user=actor, document=document, link_token=link_token)
    if not access.can_view:
        raise DocumentNotFound(document.public_id)
    return access, history_access(access=access, document=document)


def check_browse(
    *, actor: AbstractBaseUser, document: Document, link_token: str | None = None
) -> HistoryAccess:
    """Return the actor's rights if they may browse the history (compare, timeline).

    :raises DocumentNotFound: the actor cannot see the document.
    :raises ActionNotAllowed: a viewer, while the owner keeps the history to editors.
    """
    _, rights = _history_for(actor=actor, document=document, link_token=link_token)
    if not rights.can_browse:
        raise ActionNotAllowed(NOT_SHARED_WITH_VIEWERS)
    return rights


# --------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionEntry:
    """One line of the history list."""

    id: int | None
    revision: int
    kind: str
    label: str
    name: str
    created_at: datetime | None
    author: Any
    authors: list[Any]
    ops_folded: int
    restored_from: int | None
    is_current: bool = False


def version_label(version: DocumentVersion) -> str:
    """Return how people read a version's kind ("Named", "Saved automatically"...)."""
    if version.kind == VersionKind.NAMED and version.name:
        return version.name
    if version.kind == VersionKind.RESTORE:
        return version.name or "Restored an earlier version"
    return {
        VersionKind.INITIAL: "Created",
        VersionKind.COMPACTION: "Saved automatically",
        VersionKind.NAMED: "Named version",
    }.get(version.kind, version.get_kind_display())


def _entry(version: DocumentVersion) -> VersionEntry:
    authors = list(version.authors.all())
    if not authors and version.author is not None:
        authors = [version.author]
    return VersionEntry(
        id=version.pk,
        revision=version.revision,
        kind=version.kind,
        label=version_label(version),
        name=version.name,
        created_at=version.created_at,
        author=version.author,
        authors=authors,
        ops_folded=version.ops_folded,
        restored_from=version.restored_from_id,
    )


def _authors_after(document: Document, revision: int) -> list[Any]:
    ids = (
        Operation.objects.filter(document_id=document.pk, revision__gt=revision)
        .exclude(author_id=None)
        .values_list("author_id", flat=True)
        .distinct()
    )
    return list(get_user_model()._default_manager.filter(pk__in=ids).order_by("username"))


#: Most versions listed (the newest) by :func:`version_list`.
MAX_LISTED_VERSIONS = 300
#: Most versions one page of :func:`version_page` holds.
MAX_PAGE = 100


def _ordered(document: Document) -> Any:
    return (
        DocumentVersion.objects.filter(document=document)
        .defer("content", "authorship")
        .select_related("author")
        .prefetch_related("authors")
        .order_by("-revision", "-created_at", "-pk")
    )


def _with_current(document: Document, versions: list[DocumentVersion]) -> list[VersionEntry]:
    """Return the entries of ``versions`` (the newest first) under the current state."""
    entries = [_entry(version) for version in versions]
    document.refresh_from_db(fields=["head_revision", "updated_at", "last_edited_by"])
    newest = versions[0].revision if versions else 0
    if document.head_revision > newest or not versions:
        current = VersionEntry(
            id=None,
            revision=document.head_revision,
            kind="current",
            label="Current version",
            name="",
            created_at=document.updated_at,
            author=document.last_edited_by,
            authors=_authors_after(document, newest),
            ops_folded=0,
            restored_from=None,
            is_current=True,
        )
        return [current, *entries]
    # The newest version is the current state.
    first = entries[0]
    entries[0] = VersionEntry(**{**first.__dict__, "is_current": True})
    return entries


def version_list(*, document: Document, limit: int = MAX_LISTED_VERSIONS) -> list[VersionEntry]:
    """Return the current state and the newest ``limit`` versions, newest first."""
    return _with_current(document, list(_ordered(document)[:limit]))


def version_page(
    *, document: Document, before: int | None = None, limit: int = 50
) -> tuple[list[VersionEntry], int | None]:
    """Return one page of the versions, newest first, and the ``before`` of the next.

    The first page (``before`` None) starts with the current state, as
    :func:`version_list`; each next page holds the versions older than the
    version ``before`` names (in the list's order: revision, then time,
    then id), so pages neither skip nor repeat while versions are added.
    The next ``before`` is None on the last page.

    :raises ValidationError: ``limit`` outside ``1..MAX_PAGE``, or ``before``
        is not a version of this document.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be from 1 to {MAX_PAGE}, not {limit}.", code="bad_limit")
    rows = _ordered(document)
    if before is not None:
        anchor = (
            DocumentVersion.objects.filter(document=document, pk=before)
            .values_list("revision", "created_at", "pk")
            .first()
        )
        if anchor is None:
            raise ValidationError("That version doesn’t exist.", code="unknown_version")
        revision, created_at, pk = anchor
        rows = rows.filter(
            Q(revision__lt=revision)
            | Q(revision=revision, created_at__lt=created_at)
            | Q(revision=revision, created_at=created_at, pk__lt=pk)
        )
    versions = list(rows[: limit + 1])
    following = versions[limit - 1].pk if len(versions) > limit else None
    versions = versions[:limit]
    if before is None:
        return _with_current(document, versions), following
    return [_entry(version) for version in versions], following


def person_json(user: Any) -> dict[str, Any] | None:
    """Return ``{"id", "name"}`` of a user, or None."""
    if user is None:
        return None
    return {"id": user.pk, "name": display_name(user)}


def export_urls(document: Document, version_id: int | None) -> dict[str, str]:
    """Return the download address of the document (``version_id`` None) or a version per format."""
    if version_id is None:
        return {fmt: reverse("documents:export", args=[document.public_id, fmt]) for fmt in FORMATS}
    return {
        fmt: reverse("documents:export_version", args=[document.public_id, version_id, fmt])
        for fmt in FORMATS
    }


def entry_json(document: Document, entry: VersionEntry) -> dict[str, Any]:
    """Return one line of the history list as JSON-ready data (the list's item shape)."""
    return {
        "id": entry.id,
        "revision": entry.revision,
        "kind": entry.kind,
        "label": entry.label,
        "name": entry.name,
        "created_at": entry.created_at.isoformat() if entry.created_at else None,
        "author": person_json(entry.author),
        "authors": [person_json(user) for user in entry.authors],
        "ops_folded": entry.ops_folded,
        "restored_from": entry.restored_from,
        "is_current": entry.is_current,
        "export": export_urls(document, entry.id),
    }


def version_get(*, document: Document, version_id: int) -> DocumentVersion:
    """Return a version of ``document``; raise ValidationError for any other id."""
    version = (
        DocumentVersion.objects.filter(document=document, pk=version_id)
        .select_related("author", "restored_from")
        .first()
    )
    if version is None:
        raise ValidationError("That version doesn’t exist.", code="unknown_version")
    return version


def version_for_user(
    *, actor: AbstractBaseUser, document: Document, version_id: int, link_token: str | None = None
) -> DocumentVersion:
    """Return a version the actor may look at (preview, export)."""
    _, history = _history_for(actor=actor, document=document, link_token=link_token)
    if not history.can_browse:
        raise ActionNotAllowed(NOT_SHARED_WITH_VIEWERS)
    return version_get(document=document, version_id=version_id)


def content_at(*, document: Document, revision: int) -> list[dict] | None:
    """Return the content at ``revision``, or None if it can no longer be rebuilt.

    Start from the newest version at or before ``revision`` whose later ops
    up to ``revision`` are all still stored.
    """
    with transaction.atomic():
        if lock_for_read(document.pk) is None:
            return None
        candidates = DocumentVersion.objects.filter(
            document=document, revision__lte=revision
        ).order_by("-revision", "-pk")
        for version in candidates[:10]:
            ops = list(
                Operation.objects.filter(
                    document_id=document.pk, revision__gt=version.revision, revision__lte=revision
                )
                .order_by("revision")
                .values_list("delta", flat=True)
            )
            if len(ops) != revision - version.revision:
                continue
            try:
                return replay(version.content, ops).to_ops()
            except InvalidDelta:
                continue  # Corrupt from here: an older version may still do.
    return None


# --------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------

#: The kinds made on a person's request, each a full copy: these count.
QUOTA_KINDS = (VersionKind.NAMED, VersionKind.RESTORE)
#: First key of the PostgreSQL advisory lock serialising one document's
#: quota checks (the second is the document's pk); any constant unused
#: elsewhere in the project.
_QUOTA_LOCK_SPACE = 0x5651  # "VQ"


@dataclass(frozen=True)
class VersionUsage:
    """How many named and restored versions a document keeps, and their size."""

    count: int
    bytes: int


def _json_size(value: object) -> int:
    # DeepJSONEncoder: content stored before the schema may nest deeper than
    # json.dumps recurses by default (documents/deepjson.py).
    return len(json.dumps(value, ensure_ascii=False, cls=DeepJSONEncoder).encode("utf-8"))


def version_usage(*, document: Document, sizes: bool = True) -> VersionUsage:
    """Return the count and JSON size of the document's named and restored versions.

    The size is that of each version's content as JSON text in UTF-8: on
    PostgreSQL as the server prints the ``jsonb`` (measured there, without
    loading the content into Python), elsewhere ``json.dumps``'s. With
    ``sizes=False`` only the count is read (``bytes`` is 0): an index scan,
    where the sizes print every version (about 2 ms per MB).
    """
    kinds = [str(kind) for kind in QUOTA_KINDS]
    if not sizes:
        count = DocumentVersion.objects.filter(document=document, kind__in=kinds).count()
        return VersionUsage(count=count, bytes=0)
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(DocumentVersion._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), coalesce(sum(octet_length(content::text)), 0) FROM {table} "
                "WHERE document_id = %s AND kind = ANY(%s)",
                [document.pk, kinds],
            )
            count, size = cursor.fetchone()
        return VersionUsage(count=int(count), bytes=int(size))
    rows = DocumentVersion.objects.filter(document=document, kind__in=kinds)
    measured = [
        _json_size(content) for content in rows.values_list("content", flat=True).iterator()
    ]
    return VersionUsage(count=len(measured), bytes=sum(measured))


def _version_bytes(version: DocumentVersion) -> int:
    """Return the JSON size of one stored version, measured as :func:`version_usage` does."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(DocumentVersion._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT octet_length(content::text) FROM {table} WHERE id = %s", [version.pk]
            )
            row = cursor.fetchone()
        return int(row[0]) if row else 0
    return _json_size(version.content)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def quota_room(*, usage: VersionUsage, what: str) -> None:
    """Raise ValidationError if the document keeps as many versions as it may.

    ``what`` ends the refusal ("so this version wasn't saved"). Call it
    (and :func:`quota_bytes`) while holding :func:`_quota_held`, with
    ``usage`` read under it, or two requests could both fit.
    """
    most = settings.COLLABDOCS["MAX_NAMED_VERSIONS"]
    if usage.count >= most:
        versions = "version" if usage.count == 1 else "versions"
        raise ValidationError(
            f"This document already keeps {usage.count} named or restored {versions}, "
            f"the most it may keep ({most}), {what}.",
            code="version_quota",
        )


def quota_bytes(*, usage: VersionUsage, adding: int, what: str) -> None:
    """Raise ValidationError unless one more version of ``adding`` JSON bytes fits."""
    budget = settings.COLLABDOCS["MAX_VERSION_BYTES"]
    if usage.bytes + adding > budget:
        raise ValidationError(
            f"This document’s named and restored versions already take {_megabytes(usage.bytes)} "
            f"of the {_megabytes(budget)} they may use, and this one needs {_megabytes(adding)}, "
            f"{what}.",
            code="version_quota",
        )


@contextmanager
def _quota_held(document: Document) -> Iterator[None]:
    """Hold the document's quota lock (PostgreSQL; a no-op elsewhere).

    A session-level advisory lock rather than a row lock: it must span a
    restore, whose change is stored by the authority on other connections
    (outside any transaction of ours), and it must not block the writers
    that take ``KEY SHARE`` on the document row. SQLite (``make run``)
    serialises writers itself.
    """
    if connection.vendor != "postgresql":
        yield
        return
    # The two-key form takes 32-bit keys and pks are 64-bit: documents 2^32
    # apart share a lock, which only makes them wait for each other.
    key = [_QUOTA_LOCK_SPACE, (document.pk & 0xFFFFFFFF) - 0x80000000]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


# --------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------


def _changer(
    *, actor: AbstractBaseUser, document: Document, link_token: str | None, what: str
) -> DocumentAccess:
    access, history = _history_for(actor=actor, document=document, link_token=link_token)
    if document.is_trashed:
        raise ValidationError("Restore the document from the trash first.", code="trashed")
    if not history.can_change:
        raise ActionNotAllowed(f"Only editors can {what}.")
    return access


def version_name(
    *, document: Document, actor: AbstractBaseUser, name: str, link_token: str | None = None
) -> DocumentVersion:
    """Store the current content as a version called ``name``."""
    _changer(actor=actor, document=document, link_token=link_token, what="name versions")
    try:
        name = clean_title(name)
    except ValidationError:
        raise ValidationError("Give the version a name.", code="required") from None
    refused = "so this version wasn’t saved"
    with _quota_held(document), transaction.atomic():
        # The count first, before measuring the others and copying the content.
        quota_room(usage=version_usage(document=document, sizes=False), what=refused)
        usage = version_usage(document=document)
        state = document_state(document)
        newest = (
            DocumentVersion.objects.filter(
                document=document, revision__lte=state.revision
            ).aggregate(newest=Max("revision"))["newest"]
            or 0
        )
        authors = [user.pk for user in _authors_after(document, newest)]
        version = DocumentVersion.objects.create(
            document=document,
            revision=state.revision,
            content=state.content,
            kind=VersionKind.NAMED,
            name=name,
            author=actor,
        )
        # Measured as stored, then checked: a refusal rolls the row back, so
        # nothing past the quota is ever kept.
        quota_bytes(usage=usage, adding=_version_bytes(version), what=refused)
        version.authors.add(*(authors or [actor.pk]))
        _keep_authorship(document, version)
        _announce(document, "named", version, by=actor)
    return version


def version_restore(
    *,
    document: Document,
    actor: AbstractBaseUser,
    version_id: int,
    link_token: str | None = None,
    check_access: bool = True,
) -> DocumentVersion:
    """Make the document's content that of an earlier version, live, as a new change.

    Return the ``restore`` version recording it. ``check_access=False`` is
    for the admin, whose staff act on any document. Do not call inside a
    transaction: the change is stored by the document's authority, on its
    own connection, and must be visible to it.

    :raises RestoreFailed: the change could not be stored.
    """
    if check_access:
        _changer(actor=actor, document=document, link_token=link_token, what="restore versions")
    elif document.is_trashed:
        raise ValidationError("Restore the document from the trash first.", code="trashed")
    source = version_get(document=document, version_id=version_id)
    name = display_name(actor)
    # Held from the check to the record, so that a restore refused for the
    # quota changes nothing and two restores cannot both take the last place.
    with _quota_held(document):
        # The record's content is the source's (the restore makes them equal).
        refused = "so the version wasn’t restored; nothing changed"
        quota_room(usage=version_usage(document=document, sizes=False), what=refused)
        quota_bytes(
            usage=version_usage(document=document), adding=_version_bytes(source), what=refused
        )
        edit = content_edit(list(source.content))
        # The restored text keeps its original authors (realtime.restore reads it).
        runs = source.authorship
        if runs is None:
            try:
                runs = authorship_json_at(document, source.revision)
            except AuthorshipUnavailable:
                runs = None
        if runs is not None:
            edit["authorship"] = runs
        try:
            applied = live_documents().apply_edit(
                public_id=document.public_id,
                edit=edit,
                user_id=actor.pk,
                user_name=name,
            )
        except (ServerChangeFailed, StoreError) as exc:
            raise RestoreFailed(str(exc) or "storage is unavailable") from exc
        if applied is None:
            raise ValidationError("The document already matches this version.", code="unchanged")
        content = content_at(document=document, revision=applied.revision)
        when = source.created_at.strftime("%Y-%m-%d %H:%M UTC") if source.created_at else ""
        label = version_label(source)
        restore = DocumentVersion.objects.create(
            document=document,
            revision=applied.revision,
            content=content if content is not None else list(source.content),
            kind=VersionKind.RESTORE,
            name=f"Restored “{label}” ({when})"[:200],
            author=actor,
            restored_from=source,
        )
        restore.authors.add(actor.pk)
        _keep_authorship(document, restore)
    _announce(
        document,
        "restored",
        restore,
        by=actor,
        restore={
            "revision": restore.revision,
            "from": source.pk,
            "undo_until": undo_deadline(restore).isoformat(),
        },
    )
    return restore


def undo_deadline(restore: DocumentVersion) -> datetime:
    """Return until when the person who made ``restore`` may undo it."""
    return (restore.created_at or timezone.now()) + UNDO_WINDOW


class UndoRefused(Exception):
    """The restore can no longer be undone (a later restore, the window passed)."""


def restore_undo(
    *, document: Document, actor: AbstractBaseUser, revision: int, link_token: str | None = None
) -> DocumentVersion:
    """Undo the restore stored at ``revision``, live, as a new change; return its record.

    Only the person who restored, only while it is the document's last
    restore, and only within :data:`UNDO_WINDOW` of it. The change is the
    restore's inverse transformed over everything typed since
    (:func:`documents.live.revert_edit`), so others' later typing stays.
    The undo is recorded as a ``restore`` version ("Undid ...") that no
    quota refuses (each restore is undone at most once: the record is a
    later restore) and announced as a ``restored`` history event with
    ``"undid"``: the id of the restore it undid.

    :raises ActionNotAllowed: not the person who restored, or not an editor.
    :raises ValidationError: no restore at that revision (``unknown_restore``).
    :raises UndoRefused: a later restore, or the window has passed.
    :raises RestoreFailed: the change could not be stored.
    """
    _changer(actor=actor, document=document, link_token=link_token, what="undo a restore")
    with _quota_held(document):
        restore = (
            DocumentVersion.objects.filter(
                document=document, kind=VersionKind.RESTORE, revision=revision
            )
            .order_by("-pk")
            .first()
        )
        if restore is None:
            raise ValidationError(
                f"No version was restored at revision {revision}.", code="unknown_restore"
            )
        if restore.author_id != actor.pk:
            raise ActionNotAllowed("Only the person who restored a version can undo it.")
        later = DocumentVersion.objects.filter(document=document, kind=VersionKind.RESTORE).filter(
            Q(revision__gt=revision) | Q(revision=revision, pk__gt=restore.pk)
        )
        if later.exists():
            raise UndoRefused(
                "A later restore was made since, so this one can no longer be undone; "
                "restore the version you want instead."
            )
        if timezone.now() > undo_deadline(restore):
            minutes = int(UNDO_WINDOW.total_seconds() // 60)
            raise UndoRefused(
                f"A restore can be undone for {minutes} minutes and that time has passed; "
                "restore the version you want instead."
            )
        try:
            applied = live_documents().apply_edit(
                public_id=document.public_id,
                edit=revert_edit(revision),
                user_id=actor.pk,
                user_name=display_name(actor),
            )
        except (ServerChangeFailed, StoreError) as exc:
            raise RestoreFailed(str(exc) or "storage is unavailable") from exc
        if applied is None:
            raise UndoRefused(
                "There is nothing left to undo: the document already reads as before."
            )
        content = content_at(document=document, revision=applied.revision)
        record = DocumentVersion.objects.create(
            document=document,
            revision=applied.revision,
            content=content if content is not None else [],
            kind=VersionKind.RESTORE,
            name=f"Undid “{version_label(restore)}”"[:200],
            author=actor,
        )
        record.authors.add(actor.pk)
        _keep_authorship(document, record)
    _announce(
        document,
        "restored",
        record,
        by=actor,
        restore={
            "revision": record.revision,
            "from": None,
            "undo_until": None,
            "undid": restore.pk,
        },
    )
    return record


# --------------------------------------------------------------------------
# Live events (documents.events.history_changed -> the page's
# ``collabdocs:history``)
# --------------------------------------------------------------------------


def _announce(
    document: Document,
    event: str,
    version: DocumentVersion,
    *,
    by: AbstractBaseUser | None,
    restore: dict[str, Any] | None = None,
) -> None:
    """Tell the document's open pages, after commit, that its history changed.

    The payload: ``{"event", "version": <list item>, "by": {"id", "name"} |
    null}``, plus ``"restore"`` for a restore (contract.md, "History").
    """
    payload: dict[str, Any] = {
        "event": event,
        "version": entry_json(document, _entry(version)),
        "by": person_json(by),
    }
    if restore is not None:
        payload["restore"] = restore
    history_changed(public_id=document.public_id, payload=payload)


def _announce_saved(version_pk: int) -> None:
    version = (
        DocumentVersion.objects.filter(pk=version_pk)
        .defer("content", "authorship")
        .select_related("document", "author")
        .first()
    )
    if version is not None:
        _announce(version.document, "saved", version, by=None)


def _on_version_saved(
    sender: Any, instance: DocumentVersion, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Announce an autosave (a compaction snapshot) once it is committed."""
    if created and not raw and instance.kind == VersionKind.COMPACTION:
        transaction.on_commit(partial(_announce_saved, instance.pk))


post_save.connect(
    _on_version_saved, sender=DocumentVersion, dispatch_uid="documents.history.autosave"
)


def _keep_authorship(document: Document, version: DocumentVersion) -> None:
    """Store who wrote each character of a version this module made (H6's runs)."""
    try:
        runs = authorship_json_at(document, version.revision)
    except AuthorshipUnavailable:
        return  # Kept as unknown; readers derive what they can.
    DocumentVersion.objects.filter(pk=version.pk).update(authorship=runs)
    version.authorship = runs


@transaction.atomic
def history_set_visibility(
    *, document: Document, actor: AbstractBaseUser, visible: bool, link_token: str | None = None
) -> Document:
    """Let viewers browse the history, or stop them (owner only)."""
    _, history = _history_for(actor=actor, document=document, link_token=link_token)
    if not history.can_configure:
        raise ActionNotAllowed("Only the owner can choose who sees the version history.")
    Document.objects.filter(pk=document.pk).update(history_visible_to_viewers=bool(visible))
    document.history_visible_to_viewers = bool(visible)
    return document
