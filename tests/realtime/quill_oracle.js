#!/usr/bin/env node
// Reference oracle for the differential tests of realtime/ot: answers OT
// questions with the real npm quill-delta (the version Quill 2 uses).
//
// Input, on stdin, one JSON case per line:
//   {"id": 7, "deltas": {"doc": [...ops], "a": [...]},
//    "tasks": [["compose", "doc", "a"], ["transform", "a", "b", true],
//              ["tpos", "a", 5, false], ["invert", "a", "doc"],
//              ["diff", "doc", "doc2"], ["fastdiff", "s", "t"]]}
// (for "fastdiff" the named values are strings, diffed by quill-delta's
// own fast-diff with cleanup, as Delta.diff calls it)
// Output, on stdout, one line per case, in order:
//   {"id": 7, "results": [[...ops], 6, {"error": "message"}, ...]}
// Deltas are built with `new Delta(ops)`, i.e. trusted as given.
'use strict';

const path = require('path');
const readline = require('readline');

// Resolve quill-delta from the repository root, not from this folder.
const repo = path.resolve(__dirname, '..', '..');
const Delta = require(require.resolve('quill-delta', { paths: [repo] }));
// The fast-diff that this quill-delta itself requires.
const fastDiff = require(
  require.resolve('fast-diff', { paths: [path.dirname(require.resolve('quill-delta', { paths: [repo] }))] }),
);

function run(task, deltas) {
  const [name, x, y, flag] = task;
  if (name === 'fastdiff') return fastDiff(deltas[x], deltas[y], undefined, true);
  const a = new Delta(deltas[x]);
  switch (name) {
    case 'compose':
      return a.compose(new Delta(deltas[y])).ops;
    case 'transform':
      return a.transform(new Delta(deltas[y]), flag).ops;
    case 'tpos':
      return a.transformPosition(y, flag);
    case 'invert':
      return a.invert(new Delta(deltas[y])).ops;
    case 'diff':
      return a.diff(new Delta(deltas[y])).ops;
    case 'length':
      return [a.length(), a.changeLength()];
    case 'slice':
      return a.slice(y, flag == null ? undefined : flag).ops;
    default:
      throw new Error('unknown task ' + name);
  }
}

const out = [];
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line);
  const results = c.tasks.map((task) => {
    try {
      return run(task, c.deltas);
    } catch (e) {
      return { error: String(e && e.message) };
    }
  });
  out.push(JSON.stringify({ id: c.id, results }));
  if (out.length >= 512) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
});
rl.on('close', () => {
  if (out.length) process.stdout.write(out.join('\n') + '\n');
});
