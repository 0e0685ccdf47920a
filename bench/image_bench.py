#!/usr/bin/env python
"""How long a 5 MB image takes to reach a collaborator (issue 13: under 1 s on loopback).

One real daphne on a throwaway PostgreSQL, started by ``bench/load.py``'s
``start_stack``, with uploads stored in a throwaway MEDIA_ROOT. Two people
share a document, each with a socket open on it. Each run:

1. **upload**: the owner POSTs a fresh image of random pixels (so it does
   not compress: a PNG of about 5 MB, or ``--format jpeg``) to
   ``/api/docs/<id>/images``; timed from request to the 201 answer (the
   server validates, re-encodes, hashes and stores it).
2. **op**: the owner's socket sends the image embed as an op; timed until
   the editor's socket receives it.
   The server's CPU seconds for it are reported beside (``upload_cpu``,
   from /proc: the figure other work on the machine moves least).
3. **fetch**: the editor GETs the src (the access-checked file view); timed
   until the last byte, which is checked against the upload's size.

``total`` is the three together: from choosing the file to the picture's
bytes in the collaborator's browser (without the browser's decode).
Bounded: ``--runs`` (at most 20), every wait has a timeout. Prints a
Markdown table and one JSON line; exit 0 when every run verified, 1 when a
check failed, 2 when it could not run.

    .venv/bin/python bench/image_bench.py [--runs 5] [--format png|jpeg] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load import Bench, Client, proc_cpu_seconds, recv_whole, start_stack

#: Side of the square noise image: 1290² × 3 bytes ≈ 5.0 MB as PNG.
PNG_SIDE = 1290
#: A noise JPEG at quality 95 takes about 1.1 bytes per pixel: ≈ 5 MB.
JPEG_SIDE = 2150
TIMEOUT = 8.0
CSRF = "c" * 32  # any 32 characters: the cookie and the header must match


def noise_image(fmt: str, seed: int) -> bytes:
    """Return an image of random pixels (about 5 MB) in ``fmt``."""
    from PIL import Image

    side = PNG_SIDE if fmt == "png" else JPEG_SIDE
    pixels = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    picture = Image.frombytes("RGB", (side, side), pixels)
    if fmt == "png":
        picture.save(out, format="PNG", compress_level=1)
    else:
        picture.save(out, format="JPEG", quality=95)
    return out.getvalue()


def session_cookie(user: Any) -> str:
    """Return a signed-in session cookie for ``user``."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def make_fixtures(stamp: str) -> tuple[str, str, str]:
    """Create an owner, an editor and their shared document: (doc, owner cookie, editor cookie)."""
    from django.contrib.auth import get_user_model

    from documents import services
    from documents.roles import Role

    users = get_user_model().objects
    owner = users.create_user(f"ib{stamp}owner", password=None)
    editor = users.create_user(f"ib{stamp}editor", password=None)
    doc = services.document_create(owner=owner, title="Image bench")
    services.share_grant(document=doc, actor=owner, identifier=editor.username, role=Role.EDITOR)
    return str(doc.public_id), session_cookie(owner), session_cookie(editor)


def upload(host: str, doc: str, cookie: str, data: bytes, name: str) -> tuple[int, dict]:
    """POST ``data`` as the multipart field ``file``; return (status, JSON answer)."""
    boundary = "imagebench" + os.urandom(8).hex()
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"http://{host}/api/docs/{doc}/images",
        method="POST",
        data=body,
        headers={
            "Cookie": f"{cookie}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    try:
        # Loopback only: the host is the daphne this script started.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fetch(host: str, src: str, cookie: str) -> tuple[int, int]:
    """GET ``src`` as the person with ``cookie``; return (status, bytes read)."""
    request = urllib.request.Request(f"http://{host}{src}", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, 0


async def next_op(client: Client) -> dict:
    """Return the next ``op`` message ``client`` receives (batches unpacked)."""
    while True:
        frame = json.loads(await asyncio.wait_for(recv_whole(client.ws, client.parts), TIMEOUT))
        inner = frame["messages"] if frame.get("type") == "batch" else [frame]
        for message in inner:
            if message.get("type") in ("op", "ack"):
                return message
            if message.get("type") == "error":
                raise RuntimeError(f"server error: {message}")


async def one_run(
    host: str, doc: str, cookies: tuple[str, str], data: bytes, fmt: str, run: int, pid: int
) -> dict[str, Any]:
    """Upload, send the embed, see it on the other socket, fetch it; return the times."""
    bench = Bench(argparse.Namespace(seed=run), f"ws://{host}", f"http://{host}")
    writer = Client(index=0, doc=doc, cookie=cookies[0])
    reader = Client(index=1, doc=doc, cookie=cookies[1])
    hello = await bench.connect(writer)
    await bench.connect(reader)
    problems: list[str] = []
    try:
        cpu_before = proc_cpu_seconds(pid) or 0.0
        started = time.perf_counter()
        status, answer = await asyncio.to_thread(upload, host, doc, cookies[0], data, f"p.{fmt}")
        uploaded = time.perf_counter()
        upload_cpu = (proc_cpu_seconds(pid) or 0.0) - cpu_before
        if status != 201:
            return {"problems": [f"upload answered {status}: {answer}"]}
        op_id = f"{bench.client_id}c0:{run + 1}"
        delta = [
            {"insert": {"image": answer["src"]}, "attributes": {"alt": f"noise {run}"}},
        ]
        await writer.ws.send(
            json.dumps({"type": "op", "id": op_id, "rev": hello["rev"], "delta": delta})
        )
        try:
            seen = await next_op(reader)
        except TimeoutError:
            told = []
            with contextlib.suppress(TimeoutError):
                while True:
                    told.append(await asyncio.wait_for(recv_whole(writer.ws, writer.parts), 3))
            raise RuntimeError(f"the reader saw nothing; the writer was told {told}") from None
        delivered = time.perf_counter()
        if seen.get("id") != op_id or seen["delta"][-1].get("insert") != {"image": answer["src"]}:
            problems.append(f"the reader saw {str(seen)[:200]} instead of the embed")
        status, size = await asyncio.to_thread(fetch, host, answer["src"], cookies[1])
        fetched = time.perf_counter()
        if status != 200 or size != answer["bytes"]:
            problems.append(f"fetch answered {status} with {size} of {answer['bytes']} bytes")
    finally:
        for client in (writer, reader):
            with contextlib.suppress(Exception):
                await client.ws.close()
    return {
        "in_bytes": len(data),
        "stored_bytes": answer["bytes"],
        "upload": uploaded - started,
        "op": delivered - uploaded,
        "fetch": fetched - delivered,
        "total": fetched - started,
        # The server's CPU time for the upload: what load on the machine moves least.
        "upload_cpu": upload_cpu,
        "problems": problems,
    }


def table(runs: list[dict[str, Any]], fmt: str) -> str:
    """Return the Markdown table of the runs' medians and worst."""
    lines = [
        f"Image to collaborator ({fmt}, {runs[0]['in_bytes'] / 1e6:.1f} MB in, "
        f"{runs[0]['stored_bytes'] / 1e6:.1f} MB stored; {len(runs)} runs)",
        "",
        "| step | median s | worst s |",
        "|---|---|---|",
    ]
    for part in ("upload", "upload_cpu", "op", "fetch", "total"):
        values = [run[part] for run in runs]
        lines.append(f"| {part} | {statistics.median(values):.3f} | {max(values):.3f} |")
    return "\n".join(lines)


def main() -> int:
    """Start the stack, run, print the table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", choices=("png", "jpeg"), default="png")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        print(json.dumps({"ok": False, "error": "--runs must be 1 to 20"}))
        return 2
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    print(f"seed {args.seed}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-image-bench-"))
    os.environ["COLLABDOCS_MEDIA_ROOT"] = str(workdir / "media")
    stack_args = argparse.Namespace(database_url="", no_fsync=False, server_rate_limit=100000)
    try:
        stoppers, host, server = start_stack(stack_args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        import django

        django.setup()
        doc, owner, editor = make_fixtures(f"{int(time.time())}{args.seed}")
        images = [noise_image(args.format, args.seed + run) for run in range(args.runs)]

        async def all_runs() -> list[dict[str, Any]]:
            return [
                await one_run(host, doc, (owner, editor), data, args.format, run, server.pid)
                for run, data in enumerate(images)
            ]

        runs = asyncio.run(asyncio.wait_for(all_runs(), timeout=args.runs * 4 * TIMEOUT))
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        log = (workdir / "daphne.log").read_text(errors="replace")[-2000:]
        print(json.dumps({"ok": False, "error": repr(exc), "server_log": log}))
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    problems = [problem for run in runs for problem in run.get("problems", [])]
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if problems or not runs:
        print(json.dumps({"ok": False, "problems": problems}))
        return 1
    print(table(runs, args.format))
    summary = {
        part: round(statistics.median(run[part] for run in runs), 3)
        for part in ("upload", "upload_cpu", "op", "fetch", "total")
    }
    print(
        json.dumps(
            {
                "tool": "collabdocs-image-bench",
                "ok": True,
                "seed": args.seed,
                "format": args.format,
                "in_bytes": runs[0]["in_bytes"],
                "median": summary,
                "worst_total": round(max(run["total"] for run in runs), 3),
                # Other work on the machine moves these figures: say how much there was.
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
