#!/usr/bin/env python
"""How long a picked 5 MB image takes to appear on a collaborator's screen, browser to browser.

bench/image_bench.py times the server's part (upload, op, fetch) with
plain HTTP and sockets; this one times what people see: two Chromium pages
(Debian's, through Playwright) on one document of a real daphne
(``bench/load.py``'s ``start_stack``, a throwaway PostgreSQL and
MEDIA_ROOT). Each run the owner's page is given a fresh noise PNG of about
5 MB through the editor's file picker (static/src/editor/images/), and the
clocks of both pages (one machine, ``Date.now()``) mark:

1. **upload**: from the picker's ``change`` until the owner's editor holds
   the embed (the XMLHttpRequest upload, the server's validation and
   re-encoding, the 201);
2. **op**: until the collaborator's editor has the ``<img>`` (the op over
   the sockets);
3. **shown**: until that image has loaded and decoded (the access-checked
   GET of the file and the browser's decode).

``total`` is the three together. Bounded: ``--runs`` (1 to 10), every wait
has a timeout. Prints a Markdown table and one JSON line; exit 0 when every
run showed the image, 1 when a check failed, 2 when it could not run.

    .venv/bin/python bench/image_browser_bench.py [--runs 3] [--seed N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.image_bench import make_fixtures, noise_image
from bench.load import start_stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 20_000

#: In the collaborator's page: the time each new image appeared and decoded.
WATCH = """() => {
  window.__seen = [];
  const root = window.collabdocs.quill.root;
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) {
      const imgs = node instanceof HTMLImageElement ? [node]
        : node instanceof Element ? [...node.querySelectorAll("img")] : [];
      for (const img of imgs) {
        const entry = {src: img.getAttribute("src"), added: Date.now(), shown: 0};
        window.__seen.push(entry);
        img.decode().then(() => { entry.shown = Date.now(); }, () => { entry.shown = -1; });
      }
    }
  }).observe(root, {childList: true, subtree: true});
}"""
#: In the owner's page: when the picker changed and when the embed arrived.
MARK = """() => {
  window.__marks = {picked: 0, inserted: 0, src: null};
  document.querySelector(".cd-image-picker").addEventListener("change", () => {
    window.__marks.picked = Date.now();
  }, true);
  const quill = window.collabdocs.quill;
  quill.on("text-change", (delta) => {
    for (const op of delta.ops) {
      if (op.insert && op.insert.image && !window.__marks.inserted) {
        window.__marks.inserted = Date.now();
        window.__marks.src = op.insert.image;
      }
    }
  });
}"""
SYNCED = """() => {
  const c = window.collabdocs;
  return !!c && c.connection.status === "connected" && c.client.isSynchronized;
}"""


def one_run(owner: Any, editor: Any, data: bytes, run: int) -> dict[str, Any]:
    """Pick ``data`` in the owner's page; return the times until the editor shows it."""
    owner.evaluate(MARK)
    editor.evaluate(WATCH)
    owner.evaluate("() => window.collabdocs.quill.setSelection(0, 0, 'user')")
    owner.set_input_files(
        ".cd-image-picker",
        files=[{"name": f"noise-{run}.png", "mimeType": "image/png", "buffer": data}],
    )
    owner.wait_for_function("() => !!window.__marks.inserted", timeout=TIMEOUT_MS)
    marks = owner.evaluate("() => window.__marks")
    editor.wait_for_function(
        "(src) => window.__seen.some((e) => e.src === src && e.shown !== 0)",
        arg=marks["src"],
        timeout=TIMEOUT_MS,
    )
    seen = editor.evaluate("(src) => window.__seen.find((e) => e.src === src)", marks["src"])
    problems = [] if seen["shown"] > 0 else [f"run {run}: the image did not decode"]
    return {
        "upload": (marks["inserted"] - marks["picked"]) / 1000,
        "op": (seen["added"] - marks["inserted"]) / 1000,
        "shown": (seen["shown"] - seen["added"]) / 1000,
        "total": (seen["shown"] - marks["picked"]) / 1000,
        "problems": problems,
    }


def main() -> int:
    """Start the stack and two browsers, run, print the table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if not 1 <= args.runs <= 10:
        print(json.dumps({"ok": False, "error": "--runs must be 1 to 10"}))
        return 2
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    print(f"seed {args.seed}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="collabdocs-image-browser-bench-"))
    os.environ["COLLABDOCS_MEDIA_ROOT"] = str(workdir / "media")
    stack_args = argparse.Namespace(database_url="", no_fsync=False, server_rate_limit=100000)
    try:
        stoppers, host, _server = start_stack(stack_args, workdir)
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        print(json.dumps({"ok": False, "error": f"could not start: {exc}"}))
        return 2
    runs: list[dict[str, Any]] = []
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread
        import django

        django.setup()
        from playwright.sync_api import sync_playwright

        doc, owner_cookie, editor_cookie = make_fixtures(f"{int(time.time())}{args.seed}b")
        images = [noise_image("png", args.seed + run) for run in range(args.runs)]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            pages = []
            for cookie in (owner_cookie, editor_cookie):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                name, value = cookie.split("=", 1)
                context.add_cookies([{"name": name, "value": value, "url": f"http://{host}"}])
                page = context.new_page()
                page.goto(f"http://{host}/d/{doc}/")
                page.wait_for_function(SYNCED, timeout=TIMEOUT_MS)
                pages.append(page)
            owner, editor = pages
            runs = [one_run(owner, editor, data, run) for run, data in enumerate(images)]
            browser.close()
    except Exception as exc:  # noqa: BLE001 - reported as JSON
        log = (workdir / "daphne.log").read_text(errors="replace")[-2000:]
        print(json.dumps({"ok": False, "error": repr(exc), "server_log": log}))
        return 2
    finally:
        for stop in stoppers:
            with contextlib.suppress(Exception):  # best effort: stop the rest regardless
                stop()
    problems = [problem for run in runs for problem in run["problems"]]
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if problems or not runs:
        print(json.dumps({"ok": False, "problems": problems}))
        return 1
    parts = ("upload", "op", "shown", "total")
    print(
        f"Picked image to a collaborator's screen ({len(images[0]) / 1e6:.1f} MB PNG, "
        f"{len(runs)} runs)\n\n| step | median s | worst s |\n|---|---|---|"
    )
    for part in parts:
        values = [run[part] for run in runs]
        print(f"| {part} | {statistics.median(values):.3f} | {max(values):.3f} |")
    print(
        json.dumps(
            {
                "tool": "collabdocs-image-browser-bench",
                "ok": True,
                "seed": args.seed,
                "in_bytes": len(images[0]),
                "median": {p: round(statistics.median(r[p] for r in runs), 3) for p in parts},
                "worst_total": round(max(run["total"] for run in runs), 3),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
