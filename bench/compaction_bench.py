#!/usr/bin/env python
"""Compaction benchmark: ops folded per second, and load time before/after.

Starts a throwaway PostgreSQL with its default durability (fsync and
synchronous commit on), migrates, and:

1. writes one document with ``--ops`` (default 100,000) ops after its
   snapshot: keystroke-like inserts, deletes and formatting at random
   places, bulk-inserted (one ``INSERT ... SELECT unnest`` per 10,000);
2. times loading it the way a worker does (``DjangoDocumentStore.load`` +
   ``realtime.authority.build_state``: snapshot, replay, op window), and the
   way a page does (``documents.content.document_state``);
3. times ``version_compact`` on it: ops folded per second;
4. times both loads again right after compaction, and once more with
   ``COMPACT_THRESHOLD_OPS`` ops after the snapshot (the most a worker
   replays when it compacts on its own);
5. times ``compact_docs`` over ``--docs`` documents of ``--doc-ops`` ops each
   (many small documents, the nightly case).

Checks that content is identical before and after. Prints a JSON line (and
a table on stderr). Bounded: at most 1,000,000 ops and 10,000 documents;
each load is repeated ``--repeat`` times and the median reported.

    .venv/bin/python bench/compaction_bench.py
    .venv/bin/python bench/compaction_bench.py --ops 20000 --docs 100 --no-fsync
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ALPHA = "abcdefghijklmnopqrstuvwxyz     ,.\n"
FORMATS = [{"bold": True}, {"italic": True}, {"bold": None}, {"header": 2}, {"color": "#e6194b"}]
CHUNK = 10_000


def make_ops(count: int, rng: random.Random, length: int = 1) -> list[list[dict]]:
    """Return ``count`` valid changes on a document of ``length`` code units.

    ASCII text and image embeds only, so every index is a valid boundary;
    the final newline is never deleted or passed.
    """
    ops: list[list[dict]] = []
    for _ in range(count):
        at = rng.randrange(length)  # 0 .. length-1: before the final "\n"
        roll = rng.random()
        head = [{"retain": at}] if at else []
        if roll < 0.75 or length < 50:
            if rng.random() < 0.003:
                insert: Any = {"image": "https://example.com/i.png"}
                size = 1
            else:
                insert = "".join(rng.choice(ALPHA) for _ in range(rng.randint(1, 3)))
                size = len(insert)
            op: dict[str, Any] = {"insert": insert}
            if rng.random() < 0.2:
                op["attributes"] = {"bold": True}
            ops.append(head + [op])
            length += size
        elif roll < 0.92:
            count_ = min(rng.randint(1, 4), length - 1 - at)
            if count_ <= 0:
                ops.append(head + [{"insert": "x"}])
                length += 1
                continue
            ops.append(head + [{"delete": count_}])
            length -= count_
        else:
            span = min(rng.randint(1, 20), length - at)
            ops.append(head + [{"retain": span, "attributes": rng.choice(FORMATS)}])
    return ops


def bulk_insert(document_pk: int, author_id: int, deltas: list[list[dict]], first_rev: int) -> None:
    """Append ``deltas`` as consecutive revisions, 10,000 rows per statement."""
    from django.db import connection, transaction
    from django.utils import timezone

    from documents.models import Document, Operation

    table = connection.ops.quote_name(Operation._meta.db_table)
    now = timezone.now()
    client = "b" * 24
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(deltas), CHUNK):
            chunk = deltas[start : start + CHUNK]
            revs = list(range(first_rev + start, first_rev + start + len(chunk)))
            cursor.execute(
                f"INSERT INTO {table} (document_id, revision, op_id, delta, author_id, created_at) "
                "SELECT %s, r.rev, r.op_id, r.delta::jsonb, %s, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS r(rev, op_id, delta)",
                [
                    document_pk,
                    author_id,
                    now,
                    revs,
                    [f"{client}:{r}" for r in revs],
                    [json.dumps(d, separators=(",", ":")) for d in chunk],
                ],
            )
        head = first_rev + len(deltas) - 1
        Document.objects.filter(pk=document_pk).update(
            head_revision=head, updated_at=now - timezone.timedelta(days=1)
        )


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Return the median seconds of ``repeat`` runs of ``fn`` and its last result."""
    times: list[float] = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def worker_load(public_id: Any) -> Any:
    from documents.store import DjangoDocumentStore
    from realtime.oplog import build_state

    loaded = DjangoDocumentStore().load(public_id=public_id, earlier=1000)
    return build_state(loaded, window_size=1000)


def page_load(public_id: Any) -> list[dict]:
    from documents.content import document_state
    from documents.models import Document

    return document_state(Document.objects.get(public_id=public_id)).content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ops", type=int, default=100_000, help="ops after the snapshot of the big document"
    )
    parser.add_argument("--docs", type=int, default=200, help="small documents for compact_docs")
    parser.add_argument("--doc-ops", type=int, default=500, help="ops per small document")
    parser.add_argument("--keep-ops", type=int, default=500, help="kept ops, big document")
    parser.add_argument("--small-keep-ops", type=int, default=50, help="kept ops, small documents")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args()
    if not (
        1 <= args.ops <= 1_000_000
        and 0 <= args.docs <= 10_000
        and 1 <= args.doc_ops <= 100_000
        and 1 <= args.repeat <= 20
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2

    from collabdocs.devservers import start_postgres

    pg = start_postgres(durable=not args.no_fsync)
    try:
        pg.create_database("collabdocs_bench")
        os.environ.update(
            DATABASE_URL=pg.url("collabdocs_bench"),
            DEBUG="0",
            SECRET_KEY="bench-" + "x" * 40,
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="collabdocs.settings",
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(args)
    finally:
        pg.stop()


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from documents.compaction import version_compact
    from documents.services import document_create

    rng = random.Random(args.seed)
    user = get_user_model().objects.create_user(username="bench", password=None)
    doc = document_create(owner=user, title="Big")
    started = time.perf_counter()
    deltas = make_ops(args.ops, rng)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    bulk_insert(doc.pk, user.pk, deltas, 1)
    inserted = time.perf_counter() - started

    before_worker, state = timed(lambda: worker_load(doc.public_id), args.repeat)
    content_before = state.text.to_ops()
    before_page, page_content = timed(lambda: page_load(doc.public_id), args.repeat)
    assert page_content == content_before, "page and worker loads disagree"

    result = version_compact(document=doc, keep_ops=args.keep_ops)
    assert result.changed, result

    after_worker, state_after = timed(lambda: worker_load(doc.public_id), args.repeat)
    after_page, page_after = timed(lambda: page_load(doc.public_id), args.repeat)
    assert state_after.text.to_ops() == content_before == page_after, (
        "compaction changed the content"
    )
    assert state_after.head == args.ops

    threshold = settings.COLLABDOCS["COMPACT_THRESHOLD_OPS"]
    bulk_insert(doc.pk, user.pk, make_ops(threshold, rng, state_after.text.length), args.ops + 1)
    bounded_worker, _ = timed(lambda: worker_load(doc.public_id), args.repeat)
    assert version_compact(document=doc, keep_ops=args.keep_ops).changed  # out of the next step

    many: dict[str, Any] = {}
    if args.docs:
        for i in range(args.docs):
            small = document_create(owner=user, title=f"Small {i}")
            bulk_insert(small.pk, user.pk, make_ops(args.doc_ops, rng), 1)
        out = io.StringIO()
        started = time.perf_counter()
        call_command(
            "compact_docs",
            "--idle-minutes",
            "0",
            "--keep-ops",
            str(args.small_keep_ops),
            "--quiet",
            stdout=out,
            stderr=io.StringIO(),
        )
        seconds = time.perf_counter() - started
        many = {
            "docs": args.docs,
            "ops_per_doc": args.doc_ops,
            "seconds": round(seconds, 3),
            "docs_per_s": round(args.docs / seconds, 1),
            "ops_folded_per_s": round(args.docs * args.doc_ops / seconds),
            "summary": out.getvalue().strip(),
        }

    report = {
        "ok": True,
        "fsync": not args.no_fsync,
        "ops": args.ops,
        "doc_length": state.text.length,
        "content_runs": len(content_before),
        "generate_s": round(generated, 2),
        "bulk_insert_s": round(inserted, 2),
        "compaction": {
            "seconds": round(result.seconds, 3),
            "ops_folded_per_s": round(result.ops_folded / result.seconds),
            "ops_deleted": result.ops_deleted,
            "bytes_saved": result.bytes_saved,
        },
        "worker_load_ms": {
            "before": round(before_worker * 1000, 1),
            "after": round(after_worker * 1000, 1),
            "speedup": round(before_worker / after_worker, 1),
            f"after_plus_{threshold}_ops": round(bounded_worker * 1000, 1),
        },
        "page_load_ms": {
            "before": round(before_page * 1000, 1),
            "after": round(after_page * 1000, 1),
        },
        "compact_docs": many,
    }
    print(json.dumps(report))
    print(
        f"\n{args.ops} ops, document of {state.text.length} code units\n"
        f"  compaction: {result.seconds:.2f} s, "
        f"{report['compaction']['ops_folded_per_s']} ops folded/s\n"
        f"  worker load: {before_worker * 1000:.0f} ms before, {after_worker * 1000:.1f} ms after, "
        f"{bounded_worker * 1000:.1f} ms with {threshold} ops after the snapshot\n"
        f"  page load: {before_page * 1000:.0f} ms before, {after_page * 1000:.1f} ms after\n"
        + (
            f"  compact_docs: {many['docs']} docs x {many['ops_per_doc']} ops "
            f"in {many['seconds']} s "
            f"({many['ops_folded_per_s']} ops/s)\n"
            if many
            else ""
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
