/**
 * The document's connection to the server, composed of three parts:
 *
 * - the transport (transport.js): one socket at a time, reconnects,
 *   redirects and the route endpoint;
 * - protocol dispatch (dispatch.js): each frame to its handler, driving
 *   the OT client (catch-up, resend, reload, the error codes);
 * - the presence sender (presence.js): the person's selection, throttled.
 *
 * This module wires them together, keeps the state shown to the person
 * (status, edit right, why it stopped) and gives the editor binding its
 * narrow port ({@link Connection#port}). The failure modes are listed in
 * each part's docstring; stopping for good (signed out, access lost,
 * document gone, another protocol version) is here: the socket and every
 * timer go, nobody is shown as present, and the notice carries the text of
 * the pending ops for the person to copy back.
 *
 * Events (``connection.on(name, handler)``): ``status`` ({status, pending,
 * retrying, restored}: ``restored`` of the pending edits came back from a
 * page closed before they were saved, see editor/offline), ``access`` ({canEdit, canComment, ready}), ``peers`` (list),
 * ``cursors``, ``presence`` (session), ``notice`` ({kind, message, text}),
 * ``title`` (string), ``hello`` (frame), ``review`` (a review frame's
 * payload: a comment thread changed), ``notify`` (a notify frame's payload:
 * a notification for the person), ``history`` (a history frame's payload:
 * a version was named, saved or restored), ``authors`` ({rev, runs}: who
 * wrote each character at ``rev``, the reply to {@link Connection#requestAuthors})
 * and ``committed`` ({rev, delta, user, authors}: an op committed at
 * ``rev``, someone else's or the person's own once acked).
 *
 * @module editor/connection
 */
import { Dispatcher } from "./dispatch.js";
import { Emitter } from "./emitter.js";
import { STOP_MESSAGES } from "./messages.js";
import { Peers } from "./peers.js";
import { PresenceSender } from "./presence.js";
import { Status, Transport } from "./transport.js";

/**
 * What the editor binding needs from the collaboration (quill-binding.js).
 *
 * @typedef {Object} EditingPort
 * @property {() => boolean} loaded  a document is loaded (changes before
 *   that are ignored)
 * @property {(delta: import("quill-delta").default) => void} submit  the
 *   person's change
 * @property {() => void} selectionChanged  the person's selection moved
 * @property {() => void} hold  hold server frames (an IME composition)
 * @property {() => void} release  handle the held frames
 * @property {() => Array<{session: string, user: Object, range: {index: number, length: number}|null}>}
 *   peerRanges  each peer's range in the local document
 */

export class Connection extends Emitter {
  /**
   * @param {Object} options
   * @param {string} options.url  absolute ws(s) URL of the document's socket
   *   on the page's origin
   * @param {string} options.routeUrl  the route endpoint
   * @param {import("./ot-client.js").OTClient} options.client
   * @param {import("./dispatch.js").EditorAdapter} options.adapter
   * @param {boolean} [options.canEdit]  what the page said, until ``hello``
   * @param {boolean} [options.canComment]  what the page said, until ``hello``
   * @param {boolean} [options.online]  whether the browser is online
   * @param {typeof WebSocket} [options.WebSocketImpl]
   * @param {typeof fetch} [options.fetchImpl]
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.timers]
   * @param {() => number} [options.random]
   * @param {() => number} [options.now]
   * @param {number} [options.presenceInterval]  ms between presence frames
   */
  constructor({
    url,
    routeUrl,
    client,
    adapter,
    canEdit = true,
    canComment = canEdit,
    online = true,
    WebSocketImpl,
    fetchImpl,
    timers = globalThis,
    random = Math.random,
    now = () => Date.now(),
    presenceInterval = 100,
  }) {
    super();
    this.client = client;
    this.canEdit = canEdit;
    this.canComment = canEdit || canComment;
    this.peers = new Peers();
    /** @type {string} one of {@link Status} */
    this.status = Status.CONNECTING;
    /** @type {string|null} */
    this.stopReason = null;
    /** @type {Array<Promise<unknown>>} what the first socket waits for */
    this._gates = [];

    this.transport = new Transport({
      url,
      routeUrl,
      online,
      WebSocketImpl,
      fetchImpl,
      timers,
      random,
      now,
      handlers: {
        revision: () => this.dispatch.revision(),
        message: (message, ws) => {
          // Local edits the editor has not reported yet come first: a server
          // op must be transformed against them, not applied under them.
          adapter.flush();
          this.dispatch.handle(message, ws);
        },
        gone: (closedByServer) => {
          this.presence.cancel();
          if (closedByServer) this.dispatch.cancelRetry();
          // Without a socket nobody is known to be here (someone may leave
          // while the server is down, unheard); the next hello says who is.
          this.peers.reset([], 0);
          this.emit("peers", this.peers.list());
          this.emit("cursors");
        },
        status: (status) => this._setStatus(status),
        stop: (reason) => this._stop(reason),
        oversized: () => this.dispatch.oversized(),
        notice: (notice) => this.emit("notice", notice),
      },
    });
    const transport = this.transport;
    this.presence = new PresenceSender({
      timers,
      now,
      interval: presenceInterval,
      port: {
        ready: () => transport.ready,
        socket: () => transport.ws,
        send: (message) => transport.send(message),
        revision: () => (client.isSynchronized ? client.revision : null),
        range: () => adapter.getRange(),
      },
    });
    this.dispatch = new Dispatcher({
      client,
      adapter,
      peers: this.peers,
      transport,
      presence: this.presence,
      timers,
      random,
      host: {
        emit: (event, ...args) => this.emit(event, ...args),
        stop: (reason) => this._stop(reason),
        setStatus: (status) => this._setStatus(status),
        emitStatus: () => this._emitStatus(),
        setAccess: (canEdit, canComment) => this._setAccess(canEdit, canComment),
      },
    });
  }

  // ------------------------------------------------------------------ public

  /**
   * Open the first socket, once everything given to {@link startAfter}
   * has settled (at once when nothing was).
   */
  start() {
    if (this._gates.length === 0) {
      this.transport.start();
      return;
    }
    Promise.allSettled(this._gates).then(() => {
      if (!this.stopReason) this.transport.start();
    });
  }

  /**
   * Open the first socket only after ``gate`` settles: the page restores
   * what a closed page left unsynced (editor/offline) into the OT client
   * before the first ``hello``, whose catch-up then carries it over.
   * @param {Promise<unknown>} gate
   */
  startAfter(gate) {
    this._gates.push(gate);
  }

  /** Close for good without telling the person (page unload, tests). */
  close() {
    this.stopReason = this.stopReason || "closed";
    this.transport.stop();
    this.dispatch.cancelRetry();
  }

  /**
   * Take a change the person made (Quill ``text-change`` with source user).
   * @param {import("quill-delta").default} delta
   */
  submit(delta) {
    if (this.stopReason) return;
    this.dispatch.submit(delta);
  }

  /**
   * Ask the server who wrote each character (the ``authors`` event answers).
   * @returns {boolean} whether the request was sent (the socket is ready)
   */
  requestAuthors() {
    if (this.stopReason || !this.transport.ready) return false;
    return this.transport.send({ type: "authors" });
  }

  /** The person's selection moved: send presence when allowed (throttled). */
  presenceChanged() {
    this.presence.changed();
  }

  /** Hold incoming frames (while an IME composition is open) until {@link resume}. */
  pause() {
    this.transport.hold();
  }

  /** Process the frames held by {@link pause}. */
  resume() {
    this.transport.release();
  }

  /**
   * Tell the connection whether the browser is online.
   * @param {boolean} online
   */
  setOnline(online) {
    this.transport.setOnline(online);
  }

  /** @returns {EditingPort} what the editor binding may call */
  get port() {
    return {
      loaded: () => this.client.revision !== null,
      submit: (delta) => this.submit(delta),
      selectionChanged: () => this.presenceChanged(),
      hold: () => this.pause(),
      release: () => this.resume(),
      peerRanges: () => this.peers.localRanges(this.client),
    };
  }

  /** Number of the person's changes not yet saved. */
  get pending() {
    return this.client.pendingEdits;
  }

  /** The current socket, if any. */
  get ws() {
    return this.transport.ws;
  }

  /** The URL of the current (or last) socket. */
  get url() {
    return this.transport.url;
  }

  /** The current socket had its ``hello``. */
  get ready() {
    return this.transport.ready;
  }

  /** Sockets that got a ``hello``, over the page's life. */
  get hellos() {
    return this.transport.hellos;
  }

  /** This connection's id, from ``hello``. */
  get session() {
    return this.dispatch.session;
  }

  /** @returns {{id: number, name: string, color: string}|null} the person, from ``hello`` */
  get user() {
    return this.dispatch.user;
  }

  // ---------------------------------------------------------- state changes

  /**
   * @param {boolean} canEdit
   * @param {boolean} canComment
   */
  _setAccess(canEdit, canComment) {
    this.canEdit = canEdit;
    this.canComment = canComment;
    this.emit("access", { canEdit, canComment, ready: this.ready || this.hellos > 0 });
  }

  /** @param {string} reason one of {@link StopReason} */
  _stop(reason) {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.transport.stop();
    this.dispatch.halt();
    this.peers.reset([], 0); // nobody is known to be here any more
    this.emit("peers", this.peers.list());
    this.emit("cursors");
    this._setStatus(Status.STOPPED);
    this.emit("access", { canEdit: false, canComment: false, ready: this.hellos > 0 });
    this.emit("notice", {
      kind: reason,
      message: STOP_MESSAGES[reason],
      text: this.dispatch.unsavedText(),
    });
  }

  /** @param {string} status */
  _setStatus(status) {
    this.status = status;
    this._emitStatus();
  }

  _emitStatus() {
    this.emit("status", {
      status: this.status,
      pending: this.client.pendingEdits,
      retrying: this.dispatch.retrying,
      // Of the pending edits, those restored from a closed page (editor/offline).
      restored: Math.min(this.client.restoredEdits, this.client.pendingEdits),
    });
  }
}
