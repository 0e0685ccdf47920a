/**
 * "Insert file…": the change that puts a converted file at the cursor
 * (insert-file.js insertionDelta), applied to documents as Quill would.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { insertionDelta } from "../../static/src/editor/insert-file.js";

const FILE = [
  { insert: "Title" },
  { insert: "\n", attributes: { header: 1 } },
  { insert: "body\n" },
];

describe("insertionDelta", () => {
  it("inserts at the start of a line as is", () => {
    const doc = new Delta().insert("before\nafter\n");
    const change = insertionDelta({ index: 7, length: 0, lineStart: true, lineFormats: {}, ops: FILE });
    assert.deepEqual(doc.compose(change).ops, [
      { insert: "before\nTitle" },
      { insert: "\n", attributes: { header: 1 } },
      { insert: "body\nafter\n" },
    ]);
  });

  it("splits a line first, keeping its formats on the part before the cursor", () => {
    const doc = new Delta().insert("one two").insert("\n", { list: "bullet" });
    const change = insertionDelta({
      index: 4,
      length: 0,
      lineStart: false,
      lineFormats: { list: "bullet" },
      ops: FILE,
    });
    assert.deepEqual(doc.compose(change).ops, [
      { insert: "one " },
      { insert: "\n", attributes: { list: "bullet" } },
      { insert: "Title" },
      { insert: "\n", attributes: { header: 1 } },
      { insert: "body\ntwo" },
      { insert: "\n", attributes: { list: "bullet" } },
    ]);
  });

  it("replaces the selection", () => {
    const doc = new Delta().insert("keep DROP keep\n");
    const change = insertionDelta({ index: 5, length: 5, lineStart: false, lineFormats: {}, ops: [{ insert: "x\n" }] });
    assert.deepEqual(doc.compose(change).ops, [{ insert: "keep \nx\nkeep\n" }]);
  });
});
