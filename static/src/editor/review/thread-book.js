/**
 * The threads of the open document as the browser knows them: loaded with
 * ``GET threads`` (after every ``hello``, so a reconnect catches up) and
 * kept current by the ``review`` frames (contract §5: ``{"event":
 * "thread", "thread"}`` and ``{"event": "thread_removed", "id"}``).
 *
 * Ordering. A load and the live frames race: a frame may arrive while the
 * list is on its way. Frames received during a load are kept and applied
 * again, in order, on top of the loaded list; each frame carries the whole
 * thread, so replaying them can only bring a thread forward to what the
 * last frame said. Frames before the load started are superseded by it.
 *
 * The answer to this person's own request (a reply, a resolve) races the
 * frames the same way: a frame about the thread that arrives while the
 * request is out may be another person's later change. So an answer is
 * applied only when no frame touched its thread since the request left
 * ({@link ThreadBook#version}); otherwise the frame of this person's own
 * change, which every change sends, brings the thread up to date.
 *
 * Pure (no DOM): node tests cover it.
 *
 * @module editor/review/thread-book
 */
import { THREAD_ID } from "./anchors.js";

/**
 * @typedef {{id: number, name: string}} Person
 * @typedef {{id: number, author: Person|null, body: string, created_at: string,
 *   edited_at: string|null, removed: boolean}} Message
 * @typedef {{id: string, quote: string, created_by: Person|null, created_at: string,
 *   resolved: boolean, resolved_by: Person|null, resolved_at: string|null,
 *   messages: Message[]}} Thread
 * @typedef {{kind: "thread", thread: Thread} | {kind: "removed", id: string}} Change
 */

/**
 * Return the review margin's key of thread ``id``.
 * @param {string} id
 */
export function threadKey(id) {
  return `thread:${id}`;
}

/**
 * Return the thread id of a margin key, or null for other cards.
 * @param {string|null} key
 */
export function threadOfKey(key) {
  return key && key.startsWith("thread:") ? key.slice(7) : null;
}

/**
 * Return ``value`` as a thread if it has the shape the API sends, else null.
 * @param {any} value
 * @returns {Thread|null}
 */
export function asThread(value) {
  if (!value || typeof value !== "object") return null;
  if (typeof value.id !== "string" || !THREAD_ID.test(value.id)) return null;
  if (!Array.isArray(value.messages)) return null;
  const messages = value.messages.filter(
    (/** @type {any} */ m) => m && typeof m === "object" && Number.isInteger(m.id) && typeof m.body === "string",
  );
  return {
    ...value,
    quote: typeof value.quote === "string" ? value.quote : "",
    resolved: value.resolved === true,
    messages,
  };
}

/**
 * Return the change a ``review`` frame's payload describes, or null when
 * it is not about comment threads (suggestion events) or malformed.
 * @param {any} payload
 * @returns {Change|null}
 */
export function changeOf(payload) {
  if (!payload || typeof payload !== "object") return null;
  if (payload.event === "thread") {
    const thread = asThread(payload.thread);
    return thread ? { kind: "thread", thread } : null;
  }
  if (payload.event === "thread_removed" && typeof payload.id === "string") {
    return { kind: "removed", id: payload.id };
  }
  return null;
}

export class ThreadBook {
  constructor() {
    /** @type {Map<string, Thread>} */
    this.threads = new Map();
    /** @type {Change[]|null} frames received during a load; null when none runs */
    this._during = null;
    this.loaded = false;
    /** @type {Map<string, number>} frames applied per thread id */
    this._frames = new Map();
  }

  /**
   * Return how many frames have touched thread ``id`` so far: take it
   * before a request, compare after (see the module's ordering notes).
   * @param {string} id
   */
  version(id) {
    return this._frames.get(id) ?? 0;
  }

  /**
   * Apply a frame's change (see {@link ThreadBook#apply}) and count it.
   * @param {Change} change
   * @returns {string}
   */
  applyFrame(change) {
    const id = change.kind === "thread" ? change.thread.id : change.id;
    this._frames.set(id, this.version(id) + 1);
    return this.apply(change);
  }

  /**
   * Apply the answer to a request that left when the thread's
   * {@link ThreadBook#version} was ``version``; return whether it was
   * applied (false: a frame came in between, and frames decide).
   * @param {Thread} thread
   * @param {number} version
   */
  applyAnswer(thread, version) {
    if (this.version(thread.id) !== version) return false;
    this.apply({ kind: "thread", thread });
    return true;
  }

  /** Note that a load is starting: frames from now on are kept for it. */
  beginLoad() {
    this._during = [];
  }

  /**
   * Replace the threads with a loaded list, then replay the frames that
   * arrived during the load. Return the ids whose thread changed, appeared
   * or disappeared.
   * @param {any[]} list
   * @returns {Set<string>}
   */
  finishLoad(list) {
    const before = this.threads;
    this.threads = new Map();
    for (const item of list) {
      const thread = asThread(item);
      if (thread) this.threads.set(thread.id, thread);
    }
    const replay = this._during || [];
    this._during = null;
    this.loaded = true;
    for (const change of replay) this._apply(change);
    const touched = new Set([...before.keys(), ...this.threads.keys()]);
    for (const id of [...touched]) {
      const old = before.get(id);
      const now = this.threads.get(id);
      if (old && now && JSON.stringify(old) === JSON.stringify(now)) touched.delete(id);
    }
    return touched;
  }

  /** Forget a load that failed (frames keep applying as they come). */
  abandonLoad() {
    this._during = null;
  }

  /**
   * Apply one change; return the id it touched. Changes applied during a
   * load are replayed over the loaded list.
   * @param {Change} change
   * @returns {string}
   */
  apply(change) {
    if (this._during) this._during.push(change);
    return this._apply(change);
  }

  /** @param {Change} change */
  _apply(change) {
    if (change.kind === "thread") {
      this.threads.set(change.thread.id, change.thread);
      return change.thread.id;
    }
    this.threads.delete(change.id);
    return change.id;
  }

  /** @param {string} id */
  get(id) {
    return this.threads.get(id) ?? null;
  }

  /** The number of resolved threads. */
  resolvedCount() {
    let n = 0;
    for (const thread of this.threads.values()) if (thread.resolved) n += 1;
    return n;
  }
}
