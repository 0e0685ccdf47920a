/**
 * The document page's labels that live changes make stale, kept true
 * (templates/documents/detail.html, ids in the issue 16 contract):
 *
 * - ``#role-pill``: the person's role as the server words it, after every
 *   ``access`` frame that carries it (a role changed, a link share made
 *   direct, ownership transferred), and "No access" once the connection
 *   stopped because access or the document went;
 * - ``#doc-owner``: "you" or the owner's name; ``#owner-actions`` (the
 *   owner-only footer, "Move to trash") is shown to the owner only, so a
 *   transfer hides it on the previous owner's page and shows it on the new
 *   owner's;
 * - ``#doc-edited``: "edited <when> by <who>", from every committed op
 *   (someone else's as it arrives, the person's own once acked), with the
 *   time rewritten as it passes ("just now", then "2 minutes ago").
 *
 * After a reconnect the labels are asked for again (the share state,
 * ``GET /api/docs/<id>/share``): an ``access`` frame only follows changes
 * made while the socket was open. A failed request leaves them as they are.
 *
 * @module editor/labels
 */
import { api } from "../api.js";

/** How often the "edited … ago" text is rewritten, in ms. */
export const TICK_MS = 20_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Return "just now" or "5 minutes ago" for a time ``ms`` in the past, as
 * the server's ``ago`` filter words it on the first render (the largest
 * whole unit only).
 * @param {number} ms
 */
export function agoText(ms) {
  if (!(ms >= MINUTE)) return "just now";
  /** @type {Array<[number, string]>} */
  const units = [[365 * DAY, "year"], [30 * DAY, "month"], [7 * DAY, "week"], [DAY, "day"], [HOUR, "hour"], [MINUTE, "minute"]];
  for (const [size, name] of units) {
    const n = Math.floor(ms / size);
    if (n >= 1) return `${n}\u00a0${name}${n === 1 ? "" : "s"} ago`;
  }
  return "just now";
}

/**
 * @typedef {Object} LabelsState
 * @property {string} roleLabel
 * @property {boolean} isOwner
 * @property {string} ownerName
 */

/**
 * Keep the page's labels true; return a handle for tests and debugging.
 *
 * @param {Object} options
 * @param {HTMLElement} options.app  ``#editor-app``
 * @param {import("./connection.js").Connection} options.connection
 * @param {string} options.docId
 * @param {{id: number, name: string}} options.me  the person (the page's user)
 * @param {() => number} [options.now]
 * @returns {{edited: (user: number|null, at?: number) => void, render: () => void,
 *   setLabels: (labels: import("./dispatch.js").AccessLabels) => void}}
 */
export function installLabels({ app, connection, docId, me, now = () => Date.now() }) {
  const pill = document.getElementById("role-pill");
  const owner = document.getElementById("doc-owner");
  const ownerActions = document.getElementById("owner-actions");
  const edited = document.getElementById("doc-edited");
  const time = edited?.querySelector("time") || null;

  const parsed = time ? Date.parse(time.getAttribute("datetime") || "") : NaN;
  /** @type {{at: number|null, by: number|null, byName: string}} */
  const last = {
    at: Number.isFinite(parsed) ? parsed : null,
    by: null,
    byName: edited?.querySelector("[data-edited-by]")?.textContent || "",
  };
  /** @type {Map<number, string>} names of people, by id */
  const names = new Map([[me.id, me.name]]);
  /** @type {Set<number>} ids asked for already */
  const asked = new Set();

  /** What ``#doc-edited`` says now: typing rewrites it only when the words change. */
  let shown = "";
  const renderEdited = () => {
    if (!edited || last.at === null) return;
    const when = agoText(now() - last.at);
    const who = last.by !== null ? names.get(last.by) || "" : last.byName;
    if (`${when}\n${who}` === shown) return;
    shown = `${when}\n${who}`;
    const iso = new Date(last.at).toISOString();
    const stamp = document.createElement("time");
    stamp.dateTime = iso;
    stamp.title = new Date(last.at).toLocaleString();
    stamp.textContent = when;
    /** @type {Array<string|Node>} */
    const parts = ["edited ", stamp];
    if (who) {
      const by = document.createElement("span");
      by.dataset.editedBy = "";
      by.textContent = who;
      parts.push(" by ", by);
    }
    edited.replaceChildren(...parts);
  };

  /** @param {number} id */
  const learnName = (id) => {
    if (names.has(id) || asked.has(id)) return;
    asked.add(id);
    api(`/api/docs/${encodeURIComponent(docId)}/authors?ids=${id}`)
      .then(({ people }) => {
        for (const person of people || []) names.set(person.id, person.name);
        renderEdited();
      })
      .catch(() => {}); // the name is a nicety: the time is still right
  };

  /**
   * Record an edit by ``user`` at ``at``.
   * @param {number|null} user
   * @param {number} [at]
   */
  const edit = (user, at = now()) => {
    last.at = at;
    last.by = user;
    last.byName = "";
    if (user !== null) learnName(user);
    renderEdited();
  };

  /** @param {import("./dispatch.js").AccessLabels} labels */
  const setLabels = (labels) => {
    if (pill) {
      pill.textContent = labels.roleLabel;
      pill.dataset.role = labels.role;
    }
    if (owner) owner.textContent = labels.isOwner ? "you" : labels.owner?.name || owner.textContent;
    if (ownerActions) ownerActions.hidden = !labels.isOwner;
    app.dataset.isOwner = String(labels.isOwner);
  };

  connection.on("labels", setLabels);
  // Stopped because access or the document went: no role is left to show.
  connection.on("access", () => {
    const reason = connection.stopReason;
    if (reason !== "forbidden" && reason !== "gone") return;
    if (pill) {
      pill.textContent = "No access";
      pill.dataset.role = "none";
    }
    if (ownerActions) ownerActions.hidden = true;
  });
  connection.on("peers", (peers) => {
    for (const peer of peers || []) if (peer.user?.id) names.set(peer.user.id, peer.user.name);
  });
  connection.on("committed", ({ user }) => edit(Number.isInteger(user) ? user : null));
  connection.on("hello", () => {
    if (connection.hellos <= 1) return;
    // Changes made while the socket was down came with no ``access`` frame.
    api(`/api/docs/${encodeURIComponent(docId)}/share`)
      .then((state) => {
        const you = state?.you;
        if (!you || typeof you.role_label !== "string") return;
        setLabels({
          role: String(you.role),
          roleLabel: you.role_label,
          isOwner: you.is_owner === true,
          owner: state.owner ? { id: state.owner.id, name: state.owner.name } : null,
        });
      })
      .catch(() => {}); // the labels stay as they were until the next frame
  });
  setInterval(renderEdited, TICK_MS);

  return { edited: edit, render: renderEdited, setLabels };
}
