/**
 * The collaboration wire protocol, version 1: the JS twin of
 * realtime/protocol.py (see /docs/protocol.md).
 *
 * Message types, error codes, close codes, op ids and the few text rules a
 * client must respect before it sends a change. Pure: no DOM, no socket.
 *
 * @module editor/protocol
 */

/** Protocol version spoken by this client (``hello.protocol``). */
export const PROTOCOL_VERSION = 1;

/** Message types (the ``"type"`` key of every frame). */
export const MessageType = Object.freeze({
  // server to client
  HELLO: "hello",
  ACK: "ack",
  OP: "op",
  BATCH: "batch",
  PRESENCE: "presence",
  JOIN: "join",
  LEAVE: "leave",
  REDIRECT: "redirect",
  ERROR: "error",
  // server extensions (docs/protocol.md)
  TITLE: "title",
  ACCESS: "access",
  /** A comment thread changed (issue 12): ``{"type":"review", ...payload}``. */
  REVIEW: "review",
  /** A notification for the socket's user: ``{"type":"notify", ...payload}``. */
  NOTIFY: "notify",
  /** The document's history changed (issue 14): ``{"type":"history", ...payload}``. */
  HISTORY: "history",
  /**
   * Authorship (issue 14): the client asks ``{"type":"authors"}``; the reply
   * ``{"type":"authors","rev":R,"runs":[[length, user id|null], ...]}`` comes
   * in order with the ops.
   */
  AUTHORS: "authors",
  // transport: one slice of a frame too large to send whole
  PART: "part",
  // client to server: OP and PRESENCE
});

/** Error codes of the ``error`` frame. */
export const ErrorCode = Object.freeze({
  DENIED: "denied",
  BAD_MESSAGE: "bad_message",
  BAD_OP: "bad_op",
  FORBIDDEN: "forbidden",
  STALE: "stale",
  TOO_LARGE: "too_large",
  RATE_LIMITED: "rate_limited",
  UNAVAILABLE: "unavailable",
});

/**
 * Errors after which the same op is resent, with backoff, forever.
 * @type {ReadonlySet<string>}
 */
export const RETRY_ERRORS = Object.freeze(
  new Set([ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE]),
);

/**
 * Errors after which the client reloads from the server state: its pending
 * ops are dropped (and shown to the person) because the server refused them.
 * @type {ReadonlySet<string>}
 */
export const RELOAD_ERRORS = Object.freeze(
  new Set([
    ErrorCode.BAD_MESSAGE,
    ErrorCode.BAD_OP,
    ErrorCode.FORBIDDEN,
    ErrorCode.STALE,
    ErrorCode.TOO_LARGE,
  ]),
);

/**
 * WebSocket close codes. The 43xx-45xx codes are the server's (twins of
 * ``CloseCode`` in realtime/protocol.py); ``MESSAGE_TOO_BIG`` comes from
 * the WebSocket layer and ``CLIENT_RECONNECT`` from this client.
 */
export const CloseCode = Object.freeze({
  /** The WebSocket layer's own frame limit was exceeded (RFC 6455). */
  MESSAGE_TOO_BIG: 1009,
  REDIRECT: 4301,
  NOT_LOGGED_IN: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  /** Extension (docs/protocol.md): too many sockets for this user. */
  TOO_MANY_SOCKETS: 4429,
  /** This worker no longer serves the document: ask the route endpoint. */
  GOING_AWAY: 4503,
  /** Sent by this client when it drops a socket to reconnect (gap, reload). */
  CLIENT_RECONNECT: 4000,
});

const CLIENT_ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** ``<client id>:<sequence number>``; see protocol.md "Op ids". */
export const OP_ID_RE = /^[A-Za-z0-9_-]{16,64}:[1-9][0-9]*$/;

/** Longest valid op id (64 + ":" + a sequence number below 10**30). */
export const OP_ID_MAX_LENGTH = 96;
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Return a fresh random client id: 22 characters of ``[A-Za-z0-9_-]``
 * carrying 132 random bits (the protocol asks for at least 96).
 *
 * @param {(a: Uint8Array) => Uint8Array} [getRandomValues]
 * @returns {string}
 */
export function makeClientId(
  getRandomValues = (a) => globalThis.crypto.getRandomValues(a),
) {
  const bytes = getRandomValues(new Uint8Array(22));
  let id = "";
  for (const byte of bytes) id += B64URL[byte & 63];
  return id;
}

/**
 * Return whether ``id`` is a well-formed client id.
 * @param {string} id
 */
export function isClientId(id) {
  return typeof id === "string" && CLIENT_ID_RE.test(id);
}

/**
 * Return the op id ``"<clientId>:<seq>"``.
 * @param {string} clientId
 * @param {number} seq  counting from 1
 */
export function opId(clientId, seq) {
  return `${clientId}:${seq}`;
}

/**
 * Return whether ``id`` is a well-formed op id.
 * @param {string} id
 */
export function isOpId(id) {
  return typeof id === "string" && id.length <= OP_ID_MAX_LENGTH && OP_ID_RE.test(id);
}

/**
 * Return the text inserted by a list of delta ops, embeds left out: what a
 * person would want back when a change could not be saved.
 *
 * @param {{ops: Array<Object>}|Array<Object>|null} delta
 * @returns {string}
 */
export function insertedText(delta) {
  if (!delta) return "";
  const ops = Array.isArray(delta) ? delta : delta.ops || [];
  let text = "";
  for (const op of ops) {
    if (typeof op.insert === "string") text += op.insert;
  }
  return text;
}

/**
 * Build the client ``op`` frame.
 * @param {{id: string, rev: number, delta: {ops: Array<Object>}}} op
 */
export function opMessage({ id, rev, delta }) {
  return { type: MessageType.OP, id, rev, delta: delta.ops };
}

/**
 * Build the client ``presence`` frame.
 * @param {number} rev
 * @param {{index: number, length: number}|null} range
 */
export function presenceMessage(rev, range) {
  return {
    type: MessageType.PRESENCE,
    rev,
    range: range ? { index: range.index, length: range.length } : null,
  };
}

/** A sequence of ``part`` frames is malformed: drop the socket. */
export class PartError extends Error {}

/**
 * Join the ``part`` frames of one socket back into the frame they carry
 * (docs/protocol.md "Frame sizes"; the server side is realtime/framing.py).
 *
 * The server splits a frame over 256 KiB into ``{"type": "part", "seq": i,
 * "last": bool, "data": "<slice of its text>"}`` frames, ``seq`` counting
 * from 0, with nothing else in between. One assembler per socket.
 */
export class PartAssembler {
  constructor() {
    /** @type {string[]} */
    this.pieces = [];
  }

  /** Whether a split frame has started and not yet ended. */
  get pending() {
    return this.pieces.length > 0;
  }

  /**
   * Take one parsed frame; return the frame to handle now, or null while
   * the parts of a split frame are still arriving.
   *
   * @param {Object} message  a parsed frame
   * @returns {Object|null}
   * @throws {PartError} a part out of order or malformed, another frame
   *   between the parts of one frame, or joined text that is not JSON
   */
  take(message) {
    if (!message || message.type !== MessageType.PART) {
      if (this.pending) this._fail("a frame arrived between the parts of another");
      return message;
    }
    const { seq, last, data } = message;
    if (!Number.isInteger(seq) || typeof last !== "boolean" || typeof data !== "string") {
      this._fail("a part frame needs an integer seq, a boolean last and string data");
    }
    if (seq !== this.pieces.length) this._fail(`part ${seq} arrived where part ${this.pieces.length} was due`);
    this.pieces.push(data);
    if (!last) return null;
    const text = this.pieces.join("");
    this.pieces = [];
    let whole;
    try {
      whole = JSON.parse(text);
    } catch {
      this._fail("the joined parts are not JSON");
    }
    if (whole && whole.type === MessageType.PART) this._fail("a part frame inside a part frame");
    return whole;
  }

  /** Forget a split frame in progress (new socket). */
  reset() {
    this.pieces = [];
  }

  /** @param {string} why */
  _fail(why) {
    this.pieces = [];
    throw new PartError(why);
  }
}
