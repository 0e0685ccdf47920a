#!/usr/bin/env python
"""What authorship costs: the ``authors`` reply, the load, and each op.

Issue 14's target: on a 1 MB document with 100k ops of history, authorship
for the whole document reaches the browser in under 300 ms. Against one
real daphne on a throwaway PostgreSQL (fsync on), started by
``bench/load.py``'s helpers:

1. builds the document in the database directly (bounded): a snapshot of
   ``--size`` code units (default 1,000,000) written by ``--authors``
   people in runs of 1-400 characters, with its authorship stored, then
   ``--ops`` ops (default 100,000) after it, keystroke-like inserts,
   deletes and formats at random places, by the same people in bursts
   (bulk-inserted, 10,000 rows per statement);
2. opens a socket (cold: the worker loads the document, its authorship
   included, from the snapshot's runs plus every op after it) and times
   ``hello``;
3. sends ``{"type":"authors"}`` ``--repeat`` times, 1.5 s apart (building
   the reply is charged to the socket's CPU budget; a ``rate_limited``
   refusal is waited out, counted and not timed), and times each reply from
   the send to the whole frame parsed (the first builds the frame, later
   ones reuse it until the next commit); checks the runs cover the
   content and equal ``documents.authorship.authorship_at`` (derived from
   storage independently);
4. in this process: the worker's load (``load_state``) and the authorship
   part of it alone (the 100k ``apply`` steps), and the cost of one
   keystroke's ``apply`` on the final runs (the per-op work the authority
   adds to every commit; median of 20,000).

Prints a Markdown table and one JSON line; exit 0 when every check held,
1 when a check failed or the target was missed, 2 when it could not run.

    .venv/bin/python bench/authorship_bench.py [--ops 100000] [--size 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from compaction_bench import make_ops
from load import recv_whole, setup_fixtures, start_stack

from realtime.framing import Reassembler

TARGET_S = 0.300
CHUNK = 10_000
WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "elit", "sed", "do", "eiusmod", "tempor"]


def build_document(args: argparse.Namespace, doc_id: str, rng: random.Random) -> dict[str, Any]:
    """Store the snapshot and the ops (module docstring, step 1)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from documents.models import Document, DocumentVersion, Operation, VersionKind
    from realtime.ot.authorship import to_json

    document = Document.objects.get(public_id=doc_id)
    users = list(get_user_model().objects.order_by("pk").values_list("pk", flat=True))[
        : args.authors
    ]
    # The snapshot: lines of words, about --size code units, and its runs.
    parts: list[str] = []
    size = 0
    while size < args.size - 1:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16))) + "\n"
        parts.append(line)
        size += len(line)
    text = "".join(parts)
    runs: list[tuple[int, int | None]] = []
    left = len(text) + 1  # the document's final newline
    while left:
        count = min(left, rng.randint(1, 400))
        author = rng.choice(users)
        if runs and runs[-1][1] == author:
            runs[-1] = (runs[-1][0] + count, author)
        else:
            runs.append((count, author))
        left -= count
    content = [{"insert": text + "\n"}]
    with transaction.atomic():
        version = DocumentVersion.objects.create(
            document=document,
            revision=0,
            content=content,
            kind=VersionKind.COMPACTION,
            authorship=to_json(runs),
        )
        Document.objects.filter(pk=document.pk).update(snapshot=version)
    # Text only: make_ops' images are outside this server's image policy, and
    # the load would repair them away with a change of its own.
    deltas = [
        [{**op, "insert": "x"} if isinstance(op.get("insert"), dict) else op for op in delta]
        for delta in make_ops(args.ops, rng, len(text) + 1)
    ]
    authors: list[int] = []
    current = rng.choice(users)
    for _ in deltas:
        if rng.random() < 0.05:  # bursts: a person types a while, then another
            current = rng.choice(users)
        authors.append(current)
    table = connection.ops.quote_name(Operation._meta.db_table)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(deltas), CHUNK):
            chunk = deltas[start : start + CHUNK]
            revs = list(range(start + 1, start + 1 + len(chunk)))
            cursor.execute(
                f"INSERT INTO {table} (document_id, revision, op_id, delta, author_id, created_at) "
                "SELECT %s, r.rev, r.op_id, r.delta::jsonb, r.author, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) "
                "AS r(rev, op_id, delta, author)",
                [
                    document.pk,
                    now,
                    revs,
                    [f"{'a' * 24}:{r}" for r in revs],
                    [json.dumps(d, separators=(",", ":")) for d in chunk],
                    authors[start : start + len(chunk)],
                ],
            )
        Document.objects.filter(pk=document.pk).update(head_revision=len(deltas))
    return {"snapshot_runs": len(runs), "snapshot_length": len(text) + 1, "users": users}


async def measure_socket(
    args: argparse.Namespace, host: str, doc_id: str, cookie: str
) -> dict[str, Any]:
    """Open a socket cold, then ask for the authors ``--repeat`` times."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    started = time.perf_counter()
    ws = await asyncio.wait_for(
        connect(
            f"ws://{host}/ws/docs/{doc_id}/",
            origin=Origin(f"http://{host}"),
            additional_headers={"Cookie": cookie},
            max_size=None,
            compression=None,
            open_timeout=120,
        ),
        timeout=180,
    )
    parts = Reassembler()
    try:
        hello = json.loads(await asyncio.wait_for(recv_whole(ws, parts), timeout=180))
        cold_hello = time.perf_counter() - started
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {str(hello)[:200]}")
        times: list[float] = []
        reply: dict[str, Any] = {}
        frame_bytes = 0
        limited = 0
        while len(times) < args.repeat:
            # The reply's CPU is charged to the socket (realtime.budget): a
            # pause lets the budget refill, so each request is measured alone.
            await asyncio.sleep(1.5)
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "authors"}))
            while True:
                text = await asyncio.wait_for(recv_whole(ws, parts), timeout=60)
                message = json.loads(text)
                if message.get("type") in ("authors", "error"):
                    break
            if message["type"] == "error":
                if message.get("code") != "rate_limited" or limited >= 10:
                    raise RuntimeError(f"authors refused: {message}")
                limited += 1
                await asyncio.sleep(message.get("retry_after", 1000) / 1000)
                continue
            times.append(time.perf_counter() - sent)
            reply, frame_bytes = message, len(text.encode())
    finally:
        await ws.close()
    return {
        "cold_hello_s": round(cold_hello, 3),
        "hello_rev": hello["rev"],
        "authors_first_s": round(times[0], 4),
        "authors_median_s": round(statistics.median(times), 4),
        "authors_max_s": round(max(times), 4),
        "frame_bytes": frame_bytes,
        "authors_rate_limited": limited,
        "reply": reply,
    }


def measure_here(args: argparse.Namespace, doc_id: str) -> dict[str, Any]:
    """Time the worker's load, the authorship part of it, and one keystroke."""
    from documents.store import DjangoDocumentStore
    from realtime.oplog import build_state
    from realtime.ot import authorship as ot_authorship

    store = DjangoDocumentStore()
    started = time.perf_counter()
    loaded = store.load(public_id=uuid.UUID(doc_id), earlier=1000)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    state = build_state(loaded, window_size=1000)
    build_s = time.perf_counter() - started
    tracker = ot_authorship.Tracker(ot_authorship.from_json(loaded.snapshot_authorship))
    started = time.perf_counter()
    for op in loaded.ops:
        tracker.apply(op.delta, op.author_id)
    runs_s = time.perf_counter() - started
    runs = tracker.runs()
    assert runs == state.runs, "the load's runs differ from applying the ops"
    # One keystroke's apply at random places on the final runs (the work a
    # commit adds), by two people taking turns.
    rng = random.Random(args.seed)
    samples = []
    for i in range(20_000):
        at = rng.randrange(tracker.length - 1)
        delta: list[dict[str, Any]] = [{"retain": at}, {"insert": "x"}] if at else [{"insert": "x"}]
        started = time.perf_counter()
        tracker.apply(delta, i % 2)
        samples.append(time.perf_counter() - started)
    store.close()
    return {
        "load_read_s": round(read_s, 3),
        "load_build_s": round(build_s, 3),
        "authorship_part_s": round(runs_s, 3),
        "final_runs": len(runs),
        "doc_length": state.text.length,
        "keystroke_apply_us_median": round(statistics.median(samples) * 1e6, 1),
        "keystroke_apply_us_p99": round(sorted(samples)[int(len(samples) * 0.99)] * 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=1_000_000, help="snapshot code units")
    parser.add_argument("--authors", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if not (
        1 <= args.ops <= 1_000_000
        and 1_000 <= args.size <= 10_000_000
        and 1 <= args.authors <= 50
        and 1 <= args.repeat <= 50
    ):
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    print(f"seed {args.seed}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-authorship-bench-"))
    stack_args = argparse.Namespace(database_url="", no_fsync=False, server_rate_limit=100000)
    try:
        stoppers, host, _server = start_stack(stack_args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        import os

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        import django

        django.setup()
        from documents.authorship import authorship_at
        from documents.models import Document
        from realtime.ot.authorship import to_json

        cookies, docs = setup_fixtures(args.authors, 1)
        doc_id = docs[0]
        started = time.perf_counter()
        built = build_document(args, doc_id, random.Random(args.seed))
        build_s = time.perf_counter() - started
        # Before the worker opens it: its first snapshot folds the ops.
        started = time.perf_counter()
        rev, derived = authorship_at(Document.objects.get(public_id=doc_id))
        derive_s = time.perf_counter() - started
        here = measure_here(args, doc_id)
        socket = asyncio.run(
            asyncio.wait_for(measure_socket(args, host, doc_id, cookies[0]), timeout=600)
        )
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        log = (workdir / "daphne.log").read_text(errors="replace")[-2000:]
        print(json.dumps({"ok": False, "error": repr(exc), "server_log": log}))
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    reply = socket.pop("reply")
    problems = []
    covered = sum(run[0] for run in reply.get("runs", []))
    if reply.get("rev") != rev or reply.get("runs") != to_json(derived):
        problems.append(
            "the authors reply differs from authorship_at (derived from storage): "
            f"r{reply.get('rev')} {len(reply.get('runs', []))} runs over {covered}, "
            f"derived r{rev} {len(derived)} runs"
        )
    if covered != here["doc_length"]:
        problems.append(f"the runs cover {covered}, the content is {here['doc_length']} long")
    if socket["authors_max_s"] >= TARGET_S:
        problems.append(f"target missed: an authors reply took {socket['authors_max_s']} s")
    results = {
        "build_s": round(build_s, 1),
        **built,
        **socket,
        **here,
        "authorship_at_s": round(derive_s, 3),
    }
    results.pop("users", None)
    print("| measure | value |\n|---|---|")
    for key, value in results.items():
        print(f"| {key} | {value} |")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(
        json.dumps(
            {
                "tool": "collabdocs-authorship-bench",
                "seed": args.seed,
                "ok": not problems,
                **results,
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
