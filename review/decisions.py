"""Accepting and rejecting suggestions: one server-made change through the authority.

A suggestion lives in the content as a mark (``realtime.ot.review``); to
decide it is to change the content, so :func:`suggestions_decide` asks the
document's authority for a ``decide`` edit (:mod:`review.edits`). The
authority computes the change from its tip, so every selected suggestion
present at that moment is decided at once, atomically, and the change is
broadcast and undoable like any edit.

Who may decide: editors anything (one, several, all, all by one person);
commenters only ``accept: false`` on their own suggestions (withdrawing
them). Each affected author is notified once per decision.

The number decided and their authors come from the authority's answer
(``AppliedChange.decided``): it, not this process, chose what the change
covered, from the content at its tip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from documents.exceptions import ActionNotAllowed
from documents.live import decide_edit, revert_edit
from documents.models import Document
from documents.selectors import DocumentAccess
from realtime.ot.review import parse_mark
from review import notices
from review.edits import apply_review_edit
from review.exceptions import DecisionNotFound
from review.models import Decision as DecisionRecord

#: At most this many suggestion ids in one request ("all" has no limit).
MAX_IDS = 1000


@dataclass(frozen=True)
class Selection:
    """Which suggestions a decision covers: ids, one author's, or all (both None)."""

    ids: frozenset[str] | None = None
    author: int | None = None


@dataclass(frozen=True)
class Decision:
    """What a decision changed: the stored change (None: nothing matched) and a count."""

    revision: int | None
    op_id: str | None
    delta: list[dict[str, Any]] = field(default_factory=list)
    decided: int = 0


def parse_selection(*, ids: Any, all_: Any, author: Any) -> Selection:
    """Return the selection a request names, or raise ``ValidationError`` saying why not.

    Exactly one of ``ids`` (a non-empty list of marks), ``all_`` (true) and
    ``author`` (a user id) must be given.
    """
    given = [name for name, value in (("ids", ids), ("all", all_), ("author", author)) if value]
    if len(given) != 1:
        raise ValidationError(
            "Say which suggestions: “ids” (a list), “all”: true, or “author” (a person’s id).",
            code="selection",
        )
    if given == ["all"] and all_ is not True:
        raise ValidationError("“all” must be true.", code="selection")
    if ids:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValidationError("“ids” must be a list of suggestion ids.", code="ids")
        if len(ids) > MAX_IDS:
            raise ValidationError(
                f"Decide at most {MAX_IDS} suggestions at once, or use “all”.", code="ids"
            )
        bad = next((i for i in ids if parse_mark(i) is None), None)
        if bad is not None:
            raise ValidationError(f"“{bad[:60]}” is not a suggestion id.", code="ids")
        return Selection(ids=frozenset(ids))
    if author:
        if isinstance(author, bool) or not isinstance(author, int) or author < 1:
            raise ValidationError("“author” must be a person’s id.", code="author")
        return Selection(author=author)
    return Selection()


def _check_may_decide(
    access: DocumentAccess, document: Document, actor: Any, *, accept: bool, selection: Selection
) -> None:
    if document.is_trashed:
        raise ValidationError("Restore the document from the trash first.", code="trashed")
    if access.can_edit:
        return
    if not access.can_comment:
        raise ActionNotAllowed("You can view this document but not decide suggestions.")
    own = (selection.author == actor.pk) or (
        selection.ids is not None
        and all(
            (mark := parse_mark(raw)) is not None and mark.author == actor.pk
            for raw in selection.ids
        )
    )
    if accept or not own:
        raise ActionNotAllowed("Only editors can decide suggestions; you can reject your own.")


def _by_author(decided: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Return ``{author id: [mark, ...]}`` of the suggestions a change decided."""
    by_author: dict[int, list[str]] = {}
    for suggestion in decided:
        marks = by_author.setdefault(int(suggestion["author"]), [])
        if suggestion["id"] not in marks:
            marks.append(suggestion["id"])
    return by_author


def suggestions_decide(
    *,
    document: Document,
    access: DocumentAccess,
    actor: Any,
    accept: Any,
    selection: Selection,
) -> Decision:
    """Accept (or reject) the selected suggestions with one live change.

    Call outside a transaction.

    :raises ActionNotAllowed: see the module docstring.
    :raises ValidationError: bad input.
    :raises review.exceptions.ReviewChangeFailed: the authority could not apply it now.
    """
    if not isinstance(accept, bool):
        raise ValidationError("“accept” must be true or false.", code="accept")
    _check_may_decide(access, document, actor, accept=accept, selection=selection)
    ids = sorted(selection.ids) if selection.ids is not None else None
    author = selection.author
    if not access.can_edit:
        # A commenter's own only: the authority filters by author too, so a
        # mark that changed hands could never be decided in her name.
        author = actor.pk
    applied = apply_review_edit(
        document=document,
        edit=decide_edit(accept=accept, ids=ids, author=author),
        actor=actor,
    )
    if applied is None:
        return Decision(revision=None, op_id=None)
    by_author = _by_author(applied.decided)
    decided = sum(len(marks) for marks in by_author.values())
    with transaction.atomic():
        DecisionRecord.objects.create(
            document=document,
            revision=applied.revision,
            op_id=applied.op_id,
            actor=actor,
            accept=accept,
            decided=decided,
        )
        notices.suggestions_decided(
            document=document, actor=actor, accept=accept, marks_by_author=by_author
        )
    return Decision(
        revision=applied.revision, op_id=applied.op_id, delta=applied.delta, decided=decided
    )


def decision_undo(
    *, document: Document, access: DocumentAccess, actor: Any, revision: Any
) -> Decision:
    """Undo one's own decision (stored at ``revision``) with one live change.

    The document's authority applies the inverse of that change, moved over
    everything typed since, as a trusted change (the policy would refuse a
    browser re-setting other people's marks). Once per decision; only by
    its maker while they may still decide so. ``decided`` in the answer is
    how many suggestions the undone decision had covered. Call outside a
    transaction.

    :raises DecisionNotFound: no decision at that revision.
    :raises ActionNotAllowed: not the maker, or no longer allowed.
    :raises ValidationError: a bad revision, or undone already.
    :raises review.exceptions.ReviewChangeFailed: the authority cannot
        revert it (too much changed, compacted away, storage down).
    """
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise ValidationError("“revision” must be the revision of a decision.", code="revision")
    if document.is_trashed:
        raise ValidationError("Restore the document from the trash first.", code="trashed")
    record = DecisionRecord.objects.filter(document=document, revision=revision).first()
    if record is None:
        raise DecisionNotFound(revision)
    if record.actor_id != actor.pk:
        raise ActionNotAllowed("Only the person who made that decision can undo it.")
    if not (access.can_edit or (access.can_comment and not record.accept)):
        raise ActionNotAllowed("You may no longer decide suggestions on this document.")
    # Claimed before the change, so two undos of one decision cannot both
    # apply its inverse; released again if the authority refuses.
    claimed = DecisionRecord.objects.filter(pk=record.pk, undone_at__isnull=True).update(
        undone_at=timezone.now()
    )
    if not claimed:
        raise ValidationError("That decision was undone already.", code="undone")
    try:
        applied = apply_review_edit(document=document, edit=revert_edit(revision), actor=actor)
    except BaseException:
        DecisionRecord.objects.filter(pk=record.pk).update(undone_at=None)
        raise
    if applied is None:
        return Decision(revision=None, op_id=None, decided=record.decided)
    DecisionRecord.objects.filter(pk=record.pk).update(undone_revision=applied.revision)
    return Decision(
        revision=applied.revision,
        op_id=applied.op_id,
        delta=applied.delta,
        decided=record.decided,
    )
