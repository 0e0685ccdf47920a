/**
 * The small pure pieces: protocol helpers and the colour contrast of name
 * tags.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  CloseCode,
  ErrorCode,
  RELOAD_ERRORS,
  RETRY_ERRORS,
  insertedText,
  isOpId,
  opMessage,
  presenceMessage,
} from "../../static/src/editor/protocol.js";
import { readFileSync } from "node:fs";
import { readableOn } from "../../static/src/editor/people-list.js";
import { unsyncedLabel } from "../../static/src/editor/ui.js";

describe("protocol", () => {
  it("knows the close codes and sorts the error codes per the table", () => {
    assert.deepEqual(
      [CloseCode.REDIRECT, CloseCode.NOT_LOGGED_IN, CloseCode.FORBIDDEN, CloseCode.NOT_FOUND, CloseCode.GOING_AWAY],
      [4301, 4401, 4403, 4404, 4503],
    );
    assert.deepEqual([...RETRY_ERRORS].sort(), [ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE].sort());
    assert.deepEqual([...RELOAD_ERRORS].sort(), ["bad_message", "bad_op", "forbidden", "stale", "too_large"]);
  });

  it("checks op ids like the server", () => {
    assert.ok(isOpId("9f2c4e1ab3d87766c0de5a1b2c3d4e5f:17"));
    assert.ok(!isOpId("short:1"));
    assert.ok(!isOpId("9f2c4e1ab3d87766c0de5a1b2c3d4e5f:0"));
    assert.ok(!isOpId("9f2c4e1ab3d87766c0de5a1b2c3d4e5f:01"));
    assert.ok(!isOpId("9f2c4e1ab3d87766c0de5a1b2c3d4e5f!:1"));
  });

  it("builds client frames", () => {
    assert.deepEqual(opMessage({ id: "a".repeat(16) + ":1", rev: 3, delta: new Delta().insert("x") }),
      { type: "op", id: "a".repeat(16) + ":1", rev: 3, delta: [{ insert: "x" }] });
    assert.deepEqual(presenceMessage(4, { index: 1, length: 2, extra: 1 }),
      { type: "presence", rev: 4, range: { index: 1, length: 2 } });
    assert.deepEqual(presenceMessage(4, null), { type: "presence", rev: 4, range: null });
  });

  it("collects inserted text", () => {
    assert.equal(insertedText(new Delta().retain(2).insert("ab").delete(1).insert({ image: "x" }).insert("c")), "abc");
    assert.equal(insertedText(null), "");
  });
});

describe("ui helpers", () => {
  it("writes name tags in white on every palette colour, black on light colours", () => {
    const source = readFileSync(new URL("../../documents/people.py", import.meta.url), "utf8");
    const block = /PALETTE[^=]*=\s*\(([\s\S]*?)\)/.exec(source)[1];
    const palette = [...block.matchAll(/"(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    assert.ok(palette.length >= 12, "the server's palette was read");
    for (const colour of palette) assert.equal(readableOn(colour), "#fff", colour);
    for (const light of ["#fffac8", "#aaffc3", "#ffe119", "#bfef45"]) assert.equal(readableOn(light), "#202124");
  });

  it("counts unsynced changes", () => {
    assert.equal(unsyncedLabel(1), "1 unsynced change");
    assert.equal(unsyncedLabel(3), "3 unsynced changes");
  });
});
