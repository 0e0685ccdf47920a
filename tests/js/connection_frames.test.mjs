/**
 * What the connection does with split frames and with refusals the person
 * should understand: ``part`` frames joined back (and a malformed sequence
 * dropped cleanly), the calm ``rate_limited`` notice that goes away on the
 * next ack, and the server's own reason in ``bad_op`` / ``too_large``
 * notices.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { Connection } from "../../static/src/editor/connection.js";
import { reloadMessage, throttledMessage } from "../../static/src/editor/messages.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { MessageType, PartAssembler, PartError } from "../../static/src/editor/protocol.js";
import { Status } from "../../static/src/editor/transport.js";
import { FakeSocket, FakeTimers, rng, seeds } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const CID = "CCCCCCCCCCCCCCCCCCCCCC";
const URL0 = "ws://example.test/ws/docs/d1/";
const USER = { id: 3, name: "alice", color: "#e6194b" };

/**
 * Split ``text`` as realtime/framing.py does: whole code points, ``size``
 * code points per part.
 * @param {string} text
 * @param {number} size
 */
function split(text, size) {
  const points = Array.from(text);
  const parts = [];
  for (let i = 0; i < points.length; i += size) {
    parts.push({
      type: "part", seq: parts.length, last: i + size >= points.length,
      data: points.slice(i, i + size).join(""),
    });
  }
  return parts;
}

function setup() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  let doc = new Delta().insert("\n");
  const client = new OTClient({ clientId: CID });
  const events = { notice: [], status: [] };
  const conn = new Connection({
    url: URL0,
    routeUrl: "http://example.test/api/docs/d1/route",
    client,
    adapter: {
      flush: () => {},
      applyRemote: (delta) => { doc = doc.compose(delta); },
      loadContent: (content) => { doc = new Delta(content); },
      getRange: () => null,
    },
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  for (const name of Object.keys(events)) conn.on(name, (e) => events[name].push(e));
  conn.start();
  const type = (change) => {
    doc = doc.compose(change);
    conn.submit(change);
  };
  return { conn, client, timers, events, type, ws: () => FakeSocket.all.at(-1), doc: () => doc };
}

const hello = (extra = {}) => ({
  type: "hello", protocol: 1, doc: "d1", rev: 0, content: [{ insert: "\n" }],
  session: "me", user: USER, can_edit: true, peers: [], ...extra,
});

describe("PartAssembler", () => {
  it("passes whole frames through and joins parts in order", () => {
    const parts = new PartAssembler();
    assert.deepEqual(parts.take({ type: "ack", id: "x", rev: 1 }), { type: "ack", id: "x", rev: 1 });
    const text = JSON.stringify({ type: "op", rev: 2, delta: [{ insert: 'a"\\😀字\n' }] });
    const pieces = split(text, 3);
    for (const piece of pieces.slice(0, -1)) {
      assert.equal(parts.take(piece), null);
      assert.ok(parts.pending);
    }
    assert.deepEqual(parts.take(pieces.at(-1)), JSON.parse(text));
    assert.ok(!parts.pending);
  });

  it("joins any split into the same frame (randomized)", () => {
    for (const seed of seeds(20)) {
      const random = rng(seed);
      const alphabet = ["a", '"', "\\", "😀", "字", "\n", "\u2028", "é", "}"];
      let text = "";
      for (let i = random.int(0, 200); i > 0; i -= 1) text += random.pick(alphabet);
      const frame = JSON.stringify({ type: "hello", content: [{ insert: `${text}\n` }] });
      const parts = new PartAssembler();
      const pieces = split(frame, random.int(1, 40));
      const results = pieces.map((p) => parts.take(p));
      assert.deepEqual(results.at(-1), JSON.parse(frame), `seed ${seed}`);
      assert.ok(results.slice(0, -1).every((r) => r === null), `seed ${seed}`);
    }
  });

  const malformed = {
    "a part out of order": [{ type: "part", seq: 1, last: true, data: "{}" }],
    "a repeated part": [{ type: "part", seq: 0, last: false, data: "{" }, { type: "part", seq: 0, last: true, data: "}" }],
    "another frame in between": [{ type: "part", seq: 0, last: false, data: "{" }, { type: "ack", id: "x", rev: 1 }],
    "data that is not a string": [{ type: "part", seq: 0, last: true, data: 5 }],
    "a missing last": [{ type: "part", seq: 0, data: "{}" }],
    "joined text that is not JSON": [{ type: "part", seq: 0, last: true, data: "{nope" }],
    "a part inside a part": [{ type: "part", seq: 0, last: true, data: '{"type":"part","seq":0,"last":true,"data":"{}"}' }],
  };
  for (const [name, frames] of Object.entries(malformed)) {
    it(`refuses ${name} and starts clean`, () => {
      const parts = new PartAssembler();
      assert.throws(() => frames.forEach((f) => parts.take(f)), PartError);
      assert.ok(!parts.pending);
      assert.deepEqual(parts.take({ type: "ack", id: "x", rev: 1 }), { type: "ack", id: "x", rev: 1 });
    });
  }
});

describe("split frames on the connection", () => {
  it("loads a hello that came in parts", () => {
    const { ws, conn, doc } = setup();
    const content = [{ insert: `${"字".repeat(50)}😀"quoted"\n` }];
    const pieces = split(JSON.stringify(hello({ rev: 7, content })), 17);
    assert.ok(pieces.length > 3);
    for (const piece of pieces.slice(0, -1)) ws().deliver(piece);
    assert.equal(conn.ready, false, "nothing is handled before the last part");
    ws().deliver(pieces.at(-1));
    assert.equal(conn.ready, true);
    assert.equal(conn.status, Status.CONNECTED);
    assert.deepEqual(doc().ops, content);
  });

  it("handles a split batch as the ops it carries, then whole frames again", () => {
    const { ws, client, doc } = setup();
    ws().deliver(hello({ rev: 0 }));
    const batch = {
      type: MessageType.BATCH,
      messages: [
        { type: "op", rev: 1, id: "OOOOOOOOOOOOOOOOOOOOOO:1", session: "o", user: 9, delta: [{ insert: "字字" }] },
        { type: "op", rev: 2, id: "OOOOOOOOOOOOOOOOOOOOOO:2", session: "o", user: 9, delta: [{ insert: "😀" }] },
      ],
    };
    for (const piece of split(JSON.stringify(batch), 10)) ws().deliver(piece);
    ws().deliver({ type: "op", rev: 3, id: "OOOOOOOOOOOOOOOOOOOOOO:3", session: "o", user: 9, delta: [{ insert: "!" }] });
    assert.equal(client.revision, 3);
    assert.deepEqual(doc().ops, [{ insert: "!😀字字\n" }]);
  });

  it("drops the socket on a malformed sequence and catches up with ?rev= at once", () => {
    const { ws, timers, client, type } = setup();
    ws().deliver(hello({ rev: 4, content: [{ insert: "abcd\n" }] }));
    type(new Delta().retain(4).insert("!"));
    const first = ws();
    first.deliver({ type: "part", seq: 0, last: false, data: '{"type":"op",' });
    first.deliver({ type: "part", seq: 2, last: true, data: '"rev":5}' });
    assert.deepEqual(first.closedBy, { side: "client", code: 4000 });
    assert.equal(client.revision, 4, "nothing of the broken frame was applied");
    assert.deepEqual(timers.delays(), [0]);
    timers.runNext();
    assert.notEqual(ws(), first);
    assert.equal(ws().url, `${URL0}?rev=4`);
    ws().deliver(hello({ rev: 4, content: [{ insert: "abcd\n" }] }));
    assert.deepEqual(ws().frames.at(-1).delta, [{ retain: 4 }, { insert: "!" }], "the op in flight is resent");
  });

  it("forgets half a split frame when the socket is lost", () => {
    const { ws, timers, conn } = setup();
    ws().deliver({ type: "part", seq: 0, last: false, data: '{"type":"hel' });
    ws().serverClose(1006);
    timers.runNext();
    // The new socket's frames start afresh: a whole hello is not "in between".
    ws().deliver(hello({ rev: 0 }));
    assert.equal(conn.ready, true);
  });
});

describe("notices the person can act on", () => {
  it("rate_limited shows a calm notice with the wait, and the next ack withdraws it", () => {
    const { ws, timers, events, type } = setup();
    ws().deliver(hello({ rev: 0 }));
    type(new Delta().insert("a"));
    ws().deliver({ type: "error", code: "rate_limited", message: "too many ops", id: `${CID}:1`, retry_after: 1500 });
    assert.deepEqual(events.notice.at(-1), {
      kind: "rate_limited",
      message: "You're typing faster than the server accepts; catching up… (next try in 2 s)",
      text: "",
    });
    timers.advance(1500);
    assert.equal(ws().frames.at(-1).id, `${CID}:1`, "the same op is resent");
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 1 });
    assert.deepEqual(events.notice.at(-1), { kind: "rate_limited", message: "", text: "" });
    const count = events.notice.length;
    type(new Delta().retain(1).insert("b"));
    ws().deliver({ type: "ack", id: `${CID}:2`, rev: 2 });
    assert.equal(events.notice.length, count, "no notice while nothing is throttled");
  });

  it("unavailable retries quietly", () => {
    const { ws, events, type } = setup();
    ws().deliver(hello({ rev: 0 }));
    type(new Delta().insert("a"));
    ws().deliver({ type: "error", code: "unavailable", message: "db", id: `${CID}:1` });
    assert.equal(events.notice.length, 0);
    assert.equal(events.status.at(-1).retrying, true);
  });

  for (const [code, ours] of [["bad_op", /refused a change/], ["too_large", /too large to save/]]) {
    it(`${code} shows the server's reason and the text that was not saved`, () => {
      const { ws, timers, events, type } = setup();
      ws().deliver(hello({ rev: 0 }));
      type(new Delta().insert("draft"));
      const reason = code === "bad_op" ? "op 0: unknown attribute 'toString'" : "the document may hold at most 1048576 characters";
      ws().deliver({ type: "error", code, message: reason, id: `${CID}:1` });
      timers.runNext();
      ws().deliver(hello({ rev: 0 }));
      const notice = events.notice.at(-1);
      assert.equal(notice.kind, "unsaved");
      assert.match(notice.message, ours);
      assert.ok(notice.message.endsWith(`The server said: ${reason}`), notice.message);
      assert.equal(notice.text, "draft");
    });
  }

  it("keeps long server reasons short and leaves other codes' texts alone", () => {
    const long = reloadMessage({ code: "bad_op", message: "x".repeat(1000) });
    assert.ok(long.length < 400 && long.endsWith("…"), long);
    assert.equal(reloadMessage({ code: "stale", message: "too old" }),
      "You were away too long to merge your changes, so the document was reloaded.");
    assert.equal(reloadMessage({ code: "bad_op" }), "The server refused a change, so the document was reloaded.");
    assert.equal(throttledMessage(0), "You're typing faster than the server accepts; catching up… (next try in 1 s)");
  });
});
