/**
 * The OT client: the ot.js state machine over quill-delta Deltas.
 *
 * Pure: no DOM, no socket. The connection feeds it the person's changes and
 * the server's messages; it answers with what to send and what to apply.
 *
 * A client has at most one op in flight. Its three states:
 *
 *                       applyClient                 applyClient
 *   Synchronized ─────────────────▶ AwaitingConfirm ─────────────▶ AwaitingWithBuffer
 *        ▲      (send op, new id)        │    ▲      (buffer it)         │  │  ▲
 *        │                               │    │                          │  └──┘ applyClient
 *        └───────────────────────────────┘    └──────────────────────────┘ (compose into buffer)
 *                   ack                              ack (send the buffer, new id)
 *
 * Server op ``s`` against pending op ``p`` (the protocol's tie rule: ops the
 * server sequenced first win insert ties):
 *
 *              ○ (revision r, server and client agree)
 *            ╱   ╲
 *         p ╱     ╲ s
 *          ╱       ╲
 *         ○         ○
 *          ╲       ╱
 *   p.transform ╲ ╱ s.transform(p, true)  (the new pending op)
 *     (s, false) ○  (applied locally)
 *
 * With a buffer ``b`` after ``p``, ``s`` is transformed over ``p`` and then
 * over ``b`` the same way. Revisions: ``revision`` is the last server
 * revision seen; the in-flight op is always expressed against it, so a
 * resend carries ``rev = revision`` and the op as transformed so far.
 *
 * Remote ranges are kept in server coordinates and brought to the local
 * document with ``transformPosition(i, false)`` over the recent server ops
 * (a short window) and then over the pending ops.
 *
 * @module editor/ot-client
 */
import Delta from "quill-delta";

import { isClientId, makeClientId, opId } from "./protocol.js";

/** @typedef {{index: number, length: number}} Range */
/** @typedef {{id: string, rev: number, delta: Delta}} Outgoing */
/**
 * @typedef {Object} Pending
 * @property {string} id     op id (kept across resends)
 * @property {Delta} delta   the op, expressed against ``client.revision``
 * @property {number} edits  how many local changes it carries
 */

/** State names, as reported by ``client.stateName``. */
export const StateName = Object.freeze({
  SYNCHRONIZED: "Synchronized",
  AWAITING_CONFIRM: "AwaitingConfirm",
  AWAITING_WITH_BUFFER: "AwaitingWithBuffer",
});

/** Raised when the server's revisions skip one: reconnect with ``?rev=``. */
export class RevisionGap extends Error {
  /**
   * @param {number} expected
   * @param {number} got
   */
  constructor(expected, got) {
    super(`revision gap: expected ${expected}, got ${got}`);
    this.name = "RevisionGap";
    this.expected = expected;
    this.got = got;
  }
}

/** Nothing in flight: local changes are sent at once. */
class Synchronized {
  get name() {
    return StateName.SYNCHRONIZED;
  }
  /** @param {OTClient} client @param {Delta} delta */
  applyClient(client, delta) {
    const inflight = { id: client.nextId(), delta, edits: 1 };
    return [new AwaitingConfirm(inflight), inflight];
  }
  /** @param {OTClient} _client @param {Delta} delta */
  applyServer(_client, delta) {
    return [this, delta];
  }
  serverAck() {
    throw new Error("ack received while synchronized");
  }
  /** @param {number} index */
  toLocal(index) {
    return index;
  }
  get pending() {
    return [];
  }
}

/** One op in flight, nothing else pending. */
class AwaitingConfirm {
  /** @param {Pending} inflight */
  constructor(inflight) {
    this.inflight = inflight;
  }
  get name() {
    return StateName.AWAITING_CONFIRM;
  }
  /** @param {OTClient} _client @param {Delta} delta */
  applyClient(_client, delta) {
    return [new AwaitingWithBuffer(this.inflight, { delta, edits: 1 }), null];
  }
  /** @param {OTClient} _client @param {Delta} s */
  applyServer(_client, s) {
    const p = this.inflight.delta;
    const inflight = { ...this.inflight, delta: s.transform(p, true) };
    return [new AwaitingConfirm(inflight), p.transform(s, false)];
  }
  serverAck() {
    return [new Synchronized(), null];
  }
  /** @param {number} index */
  toLocal(index) {
    return this.inflight.delta.transformPosition(index, false);
  }
  get pending() {
    return [this.inflight];
  }
}

/** One op in flight and the changes made since, composed into a buffer. */
class AwaitingWithBuffer {
  /**
   * @param {Pending} inflight
   * @param {{delta: Delta, edits: number}} buffer
   */
  constructor(inflight, buffer) {
    this.inflight = inflight;
    this.buffer = buffer;
  }
  get name() {
    return StateName.AWAITING_WITH_BUFFER;
  }
  /** @param {OTClient} _client @param {Delta} delta */
  applyClient(_client, delta) {
    const buffer = {
      delta: this.buffer.delta.compose(delta),
      edits: this.buffer.edits + 1,
    };
    return [new AwaitingWithBuffer(this.inflight, buffer), null];
  }
  /** @param {OTClient} _client @param {Delta} s */
  applyServer(_client, s) {
    const p = this.inflight.delta;
    const b = this.buffer.delta;
    const s1 = p.transform(s, false); // s after p
    const inflight = { ...this.inflight, delta: s.transform(p, true) };
    const buffer = { ...this.buffer, delta: s1.transform(b, true) };
    return [new AwaitingWithBuffer(inflight, buffer), b.transform(s1, false)];
  }
  /** @param {OTClient} client */
  serverAck(client) {
    const inflight = { id: client.nextId(), ...this.buffer };
    return [new AwaitingConfirm(inflight), inflight];
  }
  /** @param {number} index */
  toLocal(index) {
    const i = this.inflight.delta.transformPosition(index, false);
    return this.buffer.delta.transformPosition(i, false);
  }
  get pending() {
    return [this.inflight, this.buffer];
  }
}

/**
 * The client side of the protocol's operational transformation.
 *
 * Every method is synchronous and returns what the caller must do; nothing
 * here sends or applies anything itself.
 */
export class OTClient {
  /**
   * @param {Object} [options]
   * @param {string} [options.clientId]  random id of this page load
   * @param {number|null} [options.revision]  server revision of the local
   *   document, or null until the first ``hello``
   * @param {number} [options.historyLimit]  server ops kept to bring late
   *   presence ranges up to date
   */
  constructor({ clientId = makeClientId(), revision = null, historyLimit = 200 } = {}) {
    if (!isClientId(clientId)) throw new Error(`malformed client id ${clientId}`);
    /** Random id of this page load; op ids are ``clientId:seq``. */
    this.clientId = clientId;
    /** Last op sequence number used. */
    this.seq = 0;
    /** @type {number|null} last server revision seen */
    this.revision = revision;
    this.historyLimit = historyLimit;
    /** @type {Array<{rev: number, delta: Delta}>} recent server ops */
    this.history = [];
    /** @type {Synchronized|AwaitingConfirm|AwaitingWithBuffer} */
    this.state = new Synchronized();
  }

  /** Return the next op id (sequence numbers count from 1). */
  nextId() {
    this.seq += 1;
    return opId(this.clientId, this.seq);
  }

  /** Name of the current state (see {@link StateName}). */
  get stateName() {
    return this.state.name;
  }

  /** Whether nothing is in flight or buffered. */
  get isSynchronized() {
    return this.state instanceof Synchronized;
  }

  /** @returns {Pending|null} the op in flight, if any */
  get inflight() {
    return this.state.inflight || null;
  }

  /** @returns {Delta|null} the changes made since the op in flight */
  get buffer() {
    return this.state.buffer ? this.state.buffer.delta : null;
  }

  /** Number of the person's changes not yet acknowledged by the server. */
  get pendingEdits() {
    return this.state.pending.reduce((n, p) => n + p.edits, 0);
  }

  /**
   * Return the op to (re)send now, or null: the in-flight op with its id,
   * expressed against the current revision.
   * @returns {Outgoing|null}
   */
  outgoing() {
    const inflight = this.inflight;
    if (!inflight) return null;
    return { id: inflight.id, rev: this.revision, delta: inflight.delta };
  }

  /**
   * Take a change the person made to the local document.
   *
   * @param {Delta} delta
   * @returns {Outgoing|null} the op to send now (only when it was synchronized)
   */
  applyClient(delta) {
    if (this.revision === null) throw new Error("no revision yet: wait for hello");
    if (!delta.ops.length) return null;
    const [state, send] = this.state.applyClient(this, delta);
    this.state = state;
    return send ? { id: send.id, rev: this.revision, delta: send.delta } : null;
  }

  /**
   * Take the server's ``ack``.
   *
   * An ack for an id no longer in flight (already acknowledged by an ``op``
   * carrying that id, or dropped by a reload) is ignored.
   *
   * @param {string} id
   * @param {number} rev
   * @returns {{status: "ignored"} | {status: "acked", send: Outgoing|null, synchronized: boolean}}
   * @throws {RevisionGap} when ``rev`` skips a revision
   */
  serverAck(id, rev) {
    const inflight = this.inflight;
    if (!inflight || inflight.id !== id) return { status: "ignored" };
    if (rev !== this.revision + 1) {
      if (rev <= this.revision) return { status: "ignored" };
      throw new RevisionGap(this.revision + 1, rev);
    }
    this.remember(rev, inflight.delta);
    this.revision = rev;
    const [state, send] = this.state.serverAck(this);
    this.state = state;
    return {
      status: "acked",
      send: send ? { id: send.id, rev: this.revision, delta: send.delta } : null,
      synchronized: this.isSynchronized,
    };
  }

  /**
   * Take a server ``op`` (or an element of ``hello.ops``).
   *
   * An op carrying the id of the op in flight is that op's acknowledgement.
   * An op at or below the current revision was already seen and is skipped.
   *
   * @param {{rev: number, id: string, delta: Array<Object>|Delta}} message
   * @returns {{status: "applied", delta: Delta}
   *   | {status: "acked", send: Outgoing|null, synchronized: boolean}
   *   | {status: "duplicate"}}  ``delta`` is what to apply to the local document
   * @throws {RevisionGap} when ``rev`` skips a revision
   */
  serverOp({ rev, id, delta }) {
    if (rev <= this.revision) return { status: "duplicate" };
    if (rev !== this.revision + 1) throw new RevisionGap(this.revision + 1, rev);
    const inflight = this.inflight;
    if (inflight && inflight.id === id) return this.serverAck(id, rev);
    const s = delta instanceof Delta ? delta : new Delta(delta);
    this.remember(rev, s);
    this.revision = rev;
    const [state, apply] = this.state.applyServer(this, s);
    this.state = state;
    return { status: "applied", delta: apply };
  }

  /**
   * Start again from the server's document at ``revision``, dropping every
   * pending change.
   *
   * @param {number} revision
   * @returns {{delta: Delta, edits: number}} what was dropped, composed
   *   (against the old revision), so the caller can show it to the person
   */
  reset(revision) {
    let dropped = new Delta();
    const edits = this.pendingEdits;
    for (const p of this.state.pending) dropped = dropped.compose(p.delta);
    this.state = new Synchronized();
    this.revision = revision;
    this.history = [];
    return { delta: dropped, edits };
  }

  /**
   * Keep a server op for bringing older presence ranges up to date.
   * @param {number} rev
   * @param {Delta} delta
   */
  remember(rev, delta) {
    this.history.push({ rev, delta });
    if (this.history.length > this.historyLimit) {
      this.history.splice(0, this.history.length - this.historyLimit);
    }
  }

  /**
   * Bring a range expressed at server revision ``rev`` to the current
   * revision (server coordinates).
   *
   * @param {Range} range
   * @param {number} rev
   * @returns {Range|null} null when ``rev`` is ahead of this client or older
   *   than the ops it still remembers
   */
  rebaseRange(range, rev) {
    if (this.revision === null || rev > this.revision) return null;
    if (rev === this.revision) return range;
    const first = this.history.length ? this.history[0].rev : this.revision + 1;
    if (rev + 1 < first) return null;
    let start = range.index;
    let end = range.index + range.length;
    for (const { rev: r, delta } of this.history) {
      if (r <= rev) continue;
      start = delta.transformPosition(start, false);
      end = delta.transformPosition(end, false);
    }
    return { index: start, length: Math.max(0, end - start) };
  }

  /**
   * Bring a range at the current revision (server coordinates) into the
   * local document, over the op in flight and the buffer.
   *
   * @param {Range} range
   * @returns {Range}
   */
  toLocalRange(range) {
    const start = this.state.toLocal(range.index);
    const end = this.state.toLocal(range.index + range.length);
    return { index: start, length: Math.max(0, end - start) };
  }
}
