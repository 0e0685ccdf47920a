// The offline store around IndexedDB, against an in-memory store: writes
// land in order (newest state last), a failed write is told once and
// editing goes on, and restoring adopts only a closed page's queue,
// drops what can never sync (with its text) and keeps what may later.
//
// Run: node --test tests/js/offline_store.test.mjs

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { OTClient } from "../../static/src/editor/ot-client.js";
import { recordOf } from "../../static/src/editor/offline/queue.js";
import {
  NeverAgain,
  NotNow,
  UNRESTORABLE_MESSAGE,
  contentAt,
  restoreLeftBehind,
} from "../../static/src/editor/offline/restore.js";
import { QueueWriter } from "../../static/src/editor/offline/writer.js";

if (!process.env.VERBOSE) console.warn = () => {};

const OLD = "OOOOOOOOOOOOOOOOOOOOOO";
const NEW = "NNNNNNNNNNNNNNNNNNNNNN";
const LIVE = "LLLLLLLLLLLLLLLLLLLLLL";

/** An in-memory stand-in for IdbQueues, each call a turn of the event loop. */
class MemoryQueues {
  constructor(records = []) {
    /** @type {Map<string, any>} */
    this.rows = new Map(records.map((r) => [this.key([r.user, r.doc, r.client]), structuredClone(r)]));
    this.log = [];
    this.failPut = null;
    this.claimFirst = null; // another page's claim that wins the race
  }
  key(k) {
    return JSON.stringify(k);
  }
  async put(record) {
    await null;
    if (this.failPut) throw this.failPut;
    this.log.push(["put", record.inflight.ops]);
    this.rows.set(this.key([record.user, record.doc, record.client]), structuredClone(record));
  }
  async remove(key) {
    await null;
    this.log.push(["remove"]);
    this.rows.delete(this.key(key));
  }
  async giveBack(mine, record) {
    await null;
    const copy = this.rows.get(this.key(mine));
    if (copy && copy.inflight.id === record.inflight.id) this.rows.delete(this.key(mine));
    this.rows.set(this.key([record.user, record.doc, record.client]), structuredClone(record));
  }
  async list(user, doc) {
    await null;
    return [...this.rows.values()].filter((r) => r.user === user && r.doc === doc);
  }
  async claim(from, make) {
    await null;
    if (this.claimFirst) this.rows.delete(this.key(this.claimFirst));
    const taken = this.rows.get(this.key(from)) ?? null;
    if (taken === null) return null;
    this.rows.delete(this.key(from));
    const mine = make(taken);
    if (mine) this.rows.set(this.key([mine.user, mine.doc, mine.client]), mine);
    return taken;
  }
}

const liveness = (alive) => ({ exact: true, alive: async () => new Set(alive) });

/** A record left by a page at revision 5 with "!" in flight and " world" buffered. */
function leftBehind(clientId = OLD, created = 1) {
  const client = new OTClient({ clientId, revision: 5 });
  client.applyClient(new Delta().retain(5).insert("!"));
  client.applyClient(new Delta().retain(6).insert(" world"));
  return recordOf(client, { user: 3, doc: "d1", created, now: 2 });
}

function restoring(store, { alive = [NEW], fetchContent, inTime = () => true } = {}) {
  const editor = { doc: new Delta() };
  const told = [];
  const client = new OTClient({ clientId: NEW });
  const run = () =>
    restoreLeftBehind({
      store,
      liveness: liveness(alive),
      user: 3,
      doc: "d1",
      client,
      adapter: {
        flush: () => {},
        applyRemote: (d) => {
          editor.doc = editor.doc.compose(d);
        },
        loadContent: (c) => {
          editor.doc = new Delta(c);
        },
        getRange: () => null,
      },
      fetchContent: fetchContent || (async () => [{ insert: "hello\n" }]),
      tell: (n) => told.push(n),
      stillInTime: inTime,
      now: () => 50,
    });
  return { run, editor, told, client };
}

describe("write-through", () => {
  it("lands the states in order, the newest last, skipping those overtaken meanwhile", async () => {
    const store = new MemoryQueues();
    const writer = new QueueWriter({ backend: store, key: [3, "d1", NEW], onFailure: assert.fail });
    const client = new OTClient({ clientId: NEW, revision: 0 });
    const write = () => writer.schedule(recordOf(client, { user: 3, doc: "d1", created: 1, now: 1 }));
    client.observe(write);
    client.applyClient(new Delta().insert("a")); // written at once
    client.applyClient(new Delta().retain(1).insert("b")); // overtaken by the next
    client.applyClient(new Delta().retain(2).insert("c"));
    await writer.flush();
    assert.equal(store.log.length, 2);
    const row = store.rows.get(store.key([3, "d1", NEW]));
    assert.deepEqual(row.buffer.ops, [{ retain: 1 }, { insert: "bc" }]);
    client.serverAck(`${NEW}:1`, 1); // the buffer goes in flight
    client.serverAck(`${NEW}:2`, 2); // acked: nothing pending
    await writer.flush();
    assert.equal(store.rows.size, 0, "acked ops leave the store");
    assert.deepEqual(store.log.at(-1), ["remove"]);
  });

  it("writes nothing while nothing was ever pending (typing online, acked at once)", async () => {
    const store = new MemoryQueues();
    const writer = new QueueWriter({ backend: store, key: [3, "d1", NEW], onFailure: assert.fail });
    writer.schedule(null);
    writer.schedule(null);
    await writer.flush();
    assert.equal(store.log.length, 0);
  });

  it("a failed write (quota) is told once, then nothing more is tried", async () => {
    const store = new MemoryQueues();
    store.failPut = new DOMException("full", "QuotaExceededError");
    const failures = [];
    const writer = new QueueWriter({ backend: store, key: [3, "d1", NEW], onFailure: (e) => failures.push(e) });
    const client = new OTClient({ clientId: NEW, revision: 0 });
    client.observe(() => writer.schedule(recordOf(client, { user: 3, doc: "d1", created: 1, now: 1 })));
    client.applyClient(new Delta().insert("a"));
    await writer.flush();
    client.applyClient(new Delta().retain(1).insert("b"));
    await writer.flush();
    assert.equal(failures.length, 1);
    assert.ok(writer.stopped);
    assert.equal(client.pendingEdits, 2, "editing goes on");
  });
});

describe("restoring a closed page's queue", () => {
  it("shows the changes over the content at their base and hands them to the client", async () => {
    const store = new MemoryQueues([leftBehind()]);
    const asked = [];
    const env = restoring(store, {
      fetchContent: async (rev) => {
        asked.push(rev);
        return [{ insert: "hello\n" }];
      },
    });
    assert.equal(await env.run(), "restored");
    assert.deepEqual(asked, [5]);
    assert.deepEqual(env.editor.doc.ops, [{ insert: "hello! world\n" }]);
    assert.equal(env.client.revision, 5);
    assert.equal(env.client.inflight.id, `${OLD}:1`, "the same op id, for the server to dedupe");
    assert.equal(env.client.restoredEdits, 2);
    assert.deepEqual([...store.rows.values()].map((r) => r.client), [NEW], "adopted: now this page's");
    assert.equal(env.told.at(-1).kind, "offline_restored");
    assert.match(env.told.at(-1).message, /2 unsynced changes/);
  });

  it("never takes a live tab's queue", async () => {
    const store = new MemoryQueues([leftBehind(LIVE)]);
    const env = restoring(store, { alive: [NEW, LIVE] });
    assert.equal(await env.run(), "none");
    assert.equal(env.client.revision, null);
    assert.deepEqual([...store.rows.values()].map((r) => r.client), [LIVE]);
  });

  it("gives way when another page adopts the queue first, and tries the next", async () => {
    const store = new MemoryQueues([leftBehind(OLD, 1), leftBehind(LIVE, 2)]);
    store.claimFirst = [3, "d1", OLD];
    const env = restoring(store, { alive: [NEW] });
    assert.equal(await env.run(), "restored");
    assert.equal(env.client.inflight.id, `${LIVE}:1`);
  });

  it("drops a queue whose base can no longer be rebuilt, offering its text", async () => {
    const store = new MemoryQueues([leftBehind()]);
    const env = restoring(store, {
      fetchContent: async () => {
        throw new NeverAgain("answered 410");
      },
    });
    assert.equal(await env.run(), "none");
    assert.equal(store.rows.size, 0);
    assert.equal(env.told.at(-1).message, UNRESTORABLE_MESSAGE);
    assert.equal(env.told.at(-1).text, "! world");
    assert.equal(env.client.revision, null);
  });

  it("keeps a queue for later when the server cannot answer now (signed out, down)", async () => {
    const store = new MemoryQueues([leftBehind()]);
    const env = restoring(store, {
      fetchContent: async () => {
        throw new NotNow("answered 503");
      },
    });
    assert.equal(await env.run(), "later");
    assert.deepEqual([...store.rows.values()].map((r) => r.client), [OLD]);
  });

  it("drops a damaged record, offering what text it has", async () => {
    const damaged = { ...leftBehind(), v: 99 };
    const store = new MemoryQueues([damaged]);
    const env = restoring(store);
    assert.equal(await env.run(), "none");
    assert.equal(store.rows.size, 0);
    assert.equal(env.told.at(-1).text, "! world");
  });

  it("installs nothing once the page stopped waiting, and gives the queue back", async () => {
    const store = new MemoryQueues([leftBehind()]);
    let inTime = true;
    const env = restoring(store, {
      fetchContent: async () => {
        inTime = true;
        return [{ insert: "hello\n" }];
      },
      inTime: () => {
        const was = inTime;
        inTime = false; // the timeout fires between the checks
        return was;
      },
    });
    assert.equal(await env.run(), "later");
    assert.equal(env.client.revision, null);
    assert.deepEqual([...store.rows.values()].map((r) => r.client), [OLD]);
  });
});

describe("the content at the stored base", () => {
  const answer = (status, body) => async () => ({ status, ok: status < 300, json: async () => body });

  it("is the timeline's content when it is exactly that revision", async () => {
    const content = await contentAt(answer(200, { rev: 5, content: [{ insert: "a\n" }] }), "d1", 5);
    assert.deepEqual(content, [{ insert: "a\n" }]);
  });

  it("can never be had when compacted away (an older version answers) or refused", async () => {
    await assert.rejects(contentAt(answer(200, { rev: 3, content: [] }), "d1", 5), NeverAgain);
    for (const status of [400, 403, 404, 410]) {
      await assert.rejects(contentAt(answer(status, {}), "d1", 5), NeverAgain);
    }
  });

  it("is for later when signed out, on a server error or with no answer", async () => {
    for (const status of [401, 500, 503]) {
      await assert.rejects(contentAt(answer(status, {}), "d1", 5), NotNow);
    }
    const offline = async () => {
      throw new TypeError("Failed to fetch");
    };
    await assert.rejects(contentAt(offline, "d1", 5), NotNow);
  });
});

describe("installing the store", () => {
  /** A connection stand-in: records start gates and notice listeners. */
  function fakeConnection() {
    const listeners = [];
    return {
      gates: [],
      startAfter(gate) {
        this.gates.push(gate);
      },
      on(event, fn) {
        if (event === "notice") listeners.push(fn);
      },
      notice(n) {
        for (const fn of listeners) fn(n);
      },
    };
  }

  it("without IndexedDB says once that changes are not kept, and the page still connects", async () => {
    const { installOffline, NOT_KEPT_MESSAGE } = await import("../../static/src/editor/offline/index.js");
    const shown = [];
    const connection = fakeConnection();
    const client = new OTClient({ clientId: NEW });
    const handle = installOffline({
      quill: null,
      app: null,
      connection,
      client,
      docId: "d1",
      me: { id: 3, name: "alice" },
      notices: { show: (n) => shown.push(n) },
      adapter: { flush() {}, applyRemote() {}, loadContent() {}, getRange: () => null },
      indexedDB: undefined, // node has none, as some private modes
    });
    assert.equal(connection.gates.length, 1);
    await connection.gates[0];
    assert.equal(handle.outcome(), "unavailable");
    assert.equal(handle.keeping(), false);
    assert.deepEqual(shown.map((n) => [n.kind, n.message]), [["offline_store", NOT_KEPT_MESSAGE]]);
    assert.equal(client.revision, null, "nothing was restored");
  });

  it("does nothing for a page without a signed-in user or document", async () => {
    const { installOffline } = await import("../../static/src/editor/offline/index.js");
    const connection = fakeConnection();
    const handle = installOffline({
      connection,
      client: new OTClient({ clientId: NEW }),
      docId: "",
      me: { id: 0, name: "" },
      notices: { show: assert.fail },
      adapter: null,
    });
    assert.equal(handle.outcome(), "none");
    assert.equal(connection.gates.length, 0, "the connection starts at once");
  });
});
