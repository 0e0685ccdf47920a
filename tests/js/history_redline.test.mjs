/**
 * The compare view's model (static/src/history/redline.js): a redline
 * delta cut into lines with its marks, in reading order. Failure modes
 * covered: a deleted paragraph break lost (two paragraphs shown as one
 * with no mark), an author dropped from a mark, a diff value that is not
 * one of the three taken as a mark, the summary saying "+0 words".
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { attribute, lineModel, marks, summaryText } from "../../static/src/history/redline.js";

describe("lineModel", () => {
  it("cuts lines at newlines, each with its block attributes", () => {
    const lines = lineModel([
      { insert: "Title" }, { insert: "\n", attributes: { header: 1 } },
      { insert: "one\ntwo" }, { insert: "\n", attributes: { list: "bullet" } },
    ]);
    assert.deepEqual(lines.map((line) => [line.spans.map((s) => s.text).join(""), line.attrs]), [
      ["Title", { header: 1 }],
      ["one", {}],
      ["two", { list: "bullet" }],
    ]);
  });

  it("keeps inserted, deleted and reformatted text with their authors, in order", () => {
    const ops = [
      { insert: "The " },
      { insert: "old ", diff: "delete", "diff-author": 1 },
      { insert: "new ", diff: "insert", "diff-author": 2 },
      { insert: "plan", attributes: { bold: true }, diff: "format", "diff-author": 2 },
      { insert: "\n", diff: "delete", "diff-author": 1 },
      { insert: "Next", diff: "sparkle" },
      { insert: "\n" },
    ];
    const lines = lineModel(ops);
    assert.equal(lines.length, 2);
    assert.equal(lines[0].diff, "delete", "the deleted paragraph break is marked on its line");
    assert.deepEqual(marks(lines), [
      { diff: "delete", author: 1, text: "old " },
      { diff: "insert", author: 2, text: "new " },
      { diff: "format", author: 2, text: "plan" },
      { diff: "delete", author: 1, text: "\n" },
    ]);
    assert.equal(lines[0].spans[3].attrs.bold, true);
  });

  it("keeps embeds as spans of their own and tolerates text after the last newline", () => {
    const lines = lineModel([{ insert: { image: "/media/i/x.png" }, diff: "insert", "diff-author": 3 },
      { insert: "\n" }, { insert: "tail" }]);
    assert.deepEqual(lines[0].spans[0].embed, { kind: "image", value: "/media/i/x.png" });
    assert.deepEqual(marks(lines), [{ diff: "insert", author: 3, text: "[image]" }]);
    assert.equal(lines[1].spans[0].text, "tail");
    assert.deepEqual(lineModel(/** @type {any} */ (null)), []);
  });
});

describe("summaryText", () => {
  it("says what changed, with the minus sign and singulars", () => {
    assert.equal(summaryText({ added_words: 12, removed_words: 1, formatted: 2 }),
      "+12 words, \u22121 word, formatting changed");
    assert.equal(summaryText({ added_words: 1, removed_words: 0, formatted: 0 }), "+1 word");
    assert.equal(summaryText({ added_words: 0, removed_words: 0, formatted: 0 }), "No changes");
  });
});

describe("attribute", () => {
  it("cuts a document at the authorship runs' edges, embeds counting one", () => {
    const doc = [{ insert: "Hello ", attributes: { bold: true } }, { insert: { image: "/media/i/a.png" } }, { insert: "world\n" }];
    const out = attribute(doc, [[3, 1], [4, 2], [6, null]]);
    assert.deepEqual(out.map((op) => [op.insert, op.by]), [
      ["Hel", 1], ["lo ", 2], [{ image: "/media/i/a.png" }, 2], ["world\n", null],
    ]);
    assert.deepEqual(out[1].attributes, { bold: true });
    const spans = lineModel(out)[0].spans;
    assert.deepEqual(spans.map((span) => span.by), [1, 2, 2, null]);
  });

  it("leaves text past the runs unattributed", () => {
    assert.deepEqual(attribute([{ insert: "abc\n" }], [[2, 7]]).map((op) => [op.insert, op.by]),
      [["ab", 7], ["c\n", null]]);
  });
});
