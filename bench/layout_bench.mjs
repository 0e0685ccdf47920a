#!/usr/bin/env node
// The layout's browser-side work on a big document (issue 13): the word
// count (static/src/editor/layout/count.js, Intl.Segmenter over the whole
// text) and the outline (outline.js headingsOf over the content's ops),
// which the editor redoes, debounced, after edits. Tells how long the
// debounce must be for a 1 MB document not to stutter typing.
//
// Usage: node bench/layout_bench.mjs [paragraphs=5000] [runs=5]
// Bounded: one document in memory, `runs` passes each, no network; prints one JSON line.
/* global process, performance, console -- a node script (npm run lint covers static/src and tests/js) */
import { countText } from "../static/src/editor/layout/count.js";
import { headingsOf } from "../static/src/editor/layout/outline.js";

const PARAGRAPHS = Math.min(Number(process.argv[2] || 5000), 50_000);
const RUNS = Math.min(Number(process.argv[3] || 5), 50);

const ops = [];
for (let p = 0; p < PARAGRAPHS; p += 1) {
  ops.push({ insert: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, ".repeat(2) });
  ops.push({ insert: "sed do eiusmod", attributes: { bold: true } });
  ops.push({ insert: " tempor incididunt ut labore et dolore magna aliqua." });
  if (p % 50 === 0) ops.push({ insert: { divider: true } });
  ops.push(p % 20 === 0 ? { insert: "\n", attributes: { header: 2 } } : { insert: "\n" });
}
const text = ops.map((op) => (typeof op.insert === "string" ? op.insert : "")).join("");

function time(fn) {
  const samples = [];
  let result;
  for (let i = 0; i < RUNS; i += 1) {
    const start = performance.now();
    result = fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { result, medianMs: Math.round(samples[Math.floor(samples.length / 2)] * 10) / 10 };
}

const count = time(() => countText(text));
const outline = time(() => headingsOf(ops));
console.log(JSON.stringify({
  chars: text.length,
  ops: ops.length,
  words: count.result.words,
  headings: outline.result.length,
  countTextMs: count.medianMs,
  headingsOfMs: outline.medianMs,
}));
