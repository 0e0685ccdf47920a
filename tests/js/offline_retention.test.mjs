// A long time offline: unsaved edits are rebased over a long catch-up, an op
// stored while away counts as acked, and beyond the retention horizon the
// person is handed the text of every pending edit (in flight and buffered).
//
// Run: node --test tests/js/offline_retention.test.mjs

import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";

import Delta from "quill-delta";

import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { FakeSocket, FakeTimers } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const CID = "CCCCCCCCCCCCCCCCCCCCCC";
const OTHER = "OOOOOOOOOOOOOOOOOOOOOO";
const URL0 = "ws://example.test/ws/docs/d1/";
const USER = { id: 3, name: "alice", color: "#e6194b" };
/** More ops than the server's window holds: they come from storage. */
const BEHIND = 1500;

class FakeEditor {
  constructor() {
    this.doc = new Delta().insert("\n");
    this.conn = null;
  }
  get adapter() {
    return {
      flush: () => {},
      applyRemote: (delta) => {
        this.doc = this.doc.compose(delta);
      },
      loadContent: (content) => {
        this.doc = new Delta(content);
      },
      getRange: () => null,
    };
  }
  type(change) {
    this.doc = this.doc.compose(change);
    this.conn.submit(change);
  }
}

function setup() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  const editor = new FakeEditor();
  const client = new OTClient({ clientId: CID });
  const notices = [];
  const conn = new Connection({
    url: URL0,
    client,
    adapter: editor.adapter,
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  editor.conn = conn;
  conn.on("notice", (n) => notices.push(n));
  conn.start();
  return { conn, client, editor, timers, notices, ws: () => FakeSocket.all.at(-1) };
}

const hello = (extra = {}) => ({
  type: "hello", protocol: 1, doc: "d1", rev: 0, content: [{ insert: "\n" }],
  session: "me", user: USER, can_edit: true, peers: [], ...extra,
});

/** ``count`` ops of another person, each inserting "x" at the start, from ``rev + 1``. */
function othersOps(rev, count) {
  return Array.from({ length: count }, (_, i) => ({
    rev: rev + 1 + i, id: `${OTHER}:${rev + 1 + i}`, session: "", user: 4, delta: [{ insert: "x" }],
  }));
}

const ops = (ws) => ws.frames.filter((f) => f.type === "op");

describe("offline past the window", () => {
  let env;
  beforeEach(() => {
    env = setup();
    env.ws().deliver(hello({ rev: 5, content: [{ insert: "hello\n" }] }));
    env.editor.type(new Delta().retain(5).insert("!")); // in flight, never acked
    env.ws().serverClose(1006);
    env.editor.type(new Delta().retain(6).insert(" world")); // buffered while offline
  });

  it("rebases both pending edits over a long catch-up and sends them in order", () => {
    const { ws, timers, editor, client } = env;
    timers.runNext();
    assert.equal(ws().url, `${URL0}?rev=5`);
    ws().deliver(hello({ rev: 5 + BEHIND, content: undefined, ops: othersOps(5, BEHIND) }));
    const x = "x".repeat(BEHIND);
    assert.deepEqual(editor.doc.ops, [{ insert: `${x}hello! world\n` }]);
    assert.deepEqual(ops(ws()).at(-1), {
      type: "op", id: `${CID}:1`, rev: 5 + BEHIND, delta: [{ retain: BEHIND + 5 }, { insert: "!" }],
    });
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 6 + BEHIND });
    assert.deepEqual(ops(ws()).at(-1), {
      type: "op", id: `${CID}:2`, rev: 6 + BEHIND, delta: [{ retain: BEHIND + 6 }, { insert: " world" }],
    });
    assert.equal(client.revision, 6 + BEHIND);
  });

  it("takes its op stored while it was away, deep in the catch-up, as the ack", () => {
    const { ws, timers, editor } = env;
    timers.runNext();
    const before = othersOps(5, 700);
    const mine = { rev: 706, id: `${CID}:1`, session: "", user: 3, delta: [{ retain: 705 }, { insert: "!" }] };
    const after = othersOps(706, 800);
    ws().deliver(hello({ rev: 1506, content: undefined, ops: [...before, mine, ...after] }));
    const x = "x".repeat(1500);
    assert.deepEqual(editor.doc.ops, [{ insert: `${x}hello! world\n` }]);
    // Not sent again: the buffered edit goes next, with a new id.
    const sent = ops(ws());
    assert.equal(sent.filter((f) => f.id === `${CID}:1`).length, 0);
    assert.deepEqual(sent.at(-1), {
      type: "op", id: `${CID}:2`, rev: 1506, delta: [{ retain: 1506 }, { insert: " world" }],
    });
  });

  it("beyond the horizon shows the text of every pending edit", () => {
    const { ws, timers, editor, client, notices } = env;
    timers.runNext();
    // The ops it missed are no longer stored: hello carries the content.
    ws().deliver(hello({ rev: 9000, content: [{ insert: "rewritten\n" }] }));
    assert.deepEqual(editor.doc.ops, [{ insert: "rewritten\n" }]);
    assert.equal(client.revision, 9000);
    assert.ok(client.isSynchronized);
    assert.equal(notices.at(-1).kind, "unsaved");
    assert.equal(notices.at(-1).text, "! world");
    assert.equal(ops(ws()).length, 0);
  });

  it("a stale resend reloads and hands the text back", () => {
    const { ws, timers, editor, notices } = env;
    timers.runNext();
    ws().deliver(hello({ rev: 5, content: undefined, ops: [] }));
    ws().deliver({ type: "error", code: "stale", id: `${CID}:1`, message: "older than the history kept; reload" });
    timers.runNext();
    assert.equal(ws().url, URL0, "reloads without ?rev=");
    ws().deliver(hello({ rev: 9000, content: [{ insert: "rewritten\n" }] }));
    assert.deepEqual(editor.doc.ops, [{ insert: "rewritten\n" }]);
    assert.equal(notices.at(-1).kind, "unsaved");
    assert.equal(notices.at(-1).text, "! world");
  });
});
