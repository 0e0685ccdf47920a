#!/usr/bin/env python
"""History benchmark: compare and the timeline on a 1 MB document with 100k ops.

Starts a throwaway PostgreSQL (fsync off: the writes are set-up, not what is
measured), migrates, and builds one document: a first op of ``--size``
bytes of formatted prose (paragraphs, bold and italic runs, headers), then
``--ops`` keystroke-like ops (inserts, deletes, formatting at random places)
by three people taking turns every 50 ops, the caret jumping to a random
place every ``--caret-every`` ops (20: edits all over; 1,000: a few
places), bulk-inserted. A snapshot with its authorship is stored every
``--snapshot-every`` ops (1,000, as the owner's compaction does), and two
named versions (at half the ops and at the head).

Measured (median, p95 and max of ``--repeat`` runs or of ``--points``
random points), each including the JSON encoding of the answer:

1. compare the two versions (``documents.compare.compare`` +
   ``json.dumps``), target < 300 ms;
2. compare two revisions 1,000 apart near the head (content from the
   timeline's checkpoints);
3. timeline content at ``--points`` random revisions, cold (the first visit
   of each stretch walks from a version and stores the checkpoints it
   passes) and warm (checkpoints cached), target < 200 ms;
4. a page of 1,000 ops for playing.

Checks the timeline's content at the head against the page's content.
Bounded: at most 1,000,000 ops, 8 MB, 200 points. Prints a JSON line and
a table on stderr.

    .venv/bin/python bench/history_bench.py
    .venv/bin/python bench/history_bench.py --ops 20000 --size 200000 --points 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "you",
    "that",
    "he",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
]
ALPHA = "abcdefghijklmnopqrstuvwxyz   ,."
FORMATS = [{"bold": True}, {"italic": True}, {"bold": None}, {"underline": True}]
CHUNK = 10_000
TURN = 50


def prose(size: int, rng: random.Random) -> list[dict]:
    """Return a document of about ``size`` characters of formatted paragraphs."""
    ops: list[dict] = []
    total = 0
    while total < size:
        words = [rng.choice(WORDS) for _ in range(rng.randint(30, 120))]
        cut = rng.randint(1, len(words) - 1)
        for part, attrs in ((words[:cut], None), (words[cut:], rng.choice(FORMATS[:2]))):
            text = " ".join(part) + " "
            ops.append({"insert": text, **({"attributes": attrs} if attrs else {})})
            total += len(text)
        header = rng.random() < 0.05
        ops.append({"insert": "\n", **({"attributes": {"header": 2}} if header else {})})
        total += 1
    return ops


def make_ops(
    count: int, rng: random.Random, length: int, caret_every: int = 20
) -> list[list[dict]]:
    """Return ``count`` valid keystroke-like changes on a document of ``length`` units."""
    out: list[list[dict]] = []
    at = rng.randrange(length)
    for index in range(count):
        if index % caret_every == 0:
            at = rng.randrange(length)  # the caret moves now and then
        at = min(at, length - 1)
        head = [{"retain": at}] if at else []
        roll = rng.random()
        if roll < 0.75 or length < 50:
            text = "".join(rng.choice(ALPHA) for _ in range(rng.randint(1, 3)))
            out.append([*head, {"insert": text}])
            length += len(text)
            at += len(text)
        elif roll < 0.93:
            size = min(rng.randint(1, 3), length - 1 - at)
            if size <= 0:
                out.append([*head, {"insert": "x"}])
                length += 1
                continue
            out.append([*head, {"delete": size}])
            length -= size
        else:
            span = min(rng.randint(1, 20), length - 1 - at)
            if span <= 0:
                out.append([*head, {"insert": "y"}])
                length += 1
                continue
            out.append([*head, {"retain": span, "attributes": rng.choice(FORMATS)}])
    return out


def bulk_insert(document_pk: int, authors: list[int], deltas: list[list[dict]], first: int) -> None:
    """Append ``deltas`` as consecutive revisions, authors taking turns every TURN ops."""
    from django.db import connection, transaction
    from django.utils import timezone

    from documents.models import Document, Operation

    table = connection.ops.quote_name(Operation._meta.db_table)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(deltas), CHUNK):
            chunk = deltas[start : start + CHUNK]
            revs = list(range(first + start, first + start + len(chunk)))
            cursor.execute(
                f"INSERT INTO {table} (document_id, revision, op_id, delta, author_id, created_at) "
                "SELECT %s, r.rev, r.op_id, r.delta::jsonb, r.author, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) "
                "AS r(rev, op_id, delta, author)",
                [
                    document_pk,
                    now,
                    revs,
                    [f"{'h' * 24}:{r}" for r in revs],
                    [json.dumps(d, separators=(",", ":")) for d in chunk],
                    [authors[(r // TURN) % len(authors)] for r in revs],
                ],
            )
        Document.objects.filter(pk=document_pk).update(head_revision=first + len(deltas) - 1)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Return the seconds of ``repeat`` runs of ``fn`` and its last result."""
    times: list[float] = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def stats(times: list[float]) -> dict[str, float]:
    """Return median, p95 and max in milliseconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "n": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of the first op")
    parser.add_argument("--points", type=int, default=40, help="random timeline points")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--snapshot-every", type=int, default=1000, help="ops between stored snapshots"
    )
    parser.add_argument("--caret-every", type=int, default=20, help="ops between caret jumps")
    args = parser.parse_args()
    if not (
        1000 <= args.ops <= 1_000_000
        and 1000 <= args.size <= 8_000_000
        and 1 <= args.points <= 200
        and 1 <= args.repeat <= 20
        and 100 <= args.snapshot_every <= args.ops
        and 1 <= args.caret_every <= 100_000
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    from collabdocs.devservers import start_postgres

    pg = start_postgres(durable=False)
    try:
        pg.create_database("collabdocs_history_bench")
        os.environ.update(
            DATABASE_URL=pg.url("collabdocs_history_bench"),
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
    from django.contrib.auth import get_user_model
    from django.core.cache import caches

    from documents import compare, timeline
    from documents.authorship import authorship_json_at
    from documents.content import document_state
    from documents.models import DocumentVersion, VersionKind
    from documents.services import document_create

    rng = random.Random(args.seed)
    users = [
        get_user_model().objects.create_user(username=f"bench{i}", password=None) for i in range(3)
    ]
    doc = document_create(owner=users[0], title="Big")
    first = prose(args.size, rng)
    length = sum(len(op["insert"]) for op in first) + 1
    started = time.perf_counter()
    deltas = [first, *make_ops(args.ops - 1, rng, length, args.caret_every)]
    bulk_insert(doc.pk, [u.pk for u in users], deltas, 1)
    built = time.perf_counter() - started
    caches[timeline.TIMELINE_CACHE].clear()
    # The owner stores a snapshot every COMPACT_THRESHOLD_OPS ops (with its
    # authorship): the timeline's starting points, as in production.
    started = time.perf_counter()
    snapshots = []
    for revision in range(args.snapshot_every, args.ops + 1, args.snapshot_every):
        state = timeline.state_at(doc, revision)
        snapshots.append(
            DocumentVersion(
                document=doc,
                revision=revision,
                content=state.content,
                kind=VersionKind.COMPACTION,
                authorship=[[count, author] for count, author in state.runs],
            )
        )
    DocumentVersion.objects.bulk_create(snapshots)  # no signals: nobody to tell
    snapshotted = time.perf_counter() - started

    versions = []
    for revision in (args.ops // 2, args.ops):
        state = timeline.state_at(doc, revision)
        versions.append(
            DocumentVersion.objects.create(
                document=doc,
                revision=revision,
                content=state.content,
                kind=VersionKind.NAMED,
                name=f"r{revision}",
                author=users[0],
                authorship=authorship_json_at(doc, revision),
            )
        )
    head_content = document_state(doc).content
    assert timeline.state_at(doc, args.ops).content == head_content, "timeline disagrees at head"
    doc_bytes = len(json.dumps(head_content, ensure_ascii=False).encode())

    def compare_versions() -> int:
        result = compare.compare(
            document=doc,
            actor=users[0],
            from_version=versions[0].pk,
            to_version=versions[1].pk,
        )
        return len(json.dumps(result.as_json()))

    versions_times, answer_bytes = timed(compare_versions, args.repeat)

    def compare_revisions() -> int:
        result = compare.compare(
            document=doc, actor=users[0], from_rev=args.ops - 1000, to_rev=args.ops
        )
        return len(json.dumps(result.as_json()))

    revisions_times, _ = timed(compare_revisions, args.repeat)

    points = [rng.randint(0, args.ops) for _ in range(args.points)]

    def content_at(revision: int) -> int:
        state = timeline.state_at(doc, revision)
        runs = [[count, author] for count, author in state.runs]
        return len(json.dumps({"rev": state.revision, "content": state.content, "runs": runs}))

    caches[timeline.TIMELINE_CACHE].clear()
    cold = [timed(partial(content_at, r), 1)[0][0] for r in points]
    warm = [timed(partial(content_at, r), 1)[0][0] for r in points]
    ops_times, _ = timed(
        lambda: timeline.ops_page(doc, after=args.ops // 3, limit=1000), args.repeat
    )
    report = {
        "ok": True,
        "ops": args.ops,
        "doc_bytes": doc_bytes,
        "build_s": round(built, 1),
        "snapshots": len(snapshots),
        "snapshots_s": round(snapshotted, 1),
        "checkpoint_every": timeline.CHECKPOINT_EVERY,
        "caret_every": args.caret_every,
        "compare_versions": stats(versions_times),
        "compare_answer_bytes": answer_bytes,
        "compare_revisions_1000_apart": stats(revisions_times),
        "timeline_content_cold": stats(cold),
        "timeline_content_warm": stats(warm),
        "ops_page_1000": stats(ops_times),
    }
    print(json.dumps(report))
    for key, value in report.items():
        print(f"{key:32} {value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
