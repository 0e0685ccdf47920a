"""Compare two points of a document's history: the redline and who changed what.

:func:`compare` resolves its two ends (a revision, a stored version, or the
person's previous visit for "changes since you last opened"), reads the
content and authorship at each (:mod:`documents.timeline`, versions as
stored) and hands them to the pure :func:`realtime.ot.compare.redline`.

* ``from_version`` / ``to_version``: a version's own content and runs
  (runs rebuilt from the history when the version predates authorship);
* ``from_rev`` / ``to_rev``: the content at that revision (``to`` omitted:
  now, the head);
* ``since_last_visit``: from the revision of the person's previous visit
  (:mod:`documents.visits`) to now, marking only other people's changes:
  text the person wrote is plain, text the person deleted is left out.
  Who deleted what is followed through the ops in between
  (:func:`realtime.ot.compare.deleters`) when there are at most
  :data:`MAX_FOLLOWED_OPS` of them; past that, deletions are all shown.

Forward comparisons of at most :data:`MAX_FOLLOWED_OPS` ops follow who
deleted what the same way, so the summary credits removed words to the
person who removed them (null past that, or backwards).

Who may compare: whoever may browse the history
(:func:`documents.history.history_access`).

Failure modes: a parameter out of range or missing, or no previous visit:
:class:`BadCompare` (a ``ValueError`` with a sentence for the person); the
history at an end can no longer be rebuilt:
:class:`documents.timeline.TimelineUnavailable`; a refusal of access as
:mod:`documents.history` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from documents import history, timeline, visits
from documents.models import Document, Operation
from documents.people import display_name
from realtime.ot import Delta
from realtime.ot.authorship import Runs, from_json
from realtime.ot.compare import Redline, deleters, redline

#: Most ops followed to learn who deleted what for "since you last opened".
MAX_FOLLOWED_OPS = 5_000
#: Work budget (steps, realtime.ot.compare.deleters) of following them.
FOLLOW_BUDGET = 2_000_000


class BadCompare(ValueError):
    """The comparison asked for cannot be made; the message says why."""


@dataclass(frozen=True)
class End:
    """One end of a comparison."""

    revision: int
    at: datetime | None
    content: list[dict[str, Any]]
    runs: Runs | None
    version_id: int | None = None


@dataclass(frozen=True)
class Comparison:
    """Both ends and the redline between them."""

    start: End
    end: End
    result: Redline
    only_others_than: int | None

    def as_json(self, color: Any = None) -> dict[str, Any]:
        """Return the answer of the compare endpoint (contract "History").

        ``color(user_id) -> str`` names each author's colour (None: null).
        """
        summary = self.result.summary.as_json()
        ids = [entry["id"] for entry in summary["by"] if entry["id"] is not None]
        users = {u.pk: u for u in get_user_model()._default_manager.filter(pk__in=ids)}
        for entry in summary["by"]:
            user = users.get(entry["id"])
            entry["name"] = display_name(user) if user is not None else None
            entry["color"] = color(entry["id"]) if color and entry["id"] is not None else None
        return {
            "from": _end_json(self.start),
            "to": _end_json(self.end),
            "ops": self.result.ops,
            "summary": summary,
            "only_others": self.only_others_than is not None,
        }


def _end_json(end: End) -> dict[str, Any]:
    return {
        "rev": end.revision,
        "at": end.at.isoformat() if end.at else None,
        "version_id": end.version_id,
    }


def _at_version(document: Document, version_id: int) -> End:
    try:
        version = history.version_get(document=document, version_id=version_id)
    except ValidationError:
        raise BadCompare(f"Version {version_id} doesn’t exist in this document.") from None
    runs: Runs | None = None
    if version.authorship is not None:
        try:
            runs = from_json(version.authorship)
        except ValueError:
            runs = None
    if runs is None:
        try:
            runs = timeline.state_at(document, version.revision).runs
        except (timeline.TimelineUnavailable, ValueError):
            runs = None
    return End(version.revision, version.created_at, list(version.content), runs, version.pk)


def _at_revision(document: Document, revision: int) -> End:
    state = timeline.state_at(document, revision)
    return End(state.revision, state.at, state.content, state.runs)


def _followed_deleters(document: Document, start: End, end: End) -> Runs | None:
    if end.revision <= start.revision or end.revision - start.revision > MAX_FOLLOWED_OPS:
        return None
    rows = (
        Operation.objects.filter(
            document_id=document.pk, revision__gt=start.revision, revision__lte=end.revision
        )
        .order_by("revision")
        .values_list("delta", "author_id")
    )
    changes = list(rows)  # Stored ops are normalised already.
    if len(changes) != end.revision - start.revision:
        return None
    return deleters(Delta(start.content).length(), changes, FOLLOW_BUDGET)


def compare(
    *,
    document: Document,
    actor: AbstractBaseUser,
    link_token: str | None = None,
    from_rev: int | None = None,
    to_rev: int | None = None,
    from_version: int | None = None,
    to_version: int | None = None,
    since_last_visit: bool = False,
) -> Comparison:
    """Compare two points of the history (module docstring).

    :raises BadCompare: the ends are missing, doubled or out of range.
    :raises documents.timeline.TimelineUnavailable: an end cannot be rebuilt.
    :raises documents.exceptions.ActionNotAllowed: the actor may not browse the history.
    """
    history.check_browse(actor=actor, document=document, link_token=link_token)
    starts = sum(x is not None for x in (from_rev, from_version)) + int(since_last_visit)
    if starts != 1:
        raise BadCompare("Say what to compare from: one of from, from_version or since.")
    if to_rev is not None and to_version is not None:
        raise BadCompare("Say what to compare to: to or to_version, not both.")
    if since_last_visit and (to_rev is not None or to_version is not None):
        raise BadCompare("Changes since your last visit are compared with now.")
    head = document.__class__.objects.values_list("head_revision", flat=True).get(pk=document.pk)
    for name, value in (("from", from_rev), ("to", to_rev)):
        if value is not None and not 0 <= value <= head:
            raise BadCompare(f"{name} must be a revision from 0 to {head}, not {value}.")
    only_others: int | None = None
    if since_last_visit:
        visit = visits.last_visit(user=actor, document=document)
        if visit is None:
            raise BadCompare(
                "There is no earlier visit of yours to compare with: "
                "you are on your first visit (openings within half an hour count as one)."
            )
        from_rev = min(visit.revision, head)
        only_others = actor.pk
    if from_version is not None:
        start = _at_version(document, from_version)
    else:
        assert from_rev is not None
        start = _at_revision(document, from_rev)
    if to_version is not None:
        end = _at_version(document, to_version)
    else:
        end = _at_revision(document, head if to_rev is None else to_rev)
    gone = _followed_deleters(document, start, end)
    result = redline(
        start.content,
        end.content,
        start.runs,
        end.runs,
        only_others_than=only_others,
        deleted_by=gone,
    )
    return Comparison(start, end, result, only_others)
