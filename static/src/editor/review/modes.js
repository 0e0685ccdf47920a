/**
 * The mode switch beside the toolbar (``#mode-switch``): Editing /
 * Suggesting / Viewing, and the rewrite each mode puts on the binding.
 *
 * Editors have all three, commenters Suggesting and Viewing, viewers none
 * (the switch is hidden and the editor read-only). The choice is
 * remembered per document in localStorage; when the access changes (an
 * ``access`` frame) the mode falls back to the best one still allowed,
 * without forgetting the choice for when it is allowed again. Keys:
 * Ctrl+Alt+Shift+Z / X / C (as Google Docs).
 *
 * @module editor/review/modes
 */
import { dropForeignMarks, keepCommentMarks, minimalChange, newMark, rewriteSuggesting } from "./suggest-rewrite.js";

/** @typedef {"editing"|"suggesting"|"viewing"} Mode */
/** @typedef {import("quill-delta").default} Delta */

/** @type {Record<Mode, string>} */
const LABELS = { editing: "Editing", suggesting: "Suggesting", viewing: "Viewing" };
/** @type {Record<Mode, string>} */
const HINTS = {
  editing: "Edit the document directly",
  suggesting: "Edits become suggestions the editors accept or reject",
  viewing: "Read the document without changing it",
};

/** @type {Record<Mode, string>} */
const SHORTCUTS = { editing: "Ctrl+Alt+Shift+Z", suggesting: "Ctrl+Alt+Shift+X", viewing: "Ctrl+Alt+Shift+C" };

/**
 * Return the modes ``access`` allows, the default first.
 * @param {{canEdit: boolean, canComment: boolean}} access
 * @returns {Mode[]}
 */
export function allowedModes({ canEdit, canComment }) {
  if (canEdit) return ["editing", "suggesting", "viewing"];
  if (canComment) return ["suggesting", "viewing"];
  return [];
}

/**
 * Apply ``steps`` after ``first``: each step fixes the change so far
 * (``(old, change) => {change, correction} | null``); the corrections
 * compose in order, each from the document the one before it left.
 * @param {Delta} old
 * @param {{change: Delta, correction: Delta|null, caret: number|null, caretAfter?: number|null}} first
 * @param {Array<(old: Delta, change: Delta) => ({change: Delta, correction: Delta}|null)>} steps
 */
function chain(old, first, steps) {
  let out = first;
  for (const step of steps) {
    const fixed = step(old, out.change);
    if (!fixed) continue;
    const correction = out.correction ? out.correction.compose(fixed.correction) : fixed.correction;
    out = { ...out, change: fixed.change, correction };
  }
  return out;
}

/**
 * Return the rewrite of the binding in ``mode`` for ``userId``.
 *
 * Whatever the mode, nothing is sent that the server refuses from this
 * person: no mark in someone else's name, and for a commenter
 * (``mayEdit`` false) no comment mark taken away (an undo right after
 * commenting would).
 * @param {Mode} mode
 * @param {number} userId
 * @param {{mayEdit?: boolean}} [rights]
 * @returns {import("../quill-binding.js").Rewriter|null}
 */
export function rewriterFor(mode, userId, { mayEdit = true } = {}) {
  const foreign = (old, change) => dropForeignMarks(old, change, userId);
  const steps = mayEdit ? [foreign] : [foreign, keepCommentMarks];
  if (mode === "suggesting") {
    return (old, change, { fromHistory }) => {
      if (!fromHistory) {
        const rewritten = rewriteSuggesting(old, change, { userId, mark: () => newMark(userId) });
        return chain(old, rewritten, mayEdit ? [] : [keepCommentMarks]);
      }
      // An undo or redo: its effect, minus what this person may not send.
      return chain(old, { change: minimalChange(old, change), correction: null, caret: null }, steps);
    };
  }
  if (mode === "editing") {
    return (old, change) => {
      const out = chain(old, { change, correction: null, caret: null }, steps);
      return out.correction ? out : null;
    };
  }
  return null;
}

/**
 * Return the mode a key press asks for, or null: Ctrl+Alt+Shift+Z Editing,
 * +X Suggesting, +C Viewing (Google Docs' keys; Cmd for Ctrl on a Mac).
 * @param {{ctrlKey: boolean, metaKey: boolean, altKey: boolean, shiftKey: boolean, code: string}} event
 * @returns {Mode|null}
 */
export function modeForKey(event) {
  if (!(event.ctrlKey || event.metaKey) || !event.altKey || !event.shiftKey) return null;
  return { KeyZ: "editing", KeyX: "suggesting", KeyC: "viewing" }[event.code] ?? null;
}

export class ModeSwitch {
  /**
   * @param {Object} options
   * @param {HTMLElement|null} options.element  ``#mode-switch``
   * @param {string} options.docId
   * @param {(mode: Mode) => void} options.onChange  told the effective mode
   * @param {Storage|null} [options.storage]
   */
  constructor({ element, docId, onChange, storage = safeStorage() }) {
    this.element = element;
    this.key = `collabdocs:mode:${docId}`;
    this.onChange = onChange;
    this.storage = storage;
    /** @type {Mode[]} */
    this.allowed = [];
    /** @type {Mode} */
    this.mode = "viewing";
  }

  /** @returns {Mode|null} the person's remembered choice */
  get chosen() {
    const value = this.storage?.getItem(this.key);
    return value === "editing" || value === "suggesting" || value === "viewing" ? value : null;
  }

  /**
   * Apply the person's rights (page load, ``access`` frames).
   * @param {{canEdit: boolean, canComment: boolean}} access
   */
  setAccess(access) {
    this.allowed = allowedModes(access);
    const chosen = this.chosen;
    this._set(chosen && this.allowed.includes(chosen) ? chosen : (this.allowed[0] ?? "viewing"));
  }

  /**
   * The person picked ``mode``: remember it and apply it.
   * @param {Mode} mode
   */
  choose(mode) {
    if (!this.allowed.includes(mode)) return;
    try {
      this.storage?.setItem(this.key, mode);
    } catch {
      // Storage full or disabled: the choice lasts for this page.
    }
    this._set(mode);
  }

  /** @param {Mode} mode */
  _set(mode) {
    const changed = mode !== this.mode;
    this.mode = mode;
    this.render();
    if (changed) this.onChange(mode);
  }

  /**
   * Switch modes from the keyboard anywhere on the page ({@link modeForKey}).
   * @param {Document} doc
   */
  installKeys(doc = document) {
    doc.addEventListener("keydown", (event) => {
      const mode = modeForKey(event);
      if (!mode || !this.allowed.includes(mode)) return;
      event.preventDefault();
      this.choose(mode);
    });
  }

  /** Draw the switch: one pressed button per allowed mode. */
  render() {
    const element = this.element;
    if (!element) return;
    element.hidden = this.allowed.length === 0;
    element.setAttribute("role", "group");
    element.setAttribute("aria-label", "Mode");
    element.dataset.mode = this.mode;
    const buttons = this.allowed.map((mode) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "mode-button";
      button.dataset.mode = mode;
      button.textContent = LABELS[mode];
      button.title = `${HINTS[mode]} (${SHORTCUTS[mode]})`;
      button.setAttribute("aria-pressed", String(mode === this.mode));
      button.addEventListener("click", () => this.choose(mode));
      return button;
    });
    // Keep the keyboard focus on the switch when the pressed button is redrawn.
    const focused = element.contains(document.activeElement)
      ? /** @type {HTMLElement} */ (document.activeElement).dataset.mode
      : null;
    element.replaceChildren(...buttons);
    if (focused) buttons.find((b) => b.dataset.mode === focused)?.focus();
  }
}

/** Return localStorage, or null where the browser refuses it. */
function safeStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
