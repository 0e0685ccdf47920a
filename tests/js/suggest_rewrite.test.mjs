/**
 * Suggesting mode's rewrite (static/src/editor/review/suggest-rewrite.js):
 * old content + the raw change Quill made → the suggestion sent, the
 * correction shown, the caret. Failure modes: a commenter's keystroke sent
 * as a plain edit (refused by the server), one word split into many
 * suggestions, the struck text lost from the screen, the caret jumping
 * over the struck text, an undo sent as "insert + delete" (refused).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  minimalChange,
  newMark,
  parseFormatSuggestion,
  parseMark,
  rewriteSuggesting,
  dropForeignMarks,
  keepCommentMarks,
} from "../../static/src/editor/review/suggest-rewrite.js";
import { rng, seeds } from "./helpers.mjs";

const ME = 7;
const A = "7:lx3k9a1:aaaa";
const B = "7:lx3k9a2:bbbb";
const THEIRS = "9:lx3k9a1:cccc";

/** A rewrite context whose new marks are M1, M2… */
function who() {
  let n = 0;
  return { userId: ME, mark: () => `7:m:mark${++n}` };
}

/** Check the invariant: the editor corrected equals old + sent change. */
function check(old, raw, result) {
  const shown = old.compose(raw).compose(result.correction);
  assert.deepEqual(shown.ops, old.compose(result.change).ops, "the editor shows what is sent");
}

describe("rewriteSuggesting", () => {
  it("marks typed text as the person's suggested insertion, with a new mark", () => {
    const old = new Delta().insert("Hello\n");
    const raw = new Delta().retain(5).insert("!", { bold: true });
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops, [{ retain: 5 }, { insert: "!", attributes: { bold: true, "suggest-insert": "7:m:mark1" } }]);
    assert.equal(result.caret, 6);
    check(old, raw, result);
  });

  it("groups: typing next to one's own suggestion reuses its mark", () => {
    const old = new Delta().insert("Hi").insert("abc", { "suggest-insert": A }).insert("\n");
    for (const at of [2, 4, 5]) {
      const raw = new Delta().retain(at).insert("x");
      const result = rewriteSuggesting(old, raw, who());
      assert.equal(result.change.ops.at(-1).attributes["suggest-insert"], A, `at ${at}`);
      check(old, raw, result);
    }
  });

  it("does not group with someone else's suggestion, and drops their marks from the insert", () => {
    const old = new Delta().insert("abc", { "suggest-insert": THEIRS }).insert("\n");
    const raw = new Delta().retain(2).insert("x", { "suggest-insert": THEIRS, "suggest-delete": THEIRS });
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops[1], { insert: "x", attributes: { "suggest-insert": "7:m:mark1" } });
    check(old, raw, result);
  });

  it("backspace strikes the character and leaves the caret before it", () => {
    const old = new Delta().insert("Hello\n");
    const raw = new Delta().retain(4).delete(1);
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops, [{ retain: 4 }, { retain: 1, attributes: { "suggest-delete": "7:m:mark1" } }]);
    assert.deepEqual(result.correction.ops, [{ retain: 4 }, { insert: "o", attributes: { "suggest-delete": "7:m:mark1" } }]);
    assert.equal(result.caret, 4);
    assert.equal(result.caretAfter, 5);
    check(old, raw, result);
  });

  it("successive backspaces extend the same deletion", () => {
    const old = new Delta().insert("Hell").insert("o", { "suggest-delete": A }).insert("\n");
    const raw = new Delta().retain(3).delete(1);
    const result = rewriteSuggesting(old, raw, who());
    assert.equal(result.change.ops[1].attributes["suggest-delete"], A);
    check(old, raw, result);
  });

  it("deleting one's own suggested text really deletes it; struck text stays struck", () => {
    const old = new Delta().insert("ab").insert("cd", { "suggest-insert": A }).insert("ef", { "suggest-delete": THEIRS }).insert("\n");
    const raw = new Delta().retain(1).delete(5);
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops, [
      { retain: 1 },
      { retain: 1, attributes: { "suggest-delete": "7:m:mark1" } },
      { delete: 2 },
    ]);
    check(old, raw, result);
  });

  it("typing over a selection puts the new text after the struck text", () => {
    const old = new Delta().insert("old text\n");
    const raw = new Delta().insert("new").delete(3);
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops, [
      { retain: 3, attributes: { "suggest-delete": "7:m:mark1" } },
      { insert: "new", attributes: { "suggest-insert": "7:m:mark2" } },
    ]);
    assert.equal(result.caret, 6);
    check(old, raw, result);
  });

  it("a format becomes a format proposal, merged with one's own, withdrawn when undone", () => {
    const old = new Delta().insert("word\n");
    const bold = rewriteSuggesting(old, new Delta().retain(4, { bold: true }), who());
    assert.deepEqual(bold.change.ops, [{ retain: 4, attributes: { "suggest-format": '7:m:mark1|{"bold":true}' } }]);
    check(old, new Delta().retain(4, { bold: true }), bold);
    const proposed = old.compose(bold.change);
    const italic = rewriteSuggesting(proposed, new Delta().retain(4, { italic: true }), who());
    assert.deepEqual(parseFormatSuggestion(italic.change.ops[0].attributes["suggest-format"]).formats, { bold: true, italic: true });
    assert.equal(parseMark(italic.change.ops[0].attributes["suggest-format"]).raw, "7:m:mark1");
    const both = proposed.compose(italic.change);
    const unbold = rewriteSuggesting(both, new Delta().retain(4, { bold: null, italic: null }), who());
    assert.deepEqual(unbold.change.ops, [{ retain: 4, attributes: { "suggest-format": null } }]);
    check(both, new Delta().retain(4, { bold: null, italic: null }), unbold);
  });

  it("formats one's own suggested words directly and passes comment marks through", () => {
    const old = new Delta().insert("mine", { "suggest-insert": A }).insert("text\n");
    const raw = new Delta().retain(8, { bold: true, comment: "abcdefghij123456" });
    const result = rewriteSuggesting(old, raw, who());
    assert.deepEqual(result.change.ops, [
      { retain: 4, attributes: { bold: true, comment: "abcdefghij123456" } },
      { retain: 4, attributes: { comment: "abcdefghij123456", "suggest-format": '7:m:mark1|{"bold":true}' } },
    ]);
    check(old, raw, result);
  });

  it("keeps the editor equal to what is sent for random changes (seeded)", () => {
    for (const seed of seeds(40)) {
      const random = rng(seed);
      let doc = new Delta().insert("The quick brown fox\njumps\n");
      const context = who();
      for (let step = 0; step < 30; step += 1) {
        const length = doc.length();
        const at = random.int(0, length - 2);
        const kind = random.int(0, 2);
        let raw;
        if (kind === 0) raw = new Delta().retain(at).insert(random.pick(["a", "bc", "\n", "xyz"]));
        else if (kind === 1) raw = new Delta().retain(at).delete(random.int(1, Math.min(4, length - 1 - at)));
        else raw = new Delta().retain(at).retain(random.int(1, Math.min(4, length - 1 - at)), random.pick([{ bold: true }, { italic: null }]));
        const result = rewriteSuggesting(doc, raw, context);
        try {
          check(doc, raw, result);
        } catch (err) {
          err.message += ` (seed ${seed}, step ${step})`;
          throw err;
        }
        const next = doc.compose(result.change);
        assert.equal(next.length() >= doc.length() - 4, true);
        doc = next;
      }
      assert.ok(doc.ops.every((op) => !op.attributes || !("suggest-insert" in op.attributes) || op.attributes["suggest-insert"].startsWith("7:")), `seed ${seed}`);
    }
  });
});

describe("dropForeignMarks", () => {
  it("takes other people's marks off inserted text, keeps one's own", () => {
    const old = new Delta().insert("abcd\n");
    const raw = new Delta().retain(2).insert("ab", { "suggest-insert": THEIRS, bold: true }).insert("c", { "suggest-insert": B });
    const result = dropForeignMarks(old, raw, ME);
    assert.deepEqual(result.change.ops, [{ retain: 2 }, { insert: "ab", attributes: { bold: true } }, { insert: "c", attributes: { "suggest-insert": B } }]);
    assert.deepEqual(result.correction.ops, [{ retain: 2 }, { retain: 2, attributes: { "suggest-insert": null } }]);
    check(old, raw, result);
    assert.equal(dropForeignMarks(old, new Delta().insert("x", { "suggest-insert": B }), ME), null);
  });

  it("leaves a retain's text as it was instead of setting someone else's mark (an undo)", () => {
    const old = new Delta().insert("ab").insert("cd", { "suggest-delete": A }).insert("\n");
    const raw = new Delta().retain(1).retain(3, { "suggest-delete": THEIRS, italic: true }).delete(1);
    const result = dropForeignMarks(old, raw, ME);
    assert.deepEqual(result.change.ops, [{ retain: 1 }, { retain: 3, attributes: { italic: true } }, { delete: 1 }]);
    check(old, raw, result);
  });
});

describe("keepCommentMarks", () => {
  const T1 = "aaaaaaaaaa";
  const T2 = "bbbbbbbbbb";
  it("keeps the ids a change would take away, adds the new ones", () => {
    const old = new Delta().insert("ab", { comment: T1 }).insert("cd\n");
    // An undo right after commenting "bc" with T2: "b" loses T2... and T1 with it.
    const raw = new Delta().retain(1).retain(2, { comment: null });
    const result = keepCommentMarks(old, raw);
    // "b" keeps T1; "c" had none, where a null is allowed (and changes nothing).
    assert.deepEqual(result.change.ops, [{ retain: 2 }, { retain: 1, attributes: { comment: null } }]);
    check(old, raw, result);
    const add = new Delta().retain(1).retain(2, { comment: T2 });
    const added = keepCommentMarks(old, add);
    assert.deepEqual(added.change.ops, [{ retain: 1 }, { retain: 1, attributes: { comment: `${T1} ${T2}` } }, { retain: 1, attributes: { comment: T2 } }]);
    check(old, add, added);
    assert.equal(keepCommentMarks(old, new Delta().retain(2, { comment: `${T1} ${T2}` })), null, "adding only: as it is");
  });
});

describe("minimalChange", () => {
  it("turns an undo's reinsert + delete into dropping the mark", () => {
    const old = new Delta().insert("x").insert("abc", { "suggest-delete": A }).insert("x\n");
    const undo = new Delta().retain(1).insert("abc").delete(3);
    assert.deepEqual(minimalChange(old, undo).ops, [{ retain: 1 }, { retain: 3, attributes: { "suggest-delete": null } }]);
    assert.deepEqual(minimalChange(old, new Delta().retain(3)).ops, []);
  });
});

describe("newMark", () => {
  it("makes a mark of the contract's form", () => {
    const mark = newMark(42, { now: () => 1_700_000_000_000, random: () => 0.5 });
    assert.match(mark, /^42:[0-9a-z]{1,10}:[0-9a-z]{8}$/);
    assert.equal(parseMark(mark).atMs, 1_700_000_000_000);
    assert.equal(parseMark(mark).author, 42);
  });
});
