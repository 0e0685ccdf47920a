/**
 * Which pages are alive: a page holds a Web Lock named after its OT client
 * id for as long as it lives, and the browser lets go of it when the page
 * goes (closed, crashed, reloaded). A record whose client's lock is not
 * held belongs to a page that is gone, and another page may adopt it;
 * a live tab's queue is never taken.
 *
 * Without Web Locks (an insecure context, e.g. plain http on a LAN
 * address) the records' heartbeat stands in: a live page rewrites its
 * record every {@link HEARTBEAT_MS}, and a record not rewritten for
 * {@link STALE_AFTER_MS} is taken as abandoned.
 *
 * @module editor/offline/liveness
 */

/** How often a live page without Web Locks rewrites its record. */
export const HEARTBEAT_MS = 5_000;

/**
 * A record older than this (without Web Locks) belongs to a page that is
 * gone. Chrome runs the timers of a tab hidden for a while once a minute
 * (intensive throttling), so a live background tab's heartbeat can be a
 * minute late: three minutes keep its queue from being taken.
 */
export const STALE_AFTER_MS = 180_000;

const PREFIX = "collabdocs-offline:";

/**
 * @typedef {Object} LockManagerLike
 * @property {(name: string, options: Object, callback: (lock: any) => Promise<void>|void) => Promise<any>} request
 * @property {() => Promise<{held?: Array<{name?: string}>}>} query
 */

export class Liveness {
  /** @param {LockManagerLike|undefined} [locks] */
  constructor(locks = /** @type {any} */ (globalThis.navigator)?.locks) {
    this.locks = locks || null;
  }

  /** Whether live pages are told by Web Locks (else by heartbeat). */
  get exact() {
    return this.locks !== null;
  }

  /**
   * Hold the lock of ``clientId`` for the page's life.
   * @param {string} clientId
   * @returns {Promise<boolean>} whether the lock is held
   */
  hold(clientId) {
    const locks = this.locks;
    if (!locks) return Promise.resolve(false);
    return new Promise((resolve) => {
      locks
        .request(PREFIX + clientId, { ifAvailable: true }, (lock) => {
          resolve(Boolean(lock));
          // Never settles: the browser releases it when the page goes.
          return lock ? new Promise(() => {}) : undefined;
        })
        .catch(() => resolve(false));
    });
  }

  /**
   * Return the client ids of the live pages, or null when Web Locks are
   * missing (the caller falls back on heartbeats).
   * @returns {Promise<Set<string>|null>}
   */
  async alive() {
    if (!this.locks) return null;
    try {
      const state = await this.locks.query();
      const names = (state.held || []).map((lock) => lock.name || "");
      return new Set(names.filter((n) => n.startsWith(PREFIX)).map((n) => n.slice(PREFIX.length)));
    } catch {
      return null;
    }
  }
}
