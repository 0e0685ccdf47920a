/**
 * What the browser knows of comment threads (thread-book.js) and the words
 * it draws (text.js). Failure modes covered: a live frame lost because it
 * arrived while the list was loading; a stale answer to one's own request
 * undoing another person's later reply; a malformed or foreign frame
 * breaking the list; an email address drawn as a mention, or a sentence's
 * full stop as part of a name; the picker opening after an email address
 * or not replacing what was typed; a quote cut inside an emoji.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ThreadBook, asThread, changeOf } from "../../static/src/editor/review/thread-book.js";
import {
  QUOTE_MAX,
  bodyParts,
  insertMention,
  mentionAt,
  quoteOf,
  timeAgo,
} from "../../static/src/editor/review/text.js";

const ID = "aaaaaaaaaaaaaaaa";
const OTHER = "bbbbbbbbbbbbbbbb";

/**
 * A thread as the API sends it, with ``n`` messages.
 * @param {string} id
 * @param {number} n
 * @param {Object} [extra]
 */
function thread(id, n, extra = {}) {
  return {
    id,
    quote: "budget",
    created_by: { id: 1, name: "Alice" },
    created_at: "2026-12-05T10:00:00+00:00",
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    messages: Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      author: { id: 1, name: "Alice" },
      body: `m${i + 1}`,
      created_at: "2026-12-05T10:00:00+00:00",
      edited_at: null,
      removed: false,
    })),
    ...extra,
  };
}

describe("thread book", () => {
  it("lists every loaded thread as changed on the first load", () => {
    const book = new ThreadBook();
    book.beginLoad();
    assert.deepEqual([...book.finishLoad([thread(ID, 1), { id: "bad" }])], [ID]);
  });

  it("replays frames that arrived during a load over the loaded list", () => {
    const book = new ThreadBook();
    book.beginLoad();
    // The load's answer was read before these two changes were made.
    book.applyFrame(/** @type {any} */ (changeOf({ event: "thread", thread: thread(ID, 2) })));
    book.applyFrame(/** @type {any} */ (changeOf({ event: "thread_removed", id: OTHER })));
    const touched = book.finishLoad([thread(ID, 1), thread(OTHER, 1)]);
    assert.equal(book.get(ID)?.messages.length, 2);
    assert.equal(book.get(OTHER), null);
    // The frames were drawn when they came; the load changed nothing more.
    assert.deepEqual([...touched], []);
    assert.ok(book.loaded);
  });

  it("reports only what a reload changed", () => {
    const book = new ThreadBook();
    book.beginLoad();
    book.finishLoad([thread(ID, 1), thread(OTHER, 1)]);
    book.beginLoad();
    const touched = book.finishLoad([thread(ID, 1), thread(OTHER, 2)]);
    assert.deepEqual([...touched], [OTHER]);
  });

  it("drops the answer to one's own request when a frame came in between", () => {
    const book = new ThreadBook();
    book.beginLoad();
    book.finishLoad([thread(ID, 1)]);
    const version = book.version(ID);
    // Bob's later reply arrives before the answer to Alice's reply.
    book.applyFrame({ kind: "thread", thread: /** @type {any} */ (thread(ID, 3)) });
    assert.equal(book.applyAnswer(/** @type {any} */ (thread(ID, 2)), version), false);
    assert.equal(book.get(ID)?.messages.length, 3);
    const now = book.version(ID);
    assert.equal(book.applyAnswer(/** @type {any} */ (thread(ID, 4)), now), true);
    assert.equal(book.get(ID)?.messages.length, 4);
  });

  it("counts resolved threads", () => {
    const book = new ThreadBook();
    book.beginLoad();
    book.finishLoad([thread(ID, 1, { resolved: true }), thread(OTHER, 1)]);
    assert.equal(book.resolvedCount(), 1);
  });

  it("ignores suggestion frames and malformed ones", () => {
    assert.equal(changeOf({ event: "suggestions", decided: 3 }), null);
    assert.equal(changeOf({ event: "thread", thread: { id: "x", messages: [] } }), null);
    assert.equal(changeOf({ event: "thread", thread: { id: ID } }), null);
    assert.equal(changeOf({ event: "thread_removed", id: 5 }), null);
    assert.equal(changeOf(null), null);
    const kept = asThread({ ...thread(ID, 1), messages: [{ id: 1, body: "ok" }, { id: "x" }, null] });
    assert.equal(kept?.messages.length, 1);
  });
});

describe("message text", () => {
  it("draws @mentions, not email addresses, without trailing punctuation", () => {
    assert.deepEqual(bodyParts("Ask @carol. Mail ann@example.com or @bob.smith!"), [
      { text: "Ask ", mention: false },
      { text: "@carol", mention: true },
      { text: ". Mail ann@example.com or ", mention: false },
      { text: "@bob.smith", mention: true },
      { text: "!", mention: false },
    ]);
    assert.deepEqual(bodyParts("x@y and @ alone"), [{ text: "x@y and @ alone", mention: false }]);
    assert.deepEqual(bodyParts("@Zoë"), [{ text: "@Zoë", mention: true }]);
  });

  it("finds the mention being typed before the caret", () => {
    assert.deepEqual(mentionAt("Hi @car", 7), { start: 3, query: "car" });
    assert.deepEqual(mentionAt("@", 1), { start: 0, query: "" });
    assert.equal(mentionAt("mail ann@exa", 12), null, "an email address is not a mention");
    assert.equal(mentionAt("Hi @carol and", 13), null, "the caret left the name");
    assert.deepEqual(mentionAt("Hi @carol and", 9), { start: 3, query: "carol" });
  });

  it("replaces what was typed with the username and a space", () => {
    assert.deepEqual(insertMention("Hi @ca", 3, 6, "carol"), { value: "Hi @carol ", caret: 10 });
    assert.deepEqual(insertMention("Hi @ca there", 3, 6, "carol"), { value: "Hi @carol there", caret: 9 });
  });

  it("quotes at most the API's limit, never half an emoji", () => {
    assert.equal(quoteOf("line\n\n"), "line");
    const long = `${"x".repeat(QUOTE_MAX - 1)}😀tail`;
    const quote = quoteOf(long);
    assert.equal(quote, "x".repeat(QUOTE_MAX - 1));
    assert.ok(quote.length <= QUOTE_MAX);
  });

  it("says how long ago", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    assert.equal(timeAgo("2026-12-05T11:59:30Z", now), "just now");
    assert.equal(timeAgo("2026-12-05T11:55:00Z", now), "5 min ago");
    assert.equal(timeAgo("2026-12-05T09:00:00Z", now), "3 h ago");
    assert.equal(timeAgo("2026-12-04T10:00:00Z", now), "yesterday");
    assert.equal(timeAgo(null, now), "");
    assert.equal(timeAgo("not a date", now), "");
    assert.match(timeAgo("2025-01-02T10:00:00Z", now), /2025/);
  });
});
