/**
 * The find bar's elements (built here, wired in index.js): the query, the
 * "n of m" count, previous / next / close, Match case and Whole word, and
 * the replace row behind its toggle. The bar hangs under the toolbar row,
 * which is sticky, so it stays in sight wherever the person has scrolled.
 *
 * @module editor/find/bar
 */

/** 18 × 18 icons in the toolbar's style (stroke: currentColor). */
const ICONS = {
  search:
    '<svg viewBox="0 0 18 18" aria-hidden="true"><circle cx="7.5" cy="7.5" r="4.5" fill="none" stroke="currentColor" stroke-width="1.6"/>' +
    '<line x1="11" y1="11" x2="15.5" y2="15.5" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>',
  up: '<svg viewBox="0 0 18 18" aria-hidden="true"><polyline points="4 11 9 6 14 11" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>',
  down: '<svg viewBox="0 0 18 18" aria-hidden="true"><polyline points="4 7 9 12 14 7" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>',
  close:
    '<svg viewBox="0 0 18 18" aria-hidden="true"><line x1="4" y1="4" x2="14" y2="14" stroke="currentColor" stroke-width="1.6"/>' +
    '<line x1="14" y1="4" x2="4" y2="14" stroke="currentColor" stroke-width="1.6"/></svg>',
  more: '<svg viewBox="0 0 18 18" aria-hidden="true"><polyline points="6 4 11 9 6 14" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>',
};

/**
 * Return a button with an icon and an accessible name.
 * @param {string} className
 * @param {keyof typeof ICONS} icon
 * @param {string} label
 */
function iconButton(className, icon, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `find-icon ${className}`;
  button.title = label;
  button.setAttribute("aria-label", label);
  button.insertAdjacentHTML("afterbegin", ICONS[icon]);
  return button;
}

/**
 * Return a text button.
 * @param {string} className
 * @param {string} text
 */
function textButton(className, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `button button-small ${className}`;
  button.textContent = text;
  return button;
}

/**
 * Return a labelled checkbox.
 * @param {string} className
 * @param {string} text
 */
function option(className, text) {
  const label = document.createElement("label");
  label.className = `find-option ${className}`;
  const box = document.createElement("input");
  box.type = "checkbox";
  label.append(box, ` ${text}`);
  return { label, box };
}

/**
 * Return a text input.
 * @param {string} className
 * @param {string} label
 */
function textInput(className, label) {
  const input = document.createElement("input");
  input.type = "text";
  input.className = className;
  input.placeholder = label;
  input.setAttribute("aria-label", label);
  input.autocomplete = "off";
  input.spellcheck = false;
  return input;
}

/**
 * The find bar's elements.
 * @typedef {{root: HTMLElement, query: HTMLInputElement, count: HTMLElement,
 *   prev: HTMLButtonElement, next: HTMLButtonElement, close: HTMLButtonElement,
 *   toggle: HTMLButtonElement, matchCase: HTMLInputElement, wholeWord: HTMLInputElement,
 *   replaceRow: HTMLElement, replacement: HTMLInputElement, replace: HTMLButtonElement,
 *   replaceAll: HTMLButtonElement, note: HTMLElement}} Bar
 */

/**
 * Build the find bar (hidden).
 * @param {{find: string, replace: string, next: string, prev: string}} keys  the
 *   shortcuts' labels for the tooltips
 * @returns {Bar}
 */
export function buildBar(keys) {
  const root = document.createElement("div");
  root.className = "find-bar";
  root.id = "find-bar";
  root.setAttribute("role", "search");
  root.setAttribute("aria-label", "Find and replace");
  root.hidden = true;

  const toggle = iconButton("find-toggle", "more", `Show replace (${keys.replace})`);
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "find-replace-row");
  const query = textInput("find-query", "Find in document");
  query.enterKeyHint = "search";
  const count = document.createElement("span");
  count.className = "find-count";
  count.setAttribute("role", "status");
  count.setAttribute("aria-live", "polite");
  const prev = iconButton("find-prev", "up", `Previous match (${keys.prev})`);
  const next = iconButton("find-next", "down", `Next match (${keys.next})`);
  const close = iconButton("find-close", "close", "Close (Escape)");
  const findRow = document.createElement("div");
  findRow.className = "find-row";
  findRow.append(toggle, query, count, prev, next, close);

  const caseOption = option("find-match-case", "Match case");
  const wordOption = option("find-whole-word", "Whole word");
  const options = document.createElement("div");
  options.className = "find-options";
  options.append(caseOption.label, wordOption.label);

  const replacement = textInput("find-replacement", "Replace with");
  replacement.enterKeyHint = "done";
  const replace = textButton("find-replace", "Replace");
  const replaceAll = textButton("find-replace-all", "Replace all");
  const replaceRow = document.createElement("div");
  replaceRow.className = "find-row find-replace-row";
  replaceRow.id = "find-replace-row";
  replaceRow.hidden = true;
  replaceRow.append(replacement, replace, replaceAll);

  const note = document.createElement("p");
  note.className = "find-note";
  note.hidden = true;

  root.append(findRow, options, replaceRow, note);
  return {
    root,
    query,
    count,
    prev,
    next,
    close,
    toggle,
    matchCase: caseOption.box,
    wholeWord: wordOption.box,
    replaceRow,
    replacement,
    replace,
    replaceAll,
    note,
  };
}

/**
 * Build the "Find" button for the toolbar row (phones have no Ctrl+F).
 * @param {string} key  the shortcut's label
 */
export function buildOpener(key) {
  const slot = document.createElement("div");
  slot.className = "doc-row-controls find-controls";
  const button = iconButton("find-open", "search", `Find and replace (${key})`);
  button.classList.add("button", "button-quiet", "button-small");
  button.setAttribute("aria-controls", "find-bar");
  button.setAttribute("aria-expanded", "false");
  slot.append(button);
  return { slot, button };
}
