/**
 * The layout's pure parts (static/src/editor/layout): word and character
 * counts, the outline's headings, and the changes that insert a table, a
 * horizontal rule or a page break.
 *
 * The insert changes are checked the way the server checks them: applied
 * to random documents (seeded, printed), each keeps the document ending in
 * its own final newline (the protocol refuses an insert after it), leaves
 * the line's text out of the table, and puts the marker or the table where
 * the person expects it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { countLabel, countText } from "../../static/src/editor/layout/count.js";
import { markerChange } from "../../static/src/editor/layout/markers.js";
import { headingsOf } from "../../static/src/editor/layout/outline.js";
import { rowId, tableDelta } from "../../static/src/editor/layout/tables.js";
import { checkAttribute, checkEmbed } from "../../static/src/editor/schema.js";
import { rng, seeds } from "./helpers.mjs";

describe("countText", () => {
  it("counts words as a writer does", () => {
    assert.deepEqual(countText(""), { words: 0, characters: 0 });
    assert.deepEqual(countText("\n"), { words: 0, characters: 0 });
    assert.equal(countText("Hello, world!\n").words, 2);
    // Unicode's word rules: an apostrophe joins, a hyphen separates.
    assert.equal(countText("don't stop — it’s état-major 42\n").words, 6);
    assert.equal(countText("one\ntwo\n\nthree\n").words, 3);
    assert.equal(countText("  spaced   out  ").words, 2);
    assert.equal(countText("😀 👍 !!! ...").words, 0, "emoji and punctuation are no words");
  });

  it("counts characters as seen, line breaks left out", () => {
    assert.equal(countText("abc\n").characters, 3);
    assert.equal(countText("a b\n").characters, 3, "spaces count");
    assert.equal(countText("😀\n").characters, 1, "a surrogate pair is one");
    assert.equal(countText("e\u0301\n").characters, 1, "e + combining accent is one");
    assert.equal(countText("👍🏽\n").characters, 1, "an emoji with a skin tone is one");
    assert.equal(countText("a\r\nb").characters, 2);
  });

  // Underscores alone are left out of the tokens: ICU calls "__" a word and "_" none.
  it("counts spaced-script text as Intl.Segmenter does, without its cost", () => {
    const words = new Intl.Segmenter(undefined, { granularity: "word" });
    const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    const bySegmenter = (text) => ({
      words: text.split("\n").reduce((n, line) => n + [...words.segment(line)].filter((s) => s.isWordLike).length, 0),
      characters: [...graphemes.segment(text.replace(/\n/g, ""))].length,
    });
    const tokens = ["word", "état", "Ünïcödé", "42", "3.14", "don't", "it’s", "e.g.", "a_b", "x-y",
      " ", " ", "  ", ", ", ". ", "!", "(", ")", "—", "\n", "😀", "ß", "ΑΘΗΝΑ", "Привет", "مرحبا", "10:30",
      "1,000", "a.1", "1.a", "x'y", "5'6", ":", "'", "é", "ab:", ".5"];
    const runs = seeds(4);
    console.log(`# seeds ${runs.join(" ")} (SEED=<n> reruns one)`);
    for (const seed of runs) {
      const random = rng(seed);
      for (let round = 0; round < 150; round += 1) {
        let text = "";
        for (let n = random.int(1, 30); n > 0; n -= 1) text += random.pick(tokens);
        assert.deepEqual(countText(text), bySegmenter(text), `seed ${seed}: ${JSON.stringify(text)}`);
      }
    }
  });

  it("labels the document and the selection", () => {
    assert.equal(countLabel({ words: 1, characters: 1 }), "1 word · 1 character");
    assert.equal(countLabel({ words: 12, characters: 60 }), "12 words · 60 characters");
    assert.equal(
      countLabel({ words: 12, characters: 60 }, { words: 3, characters: 15 }),
      "3 of 12 words · 15 of 60 characters",
    );
  });
});

describe("headingsOf", () => {
  it("lists headings with their level, text and line start, embeds counted", () => {
    const ops = [
      { insert: "Title" },
      { insert: "\n", attributes: { header: 1 } },
      { insert: "text with 😀 and " },
      { insert: { image: "/media/i/a.png" } },
      { insert: "\n" },
      { insert: { divider: true } },
      { insert: "  Two   words " },
      { insert: "\n", attributes: { header: 2 } },
      { insert: { pagebreak: true } },
      { insert: "\n", attributes: { header: 3 } }, // empty: left out
      { insert: "Last", attributes: { bold: true } },
      { insert: "\n", attributes: { header: 3 } },
    ];
    const doc = new Delta(ops);
    const headings = headingsOf(ops);
    assert.deepEqual(headings.map(({ level, text }) => [level, text]), [
      [1, "Title"],
      [2, "Two words"],
      [3, "Last"],
    ]);
    // Each index is where the heading's line starts in Quill units.
    for (const heading of headings) {
      const line = doc.slice(heading.index).ops[0];
      assert.equal(typeof line.insert, "string", JSON.stringify(heading));
      assert.ok(String(line.insert).trimStart().startsWith(heading.text.split(" ")[0]), JSON.stringify(heading));
    }
    assert.equal(headings[0].index, 0);
    assert.equal(headings[1].index, 6 + 17 + 1 + 1 + 1);
  });

  it("shortens long headings and finds many lines in one op", () => {
    const long = "x".repeat(300);
    const headings = headingsOf([{ insert: `a\nb\n${long}` }, { insert: "\n", attributes: { header: 1 } }]);
    assert.equal(headings.length, 1);
    assert.equal(headings[0].index, 4);
    assert.equal(headings[0].text.length, 120);
    assert.ok(headings[0].text.endsWith("…"));
  });
});

/** A random document of text lines, headings, images and markers. */
function randomDoc(random) {
  const doc = new Delta();
  for (let i = random.int(0, 6); i > 0; i -= 1) {
    const kind = random.int(0, 5);
    if (kind === 0) doc.insert({ divider: true });
    else if (kind === 1) doc.insert({ pagebreak: true });
    else if (kind === 2) doc.insert("pic ").insert({ image: "/media/i/x.png" }).insert("\n");
    else if (kind === 3) doc.insert(random.pick(["Head", "😀 title"])).insert("\n", { header: random.int(1, 3) });
    else doc.insert(random.pick(["", "a", "line of text", "é😀z"])).insert("\n");
  }
  return doc.insert(random.pick(["", "last", "end 😀"])).insert("\n", random.chance(0.3) ? { align: "center" } : undefined);
}

/**
 * Text lines of ``doc`` as [start, length with the newline, block formats];
 * a block embed (rule, page break) is a line of its own, not listed.
 */
function linesOf(doc) {
  const lines = [];
  let start = 0;
  let at = 0;
  for (const op of doc.ops) {
    if (typeof op.insert !== "string") {
      at += 1;
      if (op.insert.divider || op.insert.pagebreak) start = at;
      continue;
    }
    for (const ch of op.insert.split("")) {
      at += 1;
      if (ch === "\n") {
        lines.push([start, at - start, op.attributes ?? {}]);
        start = at;
      }
    }
  }
  return lines;
}

/** Whether ``change`` inserts at or past the end of ``doc`` (after its final newline). */
function insertsAfterEnd(doc, change) {
  let at = 0;
  for (const op of change.ops) {
    if (op.insert !== undefined && at >= doc.length()) return true;
    if (typeof op.retain === "number") at += op.retain;
    if (typeof op.delete === "number") at += op.delete;
  }
  return false;
}

describe("markerChange", () => {
  it("never inserts after the final newline, and puts the marker at the cursor's line", () => {
    let checked = 0;
    const runs = seeds(6);
    console.log(`# seeds ${runs.join(" ")} (SEED=<n> reruns one)`);
    for (const seed of runs) {
      const random = rng(seed);
      for (let round = 0; round < 60; round += 1) {
        const doc = randomDoc(random);
        const [lineStart, lineLength, lineFormats] = random.pick(linesOf(doc));
        const index = lineStart + random.int(0, lineLength - 1);
        const name = random.pick(["divider", "pagebreak"]);
        const { change, cursor } = markerChange({ name, index, lineStart, lineLength, lineFormats });
        const where = `seed ${seed} round ${round}: ${JSON.stringify(doc.ops)} at ${index}`;
        assert.ok(!insertsAfterEnd(doc, change), where);
        const after = doc.compose(change);
        const last = after.ops[after.ops.length - 1];
        assert.ok(typeof last.insert === "string" && last.insert.endsWith("\n"), where);
        // The final line keeps its formats, unless the rule ended it: then the
        // empty rest after the rule has none.
        const endedLastLine = index === doc.length() - 1 && index > lineStart;
        const kept = endedLastLine ? undefined : doc.ops[doc.ops.length - 1].attributes;
        assert.deepEqual(last.attributes, kept, `${where}: the final line's formats`);
        // Text is untouched; the marker sits just before the cursor.
        const text = (d) => d.filter((op) => typeof op.insert === "string").map((op) => op.insert).join("").replace(/\n/g, "");
        assert.equal(text(after), text(doc), where);
        assert.deepEqual(after.slice(cursor - 1, cursor).ops[0].insert, { [name]: true }, where);
        // What comes right before the marker is a line end or nothing: it is a line of its own.
        if (cursor > 1) {
          const before = after.slice(cursor - 2, cursor - 1).ops[0].insert;
          assert.ok(before === "\n" || typeof before === "object", where);
        }
        checked += 1;
      }
    }
    console.log(`# ${checked} marker inserts checked`);
  });

  it("ends a heading where the cursor is, and leaves no empty heading after a rule", () => {
    const doc = new Delta().insert("Title").insert("\n", { header: 1 });
    const { change } = markerChange({ name: "divider", index: 5, lineStart: 0, lineLength: 6, lineFormats: { header: 1 } });
    assert.deepEqual(doc.compose(change).ops, [
      { insert: "Title" },
      { insert: "\n", attributes: { header: 1 } },
      { insert: { divider: true } },
      { insert: "\n" },
    ]);
    assert.throws(() => markerChange({ name: "divider", index: 9, lineStart: 0, lineLength: 6 }), RangeError);
  });
});

describe("tableDelta", () => {
  it("inserts rows × columns empty cells after the line, outside its text", () => {
    let checked = 0;
    const runs = seeds(6);
    console.log(`# seeds ${runs.join(" ")} (SEED=<n> reruns one)`);
    for (const seed of runs) {
      const random = rng(seed);
      for (let round = 0; round < 60; round += 1) {
        const doc = randomDoc(random);
        const [lineStart, lineLength, lineFormats] = random.pick(linesOf(doc));
        const rows = random.int(1, 4);
        const columns = random.int(1, 4);
        const atEnd = lineStart + lineLength >= doc.length();
        const { change, firstCell } = tableDelta({ lineStart, lineLength, atEnd, lineFormats, rows, columns });
        const where = `seed ${seed} round ${round}: ${JSON.stringify(doc.ops)} line ${lineStart}+${lineLength}`;
        assert.ok(!insertsAfterEnd(doc, change), where);
        const after = doc.compose(change);
        const cells = after.slice(firstCell, firstCell + rows * columns);
        const ids = [];
        for (const op of cells.ops) {
          assert.ok(typeof op.insert === "string" && /^\n+$/.test(op.insert), `${where}: cells are empty`);
          for (let n = 0; n < op.insert.length; n += 1) ids.push(op.attributes?.table);
        }
        assert.equal(ids.length, rows * columns, where);
        assert.equal(new Set(ids).size, rows, `${where}: one id per row`);
        ids.forEach((id) => assert.equal(checkAttribute("table", id), null, where));
        // The line before the table keeps its text and its formats; a line follows the table.
        const next = after.slice(firstCell + rows * columns, firstCell + rows * columns + 1).ops[0];
        assert.ok(next && !next.attributes?.table, `${where}: something that is no cell follows`);
        const lastOp = after.ops[after.ops.length - 1];
        assert.ok(typeof lastOp.insert === "string" && lastOp.insert.endsWith("\n") && !lastOp.attributes?.table, where);
        checked += 1;
      }
    }
    console.log(`# ${checked} table inserts checked`);
  });

  it("refuses an empty table", () => {
    assert.throws(() => tableDelta({ lineStart: 0, lineLength: 1, atEnd: true, rows: 0, columns: 2 }), RangeError);
    assert.throws(() => tableDelta({ lineStart: 0, lineLength: 1, atEnd: true, rows: 2, columns: 1.5 }), RangeError);
  });

  it("makes row ids the schema accepts", () => {
    for (let i = 0; i < 200; i += 1) assert.equal(checkAttribute("table", rowId()), null);
    assert.equal(checkEmbed({ divider: true }), null);
    assert.equal(checkEmbed({ pagebreak: true }), null);
  });
});
