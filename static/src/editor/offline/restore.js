/**
 * Restoring what a closed page left unsynced, before this page connects.
 *
 * The stored ops are expressed against revision R (queue.js). The page
 * asks the server for the document at R (``/api/docs/<id>/timeline/content
 * ?rev=R``), shows it with the ops applied, and hands the ops to the OT
 * client ({@link OTClient#restore}); the first socket then connects with
 * ``?rev=R`` like any reconnect, so ``hello.ops`` carries every op since R:
 * the client transforms its pending ops over them, and an op carrying the
 * restored in-flight id is that op's ack (its first send was stored, its
 * ack lost), never applied twice. The in-flight op is resent under its old
 * id; the server acks it if it was stored meanwhile.
 *
 * Failure modes:
 *
 * - R can no longer be rebuilt (compacted away, 410; a revision the server
 *   does not have, 400), or the person may no longer browse it (403, 404):
 *   the record is dropped and its text shown to copy back.
 * - Signed out (401), no answer, a server error: the record stays for a
 *   later visit; this page starts without it.
 * - A damaged record (another version, not ops): dropped, its text shown.
 * - Another page took the record first ({@link IdbQueues#claim} answers
 *   null): the next candidate is tried.
 *
 * At most one record is restored per page load (the OT client carries one
 * in-flight op); when more were left behind, the person is told to reload.
 *
 * @module editor/offline/restore
 */
import Delta from "quill-delta";

import { adoptable, parseRecord, queueEdits, recordText } from "./queue.js";
import { STALE_AFTER_MS } from "./liveness.js";

/** Statuses of the content request after which the record is dropped. */
const DROP_STATUSES = new Set([400, 403, 404, 410]);

/** Raised when the content at R cannot be had now (the record stays). */
export class NotNow extends Error {}

/** Raised when the content at R will never be had (the record goes). */
export class NeverAgain extends Error {}

/** @typedef {"restored"|"none"|"later"} RestoreOutcome */

/**
 * Return the content of document ``doc`` at ``rev`` from the timeline
 * endpoint.
 * @param {typeof fetch} fetchImpl
 * @param {string} doc
 * @param {number} rev
 * @returns {Promise<Array<Object>>}
 * @throws {NotNow|NeverAgain}
 */
export async function contentAt(fetchImpl, doc, rev) {
  const url = `/api/docs/${encodeURIComponent(doc)}/timeline/content?rev=${rev}`;
  let response;
  try {
    response = await fetchImpl(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
  } catch (err) {
    throw new NotNow(`no answer: ${err}`);
  }
  if (DROP_STATUSES.has(response.status)) throw new NeverAgain(`answered ${response.status}`);
  if (!response.ok) throw new NotNow(`answered ${response.status}`);
  let data;
  try {
    data = await response.json();
  } catch {
    throw new NotNow("answer is not JSON");
  }
  // A compacted history answers the newest version before R instead.
  if (!data || data.rev !== rev || !Array.isArray(data.content)) {
    throw new NeverAgain(`revision ${rev} is no longer stored`);
  }
  return data.content;
}

/**
 * What restoring needs from the page.
 * @typedef {Object} RestoreContext
 * @property {import("./idb.js").IdbQueues} store
 * @property {import("./liveness.js").Liveness} liveness
 * @property {number} user
 * @property {string} doc
 * @property {import("../ot-client.js").OTClient} client  not loaded yet
 * @property {import("../dispatch.js").EditorAdapter} adapter
 * @property {(rev: number) => Promise<Array<Object>>} fetchContent
 * @property {(notice: {kind: string, message: string, text?: string, tone?: "info"|"warning"|"error"}) => void} tell
 * @property {() => boolean} stillInTime  false once the page stopped
 *   waiting (the connection started): nothing may be installed then
 * @property {() => number} [now]
 */

/**
 * Return the notice text when restored changes are being saved.
 * @param {number} edits
 * @param {number} more  records left for a later load
 */
export function restoredMessage(edits, more) {
  const what = edits === 1 ? "1 unsynced change" : `${edits} unsynced changes`;
  let message = `${what} from when this document was last open here came back and will be saved.`;
  if (more > 0) message += " Unsynced changes from another closed tab are kept too: reload the page to bring them back.";
  return message;
}

/** Shown with the text of stored changes that cannot be merged any more. */
export const UNRESTORABLE_MESSAGE =
  "Changes you made here earlier could not be merged into the document any more. Copy the text to keep it.";

/**
 * Restore at most one record another page of this user left behind on
 * this document.
 * @param {RestoreContext} context
 * @returns {Promise<RestoreOutcome>}
 */
export async function restoreLeftBehind(context) {
  const { store, liveness, user, doc, client, adapter, fetchContent, tell, stillInTime } = context;
  const now = context.now || (() => Date.now());
  const records = await store.list(user, doc);
  if (records.length === 0) return "none";
  const alive = await liveness.alive();
  const candidates = adoptable(records, {
    user,
    doc,
    own: client.clientId,
    alive,
    now: now(),
    staleAfter: STALE_AFTER_MS,
  });
  for (const [i, record] of candidates.entries()) {
    /** @type {[number, string, string]} */
    const key = [record.user, record.doc, record.client];
    const queue = parseRecord(record);
    if (!queue) {
      await drop(store, key, recordText(record), tell);
      continue;
    }
    let content;
    try {
      content = await fetchContent(queue.revision);
    } catch (err) {
      if (err instanceof NeverAgain) {
        await drop(store, key, recordText(record), tell);
        continue;
      }
      console.warn("collabdocs: unsynced changes kept for later:", err);
      return "later";
    }
    if (!stillInTime()) return "later";
    const taken = await store.claim(key, (old) => ({ ...old, client: client.clientId, updated: now() }));
    if (taken === null) continue; // another page adopted it first
    if (!stillInTime()) {
      // Too late to install it: give it back for a later visit.
      await store.giveBack([user, doc, client.clientId], record);
      return "later";
    }
    adapter.loadContent(content);
    const pending = queue.buffer ? queue.inflight.delta.compose(queue.buffer.delta) : queue.inflight.delta;
    adapter.applyRemote(new Delta(pending.ops));
    client.restore(queue);
    tell({
      kind: "offline_restored",
      message: restoredMessage(queueEdits(queue), candidates.length - i - 1),
      tone: "info",
    });
    return "restored";
  }
  return "none";
}

/**
 * Delete a record that can never be sent, showing its text to copy back.
 * @param {import("./idb.js").IdbQueues} store
 * @param {[number, string, string]} key
 * @param {string} text
 * @param {RestoreContext["tell"]} tell
 */
async function drop(store, key, text, tell) {
  await store.remove(key);
  if (text.trim()) tell({ kind: "offline_unrestorable", message: UNRESTORABLE_MESSAGE, text, tone: "warning" });
}
