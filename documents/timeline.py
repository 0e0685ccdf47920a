"""The timeline: a document's content and authorship at any revision, and its ops in pages.

What the timeslider (and compare) reads:

* :func:`timeline_summary`: the revisions that can be shown (``first`` to
  ``head``), the stored versions as points on the way, and ``ops_from``,
  the lowest op revision still stored (compaction deletes older ones);
* :func:`state_at`: the content and authorship runs at a revision;
* :func:`ops_page`: the stored ops after a revision, a page at a time, to
  play the document forward in the browser.

Content at revision ``r`` is a starting point at or before ``r`` with the
ops up to ``r`` replayed with :class:`realtime.ot.DocumentText`, as
:func:`documents.replay.replay` does, authorship included: each piece's
author rides along as a hidden format (:func:`realtime.ot.compare.tag_authors`),
inserts take their op's author (or its attribution), so authorship costs
what the replay costs (:func:`realtime.ot.authorship.apply` walks the
runs for every op: 30 times slower on a 1 MB document). Starting points
are the stored versions and *checkpoints*: the content and runs at every
multiple of :data:`CHECKPOINT_EVERY`, kept in Django's cache
(``TIMELINE_CACHE``, compressed JSON) as they are passed, so any revision
is at most ``CHECKPOINT_EVERY - 1`` ops from one once the way to it was
walked. The history at a revision never changes, so checkpoints are never
invalidated; they expire after :data:`CHECKPOINT_TTL`. A cache per process
(the default ``LocMemCache``) works, a shared one (Redis) lets every worker
use the checkpoints one made.

The authorship starting point is the newest version with stored runs;
text older than it is unknown (``None``), as :mod:`documents.authorship`
says.

Revisions before the oldest stored op (``ops_from - 1``) can only be
shown where a version was stored: :func:`state_at` answers the newest
version at or before such a revision, with that version's revision.

Failure modes:

* a revision outside ``0..head``, an ``after`` outside it, a limit out of
  range: :class:`BadTimelineRequest` (a ``ValueError``), the message says
  what is allowed;
* nothing stored reaches the revision, or stored history does not apply
  (corruption): :class:`TimelineUnavailable`;
* the cache is down or refuses a value: the checkpoint is skipped (the
  answer is only slower).
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.db import transaction
from django.db.models import Min

from documents.content import lock_for_read
from documents.models import INITIAL_CONTENT, Document, DocumentVersion, Operation
from documents.people import display_name
from realtime.ot import DocumentText, InvalidDelta
from realtime.ot.authorship import Runs, from_json, initial, to_json
from realtime.ot.compare import tag_authors, tag_change, untag_authors

logger = logging.getLogger(__name__)

#: Revisions between two cached checkpoints.
CHECKPOINT_EVERY = 500
#: Seconds a checkpoint stays cached.
CHECKPOINT_TTL = 24 * 3600
#: The cache alias holding checkpoints.
TIMELINE_CACHE = "default"
#: Most ops one :func:`ops_page` returns.
MAX_OPS_PAGE = 1000
#: Most version points :func:`timeline_summary` lists (the newest).
MAX_POINTS = 1000


class BadTimelineRequest(ValueError):
    """A revision or page parameter out of range; the message says what is allowed."""


class TimelineUnavailable(Exception):
    """The history at that revision can no longer be rebuilt."""


@dataclass(frozen=True)
class State:
    """The document at one revision."""

    revision: int
    at: datetime | None
    content: list[dict[str, Any]]
    runs: Runs


@dataclass(frozen=True)
class _Base:
    revision: int
    content: list[dict[str, Any]]
    runs: Runs


def _key(document_pk: int, revision: int) -> str:
    return f"collabdocs:timeline:{document_pk}:{revision}"


def _cache_get(keys: list[str]) -> dict[str, Any]:
    try:
        return caches[TIMELINE_CACHE].get_many(keys)
    except Exception as exc:  # noqa: BLE001 - a cache outage only makes answers slower
        logger.warning("timeline checkpoints unreadable: %s: %s", type(exc).__name__, exc)
        return {}


def _cache_put(document_pk: int, revision: int, content: list[dict], runs: Runs) -> None:
    body = json.dumps({"content": content, "runs": to_json(runs)}, ensure_ascii=False)
    try:
        caches[TIMELINE_CACHE].set(
            _key(document_pk, revision), zlib.compress(body.encode(), 1), CHECKPOINT_TTL
        )
    except Exception as exc:  # noqa: BLE001 - a cache outage only makes answers slower
        logger.warning("timeline checkpoint not stored: %s: %s", type(exc).__name__, exc)


def _decode(value: bytes) -> tuple[list[dict], Runs] | None:
    try:
        data = json.loads(zlib.decompress(value))
        return list(data["content"]), from_json(data["runs"])
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


def _ops_from(document_pk: int, head: int) -> int:
    lowest = Operation.objects.filter(document_id=document_pk).aggregate(low=Min("revision"))["low"]
    return head + 1 if lowest is None else int(lowest)


def _head(document_pk: int) -> int:
    head = Document.objects.filter(pk=document_pk).values_list("head_revision", flat=True).first()
    if head is None:
        raise TimelineUnavailable("the document is gone")
    return int(head)


def check_revision(revision: int, head: int, what: str = "rev") -> None:
    """Raise :class:`BadTimelineRequest` unless ``0 <= revision <= head``."""
    if revision < 0 or revision > head:
        raise BadTimelineRequest(f"{what} must be a revision from 0 to {head}, not {revision}.")


def _at(document: Document, revision: int) -> datetime | None:
    op_at = (
        Operation.objects.filter(document_id=document.pk, revision=revision)
        .values_list("created_at", flat=True)
        .first()
    )
    if op_at is not None:
        return op_at
    version_at = (
        DocumentVersion.objects.filter(document_id=document.pk, revision=revision)
        .order_by("pk")
        .values_list("created_at", flat=True)
        .first()
    )
    if version_at is not None:
        return version_at
    return document.created_at if revision == 0 else None


def _base(document: Document, revision: int, ops_from: int) -> _Base:
    """Return the starting point to replay from (module docstring).

    The version's revision is found first and its content (a megabyte, for
    a big document) loaded only when no cached checkpoint is closer.
    """
    usable = DocumentVersion.objects.filter(
        document_id=document.pk, revision__lte=revision, revision__gte=ops_from - 1
    )
    with_runs = (
        usable.exclude(authorship=None).order_by("-revision", "-pk").values_list("pk", "revision")
    ).first()
    oldest = usable.order_by("revision", "pk").values_list("pk", "revision").first()
    candidate = with_runs or oldest
    floor = int(candidate[1]) if candidate is not None else 0
    # A cached checkpoint between the start and the revision is closer.
    first = floor // CHECKPOINT_EVERY + 1
    marks = [n * CHECKPOINT_EVERY for n in range(first, revision // CHECKPOINT_EVERY + 1)]
    if marks:
        found = _cache_get([_key(document.pk, mark) for mark in marks])
        for mark in reversed(marks):
            value = found.get(_key(document.pk, mark))
            decoded = _decode(value) if isinstance(value, bytes) else None
            if decoded is not None:
                return _Base(mark, decoded[0], decoded[1])
    if with_runs is not None:
        row = DocumentVersion.objects.values_list("content", "authorship").get(pk=with_runs[0])
        try:
            return _Base(int(with_runs[1]), list(row[0]), from_json(row[1]))
        except ValueError:
            pass  # Malformed runs: start as unknown from the oldest version.
    if oldest is not None:
        content = list(DocumentVersion.objects.values_list("content", flat=True).get(pk=oldest[0]))
        return _Base(int(oldest[1]), content, initial(_length(content)))
    if ops_from <= 1:
        return _Base(0, list(INITIAL_CONTENT), initial(1))
    raise TimelineUnavailable(f"no stored version or ops reach revision {revision}")


def _length(content: list[dict]) -> int:
    try:
        return DocumentText.from_ops(content).length
    except InvalidDelta as exc:
        raise TimelineUnavailable(f"a stored version is not a document: {exc}") from exc


def state_at(document: Document, revision: int) -> State:
    """Return the content and authorship at ``revision`` (module docstring).

    :raises BadTimelineRequest: ``revision`` is outside ``0..head``.
    :raises TimelineUnavailable: nothing stored reaches it, or it does not apply.
    """
    with transaction.atomic():
        if lock_for_read(document.pk) is None:
            raise TimelineUnavailable("the document is gone")
        head = _head(document.pk)
        check_revision(revision, head)
        ops_from = _ops_from(document.pk, head)
        if revision < ops_from - 1:
            # Compacted away: the newest version at or before it, as it is.
            older = (
                DocumentVersion.objects.filter(document_id=document.pk, revision__lte=revision)
                .order_by("-revision", "-pk")
                .first()
            )
            if older is None:
                raise TimelineUnavailable(f"nothing stored reaches revision {revision}")
            content = list(older.content)
            runs = from_json(older.authorship) if older.authorship else initial(_length(content))
            return State(older.revision, older.created_at, content, runs)
        base = _base(document, revision, ops_from)
        rows = (
            Operation.objects.filter(
                document_id=document.pk, revision__gt=base.revision, revision__lte=revision
            )
            .order_by("revision")
            .values_list("revision", "delta", "author_id", "attribution")
        )
        ops = list(rows)
        if len(ops) != revision - base.revision:
            raise TimelineUnavailable("the stored ops are not consecutive")
        if not ops:  # A starting point at the revision itself: as it is.
            return State(revision, _at(document, revision), base.content, base.runs)
        try:
            # Authorship rides along as a hidden format, so DocumentText
            # replays both at its speed (realtime.ot.compare.tag_authors).
            text = DocumentText.from_ops(tag_authors(base.content, base.runs))
            for rev, delta, author, attribution in ops:
                named = from_json(attribution) if attribution is not None else None
                text.apply(tag_change(delta, author, named))
                if rev % CHECKPOINT_EVERY == 0 and rev != revision:
                    _cache_put(document.pk, rev, *untag_authors(text.to_ops()))
            content, runs = untag_authors(text.to_ops())
        except (InvalidDelta, ValueError) as exc:
            raise TimelineUnavailable(f"stored history does not apply: {exc}") from exc
        if revision % CHECKPOINT_EVERY == 0 and revision != base.revision:
            _cache_put(document.pk, revision, content, runs)
        return State(revision, _at(document, revision), content, runs)


@dataclass(frozen=True)
class Point:
    """A stored version on the timeline."""

    revision: int
    at: datetime | None
    kind: str
    version_id: int


@dataclass(frozen=True)
class Summary:
    """What the timeslider can show (module docstring)."""

    first: int
    head: int
    points: list[Point]
    ops_from: int


def timeline_summary(document: Document) -> Summary:
    """Return the range of revisions, the version points (oldest first) and ``ops_from``."""
    head = _head(document.pk)
    versions = DocumentVersion.objects.filter(document_id=document.pk)
    lowest = versions.aggregate(low=Min("revision"))["low"]
    ops_from = _ops_from(document.pk, head)
    first = min(int(lowest), ops_from - 1) if lowest is not None else max(0, ops_from - 1)
    newest = list(
        versions.order_by("-revision", "-pk").values_list("revision", "created_at", "kind", "pk")[
            :MAX_POINTS
        ]
    )
    points = [Point(int(rev), at, kind, pk) for rev, at, kind, pk in reversed(newest)]
    return Summary(first=first, head=head, points=points, ops_from=ops_from)


@dataclass(frozen=True)
class PlayedOp:
    """One stored op as the timeslider plays it."""

    revision: int
    delta: list[dict[str, Any]]
    user: dict[str, Any] | None
    at: datetime


def ops_page(document: Document, *, after: int, limit: int) -> tuple[list[PlayedOp], int | None]:
    """Return the stored ops after revision ``after`` (at most ``limit``) and the next ``after``.

    The next ``after`` is None once the page reaches the head.

    :raises BadTimelineRequest: ``after`` outside ``ops_from - 1 .. head``, or
        ``limit`` outside ``1..MAX_OPS_PAGE``.
    """
    if limit < 1 or limit > MAX_OPS_PAGE:
        raise BadTimelineRequest(f"limit must be from 1 to {MAX_OPS_PAGE}, not {limit}.")
    head = _head(document.pk)
    check_revision(after, head, "after")
    ops_from = _ops_from(document.pk, head)
    if after < ops_from - 1:
        raise BadTimelineRequest(
            f"The ops before revision {ops_from} are no longer stored: "
            f"start at a version (after={ops_from - 1} or later)."
        )
    rows = (
        Operation.objects.filter(document_id=document.pk, revision__gt=after)
        .select_related("author")
        .order_by("revision")[:limit]
    )
    played = [
        PlayedOp(
            revision=row.revision,
            delta=list(row.delta),
            user=None
            if row.author is None
            else {"id": row.author.pk, "name": display_name(row.author)},
            at=row.created_at,
        )
        for row in rows
    ]
    last = played[-1].revision if played else after
    return played, (last if last < head else None)
