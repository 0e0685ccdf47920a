/**
 * Comment anchors as content marks (static/src/editor/review/anchors.js),
 * with quill-delta applying the changes. Failure modes covered: a new
 * thread replacing (instead of joining) the threads already on the text,
 * an id added twice, a mark leaking outside the selection, an eleventh
 * thread on a character (the schema refuses it), a value the server's
 * schema refuses, a failed comment whose mark cannot be taken out exactly,
 * a cursor at the end of a commented word not finding it, biased or short
 * thread ids. Randomized checks print their seed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  MAX_THREADS_PER_CHARACTER,
  commentIds,
  idsAt,
  markChange,
  newThreadId,
  scanAnchors,
  unmarkChange,
} from "../../static/src/editor/review/anchors.js";
import { checkAttribute } from "../../static/src/editor/schema.js";
import { rng, seeds } from "./helpers.mjs";

const A = "aaaaaaaaaa01";
const B = "bbbbbbbbbb02";
const C = "cccccccccc03";

/**
 * Mark ``[index, index + length)`` of ``doc`` with ``id``; return the new document.
 * @param {Delta} doc
 * @param {number} index
 * @param {number} length
 * @param {string} id
 */
function mark(doc, index, length, id) {
  const change = new Delta(markChange(doc.slice(index, index + length).ops, index, id));
  return doc.compose(change);
}

/** The comment ids of every character of ``doc``, one array per character. */
function perCharacter(doc) {
  const out = [];
  for (const op of doc.ops) {
    const n = typeof op.insert === "string" ? op.insert.length : 1;
    for (let i = 0; i < n; i += 1) out.push(commentIds(op.attributes?.comment));
  }
  return out;
}

describe("comment marks", () => {
  it("join the threads already on the text, one retain per run", () => {
    const doc = new Delta().insert("The ").insert("budget", { comment: A, bold: true }).insert(" is due\n");
    const change = markChange(doc.slice(2, 12).ops, 2, B);
    assert.deepEqual(change, [
      { retain: 2 },
      { retain: 2, attributes: { comment: B } },
      { retain: 6, attributes: { comment: `${A} ${B}` } },
      { retain: 2, attributes: { comment: B } },
    ]);
    const after = doc.compose(new Delta(change));
    assert.deepEqual(after.slice(4, 10).ops, [{ insert: "budget", attributes: { comment: `${A} ${B}`, bold: true } }]);
    const { spans } = scanAnchors(after.ops);
    assert.deepEqual(spans.get(A), { index: 4, length: 6 });
    assert.deepEqual(spans.get(B), { index: 2, length: 10 });
  });

  it("never add an id twice", () => {
    const doc = new Delta().insert("word", { comment: A }).insert("\n");
    const after = mark(doc, 0, 4, A);
    assert.deepEqual(after.ops[0], { insert: "word", attributes: { comment: A } });
  });

  it("refuse an eleventh thread on a character and say so", () => {
    const ids = Array.from({ length: MAX_THREADS_PER_CHARACTER }, (_, i) => `thread${String(i).padStart(6, "0")}`);
    const doc = new Delta().insert("x", { comment: ids.join(" ") }).insert("y\n");
    assert.throws(() => markChange(doc.slice(0, 2).ops, 0, C), {
      name: "RangeError",
      message: "Part of that text already has 10 comments.",
    });
  });

  it("refuse a bad thread id and an empty range", () => {
    assert.throws(() => markChange([{ insert: "x" }], 0, "Not-An-Id"), TypeError);
    assert.throws(() => markChange([], 3, A), TypeError);
  });

  it("cover embeds and line ends like text", () => {
    const doc = new Delta().insert("a").insert({ image: "/i.png" }).insert("\nb\n");
    const after = mark(doc, 0, 4, A);
    assert.deepEqual(perCharacter(after).map((ids) => ids.join()), [A, A, A, A, ""]);
    assert.deepEqual(scanAnchors(after.ops).spans.get(A), { index: 0, length: 4 });
  });

  it("are taken out exactly, leaving the other threads", () => {
    const doc = new Delta().insert("one ").insert("two", { comment: A }).insert(" three\n");
    const marked = mark(doc, 2, 7, B);
    const change = unmarkChange(marked.ops, [B]);
    assert.deepEqual(change, [
      { retain: 2 },
      { retain: 2, attributes: { comment: null } },
      { retain: 3, attributes: { comment: A } },
      { retain: 2, attributes: { comment: null } },
    ]);
    assert.deepEqual(marked.compose(new Delta(change)).ops, doc.ops);
    assert.deepEqual(unmarkChange(doc.ops, [C]), []);
  });

  it("find the threads at a cursor, at the end of a word too", () => {
    const doc = new Delta().insert("ab").insert("cd", { comment: A }).insert("ef", { comment: `${A} ${B}` }).insert("g\n");
    const anchors = scanAnchors(doc.ops);
    assert.deepEqual(anchors.runs, [
      { start: 2, end: 4, ids: [A] },
      { start: 4, end: 6, ids: [A, B] },
    ]);
    assert.deepEqual(idsAt(anchors, 0), []);
    assert.deepEqual(idsAt(anchors, 2), [A]);
    assert.deepEqual(idsAt(anchors, 5), [A, B]);
    assert.deepEqual(idsAt(anchors, 6), [A, B], "just after the word");
    assert.deepEqual(idsAt(anchors, 7), []);
  });

  it("mark exactly the selection and come out exactly, on random documents", () => {
    const runs = seeds(60);
    console.log(`comment anchor seeds: ${runs[0]}.. (SEED=<n> reruns one)`);
    const pool = Array.from({ length: 12 }, (_, i) => `thread${String(i).padStart(8, "0")}`);
    for (const seed of runs) {
      const random = rng(seed);
      try {
        let doc = new Delta();
        for (let i = random.int(1, 12); i > 0; i -= 1) {
          const ids = [...new Set(Array.from({ length: random.int(0, 3) }, () => random.pick(pool)))];
          const attributes = ids.length ? { comment: ids.join(" ") } : undefined;
          if (random.chance(0.1)) doc.insert({ image: "/x.png" }, attributes);
          else doc.insert(random.pick(["a", "bc", "déf", "😀", "\n", "ghij"]), attributes);
        }
        doc = doc.insert("\n");
        const index = random.int(0, doc.length() - 1);
        const length = random.int(1, doc.length() - index);
        const id = random.pick(pool);
        const before = perCharacter(doc);
        const marked = mark(doc, index, length, id);
        const after = perCharacter(marked);
        after.forEach((ids, i) => {
          const inside = i >= index && i < index + length;
          const expected = inside && !before[i].includes(id) ? [...before[i], id] : before[i];
          assert.deepEqual(ids, expected, `character ${i}`);
        });
        for (const op of new Delta(markChange(doc.slice(index, index + length).ops, index, id)).ops) {
          if (op.attributes) assert.equal(checkAttribute("comment", op.attributes.comment, { retain: true }), null);
        }
        const span = scanAnchors(marked.ops).spans.get(id);
        assert.ok(span && span.index <= index && span.index + span.length >= index + length);
        const cleared = marked.compose(new Delta(unmarkChange(marked.ops, [id])));
        assert.deepEqual(perCharacter(cleared), before.map((ids) => ids.filter((x) => x !== id)));
      } catch (err) {
        console.log(`comment anchors failed with SEED=${seed}`);
        throw err;
      }
    }
  });
});

describe("thread ids", () => {
  it("are 16 base-36 characters the schema accepts", () => {
    const seen = new Set();
    for (let i = 0; i < 200; i += 1) {
      const id = newThreadId();
      assert.match(id, /^[0-9a-z]{16}$/);
      assert.equal(checkAttribute("comment", id), null);
      seen.add(id);
    }
    assert.equal(seen.size, 200);
  });

  it("redraw bytes that would bias the alphabet", () => {
    let call = 0;
    const bytes = (/** @type {number} */ n) => {
      call += 1;
      // First draw: only bytes >= 252 (all redrawn) but one 37 (-> "1").
      if (call === 1) return Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 37 : 252 + (i % 4)));
      return Uint8Array.from({ length: n }, (_, i) => i);
    };
    assert.equal(newThreadId(bytes), "10123456789abcde");
  });
});
