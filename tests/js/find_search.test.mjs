/**
 * Find and replace without a browser: the search (find/search.js) and the
 * keys (find/keys.js). Failure modes: a query read as a regular expression,
 * positions shifted by an embed, "whole word" matching inside a word or
 * missing next to punctuation, a case-insensitive search changing lengths,
 * a megabyte of text holding the page, a stale match replacing other words,
 * a replacement losing the text's formats or copying someone's suggestion
 * mark, struck (suggested-deleted) text replaced twice, a shortcut firing
 * with AltGr or the wrong modifier for the platform.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { FIND_KEYS, findAction, isMac, keyLabel, letterOf } from "../../static/src/editor/find/keys.js";
import {
  MAX_MATCHES,
  MAX_QUERY,
  compileQuery,
  countLabel,
  documentText,
  findMatches,
  matchAtOrAfter,
  matcher,
  replaceOps,
} from "../../static/src/editor/find/search.js";

const starts = (found) => found.matches.map((m) => m.index);

describe("find: searching", () => {
  it("finds the query literally, never as a pattern", () => {
    const text = "a.b a+b (x) [y] $1 \\d a/b a|b";
    for (const query of ["a.b", "a+b", "(x)", "[y]", "$1", "\\d", "a/b", "a|b"]) {
      assert.deepEqual(starts(findMatches(text, query)), [text.indexOf(query)], query);
    }
    assert.deepEqual(starts(findMatches("axb", "a.b")), []);
  });

  it("ignores case unless asked, without changing lengths", () => {
    assert.deepEqual(starts(findMatches("Cat cat CAT", "cat")), [0, 4, 8]);
    assert.deepEqual(starts(findMatches("Cat cat CAT", "cat", { matchCase: true })), [4]);
    const found = findMatches("İstanbul ſtraße STRASSE", "straße");
    assert.deepEqual(found.matches, [{ index: 9, length: 6 }]);
  });

  it("matches whole words only when asked, punctuation and line ends being boundaries", () => {
    const text = "cat, catalog; the cat\nbobcat cat_x café cat";
    assert.deepEqual(starts(findMatches(text, "cat", { wholeWord: true })), [0, 18, 40]);
    assert.deepEqual(starts(findMatches("café cafés", "café", { wholeWord: true })), [0]);
    assert.equal(findMatches(text, "cat").matches.length, 6);
  });

  it("keeps document positions across embeds", () => {
    const doc = new Delta().insert("ab").insert({ image: "/i.png" }).insert("ab\n").ops;
    const text = documentText(doc);
    assert.equal(text, "ab\uFFFCab\n");
    assert.deepEqual(starts(findMatches(text, "ab")), [0, 3]);
  });

  it("finds nothing for an empty query and refuses an overlong one", () => {
    assert.deepEqual(findMatches("abc", ""), { matches: [], capped: false });
    assert.equal(compileQuery(""), null);
    assert.throws(() => compileQuery("x".repeat(MAX_QUERY + 1)), RangeError);
  });

  it("counts at most MAX_MATCHES and searches a megabyte quickly", () => {
    const text = "e ".repeat(600_000); // 1.2 MB, 600,000 matches
    const began = performance.now();
    const found = findMatches(text, "e");
    const took = performance.now() - began;
    assert.equal(found.matches.length, MAX_MATCHES);
    assert.equal(found.capped, true);
    assert.ok(took < 1000, `took ${took} ms`);
    assert.equal(findMatches("aaa", "a", {}, 2).capped, true);
    assert.equal(findMatches("aa", "a", {}, 2).capped, false);
  });
});

describe("find: moving and counting", () => {
  const matches = [10, 20, 30].map((index) => ({ index, length: 2 }));

  it("goes to the first match at or after a position, wrapping", () => {
    assert.equal(matchAtOrAfter(matches, 0), 0);
    assert.equal(matchAtOrAfter(matches, 10), 0);
    assert.equal(matchAtOrAfter(matches, 11), 1);
    assert.equal(matchAtOrAfter(matches, 30), 2);
    assert.equal(matchAtOrAfter(matches, 31), 0);
    assert.equal(matchAtOrAfter([], 5), -1);
  });

  it("says n of m", () => {
    assert.equal(countLabel(0, 3, false), "1 of 3");
    assert.equal(countLabel(-1, 0, false), "No results");
    assert.equal(countLabel(4, 100000, true), "5 of 100,000+");
  });
});

describe("find: replacing", () => {
  const apply = (doc, ops) => new Delta(doc).compose(new Delta(ops)).ops;
  const replaceAll = (doc, query, replacement, options = {}) => {
    const found = findMatches(documentText(doc), query, options);
    return replaceOps(doc, found.matches, replacement, matcher(query, options));
  };

  it("replaces every match in one change that keeps the text's formats", () => {
    const doc = new Delta().insert("red ").insert("red", { bold: true }).insert(" tired red\n").ops;
    const { ops, count } = replaceAll(doc, "red", "blue", { wholeWord: true });
    assert.equal(count, 3);
    assert.deepEqual(apply(doc, ops), new Delta()
      .insert("blue ")
      .insert("blue", { bold: true })
      .insert(" tired blue\n").ops);
  });

  it("deletes the matches when the replacement is empty", () => {
    const doc = new Delta().insert("a-b-c\n").ops;
    const { ops } = replaceAll(doc, "-", "");
    assert.deepEqual(apply(doc, ops), [{ insert: "abc\n" }]);
  });

  it("never copies a suggestion mark, keeps a comment mark", () => {
    const doc = new Delta()
      .insert("old", { "suggest-insert": "7:abc:defg", italic: true })
      .insert(" ")
      .insert("old", { comment: "t1" })
      .insert("\n").ops;
    const { ops } = replaceAll(doc, "old", "new");
    assert.deepEqual(apply(doc, ops), new Delta()
      .insert("new", { italic: true })
      .insert(" ")
      .insert("new", { comment: "t1" })
      .insert("\n").ops);
  });

  it("leaves struck text alone (Suggesting mode keeps the replaced words)", () => {
    const doc = new Delta().insert("cat", { "suggest-delete": "7:abc:defg" }).insert("dog cat\n").ops;
    const { ops, count } = replaceAll(doc, "cat", "dog");
    assert.equal(count, 1);
    assert.deepEqual(apply(doc, ops), new Delta()
      .insert("cat", { "suggest-delete": "7:abc:defg" })
      .insert("dog dog\n").ops);
  });

  it("skips a stale match rather than replace other words", () => {
    const doc = new Delta().insert("hello world\n").ops;
    const stale = [{ index: 0, length: 5 }, { index: 6, length: 5 }];
    const { ops, count } = replaceOps(doc, stale, "X", matcher("world", {}));
    assert.equal(count, 1);
    assert.deepEqual(apply(doc, ops), [{ insert: "hello X\n" }]);
    assert.deepEqual(replaceOps(doc, [{ index: 0, length: 3 }], "X", matcher("zzz", {})), { ops: [], count: 0 });
  });

  it("replaces around embeds at the right places, and one match alone", () => {
    const doc = new Delta().insert("ab").insert({ image: "/i.png" }).insert("ab ab\n").ops;
    const found = findMatches(documentText(doc), "ab");
    const { ops } = replaceOps(doc, [found.matches[1]], "Z", matcher("ab", {}));
    assert.deepEqual(apply(doc, ops), new Delta().insert("ab").insert({ image: "/i.png" }).insert("Z ab\n").ops);
  });

  it("matches a piece of text only as a whole", () => {
    const isMatch = matcher("cat", { wholeWord: true });
    assert.ok(isMatch("Cat"));
    assert.ok(!isMatch("cats"));
    assert.ok(!matcher("cat", { matchCase: true })("Cat"));
    assert.ok(!matcher("", {})(""));
  });
});

describe("find: keys", () => {
  const press = (key, code, mods = {}) => ({
    key,
    code,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    ...mods,
  });

  it("opens find with Ctrl+F, or Cmd+F on a Mac", () => {
    assert.equal(findAction(press("f", "KeyF", { ctrlKey: true }), false), "find");
    assert.equal(findAction(press("f", "KeyF", { metaKey: true }), true), "find");
    assert.equal(findAction(press("f", "KeyF", { metaKey: true }), false), null);
    assert.equal(findAction(press("f", "KeyF", { ctrlKey: true }), true), null);
  });

  it("opens replace with Ctrl+H, but Cmd+Shift+H on a Mac (Cmd+H hides the browser)", () => {
    assert.equal(findAction(press("h", "KeyH", { ctrlKey: true }), false), "replace");
    assert.equal(findAction(press("H", "KeyH", { metaKey: true, shiftKey: true }), true), "replace");
    assert.equal(findAction(press("h", "KeyH", { metaKey: true }), true), null);
  });

  it("goes next and previous with Ctrl+G and Ctrl+Shift+G", () => {
    assert.equal(findAction(press("g", "KeyG", { ctrlKey: true }), false), "next");
    assert.equal(findAction(press("G", "KeyG", { ctrlKey: true, shiftKey: true }), false), "prev");
  });

  it("ignores AltGr (Ctrl+Alt), other letters and plain keys", () => {
    assert.equal(findAction(press("f", "KeyF", { ctrlKey: true, altKey: true }), false), null);
    assert.equal(findAction(press("b", "KeyB", { ctrlKey: true }), false), null);
    assert.equal(findAction(press("f", "KeyF"), false), null);
  });

  it("reads the letter from the layout, and the physical key for other scripts", () => {
    assert.equal(letterOf({ key: "а", code: "KeyF" }), "f");
    assert.equal(letterOf({ key: "u", code: "KeyF" }), "u"); // Dvorak: the U key
    assert.equal(letterOf({ key: "Enter", code: "Enter" }), "");
  });

  it("writes keys as Ctrl+… and as Mac glyphs in the Mac's order", () => {
    assert.equal(keyLabel(FIND_KEYS.prev[0], false), "Ctrl+Shift+G");
    assert.equal(keyLabel(FIND_KEYS.replace[1], true), "⇧⌘H");
    assert.equal(keyLabel(["Mod", "Alt", "Shift", "Z"], true), "⌥⇧⌘Z");
    assert.equal(keyLabel(["Shift", "Enter"], false), "Shift+Enter");
  });

  it("knows a Mac", () => {
    assert.ok(isMac({ platform: "MacIntel" }));
    assert.ok(isMac({ platform: "", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)" }));
    assert.ok(!isMac({ platform: "Win32" }));
    assert.ok(!isMac({ platform: "Linux x86_64" }));
  });
});
