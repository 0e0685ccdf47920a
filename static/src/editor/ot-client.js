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
 * A change over the limit (see "Large changes" below) goes from
 * Synchronized straight to AwaitingWithBuffer, and an ack whose buffer is
 * over it stays in AwaitingWithBuffer.
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
 * Large changes go in pieces. The server refuses a change of more than
 * ``MAX_CHANGE_OPS`` ops (``too_large``), so a pending change that becomes
 * the op in flight (a paste while synchronized, or the buffer on an ack)
 * and has more than {@link sendableOps} ops is split by {@link splitChange}:
 * its first ops go in flight and the rest, rebased onto them, becomes the
 * buffer (state AwaitingWithBuffer), to be split again on the next ack.
 * The rest is an ordinary buffer: later local changes compose into it and
 * server ops transform it. Invariant: the op in flight composed with the
 * buffer is always exactly what the person changed and the server has not
 * acknowledged.
 *
 * Pending ops outlive the page (editor/offline, docs/offline.md): observers
 * ({@link OTClient#observe}) are told of every change so the state can be
 * stored, and a fresh client takes a closed page's state back with
 * {@link OTClient#restore} before its first ``hello``.
 *
 * @module editor/ot-client
 */
import Delta, { Op } from "quill-delta";

import { isClientId, isOpId, makeClientId, opId } from "./protocol.js";

/** @typedef {{index: number, length: number}} Range */
/** @typedef {{id: string, rev: number, delta: Delta}} Outgoing */
/**
 * @typedef {Object} Pending
 * @property {string} id     op id (kept across resends)
 * @property {Delta} delta   the op, expressed against ``client.revision``
 * @property {number} edits  how many local changes it carries
 */

/** @typedef {{delta: Delta, edits: number}} Buffer */

/**
 * What changed, as told to the client's observers ({@link OTClient#observe}):
 * ``local`` a change of the person's, ``ack`` the op in flight was
 * acknowledged, ``server`` someone else's op transformed the pending ones,
 * ``reset`` the pending ops were dropped, ``restore`` pending ops came back
 * from a closed page.
 * @typedef {"local"|"ack"|"server"|"reset"|"restore"} ChangeKind
 */

/**
 * One of the client's three states (ot.js ``lib/client.js``): what it does
 * with each event, returning the next state and what to send or apply.
 *
 * @typedef {Object} State
 * @property {string} name
 * @property {Pending} [inflight]  the op in flight (not when synchronized)
 * @property {Buffer} [buffer]  the changes made since (with a buffer only)
 * @property {Array<Pending|Buffer>} pending  in flight, then buffered
 * @property {(client: OTClient, delta: Delta) => [State, Pending|null]} applyClient
 *   a local change; the op to send now, if any
 * @property {(client: OTClient, s: Delta) => [State, Delta]} applyServer
 *   a server op; the delta to apply to the local document
 * @property {(client: OTClient) => [State, Pending|null]} serverAck
 *   the ack of the op in flight; the op to send next, if any
 * @property {(index: number) => number} toLocal  a server position in the
 *   local document
 */

/** The server's ``MAX_CHANGE_OPS`` when the page does not say (settings default). */
export const DEFAULT_MAX_CHANGE_OPS = 1000;

/**
 * Return how many ops a change put in flight may hold under the server's
 * limit of ``maxChangeOps``.
 *
 * Why less than the limit: server ops that arrive while an op is in flight
 * are transformed into it, and each can split one of its formatting
 * retains or deletes (up to two ops more). The op is resent as transformed
 * (after ``rate_limited`` or a reconnect) under the same id, and it cannot
 * be split again then: the server may already hold it under that id and
 * would ack the first piece for the whole. So a tenth of the limit (at most
 * 100 ops) is kept free for that growth; at least 2 ops go at a time, so
 * each split makes progress.
 *
 * @param {number} maxChangeOps
 * @returns {number}
 */
export function sendableOps(maxChangeOps) {
  return Math.max(2, maxChangeOps - Math.min(100, Math.floor(maxChangeOps / 10)));
}

/**
 * Split ``delta`` after its first ``count`` ops.
 *
 * The head is ``ops[0:count]`` (a valid change on its own: it edits the
 * same document the whole did, and ends before the whole's reach), without
 * a trailing plain retain. The rest is ``ops[count:]`` behind a retain of
 * the document the head's ops span once applied (what they insert and
 * retain), so ``head.compose(rest)`` equals ``delta``.
 *
 * @param {Delta} delta  a normalised change (as Quill, compose and
 *   transform make them: no two plain retains in a row)
 * @param {number} count  at least 2, so the rest has fewer ops than ``delta``
 * @returns {[Delta, Delta|null]} ``[delta, null]`` when it has at most
 *   ``count`` ops
 */
export function splitChange(delta, count) {
  if (!(Number.isInteger(count) && count >= 2)) throw new Error(`cannot split after ${count} ops`);
  if (delta.ops.length <= count) return [delta, null];
  const head = delta.ops.slice(0, count);
  let reach = 0;
  for (const op of head) if (op.delete === undefined) reach += Op.length(op);
  const rest = new Delta().retain(reach).concat(new Delta(delta.ops.slice(count)));
  return [new Delta(head).chop(), rest];
}

/**
 * Put a pending change in flight: all of it, or its first ops when it is
 * over the client's limit, with the rest as the buffer.
 *
 * @param {OTClient} client
 * @param {Buffer} pending
 * @returns {[State, Pending]}
 */
function launch(client, { delta, edits }) {
  const [head, rest] = splitChange(delta, client.sendOps);
  if (!rest) {
    const inflight = { id: client.nextId(), delta, edits };
    return [new AwaitingConfirm(inflight), inflight];
  }
  // The person's edits stay with the last piece: they are saved (and the
  // page stops counting them) only when all of the change is acked.
  const inflight = { id: client.nextId(), delta: head, edits: 0 };
  return [new AwaitingWithBuffer(inflight, { delta: rest, edits }), inflight];
}

/**
 * Return ``n`` when it is a count of edits (an integer of at least 0), else 0.
 * @param {unknown} n
 * @returns {number}
 */
function editCount(n) {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : 0;
}

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
  /**
   * @param {OTClient} client
   * @param {Delta} delta
   * @returns {[State, Pending|null]}
   */
  applyClient(client, delta) {
    return launch(client, { delta, edits: 1 });
  }
  /**
   * @param {OTClient} _client
   * @param {Delta} delta
   * @returns {[State, Delta]}
   */
  applyServer(_client, delta) {
    return [this, delta];
  }
  /** @returns {[State, Pending|null]} */
  serverAck() {
    throw new Error("ack received while synchronized");
  }
  /** @param {number} index */
  toLocal(index) {
    return index;
  }
  /** @returns {Array<Pending|Buffer>} */
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
  /**
   * @param {OTClient} _client
   * @param {Delta} delta
   * @returns {[State, Pending|null]}
   */
  applyClient(_client, delta) {
    return [new AwaitingWithBuffer(this.inflight, { delta, edits: 1 }), null];
  }
  /**
   * @param {OTClient} _client
   * @param {Delta} s
   * @returns {[State, Delta]}
   */
  applyServer(_client, s) {
    const p = this.inflight.delta;
    const inflight = { ...this.inflight, delta: s.transform(p, true) };
    return [new AwaitingConfirm(inflight), p.transform(s, false)];
  }
  /** @returns {[State, Pending|null]} */
  serverAck() {
    return [new Synchronized(), null];
  }
  /** @param {number} index */
  toLocal(index) {
    return this.inflight.delta.transformPosition(index, false);
  }
  /** @returns {Array<Pending|Buffer>} */
  get pending() {
    return [this.inflight];
  }
}

/** One op in flight and the changes made since, composed into a buffer. */
class AwaitingWithBuffer {
  /**
   * @param {Pending} inflight
   * @param {Buffer} buffer
   */
  constructor(inflight, buffer) {
    this.inflight = inflight;
    this.buffer = buffer;
  }
  get name() {
    return StateName.AWAITING_WITH_BUFFER;
  }
  /**
   * @param {OTClient} _client
   * @param {Delta} delta
   * @returns {[State, Pending|null]}
   */
  applyClient(_client, delta) {
    const buffer = {
      delta: this.buffer.delta.compose(delta),
      edits: this.buffer.edits + 1,
    };
    return [new AwaitingWithBuffer(this.inflight, buffer), null];
  }
  /**
   * @param {OTClient} _client
   * @param {Delta} s
   * @returns {[State, Delta]}
   */
  applyServer(_client, s) {
    const p = this.inflight.delta;
    const b = this.buffer.delta;
    const s1 = p.transform(s, false); // s after p
    const inflight = { ...this.inflight, delta: s.transform(p, true) };
    const buffer = { ...this.buffer, delta: s1.transform(b, true) };
    return [new AwaitingWithBuffer(inflight, buffer), b.transform(s1, false)];
  }
  /**
   * @param {OTClient} client
   * @returns {[State, Pending|null]}
   */
  serverAck(client) {
    return launch(client, this.buffer);
  }
  /** @param {number} index */
  toLocal(index) {
    const i = this.inflight.delta.transformPosition(index, false);
    return this.buffer.delta.transformPosition(i, false);
  }
  /** @returns {Array<Pending|Buffer>} */
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
   * @param {number} [options.maxChangeOps]  the server's ``MAX_CHANGE_OPS``
   *   (an integer of at least 2): larger changes are sent in pieces
   */
  constructor({
    clientId = makeClientId(),
    revision = null,
    historyLimit = 200,
    maxChangeOps = DEFAULT_MAX_CHANGE_OPS,
  } = {}) {
    if (!isClientId(clientId)) throw new Error(`malformed client id ${clientId}`);
    if (!(Number.isInteger(maxChangeOps) && maxChangeOps >= 2)) {
      throw new Error(`maxChangeOps must be an integer of at least 2, got ${maxChangeOps}`);
    }
    /** Random id of this page load; op ids are ``clientId:seq``. */
    this.clientId = clientId;
    /** Last op sequence number used. */
    this.seq = 0;
    /** @type {number|null} last server revision seen */
    this.revision = revision;
    this.historyLimit = historyLimit;
    /** The server's limit of ops per change. */
    this.maxChangeOps = maxChangeOps;
    /** Most ops a change put in flight holds (see {@link sendableOps}). */
    this.sendOps = sendableOps(maxChangeOps);
    /** @type {Array<{rev: number, delta: Delta}>} recent server ops */
    this.history = [];
    /** @type {State} */
    this.state = new Synchronized();
    /**
     * How many of the pending edits came back from a closed page
     * ({@link restore}); they leave first, as their ops are acked.
     */
    this.restoredEdits = 0;
    /** @type {Array<(kind: ChangeKind) => void>} */
    this._observers = [];
  }

  /**
   * Call ``observer`` after every change to what is pending or to the
   * revision (the offline store writes through on it). Observers run
   * synchronously, in order, after the state changed; one that throws
   * does not stop the others or the client.
   *
   * @param {(kind: ChangeKind) => void} observer
   * @returns {() => void} stops observing
   */
  observe(observer) {
    this._observers.push(observer);
    return () => {
      this._observers = this._observers.filter((o) => o !== observer);
    };
  }

  /** @param {ChangeKind} kind */
  _changed(kind) {
    for (const observer of this._observers) {
      try {
        observer(kind);
      } catch (err) {
        console.warn("collabdocs: OT client observer failed", err);
      }
    }
  }

  /**
   * Take back the pending ops of a page that closed before they were
   * acknowledged (editor/offline): the op in flight keeps its id, so the
   * server acks it rather than applying it twice if its first send was
   * stored; the buffer goes out later under this client's next id.
   *
   * Only a client that has not loaded anything yet may be restored; the
   * local document must then be the server's at ``revision`` with the
   * in-flight op and the buffer applied.
   *
   * @param {Object} pending
   * @param {number} pending.revision  the server revision the ops are
   *   expressed against
   * @param {{id: string, delta: Delta, edits: number}} pending.inflight
   * @param {{delta: Delta, edits: number}|null} [pending.buffer]
   * @throws {Error} when the client already has a revision, or a value is
   *   malformed (nothing changes then)
   */
  restore({ revision, inflight, buffer = null }) {
    if (this.revision !== null || !this.isSynchronized) {
      throw new Error("only a client that has loaded nothing can be restored");
    }
    if (!(Number.isInteger(revision) && revision >= 0)) throw new Error(`bad revision ${revision}`);
    if (!inflight || !isOpId(inflight.id)) throw new Error("restored op has no valid id");
    for (const part of buffer ? [inflight, buffer] : [inflight]) {
      if (!(part.delta instanceof Delta) || part.delta.ops.length === 0) {
        throw new Error("restored change is empty or not a Delta");
      }
    }
    const first = { id: inflight.id, delta: inflight.delta, edits: editCount(inflight.edits) };
    const state = buffer
      ? new AwaitingWithBuffer(first, { delta: buffer.delta, edits: editCount(buffer.edits) })
      : new AwaitingConfirm(first);
    // At least one edit: a restored change is unsaved work however it was counted.
    if (state.pending.reduce((n, p) => n + p.edits, 0) === 0) first.edits = 1;
    this.revision = revision;
    this.state = state;
    this.restoredEdits = this.pendingEdits;
    this._changed("restore");
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
    return { id: inflight.id, rev: this._head(), delta: inflight.delta };
  }

  /**
   * Return the revision, which every server message and outgoing op needs.
   * @returns {number}
   * @throws {Error} before the first ``hello`` set it
   */
  _head() {
    if (this.revision === null) throw new Error("no revision yet: wait for hello");
    return this.revision;
  }

  /**
   * Take a change the person made to the local document.
   *
   * @param {Delta} delta
   * @returns {Outgoing|null} the op to send now (only when it was synchronized)
   */
  applyClient(delta) {
    const head = this._head();
    if (!delta.ops.length) return null;
    const [state, send] = this.state.applyClient(this, delta);
    this.state = state;
    this._changed("local");
    return send ? { id: send.id, rev: head, delta: send.delta } : null;
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
    const head = this._head();
    if (rev !== head + 1) {
      if (rev <= head) return { status: "ignored" };
      throw new RevisionGap(head + 1, rev);
    }
    this.remember(rev, inflight.delta);
    this.revision = rev;
    const [state, send] = this.state.serverAck(this);
    this.state = state;
    this.restoredEdits = Math.max(0, this.restoredEdits - inflight.edits);
    this._changed("ack");
    return {
      status: "acked",
      send: send ? { id: send.id, rev, delta: send.delta } : null,
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
    const head = this._head();
    if (rev <= head) return { status: "duplicate" };
    if (rev !== head + 1) throw new RevisionGap(head + 1, rev);
    const inflight = this.inflight;
    if (inflight && inflight.id === id) {
      // The id is in flight and rev is the next revision: always "acked".
      return /** @type {{status: "acked", send: Outgoing|null, synchronized: boolean}} */ (
        this.serverAck(id, rev)
      );
    }
    const s = delta instanceof Delta ? delta : new Delta(delta);
    this.remember(rev, s);
    this.revision = rev;
    const [state, apply] = this.state.applyServer(this, s);
    this.state = state;
    this._changed("server");
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
    this.restoredEdits = 0;
    this._changed("reset");
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
