"""Replay: a snapshot's content with the ops after it applied in order.

The one place that turns stored history into content. Every reader goes
through it: the page (:mod:`documents.content`), compaction
(:mod:`documents.compaction`), the history (:func:`documents.history.content_at`)
and the realtime authority when it opens a document.

It applies each op with :class:`realtime.ot.DocumentText`, which costs
O(log n + k) per op; composing Deltas instead costs the length of the
document per op. The result equals quill-delta's composition of the same
ops (``DocumentText``'s invariant).

Failure modes:

* a snapshot that is not a document, or an op that does not fit the
  content it is applied to, raises :class:`realtime.ot.InvalidDelta`;
  nothing is returned half-applied. Stored history is valid, so callers
  treat this as corruption (compaction skips the document, the page falls
  back, the history says the version can no longer be rebuilt).

Pure: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from realtime.ot import Delta, DocumentText, Op

#: Called after each op with its index, the op as a Delta and the
#: document's length (UTF-16 code units) once it is applied.
OnOp = Callable[[int, Delta, int], None]


def replay(
    content: Iterable[Op] | Delta,
    ops: Iterable[list[Op] | Delta],
    *,
    on_op: OnOp | None = None,
) -> DocumentText:
    """Return ``content`` with each of ``ops`` applied in order.

    ``on_op(i, delta, length_after)`` lets a caller collect what it needs
    per op (the authority's window, compaction's authors) in the same pass.

    :raises InvalidDelta: ``content`` is not a document, or an op does not
        apply to the content before it.
    """
    text = DocumentText.from_ops(content)
    for index, op in enumerate(ops):
        delta = op if isinstance(op, Delta) else Delta(op)
        text.apply(delta)
        if on_op is not None:
            on_op(index, delta, text.length)
    return text
