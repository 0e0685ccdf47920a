/**
 * The editor's toolbar: its controls in the order writers expect, their
 * labels (tooltips and accessible names), building them into the page's
 * ``#toolbar`` (Quill only builds into a container of its own), and the
 * "Formatting" toggle that folds them away on a phone.
 *
 * @module editor/toolbar
 */
import { addControls } from "quill/modules/toolbar.js";

import { HEADER_LEVELS } from "./schema.js";

/**
 * What a document writer expects, in the order they expect it. Groups wrap
 * as a whole (editor.css), so a narrow window breaks between them.
 * ``image`` is the images module's (editor/images: it registers the
 * handler); ``divider``, ``pagebreak`` and ``table`` the layout's
 * (editor/layout).
 */
export const TOOLBAR = [
  ["undo", "redo"],
  [{ header: [...HEADER_LEVELS, false] }, { font: [false, "serif", "monospace"] }, { size: ["small", false, "large", "huge"] }],
  ["bold", "italic", "underline", "strike"],
  [{ color: [] }, { background: [] }],
  [{ align: [] }, { indent: "-1" }, { indent: "+1" }],
  [{ list: "ordered" }, { list: "bullet" }, { list: "check" }],
  ["blockquote", "code-block", "link", "image"],
  ["table", "divider", "pagebreak"],
  ["clean"],
];

/** Icons for the controls Quill has none for (18 × 18, Quill's stroke classes). */
const ICONS = {
  divider:
    '<svg viewBox="0 0 18 18" aria-hidden="true"><line class="ql-stroke" x1="2" x2="16" y1="9" y2="9"/>' +
    '<line class="ql-stroke ql-thin" x1="5" x2="13" y1="4" y2="4" opacity=".4"/>' +
    '<line class="ql-stroke ql-thin" x1="5" x2="13" y1="14" y2="14" opacity=".4"/></svg>',
  pagebreak:
    '<svg viewBox="0 0 18 18" aria-hidden="true"><polyline class="ql-stroke" points="4 2 4 6 14 6 14 2"/>' +
    '<line class="ql-stroke" x1="2" x2="16" y1="9" y2="9" stroke-dasharray="2 2"/>' +
    '<polyline class="ql-stroke" points="4 16 4 12 14 12 14 16"/></svg>',
};

export const TOOLTIPS = {
  undo: "Undo (Ctrl+Z)",
  redo: "Redo (Ctrl+Shift+Z)",
  bold: "Bold (Ctrl+B)",
  italic: "Italic (Ctrl+I)",
  underline: "Underline (Ctrl+U)",
  strike: "Strikethrough",
  color: "Text colour",
  background: "Highlight colour",
  blockquote: "Quote",
  "code-block": "Code block",
  link: "Insert link (Ctrl+K)",
  clean: "Clear formatting",
  header: "Heading",
  font: "Font",
  size: "Font size",
  align: "Align",
  image: "Insert image",
  table: "Table",
  divider: "Horizontal line",
  pagebreak: "Page break",
};

/** Labels of the controls that differ by value. */
const VALUE_LABELS = {
  list: { ordered: "Numbered list", bullet: "Bulleted list", check: "Checklist" },
  indent: { "-1": "Decrease indent", "+1": "Increase indent" },
};

/**
 * Build the toolbar controls into ``element`` (Quill only builds into a
 * container of its own) with labels for people and screen readers.
 * @param {HTMLElement} element
 */
export function buildToolbar(element) {
  installToolbarToggle(element);
  element.replaceChildren();
  addControls(element, TOOLBAR);
  for (const control of element.querySelectorAll("button, select")) {
    if (!(control instanceof HTMLButtonElement || control instanceof HTMLSelectElement)) continue;
    const name = [...control.classList].find((c) => c.startsWith("ql-"))?.slice(3);
    if (name === undefined) continue;
    let label = TOOLTIPS[name];
    if (name in VALUE_LABELS) label = VALUE_LABELS[name][control.value];
    if (name in ICONS && control instanceof HTMLButtonElement) control.innerHTML = ICONS[name];
    if (name === "table") control.setAttribute("aria-haspopup", "dialog");
    if (label) {
      control.title = label;
      control.setAttribute("aria-label", label);
    }
  }
}

/**
 * Label the pickers Quill made of the toolbar's ``<select>``s.
 * @param {HTMLElement} element
 */
export function labelPickers(element) {
  for (const picker of element.querySelectorAll(".ql-picker")) {
    const name = [...picker.classList].find((c) => c !== "ql-picker" && c.startsWith("ql-"))?.slice(3);
    const label = picker.querySelector(".ql-picker-label");
    if (label instanceof HTMLElement && TOOLTIPS[name]) {
      label.title = TOOLTIPS[name];
      label.setAttribute("aria-label", TOOLTIPS[name]);
    }
  }
}

/**
 * Wire the toolbar row's "Formatting" toggle (``[data-toolbar-toggle]``,
 * a sibling of ``toolbar`` in detail.html) to fold the formatting controls
 * away: it sets ``data-formatting="open|closed"`` on the row and the
 * button's ``aria-expanded``. editor.css only folds them (and only shows
 * the toggle) on a narrow screen, where they start folded so the text has
 * the room; on a wider one the toolbar always shows. A page without the
 * toggle (or a second call) changes nothing.
 * @param {HTMLElement} toolbar  ``#toolbar``
 */
export function installToolbarToggle(toolbar) {
  const row = toolbar.parentElement;
  const button = row?.querySelector(":scope > [data-toolbar-toggle]");
  if (!row || !(button instanceof HTMLButtonElement) || button.dataset.wired) return;
  button.dataset.wired = "true";
  /** @param {boolean} open */
  const show = (open) => {
    row.dataset.formatting = open ? "open" : "closed";
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  show(false);
}
