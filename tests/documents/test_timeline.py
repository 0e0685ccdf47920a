"""The timeline: content and authorship at any revision, ops in pages, the endpoints.

The oracle for content is :func:`documents.history.content_at` (replay from
stored versions) and for authorship :func:`documents.authorship.authorship_at`
(runs from the whole op log): the timeline, reading from cached checkpoints,
must equal both at every k-th revision, whether the checkpoints are cold or
warm. Edits are random (seeded; ``TIMELINE_SEED`` pins it).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from documents import timeline
from documents.authorship import authorship_at
from documents.history import content_at
from documents.models import Document, DocumentVersion, Operation, VersionKind
from realtime.ot import Delta
from tests.documents.conftest import World, client_as
from tests.realtime import ot_gen

OPS = 240
EVERY = 25


@pytest.fixture(autouse=True)
def _small_checkpoints(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(timeline, "CHECKPOINT_EVERY", EVERY)
    caches[timeline.TIMELINE_CACHE].clear()
    yield
    caches[timeline.TIMELINE_CACHE].clear()


def _grow(doc: Document, authors: list[Any], count: int, seed: int) -> list[list[dict]]:
    """Store ``count`` random valid ops by ``authors`` in turn; return the content after each."""
    rng = random.Random(seed)
    doc.refresh_from_db()
    current = Delta(content_at(document=doc, revision=doc.head_revision) or [])
    head = doc.head_revision
    contents = []
    rows = []
    for index in range(count):
        change = ot_gen.valid_change(rng, current)
        current = current.compose(change)
        head += 1
        rows.append(
            Operation(
                document=doc,
                revision=head,
                op_id=f"{'t' * 16}:{head}",
                delta=change.ops,
                author=authors[index % len(authors)],
            )
        )
        contents.append(current.ops)
    Operation.objects.bulk_create(rows)
    Document.objects.filter(pk=doc.pk).update(head_revision=head)
    doc.refresh_from_db()
    return contents


def _seed() -> int:
    seed = int(os.environ.get("TIMELINE_SEED", random.randrange(1 << 30)))
    print(f"TIMELINE_SEED={seed}")
    return seed


def test_every_kth_revision_equals_replay_and_the_op_log_authorship(world: World) -> None:
    doc = world.doc
    seed = _seed()
    _grow(doc, [world.owner, world.editor, world.sharer], OPS, seed)
    revisions = sorted({*range(0, OPS + 1, 7), OPS, EVERY, 2 * EVERY})
    expected = {
        revision: (content_at(document=doc, revision=revision), authorship_at(doc, revision)[1])
        for revision in revisions
    }
    # Cold (newest first: one walk stores the checkpoints), then warm, then shuffled.
    shuffled = random.Random(seed).sample(revisions, len(revisions))
    for order in (revisions[::-1], revisions, shuffled):
        for revision in order:
            state = timeline.state_at(doc, revision)
            where = f"seed={seed} rev={revision}"
            assert state.revision == revision, where
            assert (state.content, state.runs) == expected[revision], where
    cache = caches[timeline.TIMELINE_CACHE]
    assert cache.get(timeline._key(doc.pk, 4 * EVERY)) is not None


def test_revisions_before_the_stored_ops_show_the_version_before_them(world: World) -> None:
    doc = world.doc
    contents = _grow(doc, [world.owner], 60, _seed())
    DocumentVersion.objects.create(
        document=doc, revision=40, content=contents[39], kind=VersionKind.COMPACTION
    )
    Operation.objects.filter(document=doc, revision__lte=40).delete()
    summary = timeline.timeline_summary(doc)
    assert (summary.first, summary.head, summary.ops_from) == (0, 60, 41)
    assert [(p.revision, p.kind) for p in summary.points] == [(0, "initial"), (40, "compaction")]
    older = timeline.state_at(doc, 30)
    assert older.revision == 0  # compacted away: the version at or before it
    assert timeline.state_at(doc, 50).content == contents[49]
    with pytest.raises(timeline.BadTimelineRequest, match="no longer stored"):
        timeline.ops_page(doc, after=10, limit=5)


def test_ops_are_paged_for_playing(world: World) -> None:
    doc = world.doc
    _grow(doc, [world.owner, world.editor], 30, _seed())
    page, following = timeline.ops_page(doc, after=0, limit=20)
    assert [op.revision for op in page] == list(range(1, 21)) and following == 20
    assert (
        page[1].user == {"id": world.editor.pk, "name": "Edith Editor"}
        or page[1].user["id"] == world.editor.pk
    )
    page, following = timeline.ops_page(doc, after=20, limit=20)
    assert [op.revision for op in page] == list(range(21, 31)) and following is None
    replayed = Delta(content_at(document=doc, revision=0) or [])
    for op in timeline.ops_page(doc, after=0, limit=30)[0]:
        replayed = replayed.compose(Delta(op.delta))
    assert replayed.ops == content_at(document=doc, revision=30)


def _get(client: Client, name: str, doc: Document, **params: Any) -> Any:
    return client.get(reverse(f"documents:{name}", args=[doc.public_id]), params)


def test_endpoints_answer_and_refuse_bad_parameters(world: World) -> None:
    doc = world.doc
    contents = _grow(doc, [world.owner], 12, _seed())
    client = client_as(world, "editor")
    summary = _get(client, "timeline", doc).json()
    assert summary["head"] == 12 and summary["first"] == 0 and summary["ops_from"] == 1
    assert summary["points"][0]["kind"] == "initial" and summary["points"][0]["at"].endswith(
        "+00:00"
    )
    content = _get(client, "timeline_content", doc, rev=5).json()
    assert content["rev"] == 5 and content["content"] == contents[4]
    assert sum(length for length, _ in content["runs"]) == Delta(contents[4]).length()
    ops = _get(client, "timeline_ops", doc, after=10, limit=5).json()
    assert [op["rev"] for op in ops["ops"]] == [11, 12] and ops["next"] is None
    for name, params, needle in [
        ("timeline_content", {}, "Give rev"),
        ("timeline_content", {"rev": "x"}, "whole number"),
        ("timeline_content", {"rev": 13}, "from 0 to 12"),
        ("timeline_content", {"rev": -1}, "0 or more"),
        ("timeline_ops", {"after": 0, "limit": 1001}, "limit must be from 1 to 1000"),
        ("timeline_ops", {"after": 99}, "from 0 to 12"),
    ]:
        response = _get(client, name, doc, **params)
        assert response.status_code == 400 and needle in response.json()["error"], (
            params,
            response.content,
        )


@pytest.mark.parametrize(
    ("persona", "status"),
    [("editor", 200), ("viewer", 403), ("stranger", 404), ("anonymous", 401)],
)
def test_only_people_who_may_browse_the_history_read_the_timeline(
    world: World, persona: str, status: int
) -> None:
    client = client_as(world, persona)
    for name, params in [
        ("timeline", {}),
        ("timeline_content", {"rev": 0}),
        ("timeline_ops", {"after": 0}),
    ]:
        assert _get(client, name, world.doc, **params).status_code == status, name


def test_viewers_read_it_once_the_owner_shares_the_history(
    world: World, login: Callable[..., Client]
) -> None:
    Document.objects.filter(pk=world.doc.pk).update(history_visible_to_viewers=True)
    client = client_as(world, "viewer")
    assert _get(client, "timeline_content", world.doc, rev=0).json()["content"] == [
        {"insert": "\n"}
    ]
