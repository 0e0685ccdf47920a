// The offline queue's pure parts: the record written from the OT client
// and read back, which records a page may adopt, and a restored client
// carried over a reconnect's catch-up (ack by id, never applied twice).
//
// Run: node --test tests/js/offline_queue.test.mjs

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import {
  RECORD_VERSION,
  adoptable,
  parseRecord,
  queueEdits,
  recordOf,
  recordText,
} from "../../static/src/editor/offline/queue.js";
import { FakeSocket, FakeTimers } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const OLD = "OOOOOOOOOOOOOOOOOOOOOO"; // the closed page's client id
const NEW = "NNNNNNNNNNNNNNNNNNNNNN"; // this page's
const OTHER = "XXXXXXXXXXXXXXXXXXXXXX";
const URL0 = "ws://example.test/ws/docs/d1/";
const USER = { id: 3, name: "alice", color: "#e6194b" };

/** A client at ``rev`` with "!" in flight and " world" buffered. */
function closedPage(rev = 5) {
  const client = new OTClient({ clientId: OLD, revision: rev });
  client.applyClient(new Delta().retain(5).insert("!"));
  client.applyClient(new Delta().retain(6).insert(" world"));
  return client;
}

describe("the stored record", () => {
  it("round-trips the op in flight with its id, the buffer and the base revision", () => {
    const record = recordOf(closedPage(), { user: 3, doc: "d1", created: 10, now: 20 });
    assert.equal(record.v, RECORD_VERSION);
    assert.deepEqual([record.user, record.doc, record.client, record.rev], [3, "d1", OLD, 5]);
    const stored = structuredClone(record); // what IndexedDB keeps
    const queue = parseRecord(stored);
    assert.equal(queue.revision, 5);
    assert.equal(queue.inflight.id, `${OLD}:1`);
    assert.deepEqual(queue.inflight.delta.ops, [{ retain: 5 }, { insert: "!" }]);
    assert.deepEqual(queue.buffer.delta.ops, [{ retain: 6 }, { insert: " world" }]);
    assert.equal(queueEdits(queue), 2);
    assert.equal(recordText(stored), "! world");
  });

  it("is null when nothing is pending (the record is deleted)", () => {
    const client = new OTClient({ clientId: OLD, revision: 5 });
    assert.equal(recordOf(client, { user: 3, doc: "d1", created: 0, now: 1 }), null);
  });

  it("refuses damaged records: another version, a bad op id, empty or malformed ops", () => {
    const good = recordOf(closedPage(), { user: 3, doc: "d1", created: 1, now: 2 });
    const damaged = [
      null,
      "text",
      { ...good, v: RECORD_VERSION + 1 },
      { ...good, rev: -1 },
      { ...good, client: "short" },
      { ...good, inflight: { ...good.inflight, id: "no-seq" } },
      { ...good, inflight: { ...good.inflight, ops: [] } },
      { ...good, inflight: { ...good.inflight, ops: [{ insert: "a", delete: 1 }] } },
      { ...good, buffer: { ops: "x", edits: 1 } },
    ];
    for (const value of damaged) assert.equal(parseRecord(value), null, JSON.stringify(value));
  });
});

describe("which records a page adopts", () => {
  const base = { v: 1, rev: 1, inflight: {}, buffer: null };
  const records = [
    { ...base, user: 3, doc: "d1", client: "A", created: 30, updated: 1000 },
    { ...base, user: 3, doc: "d1", client: "B", created: 10, updated: 1000 },
    { ...base, user: 4, doc: "d1", client: "C", created: 5, updated: 1000 }, // another user
    { ...base, user: 3, doc: "d2", client: "D", created: 5, updated: 1000 }, // another document
    { ...base, user: 3, doc: "d1", client: "ME", created: 1, updated: 1000 }, // this page
  ];
  const where = { user: 3, doc: "d1", own: "ME", now: 1000, staleAfter: 20_000 };

  it("takes only dead pages' queues of the same user and document, oldest first", () => {
    const picked = adoptable(records, { ...where, alive: new Set(["ME"]) });
    assert.deepEqual(picked.map((r) => r.client), ["B", "A"]);
  });

  it("never a live tab's queue (its Web Lock is held)", () => {
    const picked = adoptable(records, { ...where, alive: new Set(["ME", "B"]) });
    assert.deepEqual(picked.map((r) => r.client), ["A"]);
  });

  it("without Web Locks, only queues whose heartbeat stopped", () => {
    const aged = records.map((r) => (r.client === "A" ? { ...r, updated: 1000 - 25_000 } : r));
    const picked = adoptable(aged, { ...where, alive: null });
    assert.deepEqual(picked.map((r) => r.client), ["A"]);
  });
});

/** A page whose editor is a Delta, on fake sockets. */
function page() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  const editor = { doc: new Delta() };
  const adapter = {
    flush: () => {},
    applyRemote: (delta) => {
      editor.doc = editor.doc.compose(delta);
    },
    loadContent: (content) => {
      editor.doc = new Delta(content);
    },
    getRange: () => null,
  };
  const client = new OTClient({ clientId: NEW });
  const statuses = [];
  const notices = [];
  const conn = new Connection({
    url: URL0,
    routeUrl: "/route",
    client,
    adapter,
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  conn.on("status", (s) => statuses.push(s));
  conn.on("notice", (n) => notices.push(n));
  return { conn, client, editor, adapter, timers, statuses, notices, ws: () => FakeSocket.all.at(-1) };
}

/** Restore the closed page's queue into ``env`` over the document "hello\n" at 5. */
function restore(env) {
  const queue = parseRecord(structuredClone(recordOf(closedPage(), { user: 3, doc: "d1", created: 1, now: 2 })));
  env.adapter.loadContent([{ insert: "hello\n" }]);
  env.adapter.applyRemote(queue.inflight.delta.compose(queue.buffer.delta));
  env.client.restore(queue);
  return queue;
}

const hello = (extra) => ({
  type: "hello", protocol: 1, doc: "d1", session: "me", user: USER, can_edit: true, peers: [], ...extra,
});
const ops = (ws) => ws.frames.filter((f) => f.type === "op");

describe("a restored client over the first hello", () => {
  it("connects with ?rev= of the stored base and resends the op in flight under its old id", () => {
    const env = page();
    restore(env);
    env.conn.start();
    assert.equal(env.ws().url, `${URL0}?rev=5`);
    env.ws().deliver(hello({ rev: 6, ops: [{ rev: 6, id: `${OTHER}:1`, session: "", user: 4, delta: [{ insert: "x" }] }] }));
    assert.deepEqual(env.editor.doc.ops, [{ insert: "xhello! world\n" }]);
    assert.deepEqual(ops(env.ws()), [
      { type: "op", id: `${OLD}:1`, rev: 6, delta: [{ retain: 6 }, { insert: "!" }] },
    ]);
    assert.equal(env.statuses.at(-1).restored, 2);
    env.ws().deliver({ type: "ack", id: `${OLD}:1`, rev: 7 });
    // The buffer goes under this page's own ids: the closed page never sent it.
    assert.deepEqual(ops(env.ws()).at(-1), {
      type: "op", id: `${NEW}:1`, rev: 7, delta: [{ retain: 7 }, { insert: " world" }],
    });
    assert.equal(env.statuses.at(-1).restored, 1);
    env.ws().deliver({ type: "ack", id: `${NEW}:1`, rev: 8 });
    assert.ok(env.client.isSynchronized);
    assert.equal(env.statuses.at(-1).restored, 0);
  });

  it("takes its op stored before the page closed (ack lost) as acked: not doubled", () => {
    const env = page();
    restore(env);
    env.conn.start();
    const mine = { rev: 6, id: `${OLD}:1`, session: "", user: 3, delta: [{ retain: 5 }, { insert: "!" }] };
    const theirs = { rev: 7, id: `${OTHER}:1`, session: "", user: 4, delta: [{ insert: "x" }] };
    env.ws().deliver(hello({ rev: 7, ops: [mine, theirs] }));
    assert.deepEqual(env.editor.doc.ops, [{ insert: "xhello! world\n" }]);
    const sent = ops(env.ws());
    assert.equal(sent.filter((f) => f.id === `${OLD}:1`).length, 0, "the stored op is not sent again");
    assert.deepEqual(sent, [{ type: "op", id: `${NEW}:1`, rev: 7, delta: [{ retain: 7 }, { insert: " world" }] }]);
  });

  it("beyond the server's horizon (content, not ops) hands the text back and drops the queue", () => {
    const env = page();
    restore(env);
    const kinds = [];
    env.client.observe((kind) => kinds.push(kind));
    env.conn.start();
    env.ws().deliver(hello({ rev: 9000, content: [{ insert: "rewritten\n" }] }));
    assert.deepEqual(env.editor.doc.ops, [{ insert: "rewritten\n" }]);
    assert.ok(env.client.isSynchronized);
    assert.deepEqual(kinds, ["reset"]);
    assert.equal(env.notices.at(-1).text, "! world");
    assert.equal(ops(env.ws()).length, 0, "nothing is sent: no loop");
  });

  it("a restored op the server refuses (bad_op, stale) hands its text back once, never resent", () => {
    for (const code of ["bad_op", "stale"]) {
      const env = page();
      restore(env);
      const kinds = [];
      env.client.observe((kind) => kinds.push(kind));
      env.conn.start();
      env.ws().deliver(hello({ rev: 5, ops: [] }));
      env.ws().deliver({ type: "error", code, message: "no", id: `${OLD}:1` });
      env.timers.runNext(); // the reload's reconnect, without ?rev=
      assert.equal(env.ws().url, URL0);
      env.ws().deliver(hello({ rev: 5, content: [{ insert: "hello\n" }] }));
      assert.deepEqual(env.editor.doc.ops, [{ insert: "hello\n" }]);
      assert.ok(env.client.isSynchronized);
      assert.equal(kinds.at(-1), "reset", "the store empties the queue");
      assert.equal(env.notices.at(-1).text, "! world");
      assert.equal(ops(env.ws()).length, 0, `${code}: nothing is sent again`);
    }
  });

  it("refuses to restore into a client that already loaded a document", () => {
    const client = new OTClient({ clientId: NEW, revision: 3 });
    const queue = parseRecord(recordOf(closedPage(), { user: 3, doc: "d1", created: 1, now: 2 }));
    assert.throws(() => client.restore(queue), /loaded nothing/);
    assert.equal(client.revision, 3);
    assert.ok(client.isSynchronized);
  });

  it("tells observers of every change in order; a broken observer stops nothing", () => {
    const client = new OTClient({ clientId: NEW, revision: 0 });
    const kinds = [];
    client.observe((kind) => kinds.push(kind));
    client.observe(() => {
      throw new Error("a broken observer");
    });
    client.applyClient(new Delta().insert("a"));
    client.serverOp({ rev: 1, id: `${OTHER}:1`, delta: [{ insert: "x" }] });
    client.serverAck(`${NEW}:1`, 2);
    client.reset(5);
    assert.deepEqual(kinds, ["local", "server", "ack", "reset"]);
  });
});
