/**
 * The stored form of a page's unsynced changes: one record per (user,
 * document, client id), written from the OT client's state and read back
 * into it. Pure: no IndexedDB, no DOM (node tests run it).
 *
 * A record holds exactly what the OT client needs to carry on: the server
 * revision its pending ops are expressed against, the op in flight with its
 * id (so a resend is acked, never applied twice, when its first send was
 * stored) and the buffer of later changes. Invariant: ``rev`` with
 * ``inflight`` then ``buffer`` applied is what the page showed when the
 * record was written; any record the page ever wrote is a valid starting
 * point, so a write lost in a crash only loses the keystrokes after the
 * last one that landed.
 *
 * @module editor/offline/queue
 */
import Delta from "quill-delta";

import { insertedText, isClientId, isOpId } from "../protocol.js";

/** Version of the record's shape; records of another version are dropped. */
export const RECORD_VERSION = 1;

/**
 * @typedef {Object} QueueRecord
 * @property {number} v        {@link RECORD_VERSION}
 * @property {number} user     the person's user id
 * @property {string} doc      the document's public id
 * @property {string} client   the OT client id of the page that wrote it
 * @property {number} rev      server revision the ops are expressed against
 * @property {{id: string, ops: Array<Object>, edits: number}} inflight
 * @property {{ops: Array<Object>, edits: number}|null} buffer
 * @property {number} created  ms since the epoch: first unsynced change
 * @property {number} updated  ms since the epoch: last write (a heartbeat
 *   where Web Locks are missing)
 */

/**
 * @typedef {Object} RestoredQueue
 * @property {number} revision
 * @property {{id: string, delta: Delta, edits: number}} inflight
 * @property {{delta: Delta, edits: number}|null} buffer
 */

/**
 * Return the record of ``client``'s pending changes, or null when nothing
 * is pending (the record is then deleted).
 *
 * @param {import("../ot-client.js").OTClient} client
 * @param {Object} where
 * @param {number} where.user
 * @param {string} where.doc
 * @param {number} where.created  when the queue started (kept across writes)
 * @param {number} where.now
 * @returns {QueueRecord|null}
 */
export function recordOf(client, { user, doc, created, now }) {
  const inflight = client.inflight;
  if (!inflight || client.revision === null) return null;
  const buffer = client.state.buffer || null;
  return {
    v: RECORD_VERSION,
    user,
    doc,
    client: client.clientId,
    rev: client.revision,
    inflight: { id: inflight.id, ops: inflight.delta.ops, edits: inflight.edits },
    buffer: buffer ? { ops: buffer.delta.ops, edits: buffer.edits } : null,
    created,
    updated: now,
  };
}

/**
 * Return whether ``n`` is a non-negative integer.
 * @param {unknown} n
 * @returns {n is number}
 */
function isCount(n) {
  return typeof n === "number" && Number.isInteger(n) && n >= 0;
}

/**
 * Return ``ops`` as a non-empty Delta, or null when it is not a list of
 * ops quill-delta can read (the server checks the rest when they are sent).
 * @param {unknown} ops
 * @returns {Delta|null}
 */
function deltaOf(ops) {
  if (!Array.isArray(ops) || ops.length === 0) return null;
  for (const op of ops) {
    if (!op || typeof op !== "object") return null;
    const kinds = ["insert", "retain", "delete"].filter((k) => k in op);
    if (kinds.length !== 1) return null;
  }
  return new Delta(ops);
}

/**
 * Read a stored record back; null when it is not one this page can
 * restore (another version, damaged). The caller drops such records.
 *
 * @param {unknown} value
 * @returns {RestoredQueue|null}
 */
export function parseRecord(value) {
  if (!value || typeof value !== "object") return null;
  const record = /** @type {Record<string, any>} */ (value);
  if (record.v !== RECORD_VERSION || !isCount(record.rev) || !isClientId(record.client)) return null;
  const inflight = record.inflight;
  if (!inflight || !isOpId(inflight.id)) return null;
  const first = deltaOf(inflight.ops);
  if (!first) return null;
  let buffer = null;
  if (record.buffer !== null && record.buffer !== undefined) {
    const rest = deltaOf(record.buffer.ops);
    if (!rest) return null;
    buffer = { delta: rest, edits: isCount(record.buffer.edits) ? record.buffer.edits : 0 };
  }
  return {
    revision: record.rev,
    inflight: { id: inflight.id, delta: first, edits: isCount(inflight.edits) ? inflight.edits : 0 },
    buffer,
  };
}

/**
 * Return the text a record's changes insert (for the person to copy when
 * they cannot be restored).
 * @param {unknown} value
 * @returns {string}
 */
export function recordText(value) {
  const record = /** @type {Record<string, any>|null} */ (value);
  if (!record || typeof record !== "object") return "";
  let text = "";
  if (record.inflight && Array.isArray(record.inflight.ops)) text += insertedText(record.inflight.ops);
  if (record.buffer && Array.isArray(record.buffer.ops)) text += insertedText(record.buffer.ops);
  return text;
}

/**
 * Return how many edits a record carries (at least 1).
 * @param {RestoredQueue} queue
 */
export function queueEdits(queue) {
  return Math.max(1, queue.inflight.edits + (queue.buffer ? queue.buffer.edits : 0));
}

/**
 * Return the records another page left behind that this page may adopt,
 * oldest first: those of the same user and document whose page is no
 * longer alive. ``alive`` is the set of live client ids when Web Locks
 * tell it; without them (null) a record is taken as abandoned once its
 * heartbeat is older than ``staleAfter`` ms.
 *
 * @param {Array<QueueRecord>} records
 * @param {Object} options
 * @param {number} options.user
 * @param {string} options.doc
 * @param {string} options.own  this page's client id
 * @param {Set<string>|null} options.alive
 * @param {number} options.now
 * @param {number} options.staleAfter
 * @returns {Array<QueueRecord>}
 */
export function adoptable(records, { user, doc, own, alive, now, staleAfter }) {
  return records
    .filter((r) => r && r.user === user && r.doc === doc && r.client !== own)
    .filter((r) => (alive ? !alive.has(r.client) : !(now - r.updated < staleAfter)))
    .sort((a, b) => a.created - b.created || a.updated - b.updated);
}
