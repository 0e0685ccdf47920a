/**
 * The mode switch's rules (review/modes.js), the suggestion list the cards
 * show (review/suggest-cards.js) and the author colours
 * (review/suggest-colors.js). Failure modes: a commenter offered Editing
 * (every keystroke refused), a viewer offered a mode at all, the choice
 * lost when access changes back, an undo sent with someone else's mark,
 * a card grouping two suggestions, a suggestion drawn in a colour other
 * than its author's cursor.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { ModeSwitch, allowedModes, modeForKey, rewriterFor } from "../../static/src/editor/review/modes.js";
import { collectSuggestions, describeSuggestion } from "../../static/src/editor/review/suggest-cards.js";
import { authorRules, personRule, userColor } from "../../static/src/editor/review/suggest-colors.js";

/** An in-memory localStorage. */
function memoryStorage() {
  const data = new Map();
  return {
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
  };
}

describe("modes", () => {
  it("offers editors all three, commenters Suggesting and Viewing, viewers none", () => {
    assert.deepEqual(allowedModes({ canEdit: true, canComment: true }), ["editing", "suggesting", "viewing"]);
    assert.deepEqual(allowedModes({ canEdit: false, canComment: true }), ["suggesting", "viewing"]);
    assert.deepEqual(allowedModes({ canEdit: false, canComment: false }), []);
  });

  it("remembers the choice per document and falls back while it is not allowed", () => {
    const storage = memoryStorage();
    const told = [];
    const modes = new ModeSwitch({ element: null, docId: "d1", storage, onChange: (m) => told.push(m) });
    modes.setAccess({ canEdit: true, canComment: true });
    assert.equal(modes.mode, "editing");
    modes.choose("suggesting");
    assert.equal(storage.getItem("collabdocs:mode:d1"), "suggesting");
    modes.setAccess({ canEdit: false, canComment: false }); // shared as viewer now
    assert.equal(modes.mode, "viewing");
    modes.setAccess({ canEdit: true, canComment: true });
    assert.equal(modes.mode, "suggesting", "the choice survives a spell without the right");
    modes.choose("editing");
    modes.setAccess({ canEdit: false, canComment: true }); // now a commenter
    assert.equal(modes.mode, "suggesting");
    modes.choose("editing"); // not allowed: ignored
    assert.equal(modes.mode, "suggesting");
    assert.deepEqual(told, ["editing", "suggesting", "viewing", "suggesting", "editing", "suggesting"]);
    const other = new ModeSwitch({ element: null, docId: "d2", storage, onChange: () => {} });
    other.setAccess({ canEdit: true, canComment: true });
    assert.equal(other.mode, "editing", "another document has its own choice");
  });

  it("switches with Ctrl+Alt+Shift+Z / X / C and nothing else", () => {
    const key = (code, extra = {}) => ({ ctrlKey: true, metaKey: false, altKey: true, shiftKey: true, code, ...extra });
    assert.equal(modeForKey(key("KeyZ")), "editing");
    assert.equal(modeForKey(key("KeyX", { ctrlKey: false, metaKey: true })), "suggesting");
    assert.equal(modeForKey(key("KeyC")), "viewing");
    assert.equal(modeForKey(key("KeyZ", { shiftKey: false })), null, "Ctrl+Alt+Z is not a mode");
    assert.equal(modeForKey(key("KeyZ", { altKey: false })), null, "Ctrl+Shift+Z is redo");
    assert.equal(modeForKey(key("KeyV")), null);
  });

  it("Viewing has no rewrite; Editing drops marks in another's name; Suggesting rewrites", () => {
    assert.equal(rewriterFor("viewing", 7), null);
    const old = new Delta().insert("ab\n");
    const editing = rewriterFor("editing", 7);
    assert.equal(editing(old, new Delta().insert("x"), { fromHistory: false }), null);
    const pasted = editing(old, new Delta().insert("x", { "suggest-insert": "9:a:abcd" }), { fromHistory: true });
    assert.deepEqual(pasted.change.ops, [{ insert: "x" }]);
    const suggesting = rewriterFor("suggesting", 7);
    const typed = suggesting(old, new Delta().insert("x"), { fromHistory: false });
    assert.match(typed.change.ops[0].attributes["suggest-insert"], /^7:[0-9a-z]+:[0-9a-z]{8}$/);
    const marked = new Delta().insert("a").insert("b", { "suggest-delete": "7:a:abcd" }).insert("\n");
    const undo = suggesting(marked, new Delta().retain(1).insert("b").delete(1), { fromHistory: true });
    assert.deepEqual(undo.change.ops, [{ retain: 1 }, { retain: 1, attributes: { "suggest-delete": null } }]);
    // A commenter's undo of her comment would take a thread id away: kept.
    const commented = new Delta().insert("ab", { comment: "abcdefghij" }).insert("\n");
    const uncomment = new Delta().retain(2, { comment: null });
    const commenter = rewriterFor("suggesting", 7, { mayEdit: false });
    assert.deepEqual(commenter(commented, uncomment, { fromHistory: true }).change.ops, [], "nothing left to send");
    const editor = rewriterFor("suggesting", 7, { mayEdit: true });
    assert.deepEqual(editor(commented, uncomment, { fromHistory: true }).change.ops, uncomment.ops);
  });
});

describe("suggestion cards", () => {
  it("lists one suggestion per mark in document order, with what it covers", () => {
    const ops = [
      { insert: "The " },
      { insert: "new", attributes: { "suggest-insert": "7:lx:aaaa" } },
      { insert: " cat " },
      { insert: "sat", attributes: { "suggest-delete": "9:ly:bbbb" } },
      { insert: "\n", attributes: { "suggest-delete": "9:ly:bbbb" } },
      { insert: { image: "/media/a.png" }, attributes: { "suggest-format": '7:lz:cccc|{"width":"50%"}' } },
      { insert: "\n" },
    ];
    const list = collectSuggestions(ops);
    assert.deepEqual(list.map((s) => [s.id, s.kind, s.author, s.index, s.length, s.text]), [
      ["7:lx:aaaa", "insert", 7, 4, 3, "new"],
      ["9:ly:bbbb", "delete", 9, 12, 4, "sat\n"],
      ["7:lz:cccc", "format", 7, 16, 1, "▣"],
    ]);
    assert.equal(list[0].atMs, parseInt("lx", 36));
    assert.equal(describeSuggestion(list[0]), "Add “new”");
    assert.equal(describeSuggestion(list[1]), "Delete “sat¶”");
    assert.equal(describeSuggestion(list[2]), "Format “▣”: width 50%");
    assert.equal(describeSuggestion({ ...list[2], formats: { bold: true, header: 2, italic: null } }), "Format “▣”: bold, heading 2, not italic");
  });
});

describe("author colours", () => {
  it("refer to the person's colour from the server, grey until it is known", () => {
    assert.equal(userColor(42), "var(--person-42, #5f6368)");
    assert.match(authorRules(42), /\[data-suggest-insert\^="42:"\][^{]*\{ --suggest-color: var\(--person-42, #5f6368\); \}/);
    assert.equal(personRule([[7, "#c62828"], [42, "#0277bd"]]), ":root { --person-7: #c62828; --person-42: #0277bd; }");
    assert.equal(personRule([]), ":root {  }");
  });
});
