"""Authorship read from storage: who wrote each character at a revision.

Authorship runs (:mod:`realtime.ot.authorship`) are stored on versions
(``DocumentVersion.authorship``, every version saved since authorship was
kept) and follow from the op log: an op's inserts belong to its author, or
to the runs its ``Operation.attribution`` names (a restore). So the runs at
revision ``r`` are those of a stored starting point at or before ``r``
with every later op up to ``r`` applied.

The starting point is the newest version at or before ``r`` that stores
authorship and whose later ops are all still stored. When there is none
(versions from before authorship was kept, or compaction deleted the ops
after the last one that has it), the oldest version from which the ops are
all stored starts as "unknown" (``None``) and the ops after it give their
authors: text older than the oldest point with authorship is unknown.

Failure modes: :class:`AuthorshipUnavailable` when no version and stored
ops reach ``r`` (the history cannot be rebuilt there either), or when
stored history does not apply (corruption, as :func:`documents.replay.replay`
would report it).
"""

from __future__ import annotations

from django.db import transaction

from documents.content import lock_for_read
from documents.models import INITIAL_CONTENT, Document, DocumentVersion, Operation
from realtime.ot import Delta, InvalidDelta
from realtime.ot.authorship import Runs, Tracker, from_json, initial, to_json

__all__ = ["AuthorshipUnavailable", "authorship_at", "authorship_json_at"]


class AuthorshipUnavailable(Exception):
    """The authorship at that revision can no longer be rebuilt from storage."""


def _content_length(content: list[dict]) -> int:
    try:
        return Delta(content).length()
    except InvalidDelta as exc:
        raise AuthorshipUnavailable(f"a stored version is not a document: {exc}") from exc


def _start(document_pk: int, target: int, ops_from: int) -> tuple[int, Runs]:
    """Return the starting revision and its runs (see the module docstring).

    ``ops_from`` is the lowest revision from which every op up to
    ``target`` is stored (``target + 1`` when none is needed).
    """
    usable = DocumentVersion.objects.filter(
        document_id=document_pk, revision__lte=target, revision__gte=ops_from - 1
    )
    kept = (
        usable.exclude(authorship=None)
        .order_by("-revision", "-pk")
        .values_list("revision", "authorship")
        .first()
    )
    if kept is not None:
        revision, stored = kept
        try:
            return revision, from_json(stored)
        except ValueError as exc:
            raise AuthorshipUnavailable(f"stored authorship is malformed: {exc}") from exc
    oldest = usable.order_by("revision", "pk").values_list("revision", "content").first()
    if oldest is not None:
        revision, content = oldest
        return revision, initial(_content_length(list(content)))
    if ops_from <= 1:
        return 0, initial(_content_length(list(INITIAL_CONTENT)))
    raise AuthorshipUnavailable(f"no stored version or ops reach revision {target}")


def authorship_at(document: Document, revision: int | None = None) -> tuple[int, Runs]:
    """Return ``(revision, runs)``: who wrote each character at ``revision``.

    ``revision`` None: the document's head. The runs cover the content at
    that revision exactly (the final newline included).

    :raises AuthorshipUnavailable: it can no longer be rebuilt (module
        docstring).
    """
    with transaction.atomic():
        if lock_for_read(document.pk) is None:
            raise AuthorshipUnavailable("the document is gone")
        head = Document.objects.filter(pk=document.pk).values_list("head_revision", flat=True).get()
        target = head if revision is None else revision
        if target < 0 or target > head:
            raise AuthorshipUnavailable(f"revision {target} is outside 0..{head}")
        stored = Operation.objects.filter(document_id=document.pk, revision__lte=target)
        lowest = stored.order_by("revision").values_list("revision", flat=True).first()
        ops_from = target + 1 if lowest is None else lowest
        if lowest is not None and stored.count() != target - lowest + 1:
            raise AuthorshipUnavailable("the stored ops are not consecutive")
        start, runs = _start(document.pk, target, ops_from)
        rows = (
            Operation.objects.filter(
                document_id=document.pk, revision__gt=start, revision__lte=target
            )
            .order_by("revision")
            .values_list("delta", "author_id", "attribution")
        )
        tracker = Tracker(runs)  # O(chunks) per op, not O(runs)
        try:
            for delta, author_id, attribution in rows.iterator(chunk_size=2000):
                named = from_json(attribution) if attribution is not None else None
                tracker.apply(delta, author_id, named)
        except ValueError as exc:
            raise AuthorshipUnavailable(f"stored history does not apply: {exc}") from exc
    return target, tracker.runs()


def authorship_json_at(document: Document, revision: int | None = None) -> list[list[int | None]]:
    """Return the runs at ``revision`` as stored on a version (JSON-ready)."""
    return to_json(authorship_at(document, revision)[1])
