/**
 * The undo grouping decision (static/src/editor/undo-steps.js). Failure
 * modes: a word cut in half by the clock, two words in one step, typing
 * folded into a deletion run (or the reverse), a paste, format or
 * selection delete merged with typing, a pause not ending a step, an
 * apostrophe or an accent ending a word, a step continued somewhere else
 * in the document, a remote change breaking the step being typed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  CLOSED,
  describeEdit,
  isOneCharacter,
  isWordChar,
  moveGroup,
  nextStep,
} from "../../static/src/editor/undo-steps.js";

const PAUSE = 1000;

/**
 * Type ``keys`` one by one into ``doc`` (a string), ``gap`` ms apart, and
 * return the text of each undo step in order.
 * @param {string} keys
 * @param {{gap?: number, at?: number, doc?: string}} [options]
 */
function typeSteps(keys, { gap = 50, at = 0, doc = "" } = {}) {
  let group = CLOSED;
  let time = 0;
  let index = at;
  let text = doc;
  /** @type {string[]} */
  const steps = [];
  for (const key of [...keys]) {
    const change = new Delta().retain(index).insert(key);
    const edit = describeEdit(change.ops, new Delta().insert(`${text}\n`).ops);
    const step = nextStep(group, edit, time, PAUSE);
    if (step.merge) steps[steps.length - 1] += key;
    else steps.push(key);
    group = step.group;
    text = text.slice(0, index) + key + text.slice(index);
    index += key.length;
    time += gap;
  }
  return steps;
}

describe("undo steps: typing", () => {
  it("groups by word with the spaces and punctuation after it", () => {
    assert.deepEqual(typeSteps("hello world again"), ["hello ", "world ", "again"]);
    assert.deepEqual(typeSteps("Yes, really!! Done."), ["Yes, ", "really!! ", "Done."]);
  });

  it("keeps apostrophes, accents and other scripts inside the word", () => {
    assert.deepEqual(typeSteps("don't café"), ["don't ", "café"]);
    assert.deepEqual(typeSteps("naïve\u0301 ok"), ["naïve\u0301 ", "ok"]);
    assert.deepEqual(typeSteps("привет мир"), ["привет ", "мир"]);
  });

  it("keeps leading spaces with the word that follows them", () => {
    assert.deepEqual(typeSteps("  indented text"), ["  indented ", "text"]);
  });

  it("ends a step at a pause, even inside a word", () => {
    assert.deepEqual(typeSteps("abc", { gap: PAUSE + 1 }), ["a", "b", "c"]);
    // Exactly the pause still joins: the bound is inclusive.
    assert.deepEqual(typeSteps("abc", { gap: PAUSE }), ["abc"]);
  });

  it("never cuts a long word typed without a pause (Quill's old 1 s window did)", () => {
    const word = "antidisestablishmentarianism";
    assert.deepEqual(typeSteps(`${word} x`, { gap: 200 }), [`${word} `, "x"]);
  });

  it("treats Enter as the end of a word and emoji as punctuation", () => {
    assert.deepEqual(typeSteps("one\ntwo"), ["one\n", "two"]);
    assert.deepEqual(typeSteps("ok 👍 go"), ["ok 👍 ", "go"]);
  });

  it("starts a new step when the caret moved elsewhere", () => {
    let group = CLOSED;
    const doc = new Delta().insert("abcdef\n").ops;
    let step = nextStep(group, describeEdit(new Delta().retain(1).insert("x").ops, doc), 0, PAUSE);
    group = step.group;
    step = nextStep(group, describeEdit(new Delta().retain(2).insert("y").ops, doc), 10, PAUSE);
    assert.equal(step.merge, true, "right after the x");
    group = step.group;
    step = nextStep(group, describeEdit(new Delta().retain(6).insert("z").ops, doc), 20, PAUSE);
    assert.equal(step.merge, false, "somewhere else");
  });

  it("lets typing over a selection start a step the word continues", () => {
    const doc = new Delta().insert("old text\n").ops;
    const replace = describeEdit(new Delta().retain(0).insert("n").delete(3).ops, doc);
    assert.deepEqual(replace, { kind: "replace", index: 0, text: "n" });
    const typing = nextStep(CLOSED, describeEdit(new Delta().insert("a").ops, doc), 0, PAUSE);
    const first = nextStep(typing.group, replace, 10, PAUSE);
    assert.equal(first.merge, false);
    const next = nextStep(first.group, describeEdit(new Delta().retain(1).insert("e").ops, doc), 20, PAUSE);
    assert.equal(next.merge, true);
  });
});

describe("undo steps: deleting", () => {
  const doc = new Delta().insert("hello world\n").ops;

  it("makes a run of Backspace presses one step of its own", () => {
    let group = nextStep(CLOSED, describeEdit(new Delta().retain(11).insert("!").ops, doc), 0, PAUSE).group;
    const decisions = [];
    for (let i = 0; i < 5; i += 1) {
      const at = 10 - i;
      const step = nextStep(group, describeEdit(new Delta().retain(at).delete(1).ops, doc), 10 + i, PAUSE);
      decisions.push(step.merge);
      group = step.group;
    }
    // The first Backspace does not join the typing; the rest join it.
    assert.deepEqual(decisions, [false, true, true, true, true]);
    // Typing after the run is a new step, not part of the run.
    const typed = nextStep(group, describeEdit(new Delta().retain(6).insert("W").ops, doc), 20, PAUSE);
    assert.equal(typed.merge, false);
  });

  it("joins Delete presses at the caret, and mixed Backspace and Delete", () => {
    let step = nextStep(CLOSED, describeEdit(new Delta().retain(3).delete(1).ops, doc), 0, PAUSE);
    step = nextStep(step.group, describeEdit(new Delta().retain(3).delete(1).ops, doc), 10, PAUSE);
    assert.equal(step.merge, true, "Delete, Delete");
    step = nextStep(step.group, describeEdit(new Delta().retain(2).delete(1).ops, doc), 20, PAUSE);
    assert.equal(step.merge, true, "then Backspace");
  });

  it("makes deleting a selection or a word a step on its own", () => {
    const selection = describeEdit(new Delta().retain(0).delete(5).ops, doc);
    assert.deepEqual(selection, { kind: "delete", index: 0, length: 5, single: false });
    const after = nextStep(CLOSED, describeEdit(new Delta().retain(6).delete(1).ops, doc), 0, PAUSE);
    const step = nextStep(after.group, selection, 10, PAUSE);
    assert.equal(step.merge, false);
    const next = nextStep(step.group, describeEdit(new Delta().retain(0).delete(1).ops, doc), 20, PAUSE);
    assert.equal(next.merge, false, "nothing joins a selection delete");
  });

  it("counts an emoji (two UTF-16 units) as one character", () => {
    const emoji = new Delta().insert("a👍🏽b\n").ops;
    const edit = describeEdit(new Delta().retain(1).delete(4).ops, emoji);
    assert.deepEqual(edit, { kind: "delete", index: 1, length: 4, single: true });
  });
});

describe("undo steps: changes that are steps of their own", () => {
  const doc = new Delta().insert("hello\n").ops;

  it("never joins a format with typing", () => {
    const typing = nextStep(CLOSED, describeEdit(new Delta().retain(5).insert("x").ops, doc), 0, PAUSE);
    const format = describeEdit(new Delta().retain(0).retain(5, { bold: true }).ops, doc);
    assert.deepEqual(format, { kind: "format" });
    const step = nextStep(typing.group, format, 10, PAUSE);
    assert.equal(step.merge, false);
    const after = nextStep(step.group, describeEdit(new Delta().retain(6).insert("y").ops, doc), 20, PAUSE);
    assert.equal(after.merge, false, "typing after a format is a new step");
  });

  it("never joins embeds, several inserts or inserts with deletes elsewhere", () => {
    assert.deepEqual(describeEdit(new Delta().retain(2).insert({ image: "/x.png" }).ops, doc), { kind: "other" });
    assert.deepEqual(describeEdit(new Delta().insert("a").retain(2).insert("b").ops, doc), { kind: "other" });
    assert.deepEqual(describeEdit(new Delta().insert("a").retain(2).delete(1).ops, doc), { kind: "other" });
    assert.deepEqual(describeEdit([], doc), { kind: "other" });
    const typing = nextStep(CLOSED, describeEdit(new Delta().insert("a").ops, doc), 0, PAUSE);
    assert.equal(nextStep(typing.group, { kind: "other" }, 1, PAUSE).merge, false);
  });
});

describe("undo steps: helpers", () => {
  it("knows word characters", () => {
    for (const ch of ["a", "Z", "é", "ж", "字", "7", "_", "'", "\u2019"]) assert.ok(isWordChar(ch), ch);
    for (const ch of [" ", ".", ",", "-", "\n", "\t", "👍", "\uFFFC"]) assert.ok(!isWordChar(ch), JSON.stringify(ch));
  });

  it("knows one character from two", () => {
    assert.ok(isOneCharacter("a"));
    assert.ok(isOneCharacter("👍🏽"));
    assert.ok(isOneCharacter("e\u0301"));
    assert.ok(!isOneCharacter("ab"));
    assert.ok(!isOneCharacter(""));
  });

  it("moves the step being typed over someone else's insert before it", () => {
    const group = nextStep(CLOSED, describeEdit(new Delta().retain(5).insert("x").ops, []), 0, PAUSE).group;
    const remote = new Delta().insert("abc");
    const moved = moveGroup(group, (i) => remote.transformPosition(i));
    assert.equal(moved.kind === "typing" && moved.at, 9);
    const step = nextStep(moved, describeEdit(new Delta().retain(9).insert("y").ops, []), 10, PAUSE);
    assert.equal(step.merge, true);
    assert.equal(moveGroup(CLOSED, () => 99), CLOSED);
  });
});
