/**
 * Shared helpers of the node tests: a seeded PRNG, random Quill changes,
 * fake timers and an in-memory server that speaks protocol version 1.
 */
import Delta from "quill-delta";

/**
 * Return a seeded PRNG (mulberry32) with a few helpers.
 * @param {number} seed
 */
export function rng(seed) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  random.int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)); // inclusive
  random.pick = (items) => items[Math.floor(random() * items.length)];
  random.chance = (p) => random() < p;
  return random;
}

/** Seeds for a run: SEED=<n> reproduces one; otherwise random ones. */
export function seeds(count) {
  if (process.env.SEED) return [Number(process.env.SEED)];
  const base = Math.floor(Math.random() * 2 ** 31);
  return Array.from({ length: count }, (_, i) => (base + i * 7919) >>> 0);
}

const PIECES = ["a", "b", "c", "x", "y", " ", "é", "😀", "\n", "hello", "🙂👍", "z"];

/**
 * Return a random valid change to ``doc`` (a document delta ending in "\n"):
 * an insert, a delete or a format, never touching the final newline.
 *
 * @param {ReturnType<typeof rng>} random
 * @param {Delta} doc
 * @returns {Delta}
 */
export function randomChange(random, doc) {
  const length = doc.length(); // includes the final "\n"
  const kind = random();
  if (kind < 0.55 || length < 2) {
    const at = random.int(0, length - 1);
    let text = "";
    const n = random.int(1, 3);
    for (let i = 0; i < n; i += 1) text += random.pick(PIECES);
    const attributes = random.chance(0.3) ? { bold: true } : undefined;
    return new Delta().retain(at).insert(text, attributes);
  }
  if (kind < 0.85) {
    const at = random.int(0, length - 2);
    const n = random.int(1, Math.min(6, length - 1 - at));
    return new Delta().retain(at).delete(n);
  }
  const at = random.int(0, length - 2);
  const n = random.int(1, Math.min(8, length - 1 - at));
  const attributes = random.pick([{ bold: true }, { bold: null }, { italic: true }, { color: "#e6194b" }]);
  return new Delta().retain(at).retain(n, attributes);
}

/** Manual timers: ``advance(ms)`` runs what falls due, in order. */
export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    /** @type {Map<number, {at: number, fn: Function}>} */
    this.pending = new Map();
    this.setTimeout = (fn, ms = 0) => {
      const id = this.nextId++;
      this.pending.set(id, { at: this.now + Math.max(0, ms), fn });
      return id;
    };
    this.clearTimeout = (id) => {
      this.pending.delete(id);
    };
  }

  /** Delays of the timers now pending, soonest first. */
  delays() {
    return [...this.pending.values()].map((t) => t.at - this.now).sort((x, y) => x - y);
  }

  /** @param {number} ms */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.pending) {
        if (t.at <= until && (!next || t.at < next[1].at || (t.at === next[1].at && id < next[0]))) next = [id, t];
      }
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }

  /** Run the soonest timer, if any; return whether one ran. */
  runNext() {
    let next = null;
    for (const [id, t] of this.pending) if (!next || t.at < next[1].at) next = [id, t];
    if (!next) return false;
    this.advance(next[1].at - this.now);
    return true;
  }
}

/** Let pending promise callbacks (fetch) run. */
export async function settle() {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

/**
 * A fake WebSocket driven by a test or by {@link SimServer}. Frames to the
 * client are delivered with ``deliver()``; ``sent`` keeps what the client sent.
 */
export class FakeSocket {
  /** @type {FakeSocket[]} */
  static all = [];
  static onCreate = null;

  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.sent = [];
    this.closedBy = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    FakeSocket.all.push(this);
    if (FakeSocket.onCreate) FakeSocket.onCreate(this);
  }

  /** Parsed frames the client sent. */
  get frames() {
    return this.sent.map((s) => JSON.parse(s));
  }

  /** @param {string} data */
  send(data) {
    if (this.readyState !== 1) throw new Error("socket not open");
    this.sent.push(data);
  }

  /** Client-side close. */
  close(code = 1000) {
    this.readyState = 3;
    this.closedBy = { side: "client", code };
  }

  /** Deliver a server frame (object or text) to the client. */
  deliver(frame) {
    if (this.readyState !== 1) return;
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    this.onmessage?.({ data });
  }

  /** Server-side close with ``code``. */
  serverClose(code = 1006) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedBy = { side: "server", code };
    this.onclose?.({ code, reason: "" });
  }
}

/**
 * A document authority speaking protocol 1 over {@link FakeSocket}s, with
 * queues in both directions so a test decides when each frame arrives.
 */
export class SimServer {
  constructor({ random } = {}) {
    this.random = random || rng(1);
    this.doc = new Delta().insert("\n");
    /** @type {Array<{id: string, delta: Delta, session: string}>} op of rev i+1 at i */
    this.ops = [];
    /** Oldest revision whose following ops are still held (for catch-up). */
    this.historyStart = 0;
    this.sessions = 0;
    /** @type {Map<FakeSocket, {session: string, user: Object, inbox: string[], outbox: string[]}>} */
    this.conns = new Map();
    this.faults = { rateLimited: 0, unavailable: 0, batch: 0.3 };
  }

  get rev() {
    return this.ops.length;
  }

  /**
   * Accept a socket the client just opened (call from FakeSocket.onCreate).
   * @param {FakeSocket} ws
   * @param {{id: number, name: string, color: string}} user
   */
  accept(ws, user) {
    const url = new URL(ws.url);
    const session = `s${++this.sessions}`;
    const conn = { session, user, inbox: [], outbox: [] };
    this.conns.set(ws, conn);
    const origSend = ws.send.bind(ws);
    ws.send = (data) => {
      origSend(data);
      conn.inbox.push(data);
    };
    const hello = {
      type: "hello", protocol: 1, doc: "d", rev: this.rev, session, user, can_edit: true, peers: [],
    };
    const revParam = url.searchParams.get("rev");
    const rev = revParam === null ? null : Number(revParam);
    if (rev !== null && rev <= this.rev && rev >= this.historyStart) {
      hello.ops = this.ops.slice(rev).map((o, i) => ({
        rev: rev + i + 1, id: o.id, session: o.session, user: 1, delta: o.delta.ops,
      }));
    } else {
      hello.content = this.doc.ops;
    }
    conn.outbox.push(JSON.stringify(hello));
  }

  /** Connections whose socket is open. */
  open() {
    return [...this.conns].filter(([ws]) => ws.readyState === 1);
  }

  /**
   * Handle one frame a client sent.
   * @param {FakeSocket} ws
   */
  receiveOne(ws) {
    const conn = this.conns.get(ws);
    const text = conn.inbox.shift();
    const msg = JSON.parse(text);
    if (msg.type === "presence") return;
    if (msg.type !== "op") throw new Error(`unexpected frame ${text}`);
    const random = this.random;
    if (random.chance(this.faults.rateLimited)) {
      conn.outbox.push(JSON.stringify({ type: "error", code: "rate_limited", message: "slow down", id: msg.id, retry_after: random.int(0, 300) }));
      return;
    }
    if (random.chance(this.faults.unavailable)) {
      conn.outbox.push(JSON.stringify({ type: "error", code: "unavailable", message: "db down", id: msg.id }));
      return;
    }
    if (msg.rev > this.rev) {
      conn.outbox.push(JSON.stringify({ type: "error", code: "bad_message", message: "rev ahead", id: msg.id }));
      return;
    }
    for (let r = msg.rev; r < this.ops.length; r += 1) {
      if (this.ops[r].id === msg.id) {
        conn.outbox.push(JSON.stringify({ type: "ack", id: msg.id, rev: r + 1 }));
        return;
      }
    }
    if (msg.rev < this.historyStart) {
      conn.outbox.push(JSON.stringify({ type: "error", code: "stale", message: "too old", id: msg.id }));
      return;
    }
    let delta = new Delta(msg.delta);
    for (const o of this.ops.slice(msg.rev)) delta = o.delta.transform(delta, true);
    const next = this.doc.compose(delta);
    const last = next.ops[next.ops.length - 1];
    if (!last || typeof last.insert !== "string" || !last.insert.endsWith("\n") || next.length() < 1) {
      conn.outbox.push(JSON.stringify({ type: "error", code: "bad_op", message: "final newline", id: msg.id }));
      return;
    }
    this.doc = next;
    this.ops.push({ id: msg.id, delta, session: conn.session });
    const rev = this.rev;
    conn.outbox.push(JSON.stringify({ type: "ack", id: msg.id, rev }));
    const op = { type: "op", rev, id: msg.id, session: conn.session, user: conn.user.id, delta: delta.ops };
    for (const [other, c] of this.open()) {
      if (other === ws) continue;
      // Sometimes combine with the previous op/ack frame into a batch.
      const prev = c.outbox[c.outbox.length - 1];
      if (prev && random.chance(this.faults.batch)) {
        const p = JSON.parse(prev);
        if (p.type === "op" || p.type === "ack" || p.type === "batch") {
          const messages = p.type === "batch" ? p.messages : [p];
          c.outbox[c.outbox.length - 1] = JSON.stringify({ type: "batch", messages: [...messages, op] });
          continue;
        }
      }
      c.outbox.push(JSON.stringify(op));
    }
  }

  /**
   * Deliver one frame the server queued for ``ws``.
   * @param {FakeSocket} ws
   */
  sendOne(ws) {
    const conn = this.conns.get(ws);
    const text = conn.outbox.shift();
    ws.deliver(text);
  }

  /**
   * Drop a socket as a network failure would: each frame the client sent
   * reaches the server or not, frames to the client are lost.
   * @param {FakeSocket} ws
   */
  drop(ws) {
    const conn = this.conns.get(ws);
    while (conn.inbox.length) {
      if (this.random.chance(0.5)) this.receiveOne(ws);
      else conn.inbox.shift();
    }
    conn.outbox = [];
    ws.serverClose(1006);
  }
}
