/**
 * Unsynced changes kept in IndexedDB, so a closed tab, a crash or a dead
 * battery loses nothing typed (issue 16; docs/offline.md).
 *
 * - Write-through: every change of the person's and every ack rewrites this
 *   page's record (writer.js), keyed by (user id, document id, OT client
 *   id); once everything is acked the record is deleted.
 * - Restore: before the first socket opens (``connection.startAfter``),
 *   a record another page of the same user left on this document, whose
 *   page is gone (liveness.js), is adopted and its changes resent
 *   (restore.js); they show as unsynced, "(restored)", until acked.
 * - Access refused for good (close 4403 / 4404): after the connection's
 *   notice (which offers the text), this page's record and the abandoned
 *   ones of this document are deleted: they would never sync. Signed out
 *   (4401) keeps them, for after signing in again.
 * - IndexedDB missing or failing: the page says once that changes are not
 *   kept offline; editing goes on.
 *
 * @module editor/offline
 */
import { StopReason } from "../messages.js";
import { IdbQueues } from "./idb.js";
import { HEARTBEAT_MS, Liveness, STALE_AFTER_MS } from "./liveness.js";
import { adoptable, recordOf } from "./queue.js";
import { contentAt, restoreLeftBehind } from "./restore.js";
import { QueueWriter } from "./writer.js";

/** Longest the first socket waits for the store and the restore. */
const RESTORE_TIMEOUT_MS = 5_000;

/** Shown once when changes cannot be kept in this browser. */
export const NOT_KEPT_MESSAGE =
  "This browser is not keeping your unsynced changes: if the page closes before they are saved, they are lost.";

/** Stop reasons after which the stored changes will never sync. */
const REFUSED = new Set([StopReason.FORBIDDEN, StopReason.GONE]);

/**
 * The handle returned by {@link installOffline} (``window.collabdocs.offline``).
 * @typedef {Object} OfflineHandle
 * @property {Promise<void>} ready  settles once the store is open and any
 *   restore is done (the connection starts after it)
 * @property {() => string} outcome  "pending", "restored", "none", "later",
 *   "unavailable" or "timeout"
 * @property {() => Promise<void>} flush  resolves once every write landed
 * @property {() => boolean} keeping  whether changes are being stored
 */

/**
 * Install the offline store for this document.
 * @param {{quill: any, app: HTMLElement, connection: import("../connection.js").Connection,
 *   client: import("../ot-client.js").OTClient, docId: string, me: {id: number, name: string},
 *   notices: {show: (notice: any) => unknown}, adapter: import("../dispatch.js").EditorAdapter,
 *   indexedDB?: IDBFactory, fetchImpl?: typeof fetch}} options
 * @returns {OfflineHandle}
 */
export function installOffline({ connection, client, docId, me, notices, adapter, ...options }) {
  const user = me.id;
  let outcome = "pending";
  /** @type {QueueWriter|null} */
  let writer = null;
  let said = false;
  const sayNotKept = () => {
    if (said) return;
    said = true;
    notices.show({ kind: "offline_store", message: NOT_KEPT_MESSAGE, tone: "info" });
  };
  const handle = {
    ready: Promise.resolve(),
    outcome: () => outcome,
    flush: async () => {
      await handle.ready;
      if (writer) await writer.flush();
    },
    keeping: () => Boolean(writer && !writer.stopped),
  };
  if (!Number.isInteger(user) || user <= 0 || !docId) {
    outcome = "none";
    return handle;
  }

  let waiting = true;
  const liveness = new Liveness();
  const setUp = async () => {
    let store;
    try {
      store = await IdbQueues.open(options.indexedDB);
    } catch (err) {
      console.warn("collabdocs: unsynced changes are not kept offline:", err);
      outcome = "unavailable";
      sayNotKept();
      return;
    }
    await liveness.hold(client.clientId);
    writer = startWriting(store, liveness, { client, user, doc: docId, onFailure: sayNotKept, connection });
    const fetchImpl = options.fetchImpl || ((...args) => globalThis.fetch(...args));
    try {
      outcome = await restoreLeftBehind({
        store,
        liveness,
        user,
        doc: docId,
        client,
        adapter,
        fetchContent: (rev) => contentAt(fetchImpl, docId, rev),
        tell: (notice) => notices.show(notice),
        stillInTime: () => waiting,
      });
    } catch (err) {
      console.warn("collabdocs: could not restore unsynced changes:", err);
      outcome = "later";
    }
  };
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      if (waiting) outcome = "timeout";
      resolve(undefined);
    }, RESTORE_TIMEOUT_MS);
  });
  handle.ready = Promise.race([setUp(), timeout]).then(() => {
    waiting = false;
    clearTimeout(timer);
  });
  connection.startAfter(handle.ready);
  return handle;
}

/**
 * Write this page's queue through on every change, keep its heartbeat
 * (without Web Locks) and drop the document's queues when access is
 * refused for good.
 * @param {IdbQueues} store
 * @param {Liveness} liveness
 * @param {{client: import("../ot-client.js").OTClient, user: number, doc: string,
 *   onFailure: () => void, connection: import("../connection.js").Connection}} options
 * @returns {QueueWriter}
 */
function startWriting(store, liveness, { client, user, doc, onFailure, connection }) {
  const writer = new QueueWriter({
    backend: store,
    key: [user, doc, client.clientId],
    onFailure: (err) => {
      console.warn("collabdocs: storing unsynced changes failed:", err);
      onFailure();
    },
  });
  /** When the current queue started (kept across its writes). */
  let created = 0;
  const write = () => {
    const now = Date.now();
    if (client.inflight === null) created = 0;
    else if (!created) created = now;
    writer.schedule(recordOf(client, { user, doc, created, now }));
  };
  // Someone else's op leaves the stored record valid (its ops are still
  // expressed against its older revision): no write for it.
  client.observe((kind) => {
    if (kind !== "server") write();
  });
  if (!liveness.exact) {
    setInterval(() => {
      if (writer.stored && !writer.stopped) write();
    }, HEARTBEAT_MS);
  }
  connection.on("notice", ({ kind }) => {
    if (!REFUSED.has(kind) || writer.stopped) return;
    writer.stop();
    dropDocument(store, liveness, user, doc, client.clientId).catch((err) => {
      console.warn("collabdocs: could not drop the refused changes:", err);
    });
  });
  return writer;
}

/**
 * Delete this page's record and the abandoned ones of the document (a live
 * tab's stays: it is told itself, and drops its own).
 * @param {IdbQueues} store
 * @param {Liveness} liveness
 * @param {number} user
 * @param {string} doc
 * @param {string} own
 */
async function dropDocument(store, liveness, user, doc, own) {
  const records = await store.list(user, doc);
  const alive = await liveness.alive();
  const gone = new Set(
    adoptable(records, { user, doc, own, alive, now: Date.now(), staleAfter: STALE_AFTER_MS }).map((r) => r.client),
  );
  gone.add(own);
  const keep = new Set(records.map((r) => r.client).filter((c) => !gone.has(c)));
  await store.removeAll(user, doc, keep);
}
