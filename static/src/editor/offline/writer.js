/**
 * Write-through of one page's queue: every state of the OT client is handed
 * to {@link QueueWriter#schedule}, and the store gets them in order.
 *
 * Writes are asynchronous (IndexedDB). At most one is under way; states
 * handed over meanwhile replace each other, so the next write carries the
 * newest one. Every record is a valid starting point (queue.js), so
 * skipping the states in between loses nothing, and the order of what is
 * written follows the order of the states: an older state never lands
 * after a newer one.
 *
 * Failure modes: a write that fails (quota, private mode, the database
 * closed under the page) is reported once through ``onFailure`` and writing
 * stops for the page's life; editing goes on unaffected. After
 * {@link QueueWriter#stop} nothing more is written (access was refused and
 * the queue dropped).
 *
 * @module editor/offline/writer
 */

/**
 * What the writer needs from the store.
 * @typedef {Object} QueueBackend
 * @property {(record: import("./queue.js").QueueRecord) => Promise<void>} put
 * @property {(key: [number, string, string]) => Promise<void>} remove
 */

/** Marks "nothing scheduled" (null means "delete the record"). */
const NOTHING = Symbol("nothing");

export class QueueWriter {
  /**
   * @param {Object} options
   * @param {QueueBackend} options.backend
   * @param {[number, string, string]} options.key  (user, document, client id)
   * @param {(err: unknown) => void} options.onFailure  told once
   */
  constructor({ backend, key, onFailure }) {
    this.backend = backend;
    this.key = key;
    this.onFailure = onFailure;
    /** @type {import("./queue.js").QueueRecord|null|typeof NOTHING} */
    this._next = NOTHING;
    /** @type {Promise<void>|null} the write under way */
    this._running = null;
    /** Writing stopped: failed or told to stop. */
    this.stopped = false;
    /** Whether the store holds a record of this page (as far as it knows). */
    this.stored = false;
    /** Writes done (for tests and the debugging handle). */
    this.writes = 0;
  }

  /**
   * Store ``record`` (null: delete this page's record) after the writes
   * already scheduled.
   * @param {import("./queue.js").QueueRecord|null} record
   */
  schedule(record) {
    if (this.stopped) return;
    // Nothing stored and nothing to store: no write at all (the common
    // case online: every ack leaves the queue empty).
    if (record === null && !this.stored && this._next === NOTHING && !this._running) return;
    this._next = record;
    if (!this._running) this._running = this._drain();
  }

  /** Resolve once every scheduled write has been done (or writing stopped). */
  async flush() {
    while (this._running) await this._running;
  }

  /** Write nothing more (the queue was dropped on purpose). */
  stop() {
    this.stopped = true;
    this._next = NOTHING;
  }

  async _drain() {
    try {
      while (this._next !== NOTHING && !this.stopped) {
        const record = this._next;
        this._next = NOTHING;
        try {
          if (record === null) await this.backend.remove(this.key);
          else await this.backend.put(record);
          this.stored = record !== null;
          this.writes += 1;
        } catch (err) {
          this.stopped = true;
          this._next = NOTHING;
          this.onFailure(err);
        }
      }
    } finally {
      this._running = null;
    }
  }
}
