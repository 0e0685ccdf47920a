/**
 * Authorship in the editor (issue 14): who wrote each character, kept
 * current from the ops the client sees, and "Show authors".
 *
 * How the runs stay exact (runs.js holds the algebra):
 *
 * - The server's runs at a revision come in an ``authors`` frame, asked
 *   for when the toggle is turned on and after every ``hello`` (a reload or
 *   a reconnect). The frame comes in order with the ops: when it arrives the
 *   client is at exactly that revision.
 * - Every op committed after it moves them, in the server's order: someone
 *   else's op as the server sent it (with its ``authors`` when a restore
 *   put back other people's text), the person's own op once acked, as the
 *   server applied it (the OT client keeps the op in flight transformed
 *   over everything before it). A gap or an op that does not fit: ask again.
 * - What is on screen is those runs with the person's pending ops (in
 *   flight, then buffered) applied as theirs. A paste is an insert like any
 *   other, so it is the paster's.
 *
 * The overlay paints with the CSS Custom Highlight API: one ``Highlight``
 * per author (``cd-author-<id>``, ``cd-author-unknown``) holding a DOM Range
 * per run, coloured by a rule in a constructed stylesheet (the page's CSP
 * refuses inline styles) with the author's presence colour at ~35 % alpha.
 * Nothing is written into the document: exports, the undo history and the
 * other people are unaffected. Repainted on ``text-change``, debounced.
 *
 * The legend (#authors-legend) names each author with their share of the
 * text; names come from the people here, the person, and
 * ``GET /api/docs/<id>/authors?ids=`` (which also gives ``color``).
 * The toggle (#authors-control) is off by default and remembered per
 * document in localStorage.
 *
 * @module editor/authorship
 */
import { api } from "../../api.js";
import { peopleColors } from "../colors.js";
import { domPoint } from "../dom-point.js";
import { apply, fromJSON, length, shares } from "./runs.js";
import "./authorship.css";

/** Milliseconds between a change and the repaint, and the most it grows to. */
const PAINT_DELAY = 150;
const MAX_PAINT_DELAY = 2000;
/** First wait for an unanswered ``authors`` request, and the longest. */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30000;
/** Most ids asked for in one request (the endpoint's bound). */
const ASK_MAX = 50;
const UNKNOWN = "unknown";

/**
 * @param {number|null} author
 * @returns {string} the highlight's name
 */
export function highlightName(author) {
  return `cd-author-${author === null ? UNKNOWN : author}`;
}

/**
 * Return ``color`` (``#rrggbb``) at ~35 % opacity.
 * @param {string} color
 */
function translucent(color) {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}59` : "rgba(128, 128, 128, 0.35)";
}

/** The colour of text whose author is unknown (not a person's colour). */
const UNKNOWN_AUTHOR_COLOR = "#a9a9a9";

/**
 * Return the colour ``author`` is shown in: the server's colour for that
 * person (editor/colors.js; grey until it has arrived).
 * @param {number|null} author
 */
function authorColor(author) {
  return author === null ? UNKNOWN_AUTHOR_COLOR : peopleColors.draw(author);
}

/** @returns {Storage|null} */
function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * Install authorship on the editor.
 * @param {{quill: any, app: HTMLElement, connection: any, client: any,
 *   me: {id: number, name: string}, docId: string}} context
 * @returns {object} what the browser tests and window.collabdocs.authorship reach
 */
export function installAuthorship(context) {
  const { quill, connection, client, me, docId } = context;
  const control = document.getElementById("authors-control");
  const legend = document.getElementById("authors-legend");
  const key = `collabdocs:authors:${docId}`;
  const supported = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight === "function";

  /** @type {Array<[number, number|null]>|null} the server's runs at ``serverRev`` */
  let serverRuns = null;
  let serverRev = -1;
  let enabled = false;
  let asked = false;
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;
  /** @type {Map<number, {name: string}>} names; colours are editor/colors.js's */
  const people = new Map([[me.id, { name: me.name }]]);
  /** @type {Set<number>} */
  const askedNames = new Set();
  /** @type {Set<string>} highlight names painted */
  const painted = new Set();
  /** @type {Map<string, string>} highlight name → the colour of its rule */
  const ruled = new Map();
  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

  /** @type {ReturnType<typeof setTimeout>|null} */
  let retry = null;
  let retryDelay = RETRY_FIRST_MS;
  // An unanswered request (refused as rate_limited: building a large reply
  // is charged to the socket's CPU budget; or lost with its socket) is
  // sent again after a growing pause while the runs are still wanted.
  const request = () => {
    serverRuns = null;
    asked = connection.requestAuthors();
    if (retry !== null) clearTimeout(retry);
    retry = setTimeout(() => {
      retry = null;
      if (enabled && serverRuns === null) {
        retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
        request();
      }
    }, retryDelay);
  };

  connection.on("hello", () => {
    if (enabled) request();
  });
  connection.on("authors", (/** @type {{rev: number, runs: unknown}} */ frame) => {
    if (!enabled) return;
    asked = false;
    if (frame.rev !== client.revision) {
      console.warn("collabdocs: authors at", frame.rev, "while at", client.revision);
      return;
    }
    try {
      serverRuns = fromJSON(frame.runs);
      serverRev = frame.rev;
      retryDelay = RETRY_FIRST_MS;
    } catch (err) {
      console.warn("collabdocs: malformed authors frame", err);
      serverRuns = null;
      return;
    }
    schedule();
  });
  connection.on("committed", (/** @type {any} */ op) => {
    if (!enabled || serverRuns === null) return;
    if (op.rev <= serverRev) return;
    try {
      if (op.rev !== serverRev + 1) throw new RangeError(`gap: ${serverRev} to ${op.rev}`);
      const named = op.authors ? fromJSON(op.authors) : null;
      serverRuns = apply(serverRuns, op.delta, op.user, named);
      serverRev = op.rev;
    } catch (err) {
      console.warn("collabdocs: authorship lost step; asking again", err);
      request();
    }
  });
  connection.on("peers", (/** @type {Array<any>} */ list) => {
    for (const peer of list) {
      const user = peer.user;
      if (user && Number.isInteger(user.id) && user.id > 0) {
        people.set(user.id, { name: user.name });
      }
    }
  });
  // A colour learned after painting (the person's own at hello, an absent
  // author's from the authors API): repaint in it.
  peopleColors.onLearn(() => {
    if (enabled) schedule();
  });
  quill.on("text-change", () => {
    if (enabled) schedule();
  });

  /**
   * Return the runs of what is on screen, or null while not known.
   * @returns {Array<[number, number|null]>|null}
   */
  function screenRuns() {
    if (serverRuns === null || serverRev !== client.revision) return null;
    let runs = serverRuns;
    try {
      for (const pending of client.state.pending) runs = apply(runs, pending.delta, me.id);
    } catch {
      return null;
    }
    return length(runs) === quill.getLength() ? runs : null;
  }

  function schedule() {
    if (timer !== null) return;
    // A repaint makes a Range per run: on a document of many thousands of
    // runs, wait longer between repaints so typing stays smooth.
    const runs = serverRuns ? serverRuns.length : 0;
    timer = setTimeout(
      () => {
        timer = null;
        paint();
      },
      Math.min(MAX_PAINT_DELAY, PAINT_DELAY + runs / 20),
    );
  }

  /** @param {number|null} author */
  function ensureRule(author) {
    const name = highlightName(author);
    const color = authorColor(author);
    const had = ruled.get(name);
    if (had === color) return;
    if (had !== undefined) {
      // The person's colour arrived after the rule was made (grey): replace it.
      const at = [...sheet.cssRules].findIndex((rule) => rule.cssText.includes(`::highlight(${name})`));
      if (at >= 0) sheet.deleteRule(at);
    }
    ruled.set(name, color);
    // Screen only: a printout is the document, not who wrote it.
    sheet.insertRule(
      `@media screen { ::highlight(${name}) { background-color: ${translucent(color)}; } }`,
      sheet.cssRules.length,
    );
  }

  function clearHighlights() {
    if (!supported) return;
    for (const name of painted) CSS.highlights.delete(name);
    painted.clear();
  }

  function paint() {
    if (!enabled) return;
    const runs = screenRuns();
    if (runs === null) {
      if (serverRuns === null && !asked) request();
      return;
    }
    drawLegend(runs);
    if (!supported) return;
    /** @type {Map<string, Range[]>} */
    const ranges = new Map();
    let pos = 0;
    const total = quill.getLength() - 1; // the final newline has no text
    for (const [count, author] of runs) {
      const start = pos;
      const end = Math.min(pos + count, total);
      pos += count;
      if (end <= start) continue;
      const from = domPoint(quill, start);
      const to = domPoint(quill, end);
      if (!from || !to) continue;
      const range = new Range();
      try {
        range.setStart(from[0], from[1]);
        range.setEnd(to[0], to[1]);
      } catch {
        continue;
      }
      const name = highlightName(author);
      ensureRule(author);
      let list = ranges.get(name);
      if (!list) ranges.set(name, (list = []));
      list.push(range);
    }
    for (const name of painted) if (!ranges.has(name)) CSS.highlights.delete(name);
    painted.clear();
    for (const [name, list] of ranges) {
      CSS.highlights.set(name, new Highlight(...list));
      painted.add(name);
    }
  }

  /** @param {Array<[number, number|null]>} runs */
  function drawLegend(runs) {
    if (!legend) return;
    const counts = shares(runs);
    const total = Math.max(1, length(runs) - 1);
    // The final newline is nobody's text: leave it out of the shares.
    const last = runs[runs.length - 1];
    if (last) counts.set(last[1], (counts.get(last[1]) || 0) - 1);
    askNames(
      [...counts.keys()].filter(
        /** @returns {id is number} */ (id) => id !== null && !people.has(id),
      ),
    );
    const rows = [...counts.entries()]
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1]);
    legend.replaceChildren();
    const title = document.createElement("p");
    title.className = "authors-legend-title";
    title.textContent = "Authors";
    const list = document.createElement("ul");
    for (const [author, count] of rows) {
      const item = document.createElement("li");
      item.dataset.author = author === null ? UNKNOWN : String(author);
      const swatch = document.createElement("span");
      swatch.className = "authors-swatch";
      swatch.style.backgroundColor = translucent(authorColor(author));
      const name = document.createElement("span");
      name.className = "authors-name";
      name.textContent =
        author === null ? "Unknown" : author === me.id ? `${me.name} (you)` : (people.get(author)?.name ?? "Someone");
      const share = document.createElement("span");
      share.className = "authors-share";
      share.textContent = `${Math.round((count * 100) / total)} %`;
      item.append(swatch, name, share);
      list.append(item);
    }
    legend.append(title, list);
    legend.hidden = false;
  }

  /** @param {number[]} ids */
  function askNames(ids) {
    const unknown = ids.filter((id) => !askedNames.has(id)).slice(0, ASK_MAX);
    if (!unknown.length) return;
    for (const id of unknown) askedNames.add(id);
    api(`/api/docs/${encodeURIComponent(docId)}/authors?ids=${unknown.join(",")}`)
      .then((/** @type {any} */ reply) => {
        for (const person of reply?.people || []) {
          people.set(person.id, { name: person.name });
          peopleColors.learn(person);
        }
        schedule();
      })
      .catch(() => {}); // names are a nicety: "Someone" until known
  }

  /** @type {HTMLButtonElement|null} */
  let button = null;
  if (control) {
    button = document.createElement("button");
    button.type = "button";
    button.className = "authors-toggle";
    button.id = "authors-toggle";
    button.textContent = "Show authors";
    button.setAttribute("aria-pressed", "false");
    if (!supported) {
      button.disabled = true;
      button.title = "This browser cannot colour text by author (no CSS Custom Highlight API).";
    }
    button.addEventListener("click", () => setEnabled(!enabled));
    control.append(button);
  }

  /** @param {boolean} on */
  function setEnabled(on) {
    enabled = on;
    button?.setAttribute("aria-pressed", String(on));
    const store = storage();
    try {
      if (on) store?.setItem(key, "1");
      else store?.removeItem(key);
    } catch {
      // Private mode: not remembered, still shown.
    }
    if (on) {
      request();
    } else {
      serverRuns = null;
      clearHighlights();
      if (legend) {
        legend.hidden = true;
        legend.replaceChildren();
      }
    }
  }

  if (storage()?.getItem(key) === "1" && supported) setEnabled(true);

  return {
    context,
    setEnabled,
    get enabled() {
      return enabled;
    },
    /** @returns {Array<[number, number|null]>|null} the runs of the screen */
    runs: screenRuns,
    paint,
  };
}
