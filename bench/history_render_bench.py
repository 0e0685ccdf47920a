"""Draw a big document the way the history panel does, in Chromium; print ms.

The compare and timeslider views draw a document from its ops with
``static/src/history/redline.js`` (``lineModel`` then ``renderLines``).
This bench bundles that module with esbuild, opens it in Debian's Chromium
(Playwright, a blank page: no server, no network) and times drawing a
document of ``--paragraphs`` paragraphs (5,000: about 900,000 code units,
issue 14's 1 MB), plain and tinted by author, and a timeslider tick (one
paragraph changed, drawn incrementally); medians of ``--repeat`` runs.

    .venv/bin/python bench/history_render_bench.py [--paragraphs 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ENTRY = """
export { attribute, lineModel, renderLines } from "./static/src/history/redline.js";
"""
MEASURE = """
({paragraphs, repeat}) => {
  const doc = [];
  const runs = [];
  for (let p = 0; p < paragraphs; p += 1) {
    const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, ".repeat(2);
    doc.push({insert: text}, {insert: "sed do eiusmod", attributes: {bold: true}},
             {insert: " tempor incididunt ut labore et dolore magna aliqua."},
             {insert: "\\n", attributes: p % 20 === 0 ? {header: 2} : undefined});
    runs.push([text.length, p % 3], [14 + 52 + 1, (p + 1) % 3]);
  }
  const units = doc.reduce((n, op) => n + op.insert.length, 0);
  const box = document.getElementById("c");
  const time = (draw) => {
    const ms = [];
    for (let i = 0; i < repeat; i += 1) {
      const start = performance.now();
      draw();
      box.getBoundingClientRect();  // layout, as the page would before painting
      ms.push(performance.now() - start);
    }
    ms.sort((a, b) => a - b);
    return Number(ms[Math.floor(ms.length / 2)].toFixed(1));
  };
  const colors = ["#e6194b", "#3cb44b", "#4363d8"];
  const plain = time(() => H.renderLines(box, H.lineModel(doc)));
  const tinted = time(() => H.renderLines(box, H.lineModel(H.attribute(doc, runs)),
                                          {showAuthors: true, colorOf: (a) => colors[a]}));
  // The timeslider's tick: one paragraph changed, the rest kept in place.
  H.renderLines(box, H.lineModel(doc), {incremental: true});
  let n = 0;
  const tick = time(() => {
    n += 1;
    const changed = doc.slice();
    changed[4 * 2500] = {insert: `Changed ${n} `.repeat(10)};
    H.renderLines(box, H.lineModel(changed), {incremental: true});
  });
  const text = box.innerText;
  if (!text.includes(`Changed ${n} `)) throw new Error("the tick was not drawn");
  return {units, ops: doc.length, render_ms: plain, render_authors_ms: tinted,
          tick_incremental_ms: tick, nodes: box.getElementsByTagName("*").length};
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    paragraphs = max(1, min(args.paragraphs, 50_000))
    repeat = max(1, min(args.repeat, 20))
    with tempfile.TemporaryDirectory() as tmp:
        entry = Path(tmp) / "entry.mjs"
        entry.write_text(ENTRY.replace("./static", str(REPO / "static")))
        bundle = subprocess.run(
            ["npx", "esbuild", str(entry), "--bundle", "--format=iife", "--global-name=H"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 860, "height": 900})
            page.set_content("<div id='c' style='width:800px'></div>")
            page.add_script_tag(content=bundle)
            result = page.evaluate(MEASURE, {"paragraphs": paragraphs, "repeat": repeat})
        finally:
            browser.close()
    print(json.dumps({"bench": "history_render", "paragraphs": paragraphs, **result}))


if __name__ == "__main__":
    main()
