/**
 * Protocol dispatch: each server frame to its handler, and the OT client's
 * actions carried out (ops applied to the editor, the op in flight sent,
 * resent or dropped, the document reloaded).
 *
 * Failure modes and what happens (protocol.md, "Reconnect" and the error
 * table):
 *
 * - ``hello`` after a lost socket: ``hello.ops`` is caught up (an op
 *   carrying the in-flight id is its ack) and the in-flight op is resent
 *   with the same id. ``hello.content`` at the same revision: resend. At
 *   another revision: load it, drop the pending ops and show the person
 *   their text. A catch-up that does not end at ``hello.rev``, or a
 *   ``hello`` with neither: reload. Another protocol version: stop.
 * - A gap in revisions: reconnect with ``?rev=`` at once.
 * - ``rate_limited`` / ``unavailable`` about the op in flight: resend the
 *   same op after ``retry_after`` or the op backoff (retry.js), forever.
 *   ``rate_limited`` also shows a calm ``rate_limited`` notice with the
 *   wait; the next ack withdraws it (a notice with an empty message).
 *   ``unavailable`` + ``retry_after`` without an op id comes before a 4503:
 *   the transport waits that long before asking the route endpoint.
 * - ``bad_op`` / ``bad_message`` / ``stale`` / ``too_large`` /
 *   ``forbidden`` (and close 1009): reload from the server state; the
 *   pending ops are dropped and their text is shown to the person, with
 *   the server's own message for ``bad_op`` / ``bad_message`` /
 *   ``too_large``. An error about an op no longer in flight changes
 *   nothing; ``denied`` waits for the close code that follows.
 * - ``hello`` and ``access`` carry the edit and comment rights
 *   (``accessOf``); an ``access`` frame with the role and owner (issue 16)
 *   is also passed on as a ``labels`` event (``labelsOf``); ``review`` and
 *   ``notify`` frames are passed on as events with the frame's payload.
 * - Dropped pending ops (a reload) are told in an ``unsaved`` notice with
 *   their text and a ``status`` phrase ("Last change not saved") that the
 *   status indicator shows while the notice is up: never "All changes
 *   saved" over a change the server refused.
 * - Frames of a socket that is no longer current (the rest of a batch
 *   after a gap) and unknown frame types are ignored.
 *
 * @module editor/dispatch
 */
import { RevisionGap } from "./ot-client.js";
import {
  StopReason,
  TOO_LARGE_MESSAGE,
  UNMERGED_MESSAGE,
  reloadMessage,
  throttledMessage,
} from "./messages.js";
import {
  ErrorCode,
  MessageType,
  PROTOCOL_VERSION,
  RELOAD_ERRORS,
  RETRY_ERRORS,
  insertedText,
  opMessage,
} from "./protocol.js";
import { Backoff, OP_RETRY } from "./retry.js";
import { Status } from "./transport.js";

/**
 * What the connection needs from the editor.
 *
 * @typedef {Object} EditorAdapter
 * @property {() => void} flush  hand pending local edits to ``submit`` now
 * @property {(delta: import("quill-delta").default) => void} applyRemote
 * @property {(content: Array<Object>) => void} loadContent
 * @property {() => ({index: number, length: number}|null)} getRange
 */

/**
 * What the dispatcher asks of the connection that composes it.
 *
 * @typedef {Object} DispatchHost
 * @property {(event: string, ...args: any[]) => void} emit
 * @property {(reason: string) => void} stop
 * @property {(status: string) => void} setStatus
 * @property {() => void} emitStatus
 * @property {(canEdit: boolean, canComment: boolean) => void} setAccess
 */

/**
 * Return ``[canEdit, canComment]`` of a ``hello`` or ``access`` frame. A
 * frame without ``can_comment`` (a server before issue 12) grants it with
 * the edit right; an editor can always comment.
 * @param {{can_edit?: unknown, can_comment?: unknown}} frame
 * @returns {[boolean, boolean]}
 */
export function accessOf(frame) {
  const canEdit = frame.can_edit !== false;
  const canComment = canEdit || (frame.can_comment === undefined ? canEdit : frame.can_comment === true);
  return [canEdit, canComment];
}

/**
 * The labels of an ``access`` frame, as the page shows them.
 * @typedef {Object} AccessLabels
 * @property {string} role  owner, editor, commenter or viewer
 * @property {string} roleLabel  e.g. "Viewer (via link)"
 * @property {boolean} isOwner
 * @property {{id: number, name: string}|null} owner
 */

/**
 * Return the labels of an ``access`` frame, or null for a frame without
 * them (a server before issue 16) or with labels of the wrong types.
 * @param {any} frame
 * @returns {AccessLabels|null}
 */
export function labelsOf(frame) {
  if (typeof frame.role !== "string" || typeof frame.role_label !== "string") return null;
  const owner = frame.owner;
  const validOwner = owner && Number.isInteger(owner.id) && typeof owner.name === "string";
  return {
    role: frame.role,
    roleLabel: frame.role_label,
    isOwner: frame.is_owner === true,
    owner: validOwner ? { id: owner.id, name: owner.name } : null,
  };
}

/**
 * Return a ``review`` / ``notify`` frame's payload: the frame without its type.
 * @param {Object} frame
 * @returns {Object}
 */
function payloadOf(frame) {
  const payload = { ...frame };
  delete payload.type;
  return payload;
}

export class Dispatcher {
  /**
   * @param {Object} options
   * @param {import("./ot-client.js").OTClient} options.client
   * @param {EditorAdapter} options.adapter
   * @param {import("./peers.js").Peers} options.peers
   * @param {import("./transport.js").Transport} options.transport
   * @param {import("./presence.js").PresenceSender} options.presence
   * @param {DispatchHost} options.host
   * @param {{setTimeout: Function, clearTimeout: Function}} options.timers
   * @param {() => number} [options.random]
   */
  constructor({ client, adapter, peers, transport, presence, host, timers, random = Math.random }) {
    this.client = client;
    this.adapter = adapter;
    this.peers = peers;
    this.transport = transport;
    this.presence = presence;
    this.host = host;
    this.timers = timers;
    /** @type {string|null} this connection's id, from ``hello`` */
    this.session = null;
    /** @type {{id: number, name: string, color: string}|null} */
    this.user = null;

    this._opRetry = new Backoff({ ...OP_RETRY, random });
    this._retryTimer = null;
    /** The next ``hello`` replaces the document (no ``?rev=``). */
    this._fullReload = false;
    /** @type {string|null} told to the person after that reload */
    this._reloadMessage = null;
    /** @type {{id: string, ws: WebSocket|null}|null} the op sent on which socket */
    this._sent = null;
    /** A ``rate_limited`` notice is showing. */
    this._throttled = false;
  }

  /** An op resend is waiting for its delay. */
  get retrying() {
    return this._retryTimer !== null;
  }

  /** The ``?rev=`` of the next socket: null while a full reload is due. */
  revision() {
    return this._fullReload ? null : this.client.revision;
  }

  /**
   * Take a change the person made.
   * @param {import("quill-delta").default} delta
   */
  submit(delta) {
    if (this.client.revision === null) return;
    const send = this.client.applyClient(delta);
    if (send) this._sendInflight();
    this.host.emitStatus();
    this.host.emit("cursors");
  }

  /** The socket's frame was over the WebSocket limit: reload on reconnect. */
  oversized() {
    this._fullReload = true;
    this._reloadMessage = TOO_LARGE_MESSAGE;
  }

  /** Stop resending and withdraw the throttled notice (stopped for good). */
  halt() {
    this.cancelRetry();
    this._clearThrottled();
  }

  /** Return the text of every pending op (to show when stopping). */
  unsavedText() {
    let text = "";
    for (const p of this.client.state.pending) text += insertedText(p.delta);
    return text;
  }

  /** Forget a resend that is waiting for its delay. */
  cancelRetry() {
    if (this._retryTimer !== null) this.timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }

  // -------------------------------------------------------------- incoming

  /**
   * Handle one whole server frame of socket ``ws``.
   * @param {Object} message
   * @param {WebSocket} ws
   */
  handle(message, ws) {
    if (ws !== this.transport.ws || !message || typeof message !== "object") return;
    const ready = this.transport.ready;
    switch (message.type) {
      case MessageType.HELLO:
        this._onHello(message);
        break;
      case MessageType.BATCH:
        for (const element of message.messages || []) this.handle(element, ws);
        break;
      case MessageType.OP:
        if (ready) this._onOp(message);
        break;
      case MessageType.ACK:
        if (ready) this._onAck(message);
        break;
      case MessageType.PRESENCE:
        this.peers.presence(message.session, message.user, message.range, message.rev);
        this.host.emit("peers", this.peers.list());
        this.host.emit("presence", message.session);
        break;
      case MessageType.JOIN:
        this.peers.join(message.session, message.user);
        this.host.emit("peers", this.peers.list());
        break;
      case MessageType.LEAVE:
        this.peers.leave(message.session);
        this.host.emit("peers", this.peers.list());
        this.host.emit("cursors");
        break;
      case MessageType.REDIRECT:
        this.transport.redirectTo(message.url);
        break;
      case MessageType.ERROR:
        this._onError(message);
        break;
      case MessageType.TITLE:
        if (typeof message.title === "string") this.host.emit("title", message.title);
        break;
      case MessageType.ACCESS: {
        this.host.setAccess(...accessOf(message));
        const labels = labelsOf(message);
        if (labels) this.host.emit("labels", labels);
        break;
      }
      case MessageType.REVIEW:
        this.host.emit("review", payloadOf(message));
        break;
      case MessageType.NOTIFY:
        this.host.emit("notify", payloadOf(message));
        break;
      case MessageType.HISTORY:
        this.host.emit("history", payloadOf(message));
        break;
      case MessageType.AUTHORS:
        if (ready) this.host.emit("authors", { rev: message.rev, runs: message.runs });
        break;
      default:
        // Unknown types are left alone: a newer server may send more.
        break;
    }
  }

  /** @param {Object} hello */
  _onHello(hello) {
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.host.stop(StopReason.PROTOCOL);
      return;
    }
    this.session = hello.session;
    this.user = hello.user || null;
    const client = this.client;
    const catchUp = Array.isArray(hello.ops) && client.revision !== null && !this._fullReload;
    if (catchUp) {
      try {
        for (const op of hello.ops) this._applyServerOp(op);
      } catch (err) {
        if (!(err instanceof RevisionGap)) throw err;
      }
      if (client.revision !== hello.rev) {
        // The catch-up does not line up: start again from the content.
        console.warn("collabdocs: catch-up ended at", client.revision, "not", hello.rev);
        this._reload(null);
        return;
      }
    } else if (Array.isArray(hello.content)) {
      if (this._fullReload || client.revision === null || hello.rev !== client.revision) {
        const initial = client.revision === null;
        this._load(hello.content, hello.rev, this._reloadMessage, initial);
      }
    } else {
      console.warn("collabdocs: hello without content or ops");
      this._reload(null);
      return;
    }
    this._fullReload = false;
    this._reloadMessage = null;
    this._sent = null;
    this.transport.established();
    this.peers.reset(hello.peers, hello.rev);
    this.host.setAccess(...accessOf(hello));
    this.host.setStatus(this.transport.online ? Status.CONNECTED : Status.OFFLINE);
    this.host.emit("hello", hello);
    this.host.emit("peers", this.peers.list());
    this._sendInflight();
    if (client.isSynchronized) this.presence.sendNow();
    this.host.emit("cursors");
  }

  /**
   * Apply one server op (broadcast or from ``hello.ops``).
   * @param {Object} op
   * @returns {Object} the OT client's result
   */
  _applyServerOp(op) {
    const inflight = this.client.inflight;
    const result = this.client.serverOp(op);
    if (result.status === "applied") {
      this._committed(op.rev, op.delta, op.user ?? null, op.authors ?? null);
      if (result.delta.ops.length) this.adapter.applyRemote(result.delta);
    } else if (result.status === "acked") {
      if (inflight) this._committed(op.rev, inflight.delta, this._myId(), null);
      this._acked();
    }
    return result;
  }

  /** @returns {number|null} the person's user id, from ``hello`` */
  _myId() {
    const id = this.user && /** @type {any} */ (this.user).id;
    return Number.isInteger(id) ? id : null;
  }

  /**
   * Tell listeners (authorship) an op was committed at ``rev``, as the
   * server applied it: someone else's op, or the person's own, acked.
   * @param {number} rev
   * @param {any} delta
   * @param {number|null} user
   * @param {Array<[number, number|null]>|null} authors  its inserts' authors
   */
  _committed(rev, delta, user, authors) {
    this.host.emit("committed", { rev, delta, user, authors });
  }

  /** @param {Object} message */
  _onOp(message) {
    let result;
    try {
      result = this._applyServerOp(message);
    } catch (err) {
      if (err instanceof RevisionGap) return this._onGap(err);
      throw err;
    }
    if (result.status === "acked") this._afterAck(result);
    this.host.emit("cursors");
  }

  /** @param {Object} message */
  _onAck(message) {
    const inflight = this.client.inflight;
    let result;
    try {
      result = this.client.serverAck(message.id, message.rev);
    } catch (err) {
      if (err instanceof RevisionGap) return this._onGap(err);
      throw err;
    }
    if (result.status === "acked") {
      if (inflight) this._committed(message.rev, inflight.delta, this._myId(), null);
      this._acked();
      this._afterAck(result);
    }
  }

  /** The op in flight was acked: the resend backoff starts again. */
  _acked() {
    this._opRetry.reset();
    this.cancelRetry();
    this._clearThrottled();
  }

  /** @param {{send: Object|null, synchronized: boolean}} result */
  _afterAck(result) {
    if (result.send) this._sendInflight();
    if (result.synchronized) this.presence.sendNow();
    this.host.emitStatus();
    this.host.emit("cursors");
  }

  /** @param {RevisionGap} err */
  _onGap(err) {
    console.warn(`collabdocs: ${err.message}; catching up`);
    this.transport.reconnectNow();
  }

  /** @param {{code: string, message?: string, id?: string, retry_after?: number}} error */
  _onError(error) {
    const inflight = this.client.inflight;
    const aboutInflight = Boolean(error.id && inflight && error.id === inflight.id);
    if (RETRY_ERRORS.has(error.code)) {
      // ``unavailable`` + ``retry_after`` without an op id comes before a
      // 4503 (no server serves the document right now): wait that long.
      if (!error.id && Number.isFinite(error.retry_after)) {
        this.transport.hintRoute(/** @type {number} */ (error.retry_after));
      }
      if (!aboutInflight) return;
      const delay = this._retryLater(error);
      if (error.code === ErrorCode.RATE_LIMITED) {
        this._throttled = true;
        this.host.emit("notice", { kind: "rate_limited", message: throttledMessage(delay), text: "" });
      }
      return;
    }
    if (error.code === ErrorCode.DENIED) return; // a close code follows
    if (!RELOAD_ERRORS.has(error.code)) {
      console.warn("collabdocs: unknown error", error);
      return;
    }
    // An error about an op no longer in flight (already acked, or dropped)
    // changes nothing.
    if (error.id && !aboutInflight) return;
    console.warn(`collabdocs: ${error.code}: ${error.message || ""}`);
    // Nothing more is taken until the reload's hello says what is allowed
    // (a viewer's edit, or a change outside the review policy).
    if (error.code === ErrorCode.FORBIDDEN) this.host.setAccess(false, false);
    this._reload(reloadMessage(error));
  }

  // -------------------------------------------------------------- outgoing

  /**
   * Send the op in flight unless it is already on this socket or waiting
   * for a retry.
   * @param {boolean} [force]  send even if already sent on this socket
   */
  _sendInflight(force = false) {
    if (!this.transport.ready || this._retryTimer !== null) return;
    const out = this.client.outgoing();
    if (!out) return;
    const ws = this.transport.ws;
    if (!force && this._sent && this._sent.id === out.id && this._sent.ws === ws) return;
    if (this.transport.send(opMessage(out))) this._sent = { id: out.id, ws };
  }

  /**
   * Resend the op in flight after ``retry_after`` or the backoff.
   * @param {{retry_after?: number}} error
   * @returns {number} the delay in ms
   */
  _retryLater(error) {
    this.cancelRetry();
    const backoff = this._opRetry.next();
    const hint = error.retry_after;
    const delay = Number.isFinite(hint) ? Math.max(/** @type {number} */ (hint), 0) : backoff;
    this._retryTimer = this.timers.setTimeout(() => {
      this._retryTimer = null;
      this._sendInflight(true);
    }, delay);
    this.host.emitStatus();
    return delay;
  }

  /** Withdraw the ``rate_limited`` notice: ops are acked again, or dropped. */
  _clearThrottled() {
    if (!this._throttled) return;
    this._throttled = false;
    this.host.emit("notice", { kind: "rate_limited", message: "", text: "" });
  }

  // ---------------------------------------------------------- state changes

  /**
   * Replace the document with the server's and drop the pending ops,
   * telling the person what could not be saved.
   *
   * @param {Array<Object>} content
   * @param {number} rev
   * @param {string|null} message
   * @param {boolean} initial  first load of the page
   */
  _load(content, rev, message, initial) {
    const dropped = this.client.reset(rev);
    this._opRetry.reset();
    this.cancelRetry();
    this._clearThrottled();
    this.adapter.loadContent(content);
    if (dropped.edits > 0 && !initial) {
      this.host.emit("notice", {
        kind: "unsaved",
        message: message || UNMERGED_MESSAGE,
        text: insertedText(dropped.delta),
        status: dropped.edits === 1 ? "Last change not saved" : `${dropped.edits} changes not saved`,
      });
    } else if (message) {
      this.host.emit("notice", { kind: "reloaded", message, text: "" });
    }
    this.host.emitStatus();
  }

  /**
   * Reload from the server state: reconnect without ``?rev=`` and load the
   * content of the ``hello``.
   * @param {string|null} message
   */
  _reload(message) {
    this._fullReload = true;
    this._reloadMessage = message;
    this.transport.reconnectNow();
  }
}
