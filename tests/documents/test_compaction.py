"""Compaction: content preserved exactly, kept ops, skips, dry runs, crashes.

Random histories print their seed; set ``SEED`` to replay one.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from documents import compaction, services
from documents.compaction import DocumentGuard, Status, version_compact
from documents.content import document_state
from documents.management.commands import compact_docs
from documents.models import INITIAL_CONTENT, Document, DocumentVersion, Operation, VersionKind
from documents.store import DjangoDocumentStore
from realtime.ot import Delta, DocumentText
from tests.conftest import REPO
from tests.realtime.ot_gen import valid_change

LONG_AGO = timezone.now() - timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_retention(settings: Any) -> None:
    """Delete folded ops however young: these tests are about ``keep_ops``.

    The retention horizon (``RETENTION_DAYS``) has its own tests in
    test_compaction_retention.py.
    """
    settings.COLLABDOCS = {**settings.COLLABDOCS, "RETENTION_DAYS": 0}


def seed_for(name: str) -> int:
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print(f"{name}: seed={seed}")
    return seed


def write_history(doc: Document, rng: random.Random, count: int, authors: list[Any]) -> list[dict]:
    """Store ``count`` random valid ops after the snapshot; return the content."""
    state = document_state(doc)
    content = Delta(state.content)
    start = state.revision
    rows = []
    client = uuid.uuid4().hex
    for revision in range(start + 1, start + count + 1):
        change = valid_change(rng, content)
        content = content.compose(change)
        rows.append(
            Operation(
                document=doc,
                revision=revision,
                op_id=f"{client}:{revision}",
                delta=change.ops,
                author=rng.choice(authors),
            )
        )
    Operation.objects.bulk_create(rows)
    Document.objects.filter(pk=doc.pk).update(head_revision=start + count, updated_at=LONG_AGO)
    doc.refresh_from_db()
    return content.ops


def snapshot_of(doc: Document) -> DocumentVersion:
    doc.refresh_from_db()
    return DocumentVersion.objects.get(pk=doc.snapshot_id)


def fingerprint(doc: Document) -> tuple:
    """Return everything compaction may change, to compare before and after."""
    doc.refresh_from_db()
    ops = list(
        Operation.objects.filter(document=doc)
        .order_by("revision")
        .values_list("revision", "op_id", "delta", "author_id")
    )
    versions = list(
        DocumentVersion.objects.filter(document=doc)
        .order_by("pk")
        .values_list("pk", "revision", "kind", "content")
    )
    return doc.snapshot_id, doc.head_revision, ops, versions


@pytest.fixture
def people(db: None, make_user: Callable[..., Any]) -> list[Any]:
    return [make_user("ada"), make_user("bo"), make_user("cy")]


@pytest.fixture
def doc(people: list[Any]) -> Document:
    return services.document_create(owner=people[0], title="Notes")


def test_random_histories_compact_to_exactly_the_same_content(people: list[Any]) -> None:
    seed = seed_for("compact-content")
    rng = random.Random(seed)
    for round_ in range(12):
        doc = services.document_create(owner=people[0], title=f"Doc {round_}")
        expected = write_history(doc, rng, rng.randint(1, 150), people)
        result = version_compact(document=doc, keep_ops=rng.choice([0, 3, 500]))
        assert result.status == Status.COMPACTED, (seed, result)
        snapshot = snapshot_of(doc)
        assert snapshot.kind == VersionKind.COMPACTION
        assert snapshot.revision == doc.head_revision == result.revision
        assert snapshot.content == expected, f"seed={seed} round={round_}"
        assert document_state(doc).content == expected
        loaded = DjangoDocumentStore().load(public_id=doc.public_id)
        assert loaded.ops == [] and loaded.snapshot_content == expected
        # A second history on top of the compacted one still adds up.
        more = write_history(doc, rng, rng.randint(1, 40), people)
        assert version_compact(document=doc, keep_ops=2).status == Status.COMPACTED
        assert snapshot_of(doc).content == more == document_state(doc).content


def test_formatting_emoji_and_embeds_survive(doc: Document, people: list[Any]) -> None:
    changes = [
        [{"insert": "a😀b👍🏽", "attributes": {"bold": True}}],
        [{"retain": 1}, {"insert": {"image": "https://example.com/x.png"}}],
        [{"retain": 5}, {"retain": 2, "attributes": {"italic": True, "color": "#e6194b"}}],
        [{"retain": 9}, {"retain": 1, "attributes": {"header": 2}}],
        [{"retain": 2}, {"delete": 2}],
    ]
    content = Delta(INITIAL_CONTENT)
    for revision, change in enumerate(changes, 1):
        content = content.compose(Delta(change))
        Operation.objects.create(
            document=doc,
            revision=revision,
            op_id=f"{'c' * 16}:{revision}",
            delta=change,
            author=people[revision % 2],
        )
    Document.objects.filter(pk=doc.pk).update(head_revision=len(changes), updated_at=LONG_AGO)
    result = version_compact(document=doc, keep_ops=0)
    assert result.changed and result.ops_folded == 5 and result.ops_deleted == 5, result
    snapshot = snapshot_of(doc)
    assert snapshot.content == content.ops
    assert sorted(snapshot.authors.values_list("username", flat=True)) == ["ada", "bo"]
    assert snapshot.ops_folded == 5
    assert not Operation.objects.filter(document=doc).exists()


def test_the_last_k_ops_are_kept_for_catch_up_but_not_replayed(
    doc: Document, people: list[Any]
) -> None:
    rng = random.Random(seed_for("keep"))
    expected = write_history(doc, rng, 30, people)
    result = version_compact(document=doc, keep_ops=10)
    assert result.ops_folded == 30 and result.ops_deleted == 20
    kept = list(Operation.objects.filter(document=doc).values_list("revision", flat=True))
    assert kept == list(range(21, 31))
    loaded = DjangoDocumentStore().load(public_id=doc.public_id, earlier=1000)
    assert loaded.snapshot_revision == 30 and loaded.ops == []
    assert [op.revision for op in loaded.earlier] == kept
    assert document_state(doc).content == expected
    # The next compaction drops the kept ones as they fall out of range.
    write_history(doc, rng, 5, people)
    result = version_compact(document=doc, keep_ops=10)
    assert result.ops_folded == 5 and result.ops_deleted == 5
    assert list(Operation.objects.filter(document=doc).values_list("revision", flat=True)) == list(
        range(26, 36)
    )


def test_dry_run_changes_nothing_and_says_what_it_would_do(
    doc: Document, people: list[Any]
) -> None:
    write_history(doc, random.Random(seed_for("dry")), 25, people)
    before = fingerprint(doc)
    result = version_compact(document=doc, keep_ops=5, dry_run=True)
    assert result.status == Status.WOULD_COMPACT
    assert (result.ops_folded, result.ops_deleted, result.revision) == (25, 20, 25)
    assert fingerprint(doc) == before
    out = io.StringIO()
    call_command("compact_docs", "--dry-run", "--idle-minutes", "0", "--keep-ops", "5", stdout=out)
    assert "would compact 25 ops" in out.getvalue()
    assert "would compact 1 of 1 documents" in out.getvalue()
    assert fingerprint(doc) == before


def test_open_recent_and_guarded_documents_are_skipped(doc: Document, people: list[Any]) -> None:
    write_history(doc, random.Random(seed_for("skip")), 5, people)
    now = timezone.now()
    Document.objects.filter(pk=doc.pk).update(
        lease_holder="w1:1:ab", lease_expires_at=now + timedelta(minutes=1)
    )
    result = version_compact(document=doc)
    assert result.status == Status.SKIPPED and "open on w1:1:ab" in result.reason
    # An expired lease is a worker that died: the document is fair game.
    Document.objects.filter(pk=doc.pk).update(
        lease_expires_at=now - timedelta(seconds=1), closed_at=now - timedelta(minutes=3)
    )
    assert version_compact(document=doc, idle_minutes=5).reason == "open in the last 5 minutes"
    Document.objects.filter(pk=doc.pk).update(updated_at=now)
    assert version_compact(document=doc, idle_minutes=5, now=now + timedelta(minutes=4)).reason == (
        "edited in the last 5 minutes"
    )

    class HeldElsewhere(DocumentGuard):
        def hold(self, public_id: uuid.UUID) -> AbstractContextManager[bool]:
            return nullcontext(False)

    assert "held elsewhere" in version_compact(document=doc, guard=HeldElsewhere()).reason
    assert version_compact(document=doc).status == Status.COMPACTED
    assert version_compact(document=doc).reason == "nothing to fold"


def test_candidates_are_idle_closed_documents_with_ops_to_fold(people: list[Any]) -> None:
    rng = random.Random(seed_for("candidates"))
    idle, open_, fresh, empty = (services.document_create(owner=people[0]) for _ in range(4))
    for doc in (idle, open_, fresh):
        write_history(doc, rng, 3, people)
    Document.objects.filter(pk=open_.pk).update(
        lease_holder="w", lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    Document.objects.filter(pk=fresh.pk).update(updated_at=timezone.now())
    found = list(compaction.compaction_candidates(idle_minutes=10))
    assert found == [idle]


@pytest.mark.parametrize("fail_in", ["_store_version", "_point_document", "_delete_ops", "after"])
def test_a_failure_between_steps_leaves_the_previous_state(
    doc: Document, people: list[Any], monkeypatch: pytest.MonkeyPatch, fail_in: str
) -> None:
    expected = write_history(doc, random.Random(seed_for("fail")), 20, people)
    before = fingerprint(doc)
    target = "_delete_ops" if fail_in == "after" else fail_in
    real = getattr(compaction, target)

    def boom(*args: Any, **kwargs: Any) -> Any:
        if fail_in == "after":
            real(*args, **kwargs)  # every step done, the commit is next
        raise RuntimeError(f"injected failure in {fail_in}")

    monkeypatch.setattr(compaction, target, boom)
    with pytest.raises(RuntimeError, match="injected"):
        version_compact(document=doc, keep_ops=0)
    assert fingerprint(doc) == before
    assert document_state(doc).content == expected
    loaded = DjangoDocumentStore().load(public_id=doc.public_id)
    assert len(loaded.ops) == 20
    monkeypatch.setattr(compaction, target, real)
    assert version_compact(document=doc, keep_ops=0).changed
    assert document_state(doc).content == expected


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_mid_compaction_leaves_a_loadable_document(
    test_database_url: str, make_user: Callable[..., Any]
) -> None:
    """SIGKILL after the ops are deleted, before the commit: nothing changed."""
    users = [make_user("ada"), make_user("bo")]
    doc = services.document_create(owner=users[0], title="Crash")
    expected = write_history(doc, random.Random(seed_for("kill")), 40, users)
    before = fingerprint(doc)
    script = textwrap.dedent(f"""
        import os, signal, django
        django.setup()
        from django.core.management import call_command
        from documents import compaction
        real = compaction._delete_ops
        def delete_then_die(*args, **kwargs):
            real(*args, **kwargs)
            print("deleted; dying", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        compaction._delete_ops = delete_then_die
        call_command("compact_docs", "--doc", "{doc.public_id}", "--idle-minutes", "0",
                     "--keep-ops", "0")
    """)
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="collabdocs.settings", DATABASE_URL=test_database_url
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "deleted; dying" in done.stdout
    assert fingerprint(doc) == before
    assert document_state(doc).content == expected
    assert version_compact(document=doc, keep_ops=0).changed
    assert document_state(doc).content == expected


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_a_writer_is_skipped_not_waited_for(make_user: Callable[..., Any]) -> None:
    user = make_user("ada")
    doc = services.document_create(owner=user)
    write_history(doc, random.Random(1), 3, [user])
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                Document.objects.filter(pk=doc.pk).update(title="being written")
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(10)
        result = version_compact(document=doc)
        assert result.status == Status.SKIPPED and result.reason.startswith("busy")
    finally:
        release.set()
        thread.join(10)
    assert version_compact(document=doc).changed


def test_command_prints_a_line_per_document_and_a_summary(people: list[Any]) -> None:
    rng = random.Random(seed_for("command"))
    docs = [services.document_create(owner=people[0], title=f"Doc {i}") for i in range(3)]
    for doc in docs:
        write_history(doc, rng, 10, people)
    out, err = io.StringIO(), io.StringIO()
    call_command("compact_docs", "--idle-minutes", "0", "--keep-ops", "2", stdout=out, stderr=err)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 4
    for doc, line in zip(docs, lines[:-1], strict=True):
        assert str(doc.public_id) in line and "compacted 10 ops at r10, 8 deleted" in line
    assert lines[-1].startswith("compacted 3 of 3 documents, 0 skipped; 30 ops folded")
    # Nothing left to do: no candidates.
    out = io.StringIO()
    call_command("compact_docs", "--idle-minutes", "0", stdout=out)
    assert out.getvalue().startswith("compacted 0 of 0 documents")
    # An explicit document gets its line even when skipped.
    out = io.StringIO()
    call_command("compact_docs", "--doc", str(docs[0].public_id), "--idle-minutes", "0", stdout=out)
    assert "skipped, nothing to fold" in out.getvalue()


def test_command_shows_progress_on_long_runs(
    people: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compact_docs, "PROGRESS_FROM", 2)
    rng = random.Random(3)
    for _ in range(3):
        write_history(services.document_create(owner=people[0]), rng, 2, people)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    call_command("compact_docs", "--idle-minutes", "0", stdout=io.StringIO())
    assert "progress: 3/3 documents" in err.getvalue()


def test_command_refuses_unknown_documents(db: None) -> None:
    with pytest.raises(CommandError, match="no such document"):
        call_command("compact_docs", "--doc", str(uuid.uuid4()))
    with pytest.raises(CommandError, match="not a document id"):
        call_command("compact_docs", "--doc", "nope")


def test_owner_snapshot_stores_given_content_without_replaying(
    doc: Document, people: list[Any]
) -> None:
    expected = write_history(doc, random.Random(seed_for("owner")), 12, people)
    result = compaction.snapshot_save(document_pk=doc.pk, revision=12, content=expected, keep_ops=4)
    assert result is not None and result.ops_folded == 12 and result.ops_deleted == 8
    assert snapshot_of(doc).content == expected
    assert set(snapshot_of(doc).authors.all()) <= set(people)
    # Already there, or past the head: nothing to do.
    assert compaction.snapshot_save(document_pk=doc.pk, revision=12, content=expected) is None
    assert compaction.snapshot_save(document_pk=doc.pk, revision=13, content=expected) is None
    text = DocumentText.from_ops(expected)
    assert document_state(doc).content == text.to_ops()
    assert connection.vendor == "postgresql"
