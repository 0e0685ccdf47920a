#!/usr/bin/env node
// The node half of bench/ot_bench.py: the same work with npm quill-delta.
// Usage: node bench/ot_bench.js workload.json [seconds]; prints one JSON line.
'use strict';

const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const Delta = require(require.resolve('quill-delta', { paths: [repo] }));

const data = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const seconds = Number(process.argv[3] || 0.5);
const repeat = Number(process.argv[4] || 3);

// Run work(i) (returning units done) for about `seconds`, `repeat` times;
// return the best rate in units/s.
function rate(work) {
  let best = 0;
  let calls = 0;
  for (let r = 0; r < repeat; r += 1) {
    let done = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    for (;;) {
      done += work(calls);
      calls += 1;
      const now = process.hrtime.bigint();
      if (now >= deadline) {
        best = Math.max(best, done / (Number(now - start) / 1e9));
        break;
      }
    }
  }
  return best;
}

const pairs = data.pairs.map(([a, b]) => [new Delta(a), new Delta(b)]);
const doc = new Delta(data.doc);
const strokes = data.strokes.map((ops) => new Delta(ops));
const history = data.history.map((ops) => new Delta(ops));
const late = new Delta(data.late);

const result = {
  version: process.version,
  keystroke_transforms_per_s: rate(() => {
    for (const [a, b] of pairs) a.transform(b, true);
    return pairs.length;
  }),
  compose_1mb_per_s: rate((i) => {
    doc.compose(strokes[i % strokes.length]);
    return 1;
  }),
  history_1000_per_s: rate(() => {
    let change = late;
    for (const earlier of history) change = earlier.transform(change, true);
    return 1;
  }),
};
process.stdout.write(JSON.stringify(result) + '\n');
