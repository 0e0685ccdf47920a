/**
 * The timeslider's document step (static/src/history/doc.js): applying a
 * change to a document must give exactly what quill-delta's compose gives,
 * or playback would drift from the server's content. Randomized against
 * quill-delta as the oracle; each seed is printed so a failure reproduces
 * with SEED=<n>.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { applyChange, composeChanges, docLength } from "../../static/src/history/doc.js";
import { randomChange, rng, seeds } from "./helpers.mjs";

describe("applyChange", () => {
  it("inserts, deletes and formats text and embeds", () => {
    const doc = [{ insert: "Hello world" }, { insert: { image: "/media/i/a.png" } }, { insert: "\n" }];
    const out = applyChange(doc, [{ retain: 6 }, { delete: 5 }, { insert: "there", attributes: { bold: true } },
      { retain: 1, attributes: { alt: "a cat" } }]);
    assert.deepEqual(out, [
      { insert: "Hello " },
      { insert: "there", attributes: { bold: true } },
      { insert: { image: "/media/i/a.png" }, attributes: { alt: "a cat" } },
      { insert: "\n" },
    ]);
    assert.equal(docLength(out), 13);
    assert.deepEqual(doc[0], { insert: "Hello world" }, "the input is left as it was");
  });

  it("removes a format with null and merges what then matches", () => {
    const doc = [{ insert: "ab", attributes: { bold: true } }, { insert: "c\n" }];
    assert.deepEqual(applyChange(doc, [{ retain: 2, attributes: { bold: null } }]), [{ insert: "abc\n" }]);
  });

  it("refuses a change that reaches past the end (a gap in the ops)", () => {
    assert.throws(() => applyChange([{ insert: "ab\n" }], [{ retain: 5 }, { insert: "x" }]), RangeError);
  });

  it("agrees with quill-delta's compose on random change sequences", () => {
    const runs = seeds(Number(process.env.RUNS || 40));
    console.log(`history applyChange seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    for (const seed of runs) {
      const random = rng(seed);
      let oracle = new Delta().insert("Start\n");
      let doc = oracle.ops.map((op) => ({ ...op }));
      for (let i = 0; i < 60; i += 1) {
        const change = randomChange(random, oracle);
        oracle = oracle.compose(change);
        doc = applyChange(doc, change.ops);
        assert.deepEqual(doc, oracle.ops, `seed ${seed}, change ${i}`);
      }
    }
  });
});

describe("composeChanges", () => {
  it("agrees with quill-delta: composing a run of changes then applying it once", () => {
    const runs = seeds(Number(process.env.RUNS || 25));
    console.log(`history composeChanges seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    for (const seed of runs) {
      const random = rng(seed);
      let oracle = new Delta().insert("Start here\n");
      const start = oracle;
      let composed = [];
      for (let i = 0; i < 40; i += 1) {
        const change = randomChange(random, oracle);
        oracle = oracle.compose(change);
        composed = composeChanges(composed, change.ops);
        const applied = applyChange(start.ops.map((op) => ({ ...op })), composed);
        assert.deepEqual(applied, oracle.ops, `seed ${seed}, change ${i}`);
      }
    }
  });
});
