/**
 * The browser's authorship runs (static/src/editor/authorship/runs.js)
 * against the server's (realtime/ot/authorship.py) on the same random cases.
 *
 * Each seed (printed; SEED=<n> reproduces one) makes a document, runs with
 * random authors and a sequence of random changes, some with an
 * attribution; both sides apply them and must agree on every step, on the
 * refusals (a change past the end, an attribution that does not cover the
 * inserts) and on reading JSON (validation and merging). The Python side
 * runs once, in the project's Python, for the whole table.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import Delta from "quill-delta";

import { apply, fromJSON, initial, length, shares, sliceRuns } from "../../static/src/editor/authorship/runs.js";
import { randomChange, rng, seeds } from "./helpers.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PYTHON = existsSync(join(REPO, ".venv/bin/python")) ? join(REPO, ".venv/bin/python") : "python3";
const AUTHORS = [null, 1, 2, 3];

/**
 * Run the Python module on ``cases`` and return its answers.
 * @param {Array<Object>} cases
 */
function python(cases) {
  const code = `
import json, sys
from realtime.ot import authorship as a
out = []
for case in json.load(sys.stdin):
    try:
        if case["op"] == "apply":
            named = a.from_json(case["attribution"]) if case["attribution"] is not None else None
            out.append(a.to_json(a.apply(a.from_json(case["runs"]), case["delta"], case["author"], named)))
        elif case["op"] == "from_json":
            out.append(a.to_json(a.from_json(case["value"])))
        elif case["op"] == "slice":
            out.append(a.to_json(a.slice_runs(a.from_json(case["runs"]), case["start"], case["end"])))
    except ValueError:
        out.append("error")
print(json.dumps(out))`;
  const done = spawnSync(PYTHON, ["-c", code], {
    cwd: REPO,
    encoding: "utf8",
    input: JSON.stringify(cases),
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(done.status, 0, done.stderr);
  return JSON.parse(done.stdout);
}

/** @param {Object} c */
function javascript(c) {
  try {
    if (c.op === "apply") return apply(fromJSON(c.runs), c.delta, c.author, c.attribution && fromJSON(c.attribution));
    if (c.op === "from_json") return fromJSON(c.value);
    return sliceRuns(fromJSON(c.runs), c.start, c.end);
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) return "error";
    throw err;
  }
}

/**
 * Return random merged runs of ``size`` characters.
 * @param {ReturnType<typeof rng>} random
 * @param {number} size
 */
function randomRuns(random, size) {
  /** @type {Array<[number, number|null]>} */
  const runs = [];
  let left = size;
  while (left > 0) {
    const count = random.int(1, Math.min(left, 5));
    const author = random.pick(AUTHORS);
    const last = runs[runs.length - 1];
    if (last && last[1] === author) last[0] += count;
    else runs.push([count, author]);
    left -= count;
  }
  return runs;
}

/** @param {Array<Object>} ops */
function inserted(ops) {
  let n = 0;
  for (const op of ops) if ("insert" in op) n += typeof op.insert === "string" ? op.insert.length : 1;
  return n;
}

describe("authorship runs: JS twin against Python", () => {
  it("agrees on random sequences of changes, attributions and refusals", () => {
    const cases = [];
    const runSeeds = seeds(40);
    console.log(`authorship twin seeds: ${runSeeds[0]} (+k*7919, 40 of them; SEED=<n> for one)`);
    for (const seed of runSeeds) {
      const random = rng(seed);
      let doc = new Delta().insert("hello world\n");
      let runs = randomRuns(random, doc.length());
      for (let step = 0; step < 8; step++) {
        const change = randomChange(random, doc);
        const author = random.pick(AUTHORS);
        let attribution = null;
        if (random.chance(0.3)) {
          const size = inserted(change.ops);
          attribution = size ? randomRuns(random, size + (random.chance(0.2) ? 1 : 0)) : null;
        }
        const c = { seed, op: "apply", runs, delta: change.ops, author, attribution };
        cases.push(c);
        const result = javascript(c);
        if (result !== "error") {
          runs = result;
          doc = doc.compose(change);
          assert.equal(length(runs), doc.length(), `seed=${seed}`);
        }
      }
      // Past the end.
      cases.push({ seed, op: "apply", runs, delta: [{ retain: length(runs) + 1 }], author: 1, attribution: null });
      const start = random.int(0, length(runs));
      cases.push({ seed, op: "slice", runs, start, end: start + random.int(0, 6) });
    }
    for (const value of [[[1, 1], [2, 1]], [[0, 1]], [[1, true]], [[1.5, null]], "x", [[1, -1]], [[3, null], [1, 2]]]) {
      cases.push({ seed: 0, op: "from_json", value });
    }
    const answers = python(cases);
    cases.forEach((c, i) => {
      assert.deepEqual(javascript(c), answers[i], `seed=${c.seed} case ${i}: ${JSON.stringify(c)}`);
    });
  });

  it("counts shares and starts from one author", () => {
    assert.deepEqual(initial(0), []);
    assert.deepEqual(initial(3, 7), [[3, 7]]);
    assert.deepEqual([...shares([[2, 1], [3, null], [1, 1]])], [[1, 3], [null, 3]]);
    assert.deepEqual(apply([[3, 1]], [{ retain: 1 }, { insert: "😀" }], 2), [[1, 1], [2, 2], [2, 1]]);
  });
});
