/**
 * The browser's schema (static/src/editor/schema.js) against the server's
 * (realtime/ot/schema.py): both are built from realtime/ot/schema.json, and
 * this suite proves they did not drift.
 *
 * - the Quill registration (``formats`` whitelist, header levels, link
 *   schemes) lists exactly the formats, embeds and values the server has;
 * - a table of values, valid and invalid, for every format and embed gets
 *   the same verdict from the browser's checks and from ``parse_change``
 *   (run in the project's Python, one process for the whole table);
 * - random changes (seeded, printed) that the outgoing guard lets through
 *   are always accepted by ``parse_change``: the editor cannot send what
 *   the server refuses.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import Delta from "quill-delta";

import {
  HEADER_LEVELS,
  LINK_SCHEMES,
  checkAttribute,
  checkEmbed,
  quillFormats,
  sanitizeChange,
} from "../../static/src/editor/schema.js";
import { rng, seeds } from "./helpers.mjs";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PYTHON = existsSync(join(REPO, ".venv/bin/python")) ? join(REPO, ".venv/bin/python") : "python3";
const VIDEO_HOST = "www.youtube.com";
const JS_POLICY = { videoHosts: [VIDEO_HOST], imageDataMaxBytes: 200, imagePathPrefix: "/media/" };

/** The server's schema as realtime.ot.schema built it (not the raw file). */
function serverSchema() {
  const code = `
import json
from realtime.ot.schema import formats, embeds
print(json.dumps({
    "formats": {n: {"scope": f.scope, "kind": f.kind} for n, f in formats.items()},
    "embeds": {n: {"scope": e.scope, "attributes": sorted(e.attributes)} for n, e in embeds.items()},
}))`;
  const done = spawnSync(PYTHON, ["-c", code], { cwd: REPO, encoding: "utf8" });
  assert.equal(done.status, 0, done.stderr);
  return JSON.parse(done.stdout);
}

/**
 * Return parse_change's verdict on each change: null (accepted) or its
 * message. The policy matches JS_POLICY.
 * @param {Array<Array<Object>>} changes
 */
function serverVerdicts(changes) {
  const code = `
import json, sys
from realtime.ot.exceptions import InvalidDelta
from realtime.ot.schema import ContentPolicy
from realtime.ot.validate import parse_change
policy = ContentPolicy(image_path_prefix="/media/", image_data_max_bytes=200,
                       video_hosts=frozenset({"${VIDEO_HOST}"}))
out = []
for change in json.load(sys.stdin):
    try:
        parse_change(change, policy)
        out.append(None)
    except InvalidDelta as exc:
        out.append(str(exc))
print(json.dumps(out))`;
  const done = spawnSync(PYTHON, ["-c", code], {
    cwd: REPO, encoding: "utf8", input: JSON.stringify(changes), maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(done.status, 0, done.stderr);
  return JSON.parse(done.stdout);
}

const FILE = JSON.parse(readFileSync(join(REPO, "realtime/ot/schema.json"), "utf8"));

describe("Quill registration from the schema", () => {
  it("whitelists exactly the server's inline and block formats and its embeds", () => {
    const server = serverSchema();
    const expected = [
      ...Object.entries(server.formats).filter(([, f]) => f.scope !== "embed").map(([n]) => n),
      ...Object.keys(server.embeds),
    ].sort();
    assert.deepEqual([...quillFormats()].sort(), expected);
    // Embed attributes are not blots: Quill's image and video handle them.
    const embedAttributes = Object.entries(server.formats).filter(([, f]) => f.scope === "embed").map(([n]) => n);
    for (const name of embedAttributes) assert.ok(!quillFormats().includes(name), name);
  });

  it("registers headers of the schema's levels only, contiguous from 1", () => {
    assert.deepEqual(HEADER_LEVELS, FILE.formats.header.values);
    HEADER_LEVELS.forEach((level, i) => assert.equal(level, i + 1, "SchemaHeader maps level N to tagName[N-1]"));
  });

  it("sanitises links to the schema's schemes", () => {
    assert.deepEqual(LINK_SCHEMES, FILE.formats.link.schemes);
  });
});

/** Place an attribute where its scope allows it: a newline, text or an image. */
function placed(name, value) {
  const scope = FILE.formats[name]?.scope ?? "inline";
  const attributes = { [name]: value };
  if (scope === "block") return [{ insert: "\n", attributes }];
  if (scope === "embed") return [{ insert: { image: "/media/a.png" }, attributes }];
  return [{ insert: "a", attributes }];
}

/** Valid and invalid values of every format (at least one of each per name). */
const ATTRIBUTE_CASES = {
  bold: [true, false, 1, "true", null, {}, []],
  italic: [true, 0, "yes"],
  underline: [true, "x"],
  strike: [false, 1.5],
  code: [true, null],
  color: ["#ff0000", "#FF00aa", "red", "#f00", "rgb(255, 0, 0)", "#ff00000", 16711680, ""],
  background: ["#000000", "#12345g", "transparent"],
  link: [
    "https://example.com/a?b#c", "http://x", "mailto:a@b.c", "tel:+123", "HTTPS://EXAMPLE.COM",
    "/relative/path", "example.com", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
    "vbscript:x", "java\tscript:alert(1)", " https://x", "https://x\n", "", "https://" + "a".repeat(2100),
    "sms:123", "ftp://x", 42,
  ],
  header: [1, 2, 3, 0, 4, 6, "1", true, 1.5, 2 ** 53, null],
  list: ["ordered", "bullet", "checked", "unchecked", "check", "none", 1],
  blockquote: [true, "true"],
  "code-block": [true, "javascript", false],
  indent: [1, 8, 0, 9, -1, "+1", 2 ** 60],
  align: ["center", "right", "justify", "left", "", null],
  // A table cell's line end carries its row id (Quill's table module).
  table: ["row-a1b2", "row-a", "row-0123456789abcdef", "row-0123456789abcdefg", "row-", "row-AB12",
    "row-a b", "ROW-ab", "row-ab\n", true, 1, null],
  size: ["small", "large", "huge", "normal", "medium", "", 12, "12px", null],
  font: ["serif", "monospace", "sans-serif", "Arial", "", true],
  alt: ["a picture", "", "x".repeat(500), "x".repeat(501), "line\nbreak", "\u0000", 5],
  width: ["100", "100px", "50%", "0", "10000", "1e3", "100em", 100, "100\n"],
  height: ["1", "9999px", "-1", "auto"],
  // The review marks (issue 12): "<uid>:<t base 36>:<random>". The server
  // checks a format proposal's JSON and a thread list's duplicates further
  // (realtime/ot/review.py); those cases are in tests/js/suggest_*.test.mjs.
  "suggest-insert": ["42:lx3k9a1:ab12", "1:0:abcd", "042:a:abcd", "42:LX:abcd", "42:a:abc",
    "1234567890123:a:abcd", 42, "", "42:a:abcd "],
  "suggest-delete": ["7:z:0000", "0:a:abcd", "7:a:abcdefghijklm", null],
  "suggest-format": ['42:lx3k9a1:ab12|{"bold":true}', '42:lx3k9a1:ab12|{"bold":true,"header":2}',
    "42:lx3k9a1:ab12", "42:lx3k9a1:ab12|", '42:a:abcd|{"bold":true}\u0000'],
  comment: ["abcdefghij", "abcdefghij0123456789abcd", "abcdefghij abcdefghik", "abcdefghi",
    "ABCDEFGHIJ", "abcdefghij  abcdefghik", "abcdefghij0123456789abcde"],
};

/** Names that are not formats, several of them JavaScript builtins. */
const UNKNOWN_NAMES = ["script", "direction", "formula", "toString", "constructor",
  "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf", "Bold", ""];

const DATA_OK = "data:image/png;base64,iVBORw0KGgo=";
const EMBED_CASES = [
  { image: DATA_OK }, { image: "data:image/gif;base64,R0lGODlh" }, { image: "data:image/svg+xml;base64,PHN2Zz4=" },
  { image: `data:image/png;base64,${"A".repeat(300)}` }, { image: "data:image/png,raw" },
  { image: "/media/a.png" }, { image: "/media/dir/b.jpg?x=1" }, { image: "/media/../secret" },
  { image: "/media//evil" }, { image: "/static/a.png" }, { image: "https://evil.example/pixel.gif" },
  { image: "//evil.example/x.png" }, { image: "" }, { image: 1 }, { image: { src: "/media/a.png" } },
  { video: `https://${VIDEO_HOST}/embed/abc` }, { video: `https://${VIDEO_HOST.toUpperCase()}/embed/abc` },
  { video: `http://${VIDEO_HOST}/embed/abc` }, { video: "https://evil.example/embed" },
  { video: `https://${VIDEO_HOST}.evil.example/x` }, { video: `https://${VIDEO_HOST}:8443/x` },
  { video: `https://${VIDEO_HOST}/a b` },
  // Markers (horizontal rule, page break): exactly true, nothing else.
  { divider: true }, { pagebreak: true }, { divider: false }, { divider: 1 }, { pagebreak: "true" },
  { divider: null }, { divider: {} }, { pagebreak: [true] }, { divider: true, pagebreak: true },
  { formula: "e=mc^2" }, { cursor: "x" }, { scroll: "x" }, { foo: 1 }, { image: DATA_OK, video: "x" }, {},
];

/** The browser's verdict on one placed attribute or one embed. */
function jsVerdictAttribute(name, value) {
  return checkAttribute(name, value);
}

describe("verdicts agree with parse_change", () => {
  it("on every format's valid and invalid values and on unknown names", () => {
    const cases = [];
    for (const [name, values] of Object.entries(ATTRIBUTE_CASES)) {
      for (const value of values) cases.push({ name, value, ops: placed(name, value) });
    }
    for (const name of UNKNOWN_NAMES) cases.push({ name, value: true, ops: placed(name, true) });
    // Every format is in the table, with at least one accepted and one refused value.
    for (const name of Object.keys(FILE.formats)) assert.ok(ATTRIBUTE_CASES[name], `no cases for ${name}`);
    const server = serverVerdicts(cases.map((c) => c.ops));
    const table = [];
    const disagree = [];
    cases.forEach((c, i) => {
      const js = jsVerdictAttribute(c.name, c.value);
      table.push(`${c.name}=${JSON.stringify(c.value)?.slice(0, 30)}: ${js === null ? "ok" : "refused"}`);
      if ((js === null) !== (server[i] === null)) disagree.push({ ...c, js, server: server[i] });
    });
    assert.deepEqual(disagree, [], "the browser and the server disagree");
    for (const name of Object.keys(ATTRIBUTE_CASES)) {
      const verdicts = cases.filter((c) => c.name === name).map((c) => jsVerdictAttribute(c.name, c.value));
      assert.ok(verdicts.some((v) => v === null), `${name}: no accepted value in the table`);
      assert.ok(verdicts.some((v) => v !== null), `${name}: no refused value in the table`);
    }
    console.log(`# ${table.length} attribute cases agree`);
  });

  it("on every embed type and source", () => {
    const server = serverVerdicts(EMBED_CASES.map((embed) => [{ insert: embed }]));
    const disagree = [];
    EMBED_CASES.forEach((embed, i) => {
      const js = checkEmbed(embed, JS_POLICY);
      if ((js === null) !== (server[i] === null)) disagree.push({ embed: JSON.stringify(embed).slice(0, 80), js, server: server[i] });
    });
    assert.deepEqual(disagree, []);
    assert.ok(EMBED_CASES.some((e) => checkEmbed(e, JS_POLICY) === null));
  });

  it("null removes an attribute on a retain only", () => {
    const server = serverVerdicts([[{ retain: 1, attributes: { bold: null } }], [{ insert: "a", attributes: { bold: null } }]]);
    assert.equal(checkAttribute("bold", null, { retain: true }), null);
    assert.equal(server[0], null);
    assert.notEqual(checkAttribute("bold", null), null);
    assert.notEqual(server[1], null);
  });
});

// -- the outgoing guard ------------------------------------------------------

const ALL_NAMES = [...Object.keys(ATTRIBUTE_CASES), ...UNKNOWN_NAMES];

/** A random change such as Quill or a paste might make (much of it invalid). */
function randomChange(random) {
  const change = new Delta();
  const ops = random.int(1, 8);
  for (let k = 0; k < ops; k += 1) {
    const attributes = {};
    for (let a = random.int(0, 3); a > 0; a -= 1) {
      const name = random.pick(ALL_NAMES);
      const values = ATTRIBUTE_CASES[name] ?? [true, "x", 1];
      attributes[name] = random.pick(values);
    }
    const which = random.int(0, 9);
    if (which < 2) change.retain(random.int(1, 5), attributes);
    else if (which < 3) change.delete(random.int(1, 3));
    else if (which < 5) change.insert(random.pick(EMBED_CASES), attributes);
    else change.insert(random.pick(["a", "bc\n", "\n", "x\ny\n", "🙂", "\n\n"]), attributes);
  }
  return change;
}

describe("sanitizeChange", () => {
  it("lets through only what parse_change accepts, and keeps valid changes as they are", () => {
    const runs = [];
    for (const seed of seeds(1)) {
      console.log(`# schema guard seed ${seed} (SEED=${seed} reproduces it)`);
      const random = rng(seed);
      for (let i = 0; i < 3000; i += 1) {
        const raw = randomChange(random);
        const { change, altered } = sanitizeChange(raw, JS_POLICY);
        runs.push({ raw, change, altered });
      }
    }
    const server = serverVerdicts(runs.flatMap((r) => [r.change.ops, r.raw.ops]));
    let altered = 0;
    runs.forEach((r, i) => {
      assert.equal(server[2 * i], null, `guard let through ${JSON.stringify(r.change.ops)}: ${server[2 * i]}`);
      // Unchanged only when the server would have taken it as it was.
      if (!r.altered) assert.equal(server[2 * i + 1], null, JSON.stringify(r.raw.ops));
      else altered += 1;
      // Lengths of text never change: positions after the change stay put.
      const textLength = (d) => d.ops.reduce((n, op) => n + (typeof op.insert === "string" ? op.insert.length : 0), 0);
      assert.equal(textLength(r.change), textLength(r.raw));
    });
    assert.ok(altered > 0 && altered < runs.length, `altered ${altered} of ${runs.length}`);
    console.log(`# ${runs.length} random changes, ${altered} cleaned, all accepted by parse_change`);
  });

  it("maps what has an obvious equivalent and says what it removed", () => {
    const raw = new Delta()
      .insert("Title", { color: "rgb(255, 0, 0)", font: "Arial" })
      .insert("\n", { header: 5 })
      .insert({ image: "https://tracker.example/pixel.gif" })
      .insert("x", { link: "javascript:alert(1)", bold: true })
      .insert("\n", { list: "check", bold: true });
    const { change, removed } = sanitizeChange(raw);
    assert.deepEqual(change.ops, [
      { insert: "Title", attributes: { color: "#ff0000" } },
      { insert: "\n", attributes: { header: 3 } },
      { insert: "x", attributes: { bold: true } },
      { insert: "\n", attributes: { list: "unchecked" } },
    ]);
    assert.equal(removed.images, 1);
    assert.equal(removed.links, 1);
    assert.ok(removed.attributes.includes("font"));
  });

  it("keeps tables, sizes, fonts and markers as the editor makes them, and drops a marker's stray formats", () => {
    const made = new Delta()
      .insert("a", { size: "large", font: "serif" })
      .insert("\n", { table: "row-k3x9" })
      .insert({ divider: true })
      .insert({ pagebreak: true })
      .insert("\n");
    assert.equal(sanitizeChange(made).change, made);
    const stray = new Delta().insert({ divider: true }, { bold: true }).insert({ pagebreak: 1 });
    const { change, removed } = sanitizeChange(stray);
    assert.deepEqual(change.ops, [{ insert: { divider: true } }]);
    assert.equal(removed.embeds, 1);
  });

  it("returns the very same change when it is already valid (the keystroke path)", () => {
    const keystroke = new Delta().retain(10).insert("a", { bold: true });
    assert.equal(sanitizeChange(keystroke).change, keystroke);
  });
});
