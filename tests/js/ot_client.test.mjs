/**
 * The OT client: states, tie rules, acks by op id, presence transforms, and
 * a randomized convergence test of several clients and a server over
 * queues with random delivery, drops and catch-up.
 *
 * Large changes: splitChange's algebra (seeded random changes with
 * attributes, embeds, deletes and emoji), and pieces sent one per ack.
 *
 * Reproduce a failing random run with SEED=<n> node --test tests/js/
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  DEFAULT_MAX_CHANGE_OPS,
  OTClient,
  RevisionGap,
  StateName,
  sendableOps,
  splitChange,
} from "../../static/src/editor/ot-client.js";
import { isOpId, makeClientId } from "../../static/src/editor/protocol.js";
import { randomChange, rng, seeds } from "./helpers.mjs";

const CID = "AAAAAAAAAAAAAAAAAAAAAA";

const ins = (at, text) => new Delta().retain(at).insert(text);

describe("op ids", () => {
  it("uses a random client id of 22 url-safe characters", () => {
    const ids = new Set();
    for (let i = 0; i < 200; i += 1) {
      const id = makeClientId();
      assert.match(id, /^[A-Za-z0-9_-]{22}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 200);
  });

  it("numbers ops from 1 after the client id", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    const first = c.applyClient(ins(0, "a"));
    assert.equal(first.id, `${CID}:1`);
    assert.ok(isOpId(first.id));
    c.applyClient(ins(1, "b"));
    const second = c.serverAck(first.id, 1).send;
    assert.equal(second.id, `${CID}:2`);
  });

  it("refuses a malformed client id", () => {
    assert.throws(() => new OTClient({ clientId: "short" }));
  });
});

describe("states", () => {
  it("goes Synchronized → AwaitingConfirm → AwaitingWithBuffer → AwaitingConfirm → Synchronized", () => {
    const c = new OTClient({ clientId: CID, revision: 5 });
    assert.equal(c.stateName, StateName.SYNCHRONIZED);
    const sent = c.applyClient(ins(0, "a"));
    assert.deepEqual(sent.rev, 5);
    assert.deepEqual(sent.delta.ops, [{ insert: "a" }]);
    assert.equal(c.stateName, StateName.AWAITING_CONFIRM);
    assert.equal(c.applyClient(ins(1, "b")), null);
    assert.equal(c.applyClient(ins(2, "c")), null);
    assert.equal(c.stateName, StateName.AWAITING_WITH_BUFFER);
    assert.equal(c.pendingEdits, 3);
    assert.deepEqual(c.buffer.ops, [{ retain: 1 }, { insert: "bc" }]);
    const r = c.serverAck(sent.id, 6);
    assert.equal(r.status, "acked");
    assert.equal(r.synchronized, false);
    assert.equal(r.send.rev, 6);
    assert.deepEqual(r.send.delta.ops, [{ retain: 1 }, { insert: "bc" }]);
    assert.equal(c.stateName, StateName.AWAITING_CONFIRM);
    assert.equal(c.pendingEdits, 2);
    const r2 = c.serverAck(r.send.id, 7);
    assert.equal(r2.synchronized, true);
    assert.equal(r2.send, null);
    assert.equal(c.stateName, StateName.SYNCHRONIZED);
    assert.equal(c.revision, 7);
    assert.equal(c.pendingEdits, 0);
  });

  it("ignores empty changes", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    assert.equal(c.applyClient(new Delta()), null);
    assert.ok(c.isSynchronized);
  });

  it("refuses local changes before the first revision is known", () => {
    const c = new OTClient({ clientId: CID });
    assert.throws(() => c.applyClient(ins(0, "a")));
  });

  it("applies server ops directly while synchronized", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    const r = c.serverOp({ rev: 1, id: "other-client-id-123:1", delta: [{ insert: "x" }] });
    assert.equal(r.status, "applied");
    assert.deepEqual(r.delta.ops, [{ insert: "x" }]);
    assert.equal(c.revision, 1);
  });
});

describe("tie rules", () => {
  it("puts the server's earlier insert first (pending: s.transform(p, true))", () => {
    // Document "\n"; this client inserted "a" at 0; the server sequenced
    // someone's "b" at 0 first.
    const c = new OTClient({ clientId: CID, revision: 0 });
    let local = new Delta().insert("\n");
    const p = ins(0, "a");
    local = local.compose(p);
    const sent = c.applyClient(p);
    const r = c.serverOp({ rev: 1, id: "x".repeat(16) + ":1", delta: [{ insert: "b" }] });
    local = local.compose(r.delta);
    assert.deepEqual(local.ops, [{ insert: "ba\n" }]);
    assert.deepEqual(c.inflight.delta.ops, [{ retain: 1 }, { insert: "a" }]);
    assert.equal(c.inflight.id, sent.id, "the op keeps its id when transformed");
    // The server transforms the late op the same way: a.transform(b, true).
    const server = new Delta().insert("\n").compose(ins(0, "b")).compose(ins(0, "b").transform(p, true));
    assert.deepEqual(server.ops, local.ops);
  });

  it("transforms the buffer and the applied op through in-flight and buffer", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    let local = new Delta().insert("0123456789\n");
    let server = new Delta().insert("0123456789\n");
    const a = ins(2, "A");
    const b = new Delta().retain(5).delete(2);
    local = local.compose(a);
    c.applyClient(a);
    local = local.compose(b);
    c.applyClient(b);
    const s = new Delta().retain(2).insert("S").retain(4).delete(1);
    server = server.compose(s);
    const r = c.serverOp({ rev: 1, id: "y".repeat(16) + ":1", delta: s.ops });
    local = local.compose(r.delta);
    // Server then applies in-flight and buffer as transformed.
    server = server.compose(c.inflight.delta).compose(c.buffer);
    assert.deepEqual(local.ops, server.ops);
    assert.deepEqual(local.ops, [{ insert: "01SA23789\n" }]);
  });
});

describe("acks", () => {
  it("takes an op carrying the in-flight id as its ack", () => {
    const c = new OTClient({ clientId: CID, revision: 3 });
    const sent = c.applyClient(ins(0, "a"));
    const r = c.serverOp({ rev: 4, id: sent.id, delta: sent.delta.ops });
    assert.equal(r.status, "acked");
    assert.ok(c.isSynchronized);
    assert.equal(c.revision, 4);
    // The later ack for the same id is ignored.
    assert.deepEqual(c.serverAck(sent.id, 4), { status: "ignored" });
    assert.equal(c.revision, 4);
  });

  it("ignores an ack for an id no longer in flight", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    c.applyClient(ins(0, "a"));
    assert.deepEqual(c.serverAck(`${CID}:99`, 1), { status: "ignored" });
    assert.equal(c.revision, 0);
    c.reset(10);
    assert.deepEqual(c.serverAck(`${CID}:1`, 11), { status: "ignored" });
  });

  it("skips ops it has already seen", () => {
    const c = new OTClient({ clientId: CID, revision: 3 });
    assert.deepEqual(c.serverOp({ rev: 3, id: "z".repeat(16) + ":1", delta: [] }), { status: "duplicate" });
  });

  it("reports a gap in revisions", () => {
    const c = new OTClient({ clientId: CID, revision: 3 });
    assert.throws(() => c.serverOp({ rev: 5, id: "z".repeat(16) + ":1", delta: [] }), RevisionGap);
    const sent = c.applyClient(ins(0, "a"));
    assert.throws(() => c.serverAck(sent.id, 6), RevisionGap);
    assert.equal(c.revision, 3);
  });

  it("resends the in-flight op with its id against the current revision", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    const sent = c.applyClient(ins(0, "a"));
    c.serverOp({ rev: 1, id: "q".repeat(16) + ":1", delta: [{ insert: "bb" }] });
    const again = c.outgoing();
    assert.equal(again.id, sent.id);
    assert.equal(again.rev, 1);
    assert.deepEqual(again.delta.ops, [{ retain: 2 }, { insert: "a" }]);
  });

  it("drops pending ops on reset and says what they were", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    c.applyClient(ins(0, "Hello"));
    c.applyClient(ins(5, " world"));
    const dropped = c.reset(7);
    assert.equal(dropped.edits, 2);
    assert.deepEqual(dropped.delta.ops, [{ insert: "Hello world" }]);
    assert.ok(c.isSynchronized);
    assert.equal(c.revision, 7);
  });
});

describe("presence ranges", () => {
  it("moves with transformPosition(i, false) over server ops and pending ops", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    // Someone's range at rev 0: index 2, length 2.
    c.serverOp({ rev: 1, id: "r".repeat(16) + ":1", delta: [{ insert: "xy" }] });
    c.serverOp({ rev: 2, id: "r".repeat(16) + ":2", delta: [{ retain: 4 }, { insert: "Z" }] });
    const now = c.rebaseRange({ index: 2, length: 2 }, 0);
    // Insert at 0 pushes both ends by 2; insert at 4 (== start) pushes the
    // start too (priority false), at 5 < 6 pushes the end.
    assert.deepEqual(now, { index: 5, length: 2 });
    c.applyClient(ins(5, "LOCAL"));
    assert.deepEqual(c.toLocalRange(now), { index: 10, length: 2 });
  });

  it("cannot bring forward a range older than the remembered ops", () => {
    const c = new OTClient({ clientId: CID, revision: 0, historyLimit: 2 });
    for (let r = 1; r <= 5; r += 1) c.serverOp({ rev: r, id: "r".repeat(16) + `:${r}`, delta: [{ insert: "a" }] });
    assert.equal(c.rebaseRange({ index: 0, length: 0 }, 1), null);
    assert.deepEqual(c.rebaseRange({ index: 0, length: 0 }, 3), { index: 2, length: 0 });
    assert.equal(c.rebaseRange({ index: 0, length: 0 }, 9), null, "ahead of the client");
  });

  it("counts its own acked ops among the server ops", () => {
    const c = new OTClient({ clientId: CID, revision: 0 });
    const sent = c.applyClient(ins(0, "abc"));
    c.serverAck(sent.id, 1);
    assert.deepEqual(c.rebaseRange({ index: 0, length: 1 }, 0), { index: 3, length: 1 });
  });
});

const ATTRIBUTES = [
  { bold: true }, { bold: null }, { italic: true }, { color: "#e6194b" }, { background: null },
  { link: "https://example.com/a" }, { header: 2 }, { list: "bullet" }, { bold: true, italic: true },
];
const EMBEDS = [{ image: "/media/a.png" }, { video: "https://video.example/embed/1" }];
const TEXTS = ["a", "bc", "é", "😀", "🙂👍", " ", "\n", "word", "x😀y"];

/** Return a random insert's content and attributes: text or an embed. */
function randomInsert(random) {
  const attributes = random.chance(0.5) ? random.pick(ATTRIBUTES) : undefined;
  const content = random.chance(0.15) ? random.pick(EMBEDS) : random.pick(TEXTS);
  // A null attribute means "remove" and is only for retains.
  const clean = attributes && Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
  return [content, clean && Object.keys(clean).length ? clean : undefined];
}

/** Return a random document (text, embeds, attributes) ending in "\n". */
function randomDocument(random) {
  const doc = new Delta();
  const n = random.int(0, 40);
  for (let i = 0; i < n; i += 1) doc.insert(...randomInsert(random));
  return doc.insert("\n");
}

/**
 * Return a random change to ``doc`` of up to ``most`` steps: inserts,
 * plain and formatting retains and deletes, built with Delta's builders
 * (normalised, as Quill makes them), never touching the final newline.
 */
function randomLargeChange(random, doc, most) {
  const length = doc.length();
  const change = new Delta();
  let at = 0;
  const steps = random.int(1, most);
  for (let i = 0; i < steps; i += 1) {
    const x = random();
    if (x < 0.4 || at >= length - 1) {
      change.insert(...randomInsert(random));
      continue;
    }
    const n = random.int(1, Math.min(4, length - 1 - at));
    if (x < 0.6) change.retain(n);
    else if (x < 0.85) change.retain(n, random.pick(ATTRIBUTES));
    else change.delete(n);
    at += n;
  }
  return change.chop();
}

describe("large changes go in pieces", () => {
  it("splits after count ops so that head ∘ rest equals the change (seeded)", () => {
    const runs = seeds(Number(process.env.RUNS || 400));
    console.log(`splitChange seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    let splits = 0;
    for (const seed of runs) {
      const random = rng(seed);
      const doc = randomDocument(random);
      const change = randomLargeChange(random, doc, 80);
      const counts = [2, 3, random.int(2, Math.max(2, change.ops.length + 1))];
      for (const count of counts) {
        const [head, rest] = splitChange(change, count);
        const why = `seed ${seed}, count ${count}`;
        if (change.ops.length <= count) {
          assert.equal(rest, null, why);
          assert.equal(head, change, why);
          continue;
        }
        splits += 1;
        assert.ok(head.ops.length <= count && head.ops.length > 0, why);
        assert.deepEqual(head.ops, change.ops.slice(0, head.ops.length), `${why}: head is a prefix`);
        assert.ok(rest.ops.length < change.ops.length, `${why}: the rest is shorter`);
        assert.deepEqual(head.compose(rest).ops, change.ops, `${why}: head ∘ rest`);
        assert.deepEqual(doc.compose(head).compose(rest).ops, doc.compose(change).ops, `${why}: applied`);
      }
    }
    assert.ok(splits > runs.length, `the runs split changes (${splits})`);
  });

  it("rebases the rest past what the head inserts and retains, not what it deletes", () => {
    const change = new Delta()
      .retain(2).delete(3).insert("😀", { bold: true }).retain(4, { italic: true }).insert("z");
    const [head, rest] = splitChange(change, 3);
    // Delta's builder puts an insert before a delete at the same place.
    assert.deepEqual(head.ops, [{ retain: 2 }, { insert: "😀", attributes: { bold: true } }, { delete: 3 }]);
    assert.deepEqual(rest.ops, [{ retain: 4 }, { retain: 4, attributes: { italic: true } }, { insert: "z" }]);
    const embed = new Delta().insert({ image: "/media/a.png" }).retain(1).insert("a").retain(2, { bold: true });
    const [eHead, eRest] = splitChange(embed, 2);
    assert.deepEqual(eHead.ops, [{ insert: { image: "/media/a.png" } }], "a trailing plain retain is dropped");
    assert.deepEqual(eRest.ops, [{ retain: 2 }, { insert: "a" }, { retain: 2, attributes: { bold: true } }]);
    assert.throws(() => splitChange(change, 1), /cannot split/);
  });

  it("keeps a tenth of the limit (at most 100 ops) for growth in flight", () => {
    assert.equal(DEFAULT_MAX_CHANGE_OPS, 1000);
    assert.deepEqual([2, 3, 10, 1000, 5000].map(sendableOps), [2, 3, 9, 900, 4900]);
    const c = new OTClient({ clientId: CID, revision: 0 });
    assert.equal(c.maxChangeOps, 1000);
    assert.equal(c.sendOps, 900);
    for (const bad of [1, 0, 2.5, Number.NaN, "1000", null]) {
      assert.throws(() => new OTClient({ clientId: CID, maxChangeOps: bad }), /maxChangeOps/);
    }
  });

  it("sends a paste of 3,000 runs in pieces, one per ack, and the server ends equal", () => {
    const base = new Delta().insert("Title\n");
    const paste = new Delta().retain(5);
    for (let i = 0; i < 3000; i += 1) paste.insert(`r${i} `, i % 2 ? undefined : { bold: true });
    const c = new OTClient({ clientId: CID, revision: 0 });
    let server = base;
    let sent = c.applyClient(paste);
    assert.equal(c.stateName, StateName.AWAITING_WITH_BUFFER);
    assert.equal(c.pendingEdits, 1, "one paste is one unsaved change");
    const ids = [];
    while (sent) {
      assert.ok(sent.delta.ops.length <= 900, `a piece of ${sent.delta.ops.length} ops`);
      assert.equal(sent.rev, ids.length);
      ids.push(sent.id);
      server = server.compose(sent.delta);
      const r = c.serverAck(sent.id, sent.rev + 1);
      assert.equal(r.synchronized, r.send === null);
      assert.equal(c.pendingEdits, r.synchronized ? 0 : 1);
      sent = r.send;
    }
    assert.equal(ids.length, 4, "3,001 ops in pieces of 900");
    assert.equal(new Set(ids).size, 4);
    assert.deepEqual(server.ops, base.compose(paste).ops);
  });

  it("transforms the rest like any buffer while it waits, and composes typing into it", () => {
    const base = new Delta().insert("abc\n");
    const paste = new Delta().retain(3);
    for (let i = 0; i < 30; i += 1) paste.insert("x", i % 2 ? { italic: true } : undefined);
    const c = new OTClient({ clientId: CID, revision: 0, maxChangeOps: 10 });
    let local = base.compose(paste);
    let server = base;
    const first = c.applyClient(paste);
    assert.ok(first.delta.ops.length <= 9);
    // Someone types at the start and formats "abc" before the first piece lands.
    const other = new Delta().insert("Z").retain(3, { bold: true });
    server = server.compose(other);
    const r = c.serverOp({ rev: 1, id: `${"o".repeat(16)}:1`, delta: other.ops });
    local = local.compose(r.delta);
    // The person types at the end while the rest waits.
    const typed = new Delta().retain(local.length() - 1).insert("!");
    local = local.compose(typed);
    assert.equal(c.applyClient(typed), null);
    let out = c.outgoing();
    assert.equal(out.id, first.id, "the piece in flight keeps its id when transformed");
    let rev = 1;
    while (out) {
      assert.ok(out.delta.ops.length <= 10, `a piece of ${out.delta.ops.length} ops`);
      server = server.compose(out.delta);
      rev += 1;
      out = c.serverAck(out.id, rev).send;
    }
    assert.ok(c.isSynchronized);
    assert.deepEqual(server.ops, local.ops);
  });

  it("gives back the whole change, in one, when reset", () => {
    const paste = new Delta();
    for (let i = 0; i < 25; i += 1) paste.insert("ab", i % 2 ? { bold: true } : undefined);
    const c = new OTClient({ clientId: CID, revision: 0, maxChangeOps: 10 });
    c.applyClient(paste);
    const dropped = c.reset(3);
    assert.equal(dropped.edits, 1);
    assert.deepEqual(dropped.delta.ops, paste.ops);
  });
});

/**
 * Several clients and a server exchanging frames (as JSON text) through
 * queues delivered in random order, with socket drops (some frames in
 * flight reach the server, replies are lost) and catch-up reconnects.
 */
function simulate(seed, { clients: n = 3, steps = 300, maxChangeOps = DEFAULT_MAX_CHANGE_OPS } = {}) {
  const random = rng(seed);
  const server = { doc: new Delta().insert("\n"), ops: [], pieces: 0 };
  const clients = [];
  for (let i = 0; i < n; i += 1) {
    const id = makeClientId((a) => a.map(() => random.int(0, 255)));
    const ot = new OTClient({ clientId: id, revision: 0, maxChangeOps });
    clients.push({ i, ot, doc: new Delta().insert("\n"), up: [], down: [], online: true });
  }
  // A change put in flight (not a resend) fits the limit with its headroom.
  const check = (client, send) => {
    const most = sendableOps(maxChangeOps);
    assert.ok(send.delta.ops.length <= most, `seed ${seed}: client ${client.i} sent ${send.delta.ops.length} ops`);
    if (client.ot.stateName === StateName.AWAITING_WITH_BUFFER && client.ot.inflight.edits === 0) {
      server.pieces += 1;
    }
  };
  const apply = (client, r) => {
    if (r.status === "applied") client.doc = client.doc.compose(r.delta);
    if (r.status === "acked" && r.send) {
      check(client, r.send);
      client.up.push(JSON.stringify(r.send));
    }
  };
  const serverReceive = (client, text) => {
    const { id, rev, delta } = JSON.parse(text);
    for (let r = rev; r < server.ops.length; r += 1) {
      if (server.ops[r].id === id) {
        if (client.online) client.down.push(JSON.stringify({ type: "ack", id, rev: r + 1 }));
        return;
      }
    }
    let d = new Delta(delta.ops ?? delta);
    for (const o of server.ops.slice(rev)) d = o.delta.transform(d, true);
    server.doc = server.doc.compose(d);
    server.ops.push({ id, delta: d, from: client.i });
    const msgRev = server.ops.length;
    if (client.online) client.down.push(JSON.stringify({ type: "ack", id, rev: msgRev }));
    for (const other of clients) {
      if (other !== client && other.online) {
        other.down.push(JSON.stringify({ type: "op", rev: msgRev, id, delta: d.ops }));
      }
    }
  };
  const clientReceive = (client, text) => {
    const m = JSON.parse(text);
    if (m.type === "ack") apply(client, client.ot.serverAck(m.id, m.rev));
    else apply(client, client.ot.serverOp(m));
  };
  const reconnect = (client) => {
    client.online = true;
    // hello with the ops after the client's revision, oldest first.
    const from = client.ot.revision;
    server.ops.slice(from).forEach((o, k) => {
      apply(client, client.ot.serverOp({ rev: from + k + 1, id: o.id, delta: o.delta.ops }));
    });
    const out = client.ot.outgoing();
    if (out) client.up.push(JSON.stringify(out));
  };
  const edit = (client) => {
    const change = randomChange(random, client.doc);
    client.doc = client.doc.compose(change);
    const send = client.ot.applyClient(change);
    if (send) {
      check(client, send);
      client.up.push(JSON.stringify(send));
    }
  };

  for (let step = 0; step < steps; step += 1) {
    const client = random.pick(clients);
    const x = random();
    if (x < 0.4) edit(client);
    else if (x < 0.65 && client.up.length) serverReceive(client, client.up.shift());
    else if (x < 0.95 && client.down.length) clientReceive(client, client.down.shift());
    else if (x < 0.98 && client.online) {
      // Drop: each frame in flight to the server arrives or not.
      for (const text of client.up.splice(0)) if (random.chance(0.5)) serverReceive(client, text);
      client.online = false;
      client.down = [];
    } else if (!client.online) reconnect(client);
  }
  // Quiesce.
  for (const client of clients) if (!client.online) reconnect(client);
  for (let guard = 0; guard < 100_000; guard += 1) {
    const busy = clients.filter((c) => c.up.length || c.down.length);
    if (!busy.length) break;
    const client = random.pick(busy);
    if (client.up.length && (random.chance(0.5) || !client.down.length)) serverReceive(client, client.up.shift());
    else clientReceive(client, client.down.shift());
  }
  for (const client of clients) {
    assert.ok(client.ot.isSynchronized, `seed ${seed}: client ${client.i} is ${client.ot.stateName}`);
    assert.equal(client.ot.revision, server.ops.length, `seed ${seed}: client ${client.i} revision`);
    assert.deepEqual(client.doc.ops, server.doc.ops, `seed ${seed}: client ${client.i} diverged`);
  }
  const ids = server.ops.map((o) => o.id);
  assert.equal(new Set(ids).size, ids.length, `seed ${seed}: an op was applied twice`);
  return server;
}

describe("convergence (random edits, random delivery, drops)", () => {
  const runs = seeds(Number(process.env.RUNS || 150));
  it(`converges for ${runs.length} seeds`, () => {
    console.log(`ot_client convergence seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    let ops = 0;
    for (const seed of runs) {
      try {
        ops += simulate(seed, { clients: 2 + (seed % 3), steps: 250 }).ops.length;
      } catch (err) {
        console.log(`FAILED with SEED=${seed}`);
        throw err;
      }
    }
    assert.ok(ops > runs.length * 10, "the runs made progress");
  });

  it("converges when buffers go in pieces of 2 or 3 ops", () => {
    const runs = seeds(Number(process.env.RUNS || 150));
    console.log(`ot_client pieces seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    let pieces = 0;
    for (const seed of runs) {
      try {
        pieces += simulate(seed, { clients: 2 + (seed % 3), steps: 250, maxChangeOps: 2 + (seed % 2) }).pieces;
      } catch (err) {
        console.log(`FAILED with SEED=${seed}`);
        throw err;
      }
    }
    assert.ok(pieces > runs.length, `changes were split (${pieces} first pieces)`);
  });
});
