/**
 * The text box of a comment (a new thread, a reply, an edit): a textarea
 * that grows with its text, with the ``@`` picker (mentions.js) and its
 * buttons. Ctrl+Enter sends, Escape cancels. While a send is out the box is
 * read-only; a failure shows its message under the box and keeps the text.
 * Also the two element builders the thread cards share (``el``, ``button``).
 *
 * @module editor/review/compose-box
 */
import { MentionPicker } from "./mentions.js";

/** The longest message body the API takes. */
export const BODY_MAX = 10000;

/** @typedef {import("./mentions.js").Person} Person */

/**
 * Return an element with a class and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} className
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Return a button.
 * @param {string} label
 * @param {string} className
 * @param {() => void} onClick
 */
export function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", (event) => {
    event.stopPropagation();
    onClick();
  });
  return node;
}

/**
 * A growing textarea with a mention picker, and the buttons under it.
 * @param {Object} options
 * @param {string} options.placeholder
 * @param {string} options.submitLabel
 * @param {string} [options.value]
 * @param {(query: string) => Promise<Person[]>} options.people
 * @param {(body: string) => Promise<void>} options.onSubmit  rejects with an
 *   Error whose message is for people; the text stays
 * @param {() => void} options.onCancel
 * @param {boolean} [options.buttonsAlways]  show the buttons while empty
 */
export function composer({ placeholder, submitLabel, value = "", people, onSubmit, onCancel, buttonsAlways = false }) {
  const form = el("form", "thread-compose");
  form.noValidate = true;
  const area = el("textarea", "thread-input");
  area.rows = 1;
  area.maxLength = BODY_MAX;
  area.placeholder = placeholder;
  area.setAttribute("aria-label", placeholder);
  area.value = value;
  const error = el("p", "thread-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const row = el("div", "thread-compose-buttons");
  const submit = el("button", "button button-primary button-small thread-submit", submitLabel);
  submit.type = "submit";
  const cancel = button("Cancel", "button button-quiet button-small thread-cancel", () => {
    area.value = "";
    refresh();
    error.hidden = true;
    onCancel();
  });
  row.append(cancel, submit);
  form.append(area, error, row);
  const picker = new MentionPicker(area, people);
  const refresh = () => {
    // Measuring forces a layout: only for a box with text (never while
    // hundreds of cards are being built; an empty box is one row).
    if (area.value) {
      area.style.height = "auto";
      area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
    } else {
      area.style.height = "";
    }
    const empty = !area.value.trim();
    submit.disabled = empty;
    row.hidden = empty && !buttonsAlways && document.activeElement !== area;
  };
  area.addEventListener("input", refresh);
  area.addEventListener("focus", refresh);
  area.addEventListener("blur", () => setTimeout(refresh, 150));
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && !picker.isOpen) {
      event.preventDefault();
      cancel.click();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = area.value.trim();
    if (!body || form.dataset.busy) return;
    form.dataset.busy = "true";
    area.readOnly = true;
    submit.disabled = true;
    error.hidden = true;
    try {
      await onSubmit(body);
      area.value = "";
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err);
      error.hidden = false;
    } finally {
      delete form.dataset.busy;
      area.readOnly = false;
      refresh();
    }
  });
  refresh();
  return { form, area, refresh };
}
