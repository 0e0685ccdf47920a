/**
 * The connection against fake sockets, fake timers and a fake fetch:
 * hello, catch-up, resend with the same id, redirects, the route endpoint,
 * every error code and close code, gaps, batches and presence; then a
 * randomized run of several connections against an in-memory server with
 * drops, rate limiting, outages and history truncation.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";

import Delta from "quill-delta";

import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { Status } from "../../static/src/editor/transport.js";
import { FakeSocket, FakeTimers, SimServer, randomChange, rng, seeds, settle } from "./helpers.mjs";

// The connection explains recoverable trouble on console.warn; keep the
// test output readable unless VERBOSE is set.
if (!process.env.VERBOSE) console.warn = () => {};

const CID = "CCCCCCCCCCCCCCCCCCCCCC";
const URL0 = "ws://example.test/ws/docs/d1/";
const ROUTE = "http://example.test/api/docs/d1/route";
const USER = { id: 3, name: "alice", color: "#e6194b" };
const OTHER = "OOOOOOOOOOOOOOOOOOOOOO";

/** An editor stand-in: a document delta and a selection. */
class FakeEditor {
  constructor() {
    this.doc = new Delta().insert("\n");
    this.range = null;
    this.loads = 0;
    this.conn = null;
    this.unflushed = null;
  }
  get adapter() {
    return {
      flush: () => {
        if (this.unflushed) {
          const change = this.unflushed;
          this.unflushed = null;
          this.conn.submit(change);
        }
      },
      applyRemote: (delta) => {
        this.doc = this.doc.compose(delta);
      },
      loadContent: (content) => {
        this.doc = new Delta(content);
        this.loads += 1;
      },
      getRange: () => this.range,
    };
  }
  /** The person types (reported at once). */
  type(change) {
    this.doc = this.doc.compose(change);
    this.conn.submit(change);
  }
}

function setup({ fetchImpl, canEdit = true } = {}) {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  const editor = new FakeEditor();
  const client = new OTClient({ clientId: CID });
  const events = { status: [], notice: [], access: [], title: [], peers: [], review: [], notify: [] };
  const conn = new Connection({
    url: URL0,
    routeUrl: ROUTE,
    client,
    adapter: editor.adapter,
    canEdit,
    WebSocketImpl: FakeSocket,
    fetchImpl: fetchImpl || (async () => ({ status: 500, ok: false, json: async () => ({}) })),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  editor.conn = conn;
  for (const name of Object.keys(events)) conn.on(name, (e) => events[name].push(e));
  conn.start();
  const ws = () => FakeSocket.all.at(-1);
  return { conn, client, editor, timers, events, ws };
}

const hello = (extra = {}) => ({
  type: "hello", protocol: 1, doc: "d1", rev: 0, content: [{ insert: "\n" }],
  session: "me", user: USER, can_edit: true, peers: [], ...extra,
});

const ins = (at, text) => new Delta().retain(at).insert(text);

describe("hello", () => {
  it("connects without rev first and loads the content", () => {
    const { conn, editor, ws, events } = setup();
    assert.equal(ws().url, URL0);
    assert.equal(conn.status, Status.CONNECTING);
    ws().deliver(hello({ rev: 4, content: [{ insert: "Hi\n" }] }));
    assert.equal(conn.status, Status.CONNECTED);
    assert.equal(conn.client.revision, 4);
    assert.deepEqual(editor.doc.ops, [{ insert: "Hi\n" }]);
    assert.equal(events.notice.length, 0);
    assert.deepEqual(events.access.at(-1), { canEdit: true, canComment: true, ready: true });
  });

  it("makes a viewer read-only", () => {
    const { ws, events, conn } = setup();
    ws().deliver(hello({ can_edit: false, can_comment: false }));
    assert.equal(conn.canEdit, false);
    assert.equal(conn.canComment, false);
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: false, ready: true });
  });

  it("lets a commenter comment but not edit", () => {
    const { ws, events, conn } = setup();
    ws().deliver(hello({ can_edit: false, can_comment: true }));
    assert.equal(conn.canEdit, false);
    assert.equal(conn.canComment, true);
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: true, ready: true });
  });

  it("lets an editor comment whatever can_comment says, and an old server's editor too", () => {
    const { ws, events } = setup();
    ws().deliver(hello({ can_edit: true, can_comment: false }));
    assert.deepEqual(events.access.at(-1), { canEdit: true, canComment: true, ready: true });
    ws().deliver({ type: "access", can_edit: false });
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: false, ready: true });
  });

  it("stops on an unknown protocol version", () => {
    const { ws, conn, events } = setup();
    ws().deliver(hello({ protocol: 2 }));
    assert.equal(conn.status, Status.STOPPED);
    assert.equal(events.notice.at(-1).kind, "protocol");
  });

  it("lists the peers and follows join, presence and leave", () => {
    const { ws, conn, events } = setup();
    const bob = { id: 4, name: "bob", color: "#3cb44b" };
    ws().deliver(hello({ rev: 2, content: [{ insert: "abcdef\n" }], peers: [{ session: "b1", user: bob, range: { index: 1, length: 2 } }] }));
    assert.deepEqual(conn.peers.localRanges(conn.client), [{ session: "b1", user: bob, range: { index: 1, length: 2 } }]);
    ws().deliver({ type: "join", session: "c1", user: { id: 5, name: "carol", color: "#000" } });
    ws().deliver({ type: "presence", session: "c1", user: { id: 5, name: "carol", color: "#000" }, rev: 2, range: { index: 3, length: 0 } });
    ws().deliver({ type: "op", rev: 3, id: `${OTHER}:1`, session: "b1", user: 4, delta: [{ insert: "XY" }] });
    const ranges = Object.fromEntries(conn.peers.localRanges(conn.client).map((p) => [p.session, p.range]));
    assert.deepEqual(ranges, { b1: { index: 3, length: 2 }, c1: { index: 5, length: 0 } });
    ws().deliver({ type: "leave", session: "b1" });
    assert.deepEqual(conn.peers.list().map((p) => p.session), ["c1"]);
    assert.ok(events.peers.length >= 4);
  });
});

describe("ops and acks", () => {
  it("sends the person's change with its id and base revision", () => {
    const { ws, editor } = setup();
    ws().deliver(hello({ rev: 7 }));
    editor.type(ins(0, "a"));
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:1`, rev: 7, delta: [{ insert: "a" }] });
    editor.type(ins(1, "b"));
    assert.equal(ws().frames.filter((f) => f.type === "op").length, 1, "one op in flight at a time");
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 8 });
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:2`, rev: 8, delta: [{ retain: 1 }, { insert: "b" }] });
  });

  it("flushes unreported local edits before a server op", () => {
    const { ws, editor, client } = setup();
    ws().deliver(hello({ rev: 0 }));
    // The person typed "a" but the editor has not reported it yet.
    editor.doc = editor.doc.compose(ins(0, "a"));
    editor.unflushed = ins(0, "a");
    ws().deliver({ type: "op", rev: 1, id: `${OTHER}:1`, session: "o", user: 4, delta: [{ insert: "b" }] });
    assert.deepEqual(editor.doc.ops, [{ insert: "ba\n" }]);
    assert.deepEqual(client.inflight.delta.ops, [{ retain: 1 }, { insert: "a" }]);
  });

  it("handles a batch element by element", () => {
    const { ws, editor, client } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "me"));
    ws().deliver({
      type: "batch",
      messages: [
        { type: "op", rev: 1, id: `${OTHER}:1`, session: "o", user: 4, delta: [{ insert: "X" }] },
        { type: "ack", id: `${CID}:1`, rev: 2 },
        { type: "op", rev: 3, id: `${OTHER}:2`, session: "o", user: 4, delta: [{ retain: 3 }, { insert: "Y" }] },
      ],
    });
    assert.equal(client.revision, 3);
    assert.ok(client.isSynchronized);
    assert.deepEqual(editor.doc.ops, [{ insert: "XmeY\n" }]);
  });

  it("takes a broadcast op with its own id as the ack and ignores the late ack", () => {
    const { ws, editor, client } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "a"));
    ws().deliver({ type: "op", rev: 1, id: `${CID}:1`, session: "me", user: 3, delta: [{ insert: "a" }] });
    assert.ok(client.isSynchronized);
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 1 });
    assert.equal(client.revision, 1);
    assert.deepEqual(editor.doc.ops, [{ insert: "a\n" }]);
  });

  it("reconnects with ?rev= when revisions skip", () => {
    const { ws, timers } = setup();
    const first = ws();
    first.deliver(hello({ rev: 2 }));
    first.deliver({ type: "op", rev: 4, id: `${OTHER}:1`, session: "o", user: 4, delta: [] });
    assert.equal(first.closedBy.side, "client");
    timers.advance(0);
    assert.equal(ws().url, `${URL0}?rev=2`);
  });
});

describe("presence", () => {
  it("is sent only while synchronized, and right after the ack that synchronizes", () => {
    const { ws, editor, conn, timers } = setup();
    ws().deliver(hello({ rev: 1, content: [{ insert: "abc\n" }] }));
    editor.range = { index: 1, length: 0 };
    conn.presenceChanged();
    assert.deepEqual(ws().frames.at(-1), { type: "presence", rev: 1, range: { index: 1, length: 0 } });
    editor.type(ins(1, "x"));
    editor.range = { index: 2, length: 0 };
    timers.advance(500);
    conn.presenceChanged();
    timers.advance(500);
    assert.equal(ws().frames.at(-1).type, "op", "no presence while awaiting confirm");
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 2 });
    assert.deepEqual(ws().frames.at(-1), { type: "presence", rev: 2, range: { index: 2, length: 0 } });
  });

  it("is throttled", () => {
    const { ws, editor, conn, timers } = setup();
    ws().deliver(hello({ rev: 1, content: [{ insert: "abcdef\n" }] }));
    for (let i = 0; i < 5; i += 1) {
      editor.range = { index: i, length: 0 };
      conn.presenceChanged();
    }
    assert.equal(ws().frames.filter((f) => f.type === "presence").length, 1);
    timers.advance(100);
    const sent = ws().frames.filter((f) => f.type === "presence");
    assert.equal(sent.length, 2);
    assert.deepEqual(sent.at(-1).range, { index: 4, length: 0 });
  });
});

describe("reconnect", () => {
  let env;
  beforeEach(() => {
    env = setup();
    env.ws().deliver(hello({ rev: 5, content: [{ insert: "hello\n" }] }));
    env.editor.type(ins(5, "!"));
  });

  it("backs off with jitter and reconnects with ?rev=", () => {
    const { ws, timers, conn, events } = env;
    ws().serverClose(1006);
    assert.equal(conn.status, Status.RECONNECTING);
    assert.deepEqual(events.status.at(-1), { status: "reconnecting", pending: 1, retrying: false, restored: 0 });
    const [delay] = timers.delays();
    assert.ok(delay >= 375 && delay <= 625, `first delay ${delay}`);
    timers.runNext();
    assert.equal(ws().url, `${URL0}?rev=5`);
  });

  it("takes its own op in hello.ops as the ack and sends nothing again", () => {
    const { ws, timers, client } = env;
    ws().serverClose(1006);
    timers.runNext();
    ws().deliver(hello({
      rev: 6, content: undefined,
      ops: [{ rev: 6, id: `${CID}:1`, session: "old", user: 3, delta: [{ retain: 5 }, { insert: "!" }] }],
    }));
    assert.ok(client.isSynchronized);
    assert.equal(ws().frames.filter((f) => f.type === "op").length, 0);
  });

  it("catches up on others' ops and resends its op with the same id", () => {
    const { ws, timers, client, editor } = env;
    ws().serverClose(1006);
    timers.runNext();
    ws().deliver(hello({
      rev: 6, content: undefined,
      ops: [{ rev: 6, id: `${OTHER}:1`, session: "o", user: 4, delta: [{ insert: "Oh " }] }],
    }));
    assert.deepEqual(editor.doc.ops, [{ insert: "Oh hello!\n" }]);
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:1`, rev: 6, delta: [{ retain: 8 }, { insert: "!" }] });
    assert.equal(client.revision, 6);
  });

  it("resends when hello.content is at its own revision", () => {
    const { ws, timers, editor } = env;
    ws().serverClose(1006);
    timers.runNext();
    ws().deliver(hello({ rev: 5, content: [{ insert: "hello\n" }] }));
    assert.equal(editor.loads, 1, "content not reloaded");
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:1`, rev: 5, delta: [{ retain: 5 }, { insert: "!" }] });
  });

  it("loads newer content, drops the pending op and shows its text", () => {
    const { ws, timers, editor, client, events } = env;
    editor.type(ins(6, " world"));
    ws().serverClose(1006);
    timers.runNext();
    ws().deliver(hello({ rev: 9, content: [{ insert: "other\n" }] }));
    assert.deepEqual(editor.doc.ops, [{ insert: "other\n" }]);
    assert.ok(client.isSynchronized);
    assert.equal(client.revision, 9);
    assert.equal(events.notice.at(-1).kind, "unsaved");
    assert.equal(events.notice.at(-1).text, "! world");
    assert.equal(ws().frames.filter((f) => f.type === "op").length, 0);
  });

  it("keeps typing while offline and sends after reconnecting", () => {
    const { ws, timers, editor, conn } = env;
    ws().serverClose(1006);
    editor.type(ins(6, "?"));
    assert.equal(conn.pending, 2);
    timers.runNext();
    ws().deliver(hello({ rev: 5, content: undefined, ops: [] }));
    assert.deepEqual(ws().frames.at(-1).id, `${CID}:1`);
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 6 });
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:2`, rev: 6, delta: [{ retain: 6 }, { insert: "?" }] });
  });

  it("asks the route endpoint after two failed attempts", async () => {
    const calls = [];
    env = setup({
      fetchImpl: async (url) => {
        calls.push(url);
        return { status: 200, ok: true, json: async () => ({ url: "ws://w2.test/ws/docs/d1/" }) };
      },
    });
    const { ws, timers } = env;
    ws().deliver(hello({ rev: 1 }));
    ws().serverClose(1006);
    timers.runNext();
    ws().serverClose(1006); // failed before hello
    timers.runNext();
    ws().serverClose(1006);
    timers.runNext();
    await settle();
    assert.deepEqual(calls, [ROUTE]);
    assert.equal(ws().url, "ws://w2.test/ws/docs/d1/?rev=1");
  });

  it("waits for the browser to come back online", () => {
    const { ws, timers, conn } = env;
    conn.setOnline(false);
    assert.equal(conn.status, Status.OFFLINE);
    ws().serverClose(1006);
    assert.equal(conn.status, Status.OFFLINE);
    assert.equal(timers.delays().length, 0);
    const before = FakeSocket.all.length;
    conn.setOnline(true);
    assert.equal(FakeSocket.all.length, before + 1);
    assert.equal(ws().url, `${URL0}?rev=5`);
  });
});

describe("redirects and the route endpoint", () => {
  it("follows a redirect at once, keeping ?rev=", () => {
    const { ws, timers, editor } = setup();
    ws().deliver(hello({ rev: 3 }));
    editor.type(ins(0, "a"));
    ws().serverClose(1006);
    timers.runNext();
    ws().deliver({ type: "redirect", url: "ws://w2.test/ws/docs/d1/" });
    ws().serverClose(4301);
    assert.equal(ws().url, "ws://w2.test/ws/docs/d1/?rev=3");
    ws().deliver(hello({ rev: 3 }));
    assert.equal(ws().frames.at(-1).id, `${CID}:1`, "resent after the redirect with its id");
  });

  it("follows at most 3 redirects in a row, then backs off and asks the route", async () => {
    const calls = [];
    const { ws, timers } = setup({
      fetchImpl: async (url, init) => {
        calls.push([url, init.credentials]);
        return { status: 200, ok: true, json: async () => ({ url: "ws://w9.test/ws/docs/d1/" }) };
      },
    });
    for (let i = 1; i <= 4; i += 1) {
      ws().deliver({ type: "redirect", url: `ws://w${i}.test/ws/docs/d1/` });
      ws().serverClose(4301);
    }
    assert.equal(ws().url, "ws://w3.test/ws/docs/d1/");
    assert.equal(calls.length, 0);
    const [delay] = timers.delays();
    assert.ok(delay > 0, "waits before asking the route");
    timers.runNext();
    await settle();
    assert.deepEqual(calls, [[ROUTE, "same-origin"]]);
    assert.equal(ws().url, "ws://w9.test/ws/docs/d1/");
  });

  for (const [status, kind] of [[401, "signed_out"], [404, "gone"]]) {
    it(`stops when the route answers ${status}`, async () => {
      const { ws, timers, conn, events } = setup({ fetchImpl: async () => ({ status, ok: false, json: async () => ({}) }) });
      ws().deliver(hello({ rev: 1 }));
      ws().serverClose(4503);
      timers.runNext();
      await settle();
      assert.equal(conn.status, Status.STOPPED);
      assert.equal(events.notice.at(-1).kind, kind);
      assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: false, ready: true });
      assert.equal(timers.delays().length, 0);
    });
  }

  it("retries the route with backoff when it fails", async () => {
    let n = 0;
    const { ws, timers } = setup({
      fetchImpl: async () => {
        n += 1;
        if (n < 3) throw new Error("network");
        return { status: 200, ok: true, json: async () => ({ url: "ws://w5.test/ws/docs/d1/" }) };
      },
    });
    ws().serverClose(4503);
    for (let i = 0; i < 3; i += 1) {
      timers.runNext();
      await settle();
    }
    assert.equal(n, 3);
    assert.equal(ws().url, "ws://w5.test/ws/docs/d1/");
  });
});

describe("close codes", () => {
  it("4401 tries once more with the current cookie, then stops and shows unsaved text", () => {
    const { ws, timers, conn, events, editor } = setup();
    ws().deliver(hello({ rev: 1 }));
    editor.type(ins(0, "draft"));
    ws().serverClose(4401);
    // A password change here ends the socket's session only: try again now.
    assert.equal(FakeSocket.all.length, 2);
    assert.notEqual(conn.status, Status.STOPPED);
    ws().deliver({ type: "error", code: "denied", message: "log in to open documents" });
    ws().serverClose(4401);
    assert.equal(conn.status, Status.STOPPED);
    assert.equal(events.notice.at(-1).kind, "signed_out");
    assert.equal(events.notice.at(-1).text, "draft");
    assert.equal(timers.delays().length, 0);
    editor.type(ins(0, "more"));
    assert.equal(FakeSocket.all.length, 2);
  });

  it("4401 on a socket whose retry got hello is retried once again", () => {
    const { ws, conn } = setup();
    ws().deliver(hello({ rev: 1 }));
    ws().serverClose(4401);
    ws().deliver(hello({ rev: 1 }));
    ws().serverClose(4401);
    assert.equal(FakeSocket.all.length, 3);
    assert.notEqual(conn.status, Status.STOPPED);
  });

  for (const [code, kind] of [[4403, "forbidden"], [4404, "gone"]]) {
    it(`${code} stops for good and shows unsaved text`, () => {
      const { ws, timers, conn, events, editor } = setup();
      ws().deliver(hello({ rev: 1 }));
      editor.type(ins(0, "draft"));
      ws().deliver({ type: "error", code: "denied", message: "no" });
      ws().serverClose(code);
      assert.equal(conn.status, Status.STOPPED);
      assert.equal(events.notice.at(-1).kind, kind);
      assert.equal(events.notice.at(-1).text, "draft");
      assert.equal(timers.delays().length, 0);
      editor.type(ins(0, "more"));
      assert.equal(FakeSocket.all.length, 1);
    });
  }

  it("4429 (too many sockets) says so and keeps retrying", () => {
    const { ws, timers, conn, events } = setup();
    ws().deliver({ type: "error", code: "denied", message: "too many" });
    ws().serverClose(4429);
    assert.equal(events.notice.at(-1).kind, "too_many");
    assert.equal(conn.status, Status.RECONNECTING);
    assert.equal(timers.delays().length, 1);
    timers.runNext();
    ws().deliver(hello({ rev: 0 }));
    assert.equal(conn.status, Status.CONNECTED);
  });

  it("1009 reloads from the server and tells the person", () => {
    const { ws, timers, events, editor } = setup();
    ws().deliver(hello({ rev: 1 }));
    editor.type(ins(0, "huge"));
    ws().serverClose(1009);
    timers.runNext();
    assert.equal(ws().url, URL0, "reload: no ?rev=");
    ws().deliver(hello({ rev: 1 }));
    assert.equal(events.notice.at(-1).kind, "unsaved");
    assert.match(events.notice.at(-1).message, /too large/);
    assert.deepEqual(editor.doc.ops, [{ insert: "\n" }]);
  });
});

describe("errors", () => {
  it("resends the same op after rate_limited's retry_after", () => {
    const { ws, timers, editor, events } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "a"));
    ws().deliver({ type: "error", code: "rate_limited", message: "slow", id: `${CID}:1`, retry_after: 700 });
    assert.equal(events.status.at(-1).retrying, true);
    editor.type(ins(1, "b")); // buffered, nothing sent
    timers.advance(699);
    assert.equal(ws().frames.length, 1);
    timers.advance(1);
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:1`, rev: 0, delta: [{ insert: "a" }] });
  });

  it("retries unavailable with backoff from 250 ms doubling to 10 s, forever", () => {
    const { ws, timers, editor } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "a"));
    const delays = [];
    for (let i = 0; i < 12; i += 1) {
      ws().deliver({ type: "error", code: "unavailable", message: "db", id: `${CID}:1` });
      delays.push(timers.delays()[0]);
      timers.runNext();
      assert.equal(ws().frames.at(-1).id, `${CID}:1`);
    }
    // random() is 0.5 in these tests: the jitter's middle.
    assert.deepEqual(delays.slice(0, 7), [250, 500, 1000, 2000, 4000, 8000, 10000]);
    assert.ok(delays.every((d) => d <= 10000));
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 1 });
    editor.type(ins(1, "b"));
    ws().deliver({ type: "error", code: "unavailable", message: "db", id: `${CID}:2` });
    assert.equal(timers.delays()[0], 250, "the backoff starts again after an ack");
  });

  for (const code of ["bad_op", "stale", "too_large", "bad_message"]) {
    it(`${code} reloads from the server state and shows the lost text`, () => {
      const { ws, timers, editor, client, events } = setup();
      ws().deliver(hello({ rev: 2, content: [{ insert: "x\n" }] }));
      editor.type(ins(0, "lost"));
      ws().deliver({ type: "error", code, message: "no", id: `${CID}:1` });
      timers.runNext();
      assert.equal(ws().url, URL0, "reload: no ?rev=");
      ws().deliver(hello({ rev: 2, content: [{ insert: "x\n" }] }));
      assert.deepEqual(editor.doc.ops, [{ insert: "x\n" }]);
      assert.ok(client.isSynchronized);
      assert.equal(events.notice.at(-1).text, "lost");
    });
  }

  it("forbidden switches to read-only and reloads", () => {
    const { ws, timers, editor, events } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "x"));
    ws().deliver({ type: "error", code: "forbidden", message: "read only", id: `${CID}:1` });
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: false, ready: true });
    timers.runNext();
    ws().deliver(hello({ rev: 0, can_edit: false }));
    assert.deepEqual(editor.doc.ops, [{ insert: "\n" }]);
    assert.equal(events.notice.at(-1).text, "x");
  });

  it("a commenter's refused plain edit reloads, names the reason, and leaves commenting on", () => {
    const { ws, timers, editor, events } = setup();
    ws().deliver(hello({ rev: 0, can_edit: false, can_comment: true }));
    editor.type(ins(0, "x"));
    const reason = "a commenter may only insert text marked as their own suggestion";
    ws().deliver({ type: "error", code: "forbidden", message: reason, id: `${CID}:1` });
    timers.runNext();
    ws().deliver(hello({ rev: 0, can_edit: false, can_comment: true }));
    assert.deepEqual(editor.doc.ops, [{ insert: "\n" }]);
    assert.equal(events.notice.at(-1).kind, "unsaved");
    assert.match(events.notice.at(-1).message, /refused a change you may not make.*The server said: a commenter may only/);
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: true, ready: true });
  });

  it("ignores an error about an op no longer in flight", () => {
    const { ws, editor, timers } = setup();
    ws().deliver(hello({ rev: 0 }));
    editor.type(ins(0, "x"));
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 1 });
    ws().deliver({ type: "error", code: "bad_op", message: "late", id: `${CID}:1` });
    ws().deliver({ type: "error", code: "rate_limited", message: "late", id: `${CID}:1` });
    assert.equal(timers.delays().length, 0);
    assert.equal(ws().readyState, 1);
  });
});

describe("extensions", () => {
  it("passes renames on and switches access", () => {
    const { ws, events } = setup();
    ws().deliver(hello({ rev: 0 }));
    ws().deliver({ type: "title", title: "Plans" });
    ws().deliver({ type: "access", can_edit: false, can_comment: true });
    ws().deliver({ type: "something-new" });
    assert.deepEqual(events.title, ["Plans"]);
    assert.deepEqual(events.access.at(-1), { canEdit: false, canComment: true, ready: true });
  });

  it("passes review and notify frames on with their payload", () => {
    const { ws, events } = setup();
    ws().deliver(hello({ rev: 0 }));
    const thread = { id: "abcdefghij012345", quote: "hi", messages: [] };
    ws().deliver({ type: "review", event: "thread", thread });
    ws().deliver({ type: "batch", messages: [{ type: "review", event: "thread_removed", id: "abcdefghij012345" }] });
    ws().deliver({ type: "notify", notification: { id: 3, kind: "mention" }, unread: 2 });
    assert.deepEqual(events.review, [
      { event: "thread", thread },
      { event: "thread_removed", id: "abcdefghij012345" },
    ]);
    assert.deepEqual(events.notify, [{ notification: { id: 3, kind: "mention" }, unread: 2 }]);
  });

  it("holds frames during a composition", () => {
    const { ws, conn, editor } = setup();
    ws().deliver(hello({ rev: 0 }));
    conn.pause();
    ws().deliver({ type: "op", rev: 1, id: `${OTHER}:1`, session: "o", user: 4, delta: [{ insert: "b" }] });
    assert.deepEqual(editor.doc.ops, [{ insert: "\n" }]);
    editor.type(ins(0, "が"));
    conn.resume();
    assert.deepEqual(editor.doc.ops, [{ insert: "bが\n" }]);
  });
});

describe("editing port", () => {
  it("is all the editor binding needs: submit, selection, hold and release, peer ranges", () => {
    const { ws, conn, editor } = setup();
    const port = conn.port;
    assert.equal(port.loaded(), false, "nothing loaded before hello");
    ws().deliver(hello({ rev: 2, content: [{ insert: "abc\n" }], peers: [
      { session: "b1", user: { id: 4, name: "bob", color: "#3cb44b" }, range: { index: 1, length: 1 } },
    ] }));
    assert.equal(port.loaded(), true);
    editor.doc = editor.doc.compose(ins(0, "x"));
    port.submit(ins(0, "x"));
    assert.deepEqual(ws().frames.at(-1), { type: "op", id: `${CID}:1`, rev: 2, delta: [{ insert: "x" }] });
    // Bob's range is shown over the person's pending "x".
    assert.deepEqual(port.peerRanges().map((p) => p.range), [{ index: 2, length: 1 }]);
    port.hold();
    ws().deliver({ type: "ack", id: `${CID}:1`, rev: 3 });
    assert.equal(conn.pending, 1, "held while composing");
    port.release();
    assert.equal(conn.pending, 0);
    editor.range = { index: 1, length: 0 };
    port.selectionChanged();
    assert.deepEqual(ws().frames.at(-1), { type: "presence", rev: 3, range: { index: 1, length: 0 } });
  });
});

/**
 * Several connections and the in-memory server, with frames delivered in
 * random order, dropped sockets, rate limiting, outages and truncated
 * history; at the end every editor holds the server's document.
 */
async function simulate(seed, { people = 3, steps = 400, truncate = true } = {}) {
  const random = rng(seed);
  const server = new SimServer({ random });
  server.faults = { rateLimited: 0.05, unavailable: 0.05, batch: 0.3 };
  const timers = new FakeTimers();
  FakeSocket.all = [];
  FakeSocket.onCreate = (ws) => server.accept(ws, ws.user || USER);
  const editors = [];
  for (let i = 0; i < people; i += 1) {
    const editor = new FakeEditor();
    const client = new OTClient({ clientId: `client${i}`.padEnd(22, "x") });
    const conn = new Connection({
      url: URL0, routeUrl: ROUTE, client, adapter: editor.adapter,
      WebSocketImpl: FakeSocket,
      fetchImpl: async () => ({ status: 200, ok: true, json: async () => ({ url: URL0 }) }),
      timers, random, now: () => timers.now,
    });
    editor.conn = conn;
    editor.client = client;
    editor.lost = 0;
    conn.on("notice", (n) => {
      if (n.kind === "unsaved") editor.lost += 1;
    });
    conn.start();
    editors.push(editor);
  }
  const socketOf = (editor) => editor.conn.ws;
  const step = async (faults) => {
    const x = random();
    const editor = random.pick(editors);
    const ws = socketOf(editor);
    const conn = ws && server.conns.get(ws);
    if (x < 0.3) {
      if (editor.client.revision !== null && !editor.conn.stopReason) editor.type(randomChange(random, editor.doc));
    } else if (x < 0.55 && conn?.inbox.length) {
      server.receiveOne(ws);
    } else if (x < 0.85 && conn?.outbox.length) {
      server.sendOne(ws);
    } else if (x < 0.9) {
      timers.runNext();
      await settle();
    } else if (faults && x < 0.93 && ws) {
      server.drop(ws);
    } else if (faults && truncate && x < 0.94) {
      server.historyStart = Math.max(server.historyStart, server.rev - random.int(0, 3));
    } else if (faults && x < 0.945 && ws && conn) {
      conn.outbox.push(JSON.stringify({ type: "redirect", url: URL0 }));
      server.sendOne(ws);
      conn.outbox = [];
      ws.serverClose(4301);
    }
  };
  for (let i = 0; i < steps; i += 1) await step(true);
  server.faults = { rateLimited: 0, unavailable: 0, batch: 0.3 };
  for (let guard = 0; guard < 20_000; guard += 1) {
    const quiet = editors.every((e) => {
      const ws = socketOf(e);
      const c = ws && server.conns.get(ws);
      return e.conn.ready && e.client.isSynchronized && c && !c.inbox.length && !c.outbox.length;
    });
    if (quiet && editors.every((e) => e.client.revision === server.rev)) break;
    const busy = editors.filter((e) => {
      const ws = socketOf(e);
      const c = ws && server.conns.get(ws);
      return c && (c.inbox.length || c.outbox.length);
    });
    if (busy.length) {
      const e = random.pick(busy);
      const ws = socketOf(e);
      const c = server.conns.get(ws);
      if (c.inbox.length && (random.chance(0.5) || !c.outbox.length)) server.receiveOne(ws);
      else server.sendOne(ws);
    } else {
      timers.runNext();
      await settle();
    }
  }
  for (const [i, e] of editors.entries()) {
    assert.equal(e.conn.status, Status.CONNECTED, `seed ${seed}: editor ${i} ${e.conn.status}`);
    assert.ok(e.client.isSynchronized, `seed ${seed}: editor ${i} ${e.client.stateName}`);
    assert.equal(e.client.revision, server.rev, `seed ${seed}: editor ${i} revision`);
    assert.deepEqual(e.doc.ops, server.doc.ops, `seed ${seed}: editor ${i} diverged`);
  }
  const ids = server.ops.map((o) => o.id);
  assert.equal(new Set(ids).size, ids.length, `seed ${seed}: an op was applied twice`);
  for (const e of editors) e.conn.close();
  return { ops: server.rev, lost: editors.reduce((n, e) => n + e.lost, 0) };
}

describe("convergence through connections (drops, retries, redirects, stale)", () => {
  const runs = seeds(Number(process.env.RUNS || 60));
  it(`converges for ${runs.length} seeds`, async () => {
    console.log(`connection convergence seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    let ops = 0;
    let lost = 0;
    for (const seed of runs) {
      try {
        const r = await simulate(seed, { people: 2 + (seed % 3) });
        ops += r.ops;
        lost += r.lost;
      } catch (err) {
        console.log(`FAILED with SEED=${seed}`);
        throw err;
      }
    }
    console.log(`connection convergence: ${ops} ops applied, ${lost} reloads lost pending text`);
    assert.ok(ops > runs.length * 10);
  });

  it("loses no text when the server keeps its history (catch-up always works)", async () => {
    for (const seed of runs.slice(0, 30)) {
      const r = await simulate(seed, { people: 3, truncate: false });
      assert.equal(r.lost, 0, `seed ${seed}: pending text was dropped`);
    }
  });
});
