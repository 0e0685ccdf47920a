#!/usr/bin/env python
"""What review costs: typing, accepting every suggestion, opening a busy page.

Issue 12's speed targets, measured in one sitting against one real daphne
on a throwaway PostgreSQL with its default durability (fsync on), started
by ``bench/load.py``'s helpers like ``bench/compare_sharedb.py``'s runs:

1. **Typing** (``load.py``'s closed loop: 10 editors on one document, each
   inserting 1-3 characters at a random place and waiting for the ack),
   on three documents in the same run, in rounds (``--rounds``) whose order
   rotates so each document runs first, second and third; each document's
   mean over its rounds is reported, with the server's CPU time per op (the
   figure least moved by other work on a shared machine):

   * ``empty``: a new document (``compare_sharedb.py``'s 10 x 1);
   * ``plain``: the review document's text with no review marks;
   * ``review``: the same text with 200 comment anchors and 500
     suggestions (insertions, deletions and format proposals by 10 people).

   The target: ``review`` within 10 % of ``plain``, judged on the
   server's CPU time per op (throughput is printed beside it; on a shared
   2-core machine it swings by 3x between rounds). A fourth run has 9
   *commenters* and the owner suggesting on the review document (every op
   a suggested insertion, the commenters' checked against the review
   policy), for the record.
2. **Accept all**: ``POST /api/docs/<id>/suggestions/decide {"accept": true,
   "all": true}`` as its owner, timed from request to answer; one change
   through the document's authority. Checked: it is one revision, a socket
   open on the document receives it as one op, and no suggestion is left.
3. **Page open** of a document with 500 anchored threads (2 messages
   each): the page (``GET /d/<id>/``), ``GET threads`` and the socket's
   ``hello``, timed together, cold (first open: the worker loads the
   document) and warm (median of 5).

Every typing run is verified like ``load.py`` does (every client and a
fresh reader at the same revision and length, the stored content equal to
the reader's, as many revisions as acks). Prints a Markdown table and one
JSON line; exit 0 when everything ran and verified, 1 when a check failed,
2 when it could not run.

    .venv/bin/python bench/review_bench.py [--seconds 10] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load import Bench, Client, recv_whole, start_stack, utf16_len

#: The review document: paragraphs, each with this many suggestions and
#: comment anchors (50 x 10 = 500 suggestions, 50 x 4 = 200 threads).
PARAGRAPHS = 50
SUGGESTIONS_PER_PARAGRAPH = 10
THREADS_PER_PARAGRAPH = 4
#: The page-open document: 100 paragraphs x 5 anchored threads.
PAGE_PARAGRAPHS = 100
PAGE_THREADS_PER_PARAGRAPH = 5
TYPISTS = 10
#: Numbers the typing runs of this process (each gets a seed of its own).
RUNS = itertools.count(1)
WORDS = [
    "plan",
    "ship",
    "review",
    "draft",
    "budget",
    "quarter",
    "team",
    "notes",
    "launch",
    "metric",
]
#: The targets the issue sets.
TYPING_TOLERANCE = 0.10
DECIDE_LIMIT_S = 1.0
PAGE_LIMIT_S = 1.0


def base36(number: int) -> str:
    """Return ``number`` in base 36, as JavaScript's ``toString(36)`` does."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def mark(rng: random.Random, user_id: int) -> str:
    """Return a fresh suggestion mark by ``user_id`` (contract §2)."""
    tag = "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    return f"{user_id}:{base36(int(time.time() * 1000))}:{tag}"


def thread_id(rng: random.Random) -> str:
    """Return a thread id as browsers make them (16 base-36 characters)."""
    return "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(16))


def words(rng: random.Random, n: int) -> str:
    """Return ``n`` words and a trailing space."""
    return " ".join(rng.choice(WORDS) for _ in range(n)) + " "


def review_content(
    rng: random.Random, authors: list[int], *, paragraphs: int, suggestions: int, threads: int
) -> tuple[list[dict], list[str]]:
    """Return content with review marks, and the ids of the threads anchored in it.

    Each paragraph alternates plain words with marked runs: ``suggestions``
    suggestions (insert, delete, format in turn, each by the next author)
    and ``threads`` comment anchors. The content ends with its newline.
    """
    ops: list[dict] = []
    ids: list[str] = []
    kinds = ("suggest-insert", "suggest-delete", "suggest-format")
    for p in range(paragraphs):
        runs: list[dict[str, Any]] = []
        for s in range(suggestions):
            kind = kinds[(p * suggestions + s) % 3]
            value = mark(rng, authors[(p + s) % len(authors)])
            if kind == "suggest-format":
                value += '|{"bold":true}'
            runs.append({kind: value})
        for _ in range(threads):
            ids.append(thread_id(rng))
            runs.append({"comment": ids[-1]})
        rng.shuffle(runs)
        for attributes in runs:
            ops.append({"insert": words(rng, 2)})
            ops.append({"insert": words(rng, 1), "attributes": attributes})
        ops.append({"insert": words(rng, 2).strip() + "\n"})
    return ops, ids


def plain_of(content: list[dict]) -> list[dict]:
    """Return the same text with no attributes."""
    return [{"insert": "".join(op["insert"] for op in content)}]


def set_content(public_id: str, content: list[dict]) -> None:
    """Make a fresh, unopened document's content ``content`` (one stored op)."""
    from documents.models import Document, Operation

    document = Document.objects.get(public_id=public_id)
    assert document.head_revision == 0 and content[-1]["insert"].endswith("\n")
    # The document starts as one newline: insert everything before it.
    delta = [dict(op) for op in content]
    last = dict(delta[-1])
    last["insert"] = last["insert"][:-1]
    delta[-1] = last
    delta = [op for op in delta if op["insert"]]
    Operation.objects.create(document=document, revision=1, op_id="bench:setup", delta=delta)
    Document.objects.filter(pk=document.pk).update(head_revision=1)


def add_threads(public_id: str, ids: list[str], authors: list[Any], *, messages: int) -> None:
    """Store a thread per id, each with ``messages`` messages."""
    from documents.models import Document
    from review.models import Message, Thread

    document = Document.objects.get(public_id=public_id)
    threads = Thread.objects.bulk_create(
        Thread(
            document=document,
            public_id=tid,
            quote="quoted words",
            created_by=authors[n % len(authors)],
        )
        for n, tid in enumerate(ids)
    )
    Message.objects.bulk_create(
        Message(thread=thread, author=authors[(n + m) % len(authors)], body=f"Message {m} here")
        for n, thread in enumerate(threads)
        for m in range(messages)
    )


@dataclass
class Fixtures:
    """The people and documents of one run."""

    users: list[Any]
    cookies: list[str]
    docs: dict[str, str]  # name -> public id
    suggestion_count: int
    thread_count: int


def session_cookie(user: Any) -> str:
    """Return a signed-in session cookie for ``user``."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def make_fixtures(rng: random.Random) -> Fixtures:
    """Create the typists and the five documents."""
    from django.contrib.auth import get_user_model

    from documents import services
    from documents.roles import Role

    stamp = f"{int(time.time())}{rng.randrange(10**6)}"
    users = [
        get_user_model().objects.create_user(f"rb{stamp}u{i}", password=None)
        for i in range(TYPISTS)
    ]
    owner = users[0]
    authors = [user.pk for user in users]
    review, thread_ids = review_content(
        rng,
        authors,
        paragraphs=PARAGRAPHS,
        suggestions=SUGGESTIONS_PER_PARAGRAPH,
        threads=THREADS_PER_PARAGRAPH,
    )
    page, page_ids = review_content(
        rng, authors, paragraphs=PAGE_PARAGRAPHS, suggestions=0, threads=PAGE_THREADS_PER_PARAGRAPH
    )
    docs: dict[str, str] = {}
    for name, role in (
        ("empty", Role.EDITOR),
        ("plain", Role.EDITOR),
        ("review", Role.EDITOR),
        ("review_commenters", Role.COMMENTER),
        ("decide", Role.EDITOR),
        ("page", Role.EDITOR),
    ):
        document = services.document_create(owner=owner, title=f"review bench {name}")
        for user in users[1:]:
            services.share_grant(
                document=document, actor=owner, identifier=user.get_username(), role=role
            )
        docs[name] = str(document.public_id)
    set_content(docs["plain"], plain_of(review))
    for name in ("review", "review_commenters", "decide"):
        set_content(docs[name], review)
        add_threads(docs[name], thread_ids, users, messages=1)
    set_content(docs["page"], page)
    add_threads(docs["page"], page_ids, users, messages=2)
    return Fixtures(
        users=users,
        cookies=[session_cookie(user) for user in users],
        docs=docs,
        suggestion_count=PARAGRAPHS * SUGGESTIONS_PER_PARAGRAPH,
        thread_count=len(thread_ids),
    )


class SuggestingBench(Bench):
    """``load.py``'s bench, each op a suggested insertion in its client's name."""

    def __init__(self, *args: Any, marks: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks = marks

    def make_op(self, client: Client) -> tuple[str, list[dict], int]:
        """Return load.py's random insert, marked as the client's own suggestion."""
        op_id, delta, n = super().make_op(client)
        delta[-1]["attributes"] = {"suggest-insert": self.marks[client.index]}
        return op_id, delta, n


def content_length(content: list[dict]) -> int:
    """Return the length of content in UTF-16 code units (embeds count 1)."""
    return sum(utf16_len(op["insert"]) if isinstance(op["insert"], str) else 1 for op in content)


async def typing_run(
    args: argparse.Namespace,
    host: str,
    doc: str,
    cookies: list[str],
    *,
    server_pid: int,
    marks: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Run the closed typing loop on ``doc``; return ops/s, latency, CPU per op, problems.

    The server's CPU time per acknowledged op is the figure least moved by
    other work on the machine: wall-clock throughput drops when another
    process takes the cores, CPU per op does not.
    """
    from asgiref.sync import sync_to_async

    from bench.load import lat_summary, proc_cpu_seconds, stored_content

    # A seed of its own per run: load.py's Bench names its op ids from the
    # seed, and a document dedups op ids, so a repeat would be acked as done.
    seed = args.seed * 1000 + next(RUNS)
    bench_args = argparse.Namespace(seed=seed, bold=0.3, rate=1.0, mode="closed")
    origin = f"http://{host}"
    bench: Bench = (
        SuggestingBench(bench_args, f"ws://{host}", origin, marks=marks)
        if marks is not None
        else Bench(bench_args, f"ws://{host}", origin)
    )
    clients = [Client(index=i, doc=doc, cookie=cookies[i]) for i in range(len(cookies))]
    hellos = await asyncio.gather(*(bench.connect(c) for c in clients))
    for c, hello in zip(clients, hellos, strict=True):
        c.rev, c.length = hello["rev"], content_length(hello["content"])
    start_rev, start_length = clients[0].rev, clients[0].length
    readers = [asyncio.create_task(bench.reader_loop(c)) for c in clients]
    bench.t_measure = time.perf_counter() + args.warmup
    bench.t_end = bench.t_measure + args.seconds
    drivers = [asyncio.create_task(bench.closed_loop(c)) for c in clients]
    await asyncio.sleep(max(0.0, bench.t_measure - time.perf_counter()))
    cpu0 = proc_cpu_seconds(server_pid)
    await asyncio.sleep(max(0.0, bench.t_end - time.perf_counter()))
    cpu1 = proc_cpu_seconds(server_pid)
    bench.stopping = True
    await asyncio.wait(drivers, timeout=30)
    for _ in range(300):
        if all(c.inflight is None for c in clients):
            break
        await asyncio.sleep(0.05)
    # Verify like load.py: everyone converged on what a fresh reader sees.
    problems: list[str] = []
    reader = Client(index=-1, doc=doc, cookie=cookies[0])
    hello = await bench.connect(reader)
    await reader.ws.close()
    for _ in range(200):
        if all(c.rev >= hello["rev"] for c in clients):
            break
        await asyncio.sleep(0.05)
    length = content_length(hello["content"])
    acked = sum(c.acked for c in clients)
    if hello["rev"] != start_rev + acked:
        problems.append(f"server at rev {hello['rev']}, {acked} acked from {start_rev}")
    if length != start_length + sum(c.inserted_len for c in clients):
        problems.append(f"length {length} is not the start plus everything inserted")
    if any((c.rev, c.length) != (hello["rev"], length) for c in clients):
        problems.append("a client did not converge on the reader's revision and length")
    stored = await sync_to_async(stored_content)(doc)
    if json.dumps(stored, sort_keys=True) != json.dumps(hello["content"], sort_keys=True):
        problems.append("stored document differs from the server's hello")
    errors = sum(c.errors for c in clients)
    if errors:
        problems.append(f"{errors} errors, e.g. {bench.error_sample}")
    for c in clients:
        await c.ws.close()
    for task in readers:
        task.cancel()
    cpu_ms = None
    if cpu0 is not None and cpu1 is not None and bench.window_acks:
        cpu_ms = round((cpu1 - cpu0) * 1000 / bench.window_acks, 3)
    return {
        "ops_per_s": round(bench.window_acks / args.seconds, 1),
        "server_cpu_ms_per_op": cpu_ms,
        "lat_ms": lat_summary(bench.ack_lat),
        "problems": problems,
    }


def http(
    host: str, method: str, path: str, cookie: str, body: dict | None = None
) -> tuple[int, bytes]:
    """Make one request as the person with ``cookie`` (CSRF token included)."""
    token = "b" * 32  # any 32-character secret: the cookie and the header must match
    request = urllib.request.Request(
        f"http://{host}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Cookie": f"{cookie}; csrftoken={token}",
            "X-CSRFToken": token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        # Loopback only: the host is the daphne this script started.
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def accept_all(host: str, doc: str, cookie: str, expected: int) -> dict[str, Any]:
    """Accept every suggestion of ``doc`` through the decide API; time it and check it."""
    bench = Bench(argparse.Namespace(seed=0), f"ws://{host}", f"http://{host}")
    watcher = Client(index=0, doc=doc, cookie=cookie)
    hello = await bench.connect(watcher)
    path = f"/api/docs/{doc}/suggestions/decide"
    started = time.perf_counter()
    status, raw = await asyncio.to_thread(
        http, host, "POST", path, cookie, {"accept": True, "all": True}
    )
    elapsed = time.perf_counter() - started
    problems: list[str] = []
    answer = json.loads(raw) if raw.startswith(b"{") else {}
    if status != 200:
        problems.append(f"decide answered {status}: {raw[:300]!r}")
    elif answer.get("revision") != hello["rev"] + 1:
        problems.append(f"not one change: revision {answer.get('revision')} after {hello['rev']}")
    if status == 200 and answer.get("decided") != expected:
        problems.append(f"decided {answer.get('decided')} of {expected} suggestions")
    # The socket hears it as one op (or the ack-less op of someone else).
    frames: list[dict] = []
    with contextlib.suppress(TimeoutError):
        while len(frames) < 1:
            frame = json.loads(await asyncio.wait_for(recv_whole(watcher.ws, watcher.parts), 10))
            frames.extend(frame["messages"] if frame.get("type") == "batch" else [frame])
            frames = [f for f in frames if f.get("type") == "op"]
    if not frames or frames[0].get("rev") != answer.get("revision"):
        problems.append("the open socket did not receive the decision as one op")
    await watcher.ws.close()
    reader = Client(index=1, doc=doc, cookie=cookie)
    after = await bench.connect(reader)
    await reader.ws.close()
    left = sum(
        1
        for op in after["content"]
        for name in (op.get("attributes") or {})
        if name.startswith("suggest-")
    )
    if left:
        problems.append(f"{left} runs still carry suggestion marks")
    return {"seconds": round(elapsed, 3), "revision": answer.get("revision"), "problems": problems}


async def page_open(host: str, doc: str, cookie: str, expected_threads: int) -> dict[str, Any]:
    """Time the page, its threads and the socket's hello: cold once, then warm x5.

    The three are timed one after the other (a browser overlaps the last
    two), so the total is an upper bound; each part is reported too.
    """
    bench = Bench(argparse.Namespace(seed=0), f"ws://{host}", f"http://{host}")
    problems: list[str] = []
    runs: list[dict[str, float]] = []
    for attempt in range(6):
        t0 = time.perf_counter()
        status, _ = await asyncio.to_thread(http, host, "GET", f"/d/{doc}/", cookie)
        t1 = time.perf_counter()
        threads_status, raw = await asyncio.to_thread(
            http, host, "GET", f"/api/docs/{doc}/threads", cookie
        )
        t2 = time.perf_counter()
        client = Client(index=attempt, doc=doc, cookie=cookie)
        await bench.connect(client)
        t3 = time.perf_counter()
        await client.ws.close()
        runs.append({"total": t3 - t0, "page": t1 - t0, "threads": t2 - t1, "hello": t3 - t2})
        if status != 200 or threads_status != 200:
            problems.append(f"page {status}, threads {threads_status}")
            break
        count = len(json.loads(raw)["threads"])
        if count != expected_threads:
            problems.append(f"{count} threads listed of {expected_threads}")
            break
    warm = runs[1:]

    def median(part: str) -> float | None:
        return round(statistics.median(run[part] for run in warm), 3) if warm else None

    return {
        "cold_s": {part: round(value, 3) for part, value in runs[0].items()},
        "warm_median_s": {part: median(part) for part in ("total", "page", "threads", "hello")},
        "warm_max_s": round(max(run["total"] for run in warm), 3) if warm else None,
        "problems": problems,
    }


async def run_all(
    args: argparse.Namespace, host: str, fixtures: Fixtures, server_pid: int
) -> dict[str, Any]:
    """Run every measurement in order; return the results."""
    cookies, docs = fixtures.cookies, fixtures.docs
    rng = random.Random(args.seed)
    results: dict[str, Any] = {}
    # Rotate the order of the documents round by round, so each runs first,
    # second and third once (over three rounds) and a slow moment of this
    # shared machine does not land on one of them only. Each document's
    # figures are the means over its rounds.
    names = ["empty", "plain", "review"]
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for number in range(args.rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            rounds[name].append(
                await typing_run(args, host, docs[name], cookies, server_pid=server_pid)
            )
    for name, runs in rounds.items():
        cpu = [run["server_cpu_ms_per_op"] for run in runs if run["server_cpu_ms_per_op"]]
        results[f"typing_{name}"] = {
            "ops_per_s": round(statistics.mean(run["ops_per_s"] for run in runs), 1),
            "server_cpu_ms_per_op": round(statistics.mean(cpu), 3) if cpu else None,
            "rounds_ops_per_s": [run["ops_per_s"] for run in runs],
            "rounds_cpu_ms_per_op": [run["server_cpu_ms_per_op"] for run in runs],
            "lat_ms": runs[-1]["lat_ms"],
            "problems": [p for run in runs for p in run["problems"]],
        }
    marks = {i: mark(rng, user.pk) for i, user in enumerate(fixtures.users)}
    # The owner is never a commenter: their client suggests as the owner may.
    results["typing_review_commenters"] = await typing_run(
        args, host, docs["review_commenters"], cookies, server_pid=server_pid, marks=marks
    )
    results["accept_all"] = await accept_all(
        host, docs["decide"], cookies[0], fixtures.suggestion_count
    )
    results["page_open"] = await page_open(
        host, docs["page"], cookies[1], PAGE_PARAGRAPHS * PAGE_THREADS_PER_PARAGRAPH
    )
    return results


def table(results: dict[str, Any], fixtures: Fixtures) -> str:
    """Return the figures as a Markdown table."""

    def lat(entry: dict) -> str:
        values = entry.get("lat_ms") or {}
        if values.get("p50") is None:
            return "-"
        return f"{values['p50']:.1f} / {values['p95']:.1f} / {values['p99']:.1f}"

    def typing(label: str, entry: dict, target: str, versus: dict | None = None) -> str:
        figure = f"{entry['ops_per_s']} ops/s"
        cpu = entry.get("server_cpu_ms_per_op")
        cpu_text = f"{cpu} ms" if cpu is not None else "-"
        if versus is not None and versus["ops_per_s"]:
            figure += f" ({entry['ops_per_s'] / versus['ops_per_s']:.0%} of plain)"
            if cpu and versus.get("server_cpu_ms_per_op"):
                cpu_text += f" ({cpu / versus['server_cpu_ms_per_op']:.0%} of plain)"
        if entry.get("rounds_ops_per_s"):
            figure += f"; rounds {', '.join(str(v) for v in entry['rounds_ops_per_s'])}"
        return f"| {label} | {figure} | {cpu_text} | {lat(entry)} | {target} |"

    plain = results["typing_plain"]
    review = (
        f"typing 10 x 1, {fixtures.thread_count} threads + {fixtures.suggestion_count} suggestions"
    )
    rows = [
        "| measurement | figure | server CPU per op | p50 / p95 / p99 ms | target |",
        "|---|---|---:|---|---|",
        typing("typing 10 x 1, new document", results["typing_empty"], "(compare_sharedb 10 x 1)"),
        typing("typing 10 x 1, same text, no marks", plain, "baseline"),
        typing(
            review,
            results["typing_review"],
            f"CPU per op ≤ {1 + TYPING_TOLERANCE:.0%} of plain",
            versus=plain,
        ),
        typing(
            "9 commenters + the owner suggesting on it",
            results["typing_review_commenters"],
            "(policy on every op)",
            versus=plain,
        ),
    ]
    decided = results["accept_all"]
    rows.append(
        f"| accept all {fixtures.suggestion_count} suggestions (decide API, one change) "
        f"| {decided['seconds']} s | - | - | < {DECIDE_LIMIT_S:.0f} s |"
    )
    page = results["page_open"]
    threads = PAGE_PARAGRAPHS * PAGE_THREADS_PER_PARAGRAPH
    for label, parts in (("warm, median of 5", page["warm_median_s"]), ("cold", page["cold_s"])):
        rows.append(
            f"| open a page with {threads} threads, {label} "
            f"| {parts['total']} s (page {parts['page']}, threads {parts['threads']}, "
            f"hello {parts['hello']}) | - | - | < {PAGE_LIMIT_S:.0f} s |"
        )
    return "\n".join(rows)


def verdict(results: dict[str, Any]) -> list[str]:
    """Return every verification problem and every missed target."""
    found = [f"{name}: {p}" for name, entry in results.items() for p in entry["problems"]]
    plain, review = results["typing_plain"], results["typing_review"]
    # The server's CPU per op decides: a 2-core machine shared with other
    # work moves throughput by 3x from one round to the next, CPU per op by
    # a few percent. Throughput decides only when CPU could not be read.
    if plain["server_cpu_ms_per_op"] and review["server_cpu_ms_per_op"]:
        if review["server_cpu_ms_per_op"] > plain["server_cpu_ms_per_op"] * (1 + TYPING_TOLERANCE):
            found.append("target missed: an op on the review document costs 10 % more CPU")
    elif review["ops_per_s"] < (plain["ops_per_s"] or 0) * (1 - TYPING_TOLERANCE):
        found.append("target missed: typing on the review document is more than 10 % slower")
    if results["accept_all"]["seconds"] >= DECIDE_LIMIT_S:
        found.append("target missed: accepting all took 1 s or more")
    if (results["page_open"]["warm_median_s"]["total"] or 0) >= PAGE_LIMIT_S:
        found.append("target missed: the page took 1 s or more to open")
    return found


def main() -> int:
    """Start the stack, run everything, print the table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="typing rounds per document")
    args = parser.parse_args()
    if not 0 < args.seconds <= 120 or not 0 <= args.warmup <= 30 or not 1 <= args.rounds <= 10:
        print(json.dumps({"ok": False, "error": "bad arguments"}))
        return 2
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    print(f"seed {args.seed}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-review-bench-"))
    stack_args = argparse.Namespace(database_url="", no_fsync=False, server_rate_limit=100000)
    try:
        stoppers, host, server = start_stack(stack_args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        import os

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        import django

        django.setup()
        fixtures = make_fixtures(random.Random(args.seed))
        limit = (3 * args.rounds + 1) * (args.warmup + args.seconds + 60) + 180
        results = asyncio.run(
            asyncio.wait_for(run_all(args, host, fixtures, server.pid), timeout=limit)
        )
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        log = (workdir / "daphne.log").read_text(errors="replace")[-2000:]
        print(json.dumps({"ok": False, "error": repr(exc), "server_log": log}))
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    print(table(results, fixtures))
    problems = verdict(results)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(json.dumps({"tool": "collabdocs-review-bench", "seed": args.seed, **results}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
