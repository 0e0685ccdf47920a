/**
 * "Insert file…" (issue 13): a DOCX, ODT, HTML or Markdown file converted
 * by the server and inserted at the cursor as the person's own change.
 *
 * The button in ``#file-controls`` opens a file picker; the file goes to
 * ``POST /api/docs/<id>/import/convert`` (multipart ``file``), which checks
 * it (size, zip bombs, macros…), stores its pictures as images of this
 * document and answers ``{"delta", "title", "warnings"}``, content already
 * inside the schema. The delta is inserted with ``quill.updateContents``
 * and source ``"user"``, so it goes through the binding like typing: the OT
 * client sends it (in pieces under the server's ops-per-change limit), undo
 * takes it back in one step, and the outgoing guard sees it too.
 *
 * The file starts on a line of its own: inserted mid-line, the line is
 * split first, keeping its formats ({@link insertionDelta}). A file whose
 * content is larger than one edit may carry, or that would make the
 * document too long, is refused by the server with a sentence shown as is;
 * so are hostile and damaged files. Only editors see the button (commenters
 * and viewers cannot change the text); the access is asked again on every
 * click, since it can change while the page is open.
 *
 * @module editor/insert-file
 */
import Delta from "quill-delta";

/** The formats the server converts (docs/office.md "Import"). */
export const ACCEPT = ".docx,.odt,.html,.htm,.md,.markdown,.txt";

/**
 * Return the change inserting ``ops`` at ``index`` in place of the
 * ``length`` characters selected.
 *
 * ``lineStart``: whether ``index`` starts a line. When it does not, a line
 * end carrying ``lineFormats`` (the current line's block formats) is put
 * first, so the text before the cursor keeps its line and the file's first
 * line is its own.
 *
 * @param {{index: number, length: number, lineStart: boolean,
 *   lineFormats: Record<string, unknown>, ops: Array<Record<string, any>>}} where
 * @returns {Delta}
 */
export function insertionDelta({ index, length, lineStart, lineFormats, ops }) {
  let change = new Delta().retain(index);
  if (length > 0) change = change.delete(length);
  if (!lineStart) {
    const formats = Object.keys(lineFormats).length ? lineFormats : undefined;
    change = change.insert("\n", formats);
  }
  return change.concat(new Delta(ops));
}

/**
 * POST the file for conversion.
 * @param {string} docId
 * @param {File} file
 * @returns {Promise<{delta: Array<Record<string, any>>, title: string, warnings: string[]}>}
 */
async function convertFile(docId, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch(`/api/docs/${encodeURIComponent(docId)}/import/convert`, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
  } catch {
    throw new Error("The file couldn’t be sent: the server can’t be reached. Check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (response.ok && data && Array.isArray(data.delta)) return data;
  const said = data && typeof data.message === "string" ? data.message : "";
  throw new Error(said || `The file couldn’t be inserted (the server answered ${response.status}).`);
}

/** Return Django's CSRF token: its cookie, else a form field on the page. */
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input instanceof HTMLInputElement ? input.value : "";
}

/**
 * Install the "Insert file…" control.
 * @param {{quill: any, app: HTMLElement, notices: any, docId: string,
 *   access: () => {canEdit: boolean, canComment: boolean}}} context
 * @returns {{button: HTMLButtonElement|null, insertFile: (file: File) => Promise<boolean>}}
 *   what the browser tests reach
 */
export function installInsertFile(context) {
  const { quill, notices, docId, access } = context;
  const slot = document.getElementById("file-controls");
  let busy = false;

  /**
   * Convert ``file`` and insert it at the cursor; resolve whether it was.
   * @param {File} file
   */
  async function insertFile(file) {
    if (!access().canEdit) {
      notices.show({ kind: "insert-file", message: "Only editors can insert files into this document.", tone: "warning" });
      return false;
    }
    if (busy) return false;
    busy = true;
    if (button) button.disabled = true;
    notices.show({ kind: "insert-file", message: `Converting “${file.name}”…`, tone: "info" });
    try {
      const { delta, warnings } = await convertFile(docId, file);
      if (!access().canEdit) throw new Error("You can no longer edit this document.");
      const range = quill.getSelection() || { index: Math.max(0, quill.getLength() - 1), length: 0 };
      const [line, offset] = quill.getLine(range.index);
      const lineFormats = line && typeof line.formats === "function" ? line.formats() : {};
      const change = insertionDelta({
        index: range.index,
        length: range.length,
        lineStart: offset === 0,
        lineFormats,
        ops: delta,
      });
      quill.updateContents(change, "user");
      quill.setSelection(change.transformPosition(range.index + range.length), 0, "silent");
      const extra = Array.isArray(warnings) && warnings.length ? ` ${warnings.join(" ")}` : "";
      notices.show({ kind: "insert-file", message: `Inserted “${file.name}”.${extra}`, tone: "info" });
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      notices.show({ kind: "insert-file", message, tone: "error" });
      return false;
    } finally {
      busy = false;
      if (button) button.disabled = false;
    }
  }

  /** @type {HTMLButtonElement|null} */
  let button = null;
  if (slot) {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = ACCEPT;
    input.hidden = true;
    input.className = "cd-insert-file-input";
    input.setAttribute("aria-hidden", "true");
    button = document.createElement("button");
    button.type = "button";
    button.className = "button cd-insert-file";
    button.textContent = "Insert file…";
    button.title = "Insert a Word (DOCX), OpenDocument (ODT), HTML or Markdown file at the cursor";
    const showFor = () => {
      if (button) button.hidden = !access().canEdit;
    };
    button.addEventListener("click", () => {
      if (!access().canEdit) {
        showFor();
        return;
      }
      input.value = "";
      input.click();
    });
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (file) insertFile(file);
    });
    slot.append(button, input);
    showFor();
    // Access can change while the page is open (a share change): the
    // button follows the editor's own read-only state.
    new MutationObserver(showFor).observe(quill.root, { attributes: true, attributeFilter: ["contenteditable"] });
  }
  return { button, insertFile };
}
