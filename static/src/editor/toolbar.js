/**
 * The editor's toolbar: its controls in the order writers expect, their
 * labels (tooltips and accessible names), and building them into the page's
 * ``#toolbar`` (Quill only builds into a container of its own).
 *
 * @module editor/toolbar
 */
import { addControls } from "quill/modules/toolbar.js";

import { HEADER_LEVELS } from "./schema.js";

/** What a document writer expects, in the order they expect it. */
export const TOOLBAR = [
  ["undo", "redo"],
  [{ header: [...HEADER_LEVELS, false] }],
  ["bold", "italic", "underline", "strike"],
  [{ color: [] }, { background: [] }],
  [{ list: "ordered" }, { list: "bullet" }, { list: "check" }],
  ["blockquote", "code-block", "link"],
  ["clean"],
];

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
};

/**
 * Build the toolbar controls into ``element`` (Quill only builds into a
 * container of its own) with labels for people and screen readers.
 * @param {HTMLElement} element
 */
export function buildToolbar(element) {
  element.replaceChildren();
  addControls(element, TOOLBAR);
  for (const control of element.querySelectorAll("button, select")) {
    if (!(control instanceof HTMLButtonElement || control instanceof HTMLSelectElement)) continue;
    const name = [...control.classList].find((c) => c.startsWith("ql-"))?.slice(3);
    let label = TOOLTIPS[name];
    if (name === "list") label = { ordered: "Numbered list", bullet: "Bulleted list", check: "Checklist" }[control.value];
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
