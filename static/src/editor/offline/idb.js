/**
 * The IndexedDB side of the offline store: one database, one object store
 * of queue records (queue.js) keyed by ``[user, doc, client]``, with an
 * index on ``[user, doc]``.
 *
 * Every call returns a promise and runs in its own transaction; IndexedDB
 * runs read-write transactions on the same store in the order they were
 * made, which is what keeps the writer's order (writer.js).
 * {@link IdbQueues#claim} takes another page's record and makes it this
 * page's in one transaction, so two pages opened together cannot both
 * adopt it.
 *
 * Failure modes: IndexedDB missing (some private modes), the open refused
 * or blocked, a quota error on a write: the promise rejects and the caller
 * decides (editing never depends on it).
 *
 * @module editor/offline/idb
 */

/** Name of the database (one per origin). */
export const DB_NAME = "collabdocs-offline";
const DB_VERSION = 1;
const STORE = "queues";
const BY_DOC = "by_doc";

/**
 * Return a promise of a request's result.
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Return a promise that settles with a transaction.
 * @param {IDBTransaction} tx
 * @returns {Promise<void>}
 */
function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

export class IdbQueues {
  /** @param {IDBDatabase} db */
  constructor(db) {
    this.db = db;
  }

  /**
   * Open (and create or upgrade) the database.
   * @param {IDBFactory|undefined} [factory]
   * @returns {Promise<IdbQueues>}
   * @throws {Error} IndexedDB is missing or refuses to open
   */
  static async open(factory = globalThis.indexedDB) {
    if (!factory) throw new Error("IndexedDB is not available");
    const request = factory.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const store = db.createObjectStore(STORE, { keyPath: ["user", "doc", "client"] });
        store.createIndex(BY_DOC, ["user", "doc"]);
      }
    };
    const opened = new Promise((resolve, reject) => {
      request.onblocked = () => reject(new Error("IndexedDB open blocked"));
      done(request).then(resolve, reject);
    });
    const db = /** @type {IDBDatabase} */ (await opened);
    // Another page upgrading the database: let it, this page stops writing.
    db.onversionchange = () => db.close();
    return new IdbQueues(db);
  }

  /**
   * @param {IDBTransactionMode} mode
   * @returns {[IDBTransaction, IDBObjectStore]}
   */
  _store(mode) {
    const tx = this.db.transaction(STORE, mode);
    return [tx, tx.objectStore(STORE)];
  }

  /**
   * Store (or replace) a record.
   * @param {import("./queue.js").QueueRecord} record
   */
  async put(record) {
    const [tx, store] = this._store("readwrite");
    store.put(record);
    await committed(tx);
  }

  /**
   * Delete the record of ``key``.
   * @param {[number, string, string]} key  (user, document, client id)
   */
  async remove(key) {
    const [tx, store] = this._store("readwrite");
    store.delete(key);
    await committed(tx);
  }

  /**
   * Return every record of ``user`` on ``doc``.
   * @param {number} user
   * @param {string} doc
   * @returns {Promise<Array<any>>}
   */
  async list(user, doc) {
    const [, store] = this._store("readonly");
    return done(store.index(BY_DOC).getAll(IDBKeyRange.only([user, doc])));
  }

  /**
   * Take the record of ``from`` and store ``make(record)`` in its place,
   * in one transaction. Resolve with the record taken, or null when it was
   * gone (another page took it first); nothing is stored then.
   *
   * @param {[number, string, string]} from
   * @param {(record: any) => import("./queue.js").QueueRecord|null} make
   *   this page's record made from it (null: store nothing)
   * @returns {Promise<any>}
   */
  async claim(from, make) {
    const [tx, store] = this._store("readwrite");
    /** @type {any} */
    let taken = null;
    const request = store.get(from);
    request.onsuccess = () => {
      taken = request.result ?? null;
      if (taken === null) return;
      store.delete(from);
      const mine = make(taken);
      if (mine) store.put(mine);
    };
    await committed(tx);
    return taken;
  }

  /**
   * Undo a {@link claim} this page could not use: put ``record`` back
   * under its own key and delete this page's copy of it at ``mine``, unless
   * this page has written its own state there since (another in-flight id).
   *
   * @param {[number, string, string]} mine
   * @param {import("./queue.js").QueueRecord} record
   */
  async giveBack(mine, record) {
    const [tx, store] = this._store("readwrite");
    const request = store.get(mine);
    request.onsuccess = () => {
      const copy = request.result;
      if (copy && copy.inflight && copy.inflight.id === record.inflight.id) store.delete(mine);
      store.put(record);
    };
    await committed(tx);
  }

  /**
   * Delete every record of ``user`` on ``doc`` whose client is not in
   * ``keep``.
   * @param {number} user
   * @param {string} doc
   * @param {Set<string>} keep  client ids of live pages
   */
  async removeAll(user, doc, keep) {
    const [tx, store] = this._store("readwrite");
    const request = store.index(BY_DOC).openCursor(IDBKeyRange.only([user, doc]));
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return;
      if (!keep.has(cursor.value.client)) cursor.delete();
      cursor.continue();
    };
    await committed(tx);
  }
}
