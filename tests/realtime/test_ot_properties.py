"""Algebraic properties of the OT core, searched by hypothesis.

Conventions are quill-delta's: ``a.transform(b, True)`` rewrites ``b`` to
follow ``a`` with ``a`` first on ties, so two sites that applied ``a`` and
``b`` converge with ``a ∘ a.transform(b, True) == b ∘ b.transform(a, False)``.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime.ot import Delta, DocumentText
from realtime.ot.validate import check_string

from . import ot_gen
from .ot_gen import _fresh_realtime_state  # noqa: F401  (no Django here)

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
rngs = st.randoms(use_true_random=False)


def _valid_on(doc: Delta, change: Delta) -> bool:
    """Return whether ``change`` is a valid change for document ``doc``."""
    DocumentText.from_ops(doc.ops).check(change)  # Raises InvalidDelta if not.
    return all(
        check_string(op["insert"]) is None for op in change.ops if isinstance(op.get("insert"), str)
    )


def _setup(rng: random.Random) -> tuple[Delta, Delta, Delta]:
    """Return a document and two concurrent valid changes on it."""
    doc = ot_gen.document(rng)
    return doc, ot_gen.valid_change(rng, doc), ot_gen.valid_change(rng, doc)


@SETTINGS
@given(rngs)
def test_transform_converges(rng: random.Random) -> None:
    doc, a, b = _setup(rng)
    a_then_b = a.compose(a.transform(b, True))
    b_then_a = b.compose(b.transform(a, False))
    assert a_then_b == b_then_a
    assert doc.compose(a_then_b) == doc.compose(b_then_a)


@SETTINGS
@given(rngs)
def test_transform_converges_on_documents(rng: random.Random) -> None:
    doc, a, b = _setup(rng)
    left = DocumentText.from_ops(doc.ops)
    left.apply(a)
    left.apply(a.transform(b, True))
    right = DocumentText.from_ops(doc.ops)
    right.apply(b)
    right.apply(b.transform(a, False))
    assert left.to_ops() == right.to_ops()


@SETTINGS
@given(rngs)
def test_compose_is_associative(rng: random.Random) -> None:
    doc, a, _ = _setup(rng)
    doc_a = doc.compose(a)
    b = ot_gen.valid_change(rng, doc_a)
    c = ot_gen.valid_change(rng, doc_a.compose(b))
    assert a.compose(b).compose(c) == a.compose(b.compose(c))
    assert doc.compose(a).compose(b).compose(c) == doc.compose(a.compose(b).compose(c))


@SETTINGS
@given(rngs)
def test_compose_of_arbitrary_deltas_is_associative(rng: random.Random) -> None:
    a, b, c = ot_gen.any_delta(rng), ot_gen.any_delta(rng), ot_gen.any_delta(rng)
    assert a.compose(b).compose(c) == a.compose(b.compose(c))


@SETTINGS
@given(rngs)
def test_invert_undoes(rng: random.Random) -> None:
    doc, change, _ = _setup(rng)
    inverse = change.invert(doc)
    assert doc.compose(change).compose(inverse) == doc
    assert _valid_on(doc.compose(change), inverse)


@SETTINGS
@given(rngs)
def test_diff_recomposes(rng: random.Random) -> None:
    doc, change, _ = _setup(rng)
    other = doc.compose(change) if rng.random() < 0.7 else ot_gen.document(rng)
    assert doc.compose(doc.diff(other)) == other


@SETTINGS
@given(rngs, st.booleans())
def test_transform_position_agrees_with_transforming_a_cursor_insert(
    rng: random.Random, priority: bool
) -> None:
    doc, change, _ = _setup(rng)
    units = ot_gen.units_of(doc)
    index = rng.randint(0, len(units) - 1)
    while ot_gen._splits(units, index):
        index -= 1
    cursor = Delta().retain(index).insert({"cursor": "me"})
    moved = change.transform(cursor, priority)
    at = moved.ops[0].get("retain", 0)
    # quill-delta's transformPosition priority is the opposite sense:
    # priority=True there keeps the index in place on an insert tie.
    assert change.transform_position(index, not priority) == at


@SETTINGS
@given(rngs, st.booleans())
def test_transform_and_compose_never_split_a_surrogate_pair(
    rng: random.Random, priority: bool
) -> None:
    doc, a, b = _setup(rng)
    doc_a = doc.compose(a)
    assert _valid_on(doc_a, a.transform(b, priority))
    c = ot_gen.valid_change(rng, doc_a)
    assert _valid_on(doc, a.compose(c))
    for op in doc_a.ops:
        if isinstance(op["insert"], str):
            assert check_string(op["insert"]) is None


@SETTINGS
@given(rngs)
def test_document_text_apply_equals_compose(rng: random.Random) -> None:
    doc = ot_gen.document(rng, max_ops=12)
    text = DocumentText.from_ops(doc.ops)
    for _ in range(5):
        change = ot_gen.valid_change(rng, doc)
        doc = doc.compose(change)
        text.apply(change)
        assert text.to_ops() == doc.ops
        assert text.length == doc.length()
