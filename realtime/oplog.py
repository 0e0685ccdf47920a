"""The in-memory op log of an open document: its entries and how a load fills it.

* :class:`Submission`: an op as its author sent it (kept while pending, to
  transform it again after a reload);
* :class:`Entry`: one op in the history, pending or committed, as the
  sequencer accepted it (transformed, serialised once, numbered);
* :class:`LoadedState` / :func:`build_state`: a stored document (snapshot +
  later ops, plus ops compaction kept before the snapshot) replayed into the
  content and the window of recent entries the sequencer starts from;
  :func:`load_state` reads and builds it on a store thread.

Pure data and replay (:mod:`documents.replay`): no asyncio, no frames.
Failure modes: a stored op that does not apply raises
:class:`realtime.ot.InvalidDelta` from :func:`build_state` (storage is
corrupt; the document does not open).
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from documents.replay import replay
from realtime import protocol
from realtime.ot import Delta, DocumentText
from realtime.ot import authorship as ot_authorship
from realtime.ot.authorship import Runs

if TYPE_CHECKING:
    from documents.store import DocumentStore, LoadedDocument, StoredOp

#: An author key: whatever the caller uses to tell authors apart.
A = TypeVar("A", bound=Hashable)


@dataclass(slots=True)
class Submission(Generic[A]):
    """An op as its author sent it: kept to transform it again after a conflict.

    ``may_edit`` is what the review policy (:func:`realtime.ot.review.policy_problem`)
    holds the op to: True for an editor's op, False for a commenter's,
    None for a change the server makes (a restore, a repair, a decision on
    suggestions), which is trusted. False by default: a submission nobody
    marked gets a commenter's rules, never the server's trust.
    """

    op_id: str
    base_rev: int
    change: Delta
    author: A | None
    user_id: int | None
    may_edit: bool | None = False
    #: Who wrote its inserts when not ``user_id`` (a restore keeps the
    #: restored text's authors): runs over the inserted characters in order.
    #: Transforming a change never splits nor reorders its inserts, so the
    #: runs stay valid for the transformed change.
    attribution: Runs | None = None


class Entry(Generic[A]):
    """One op in the history, committed or pending."""

    __slots__ = (
        "rev",
        "op_id",
        "delta",
        "delta_json",
        "user_id",
        "author",
        "ackers",
        "length",
        "submission",
        "attribution",
    )

    def __init__(
        self,
        *,
        rev: int,
        op_id: str,
        delta: Delta,
        delta_json: str,
        user_id: int | None,
        author: A | None,
        length: int,
        submission: Submission[A] | None = None,
        attribution: Runs | None = None,
    ) -> None:
        self.rev = rev
        self.op_id = op_id
        self.delta = delta
        #: The delta's JSON, made once: storage and every frame reuse it.
        self.delta_json = delta_json
        self.user_id = user_id
        self.author = author
        #: Other authors (sockets) that resent this op while it was pending.
        self.ackers: list[A] | None = None
        #: Length of the document after this op.
        self.length = length
        #: Kept while pending, to accept the op again after a reload.
        self.submission = submission
        #: Who wrote its inserts, when not ``user_id`` (see Submission).
        self.attribution = attribution

    def acks(self, author: A) -> bool:
        """Return whether ``author`` gets this op's ack rather than the op."""
        return self.author is author or (self.ackers is not None and author in self.ackers)

    def add_acker(self, author: A | None) -> None:
        """Owe ``author`` (who resent this op) its ack too."""
        if author is None or self.author is author:
            return
        if self.ackers is None:
            self.ackers = []
        if author not in self.ackers:
            self.ackers.append(author)


@dataclass(slots=True)
class LoadedState:
    """What :func:`build_state` makes of a loaded document (off the loop)."""

    document_pk: int
    text: DocumentText
    head: int
    window_start: int
    start_length: int
    window: list[Entry[Any]]
    snapshot_revision: int = 0
    #: Who wrote each character of ``text`` (realtime.ot.authorship).
    runs: Runs | None = None


def _attribution(stored: StoredOp) -> Runs | None:
    """Return a stored op's attribution, or None (absent, or malformed: its author's)."""
    if stored.attribution is None:
        return None
    try:
        return ot_authorship.from_json(stored.attribution)
    except ValueError:
        return None


def _stored_entry(stored: StoredOp, delta: Delta, length: int) -> Entry[Any]:
    return Entry(
        rev=stored.revision,
        op_id=stored.op_id,
        delta=delta,
        delta_json=protocol.dumps(stored.delta),
        user_id=stored.author_id,
        author=None,
        length=length,
        attribution=_attribution(stored),
    )


def _snapshot_runs(loaded: LoadedDocument) -> Runs | None:
    """Return the snapshot's stored runs, or None when it has none (or bad ones)."""
    if loaded.snapshot_authorship is None:
        return None
    try:
        return ot_authorship.from_json(loaded.snapshot_authorship)
    except ValueError:
        return None


def build_state(loaded: LoadedDocument, *, window_size: int) -> LoadedState:
    """Replay a loaded document into content and a window of its last ops.

    When the ops after the snapshot do not fill the window, the ops that
    compaction kept at or before the snapshot (``loaded.earlier``) fill it
    from the front: they serve catch-up and transformation only, the
    content already holds them. Their lengths are worked out backwards
    from the snapshot's.
    """
    ops = loaded.ops
    keep_from = max(0, len(ops) - window_size)
    window: list[Entry[Any]] = []
    #: [length before the window, the snapshot's length]
    lengths = [0, 0]
    #: The runs so far ("unknown" over the whole snapshot when it stores
    #: none: reset once its length is known, at the first op).
    snapshot_runs = _snapshot_runs(loaded)
    runs = ot_authorship.Tracker(snapshot_runs or [])

    def collect(index: int, delta: Delta, length: int) -> None:
        if index == 0:
            lengths[1] = length - delta.change_length()
            if snapshot_runs is None or runs.length != lengths[1]:
                runs.reset(ot_authorship.initial(lengths[1]))
        stored = ops[index]
        try:
            runs.apply(delta.ops, stored.author_id, _attribution(stored))
        except ValueError:  # an attribution that does not fit: the author's
            runs.apply(delta.ops, stored.author_id)
        if index < keep_from:
            lengths[0] = length
        else:
            window.append(_stored_entry(ops[index], delta, length))

    text = replay(loaded.snapshot_content, (stored.delta for stored in ops), on_op=collect)
    if not ops:
        lengths[1] = text.length
    final = runs.runs()
    if (not ops and snapshot_runs is None) or ot_authorship.length(final) != text.length:
        final = ot_authorship.initial(text.length)
    if keep_from == 0:
        room = window_size - len(ops)
        earlier = list(loaded.earlier)[-room:] if room > 0 else []
        length = lengths[1]
        front: list[Entry[Any]] = []
        for stored in reversed(earlier):
            delta = Delta(stored.delta)
            front.append(_stored_entry(stored, delta, length))
            length -= delta.change_length()
        front.reverse()
        window[:0] = front
        lengths[0] = length
    head = loaded.head_revision
    return LoadedState(
        document_pk=loaded.document_pk,
        text=text,
        head=head,
        window_start=head - len(window),
        start_length=lengths[0],
        window=window,
        snapshot_revision=loaded.snapshot_revision,
        runs=final,
    )


def load_state(*, store: DocumentStore, public_id: uuid.UUID, window_size: int) -> LoadedState:
    """Load a document from ``store`` and build its state (blocks: a store thread)."""
    loaded = store.load(public_id=public_id, earlier=window_size)
    return build_state(loaded, window_size=window_size)
