"""Authorship read from storage, and kept by compaction (compact_docs).

authorship_at must equal a per-character derivation from the full op log
at any revision; version_compact stores the runs with the snapshot, so
after the folded ops are deleted the runs still say who wrote what; text
from before authorship was kept (a snapshot without it) is "unknown".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from documents import services
from documents.authorship import AuthorshipUnavailable, authorship_at
from documents.compaction import Status, version_compact
from documents.models import Document, DocumentVersion, Operation
from realtime.ot.authorship import Runs, to_json
from realtime.ot.delta import op_length

from .test_compaction import seed_for, write_history


@pytest.fixture(autouse=True)
def _no_retention(settings: Any) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 0}


@pytest.fixture
def people(db: None, make_user: Callable[..., Any]) -> list[Any]:
    return [make_user("ada"), make_user("bo"), make_user("cy")]


def per_character(rows: list[tuple[list[dict], int | None, Any]]) -> list[int | None]:
    """One author per character after ``rows`` (delta, author, attribution) from "\\n"."""
    chars: list[int | None] = [None]
    for delta, author, attribution in rows:
        named = [a for n, a in attribution for _ in range(n)] if attribution else None
        out: list[int | None] = []
        pos = taken = 0
        for op in delta:
            n = op_length(op)
            if "insert" in op:
                out.extend([author] * n if named is None else named[taken : taken + n])
                taken += n
            elif "retain" in op:
                out.extend(chars[pos : pos + n])
                pos += n
            else:
                pos += n
        out.extend(chars[pos:])
        chars = out
    return chars


def log_of(doc: Document) -> list[tuple[list[dict], int | None, Any]]:
    return list(
        Operation.objects.filter(document=doc)
        .order_by("revision")
        .values_list("delta", "author_id", "attribution")
    )


def expand(runs: Runs) -> list[int | None]:
    return [author for count, author in runs for _ in range(count)]


def test_authorship_at_matches_the_op_log_at_every_revision(people: list[Any]) -> None:
    rng = random.Random(seed_for("authorship-at"))
    doc = services.document_create(owner=people[0], title="Notes")
    write_history(doc, rng, 40, people)
    log = log_of(doc)
    for revision in range(0, 41, 5):
        rev, runs = authorship_at(doc, revision)
        assert rev == revision
        assert expand(runs) == per_character(log[:revision])
    assert authorship_at(doc)[0] == 40


def test_compaction_keeps_authorship_after_the_ops_are_gone(people: list[Any]) -> None:
    seed = seed_for("compact-authorship")
    rng = random.Random(seed)
    doc = services.document_create(owner=people[0], title="Notes")
    write_history(doc, rng, 60, people)
    # One op puts back text written by someone else (a restore's attribution).
    head = doc.head_revision
    Operation.objects.create(
        document=doc,
        revision=head + 1,
        op_id="restore000000000000:1",
        delta=[{"insert": "back"}],
        author=people[0],
        attribution=[[2, people[1].pk], [2, people[2].pk]],
    )
    Document.objects.filter(pk=doc.pk).update(head_revision=head + 1)
    doc.refresh_from_db()
    expected = per_character(log_of(doc))
    assert expected[:4] == [people[1].pk] * 2 + [people[2].pk] * 2
    result = version_compact(document=doc, keep_ops=0)
    assert result.status == Status.COMPACTED, (seed, result)
    assert not Operation.objects.filter(document=doc).exists()
    snapshot = DocumentVersion.objects.get(pk=result.version_id)
    assert expand(snapshot.authorship) == expected, f"seed={seed}"
    # More history on top: derived from the snapshot's runs plus the new ops.
    write_history(doc, rng, 20, people)
    tail = log_of(doc)
    rev, runs = authorship_at(doc)
    chars = expected
    for delta, author, _ in tail:
        chars = per_character_from(chars, delta, author)
    assert expand(runs) == chars, f"seed={seed}"
    # Revisions whose ops are gone cannot be rebuilt any more.
    with pytest.raises(AuthorshipUnavailable):
        authorship_at(doc, 10)


def per_character_from(chars: list[int | None], delta: list[dict], author: int | None) -> list:
    out: list[int | None] = []
    pos = 0
    for op in delta:
        n = op_length(op)
        if "insert" in op:
            out.extend([author] * n)
        elif "retain" in op:
            out.extend(chars[pos : pos + n])
            pos += n
        else:
            pos += n
    return out + chars[pos:]


def test_text_from_before_authorship_was_kept_is_unknown(people: list[Any]) -> None:
    rng = random.Random(seed_for("authorship-unknown"))
    doc = services.document_create(owner=people[0], title="Notes")
    write_history(doc, rng, 10, people)
    version_compact(document=doc, keep_ops=0)
    # As a snapshot stored before this feature: no authorship on it.
    DocumentVersion.objects.filter(document=doc).update(authorship=None)
    doc.refresh_from_db()
    size = sum(op_length(op) for op in DocumentVersion.objects.get(pk=doc.snapshot_id).content)
    Operation.objects.create(
        document=doc,
        revision=doc.head_revision + 1,
        op_id="typed0000000000000:1",
        delta=[{"insert": "new "}],
        author=people[2],
    )
    Document.objects.filter(pk=doc.pk).update(head_revision=doc.head_revision + 1)
    doc.refresh_from_db()
    rev, runs = authorship_at(doc)
    assert rev == doc.head_revision
    assert runs == [(4, people[2].pk), (size, None)]
    assert to_json(runs) == [[4, people[2].pk], [size, None]]


def test_revisions_outside_the_document_are_refused(people: list[Any]) -> None:
    doc = services.document_create(owner=people[0], title="Notes")
    with pytest.raises(AuthorshipUnavailable):
        authorship_at(doc, 1)
    with pytest.raises(AuthorshipUnavailable):
        authorship_at(doc, -1)
    assert authorship_at(doc) == (0, [(1, None)])
