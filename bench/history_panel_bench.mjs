#!/usr/bin/env node
// The history panel's browser-side work on a big document (issue 14's
// "1 MB / 100k ops"): how long the timeslider takes to apply op pages to the
// content in hand (static/src/history/doc.js), and to cut a 1 MB document
// into lines for drawing (history/redline.js lineModel). Op by op each
// change costs a pass over the document; a playback tick composes its ops
// first and makes one pass.
//
// Usage: node bench/history_panel_bench.mjs [ops=20000] [paragraphs=5000]
// Bounded: one document, `ops` changes, no network; prints one JSON line.
/* global process, performance, console -- a node script (npm run lint covers static/src and tests/js) */
import { applyChange, composeChanges, docLength } from "../static/src/history/doc.js";
import { lineModel } from "../static/src/history/redline.js";
import { PLAY_TICKS, playStride } from "../static/src/history/timeslider.js";

const OPS = Math.min(Number(process.argv[2] || 20_000), 200_000);
const PARAGRAPHS = Math.min(Number(process.argv[3] || 5000), 50_000);

// A 1 MB document: paragraphs of ~200 characters, every other word bold,
// some headings, so it has many ops as a real one does.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
let doc = [];
for (let p = 0; p < PARAGRAPHS; p += 1) {
  doc.push({ insert: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, ".repeat(2) });
  doc.push({ insert: "sed do eiusmod", attributes: { bold: true } });
  doc.push({ insert: " tempor incididunt ut labore et dolore magna aliqua.".repeat(1) });
  doc.push(p % 20 === 0 ? { insert: "\n", attributes: { header: 2 } } : { insert: "\n" });
}
const size = docLength(doc);

// Typing-like changes: an insert of a few characters, sometimes a delete.
const changes = [];
let length = size;
for (let i = 0; i < OPS; i += 1) {
  const at = Math.floor(random() * (length - 1));
  if (random() < 0.8) {
    changes.push([{ retain: at }, { insert: "abc" }]);
    length += 3;
  } else {
    const n = Math.min(3, length - 1 - at);
    changes.push([{ retain: at }, { delete: n }]);
    length -= n;
  }
}

let start = performance.now();
for (const change of changes) doc = applyChange(doc, change);
const applyMs = performance.now() - start;
if (docLength(doc) !== length) throw new Error("lengths disagree");

start = performance.now();
const lines = lineModel(doc);
const linesMs = performance.now() - start;

// A playback tick on a 100k-op history: `stride` ops composed, applied once.
const stride = playStride(0, 100_000);
const ticks = Math.max(1, Math.floor(OPS / stride));
let played = doc;
start = performance.now();
for (let t = 0; t < ticks; t += 1) {
  let change = [];
  for (const c of changes.slice(t * stride, (t + 1) * stride)) change = composeChanges(change, c);
  played = applyChange(played, change);
}
const tickMs = (performance.now() - start) / ticks;
const perOpUs = (applyMs * 1000) / OPS;
console.log(JSON.stringify({
  bench: "history_panel",
  document_units: size,
  document_ops: doc.length,
  ops_applied: OPS,
  apply_us_per_op: Number(perOpUs.toFixed(1)),
  ops_per_s: Math.round(OPS / (applyMs / 1000)),
  play_stride_100k_ops: stride,
  play_tick_ms_100k_ops: Number(tickMs.toFixed(1)),
  play_ticks: PLAY_TICKS,
  line_model_ms: Number(linesMs.toFixed(1)),
  lines: lines.length,
}));
