/**
 * Toasts: messages to the person that stay in view wherever the page is
 * scrolled (a fixed stack at the bottom of the window, the width of a
 * phone at most), on every page.
 *
 * One stack per page, found in the DOM (``#cd-toasts``): the editor bundle
 * and the page scripts (app.js) are separate bundles with a copy of this
 * module each, and both add to the same stack. Django's messages are
 * rendered into it by templates/_messages.html, so they are toasts before
 * any script runs; {@link adoptPageMessages} gives them their timers.
 *
 * How long a toast stays:
 *
 * - errors and warnings stay until the person dismisses them, or the code
 *   that showed them withdraws them (``dismiss(kind)``);
 * - a toast carrying text to copy back, or an action button, stays until
 *   dismissed too: it holds something the person may still need;
 * - plain info and success toasts go after {@link FADE_MS}, but never
 *   while the pointer is over them or focus is inside them (the timer
 *   starts again when both have left).
 *
 * Errors are ``role=alert`` (read out at once), the rest ``role=status``.
 * Every control in a toast is a button, so it is reachable with Tab; Escape
 * inside a toast dismisses it. Styles: static/src/toasts.css (linked by
 * templates/_messages.html), colours through app.css's custom properties.
 *
 * @module toasts
 */

/**
 * How long a plain info or success toast stays, in ms; a page (or a test)
 * may set another with ``data-fade-ms`` on the stack.
 */
export const FADE_MS = 6000;

/**
 * Return the fade delay of ``stack``: its ``data-fade-ms`` when a positive
 * number, else {@link FADE_MS}.
 * @param {HTMLElement} stack
 */
function fadeMs(stack) {
  const ms = Number(stack.dataset.fadeMs);
  return Number.isFinite(ms) && ms > 0 ? ms : FADE_MS;
}

/** @typedef {"info"|"success"|"warning"|"error"} Tone */

/**
 * @typedef {Object} ToastOptions
 * @property {string} message
 * @property {string} [kind]  a toast of the same kind replaces the previous
 * @property {Tone} [tone]
 * @property {string} [text]  text the person may want to copy back
 * @property {{href: string, label: string}|null} [link]
 * @property {{label: string, run: () => void}|null} [action]  a button
 *   (e.g. "Undo"); the toast goes once it is pressed
 * @property {string} [status]  a short phrase the page's status indicator
 *   shows while the toast is up (e.g. "Last change not saved")
 */

const TONES = new Set(["info", "success", "warning", "error"]);

/**
 * Return the page's toast stack element, made on first use.
 * @param {Document} [doc]
 * @returns {HTMLElement}
 */
export function toastStack(doc = document) {
  let stack = doc.getElementById("cd-toasts");
  if (!stack) {
    stack = doc.createElement("div");
    stack.id = "cd-toasts";
    stack.className = "cd-toasts cd-notices";
    stack.setAttribute("aria-live", "polite");
    doc.body.append(stack);
  }
  return stack;
}

/**
 * Make ``box`` go after ``ms`` unless hovered or focused; return a stop function.
 * @param {HTMLElement} box
 * @param {number} ms
 */
function fadeLater(box, ms) {
  let timer = null;
  let hovered = false;
  let focused = false;
  const arm = () => {
    clearTimeout(timer);
    if (!hovered && !focused) timer = setTimeout(() => box.remove(), ms);
  };
  box.addEventListener("mouseenter", () => { hovered = true; clearTimeout(timer); });
  box.addEventListener("mouseleave", () => { hovered = false; arm(); });
  box.addEventListener("focusin", () => { focused = true; clearTimeout(timer); });
  box.addEventListener("focusout", (event) => {
    if (box.contains(/** @type {Node|null} */ (event.relatedTarget))) return;
    focused = false;
    arm();
  });
  arm();
  return () => clearTimeout(timer);
}

/**
 * Give a toast box its close behaviour: the × button and Escape inside it.
 * @param {HTMLElement} box
 */
function closable(box) {
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      box.remove();
    }
  });
  box.addEventListener("click", (event) => {
    const target = /** @type {Element} */ (event.target);
    if (target.closest?.("[data-toast-close]")) box.remove();
  });
}

/**
 * Return the copy-back part of a toast: a label, the text read-only, and a
 * "Copy text" button.
 * @param {string} text
 * @returns {HTMLElement[]}
 */
function copyBack(text) {
  const label = document.createElement("p");
  label.className = "cd-notice-label";
  label.textContent = "Text that was not saved:";
  const area = document.createElement("textarea");
  area.className = "cd-unsaved";
  area.readOnly = true;
  area.value = text;
  area.rows = Math.min(6, Math.max(2, text.split("\n").length));
  area.setAttribute("aria-label", "Text that was not saved");
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "cd-notice-button";
  copy.textContent = "Copy text";
  copy.addEventListener("click", async () => {
    area.select();
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = "Copied";
    } catch {
      // No clipboard permission: the text is selected; the old command may still work.
      copy.textContent = document.execCommand?.("copy") ? "Copied" : "Selected: press Ctrl+C";
    }
  });
  return [label, area, copy];
}

/**
 * Show a toast in the page's stack; return it, or null when ``message`` is
 * empty (which only withdraws the toast of the same ``kind``).
 * @param {ToastOptions} options
 * @param {Document} [doc]
 * @returns {HTMLElement|null}
 */
export function showToast(
  { message, kind = "", tone = "info", text = "", link = null, action = null, status = "" },
  doc = document,
) {
  const stack = toastStack(doc);
  if (kind) dismissToast(kind, doc);
  if (!message) return null;
  if (!TONES.has(tone)) tone = "info";
  const box = doc.createElement("div");
  box.className = `cd-notice cd-toast cd-notice-${tone}`;
  if (kind) box.dataset.kind = kind;
  if (status) box.dataset.status = status;
  box.setAttribute("role", tone === "error" ? "alert" : "status");
  const body = doc.createElement("div");
  body.className = "cd-notice-body";
  const p = doc.createElement("p");
  p.textContent = message;
  body.append(p);
  if (link) {
    const a = doc.createElement("a");
    a.href = link.href;
    a.textContent = link.label;
    a.className = "cd-notice-link";
    p.append(" ", a);
  }
  if (action) {
    const button = doc.createElement("button");
    button.type = "button";
    button.className = "cd-notice-button cd-notice-action";
    button.textContent = action.label;
    button.addEventListener("click", () => {
      box.remove();
      action.run();
    });
    p.append(" ", button);
  }
  const keep = Boolean(text && text.trim());
  if (keep) body.append(...copyBack(text));
  const close = doc.createElement("button");
  close.type = "button";
  close.className = "cd-notice-close";
  close.dataset.toastClose = "";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  box.append(body, close);
  closable(box);
  stack.append(box);
  if ((tone === "info" || tone === "success") && !keep && !action) fadeLater(box, fadeMs(stack));
  return box;
}

/**
 * Withdraw the toast of ``kind``, if any.
 * @param {string} kind
 * @param {Document} [doc]
 */
export function dismissToast(kind, doc = document) {
  const stack = doc.getElementById("cd-toasts");
  for (const box of stack ? stack.querySelectorAll(".cd-toast") : []) {
    if (/** @type {HTMLElement} */ (box).dataset.kind === kind) box.remove();
  }
}

/**
 * Show ``message`` as a toast: the page scripts' way to tell the person
 * something (app.js, history.js, the teams pages).
 * @param {string} message
 * @param {{tone?: Tone, action?: {label: string, run: () => void}|null, kind?: string}} [options]
 * @returns {HTMLElement|null}
 */
export function toast(message, { tone = "info", action = null, kind = "" } = {}) {
  return showToast({ message, tone, action, kind });
}

/**
 * Give the Django messages rendered into the stack (templates/_messages.html)
 * their behaviour: dismiss buttons, Escape, and the fade of info/success.
 * Safe to call more than once (each bundle may).
 * @param {Document} [doc]
 */
export function adoptPageMessages(doc = document) {
  const stack = doc.getElementById("cd-toasts");
  if (!stack) return;
  for (const node of stack.querySelectorAll(".cd-toast[data-server]")) {
    const box = /** @type {HTMLElement} */ (node);
    delete box.dataset.server;
    closable(box);
    const tone = [...TONES].find((t) => box.classList.contains(`cd-notice-${t}`)) || "info";
    if (tone === "info" || tone === "success") fadeLater(box, fadeMs(stack));
  }
}
