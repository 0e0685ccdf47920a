/**
 * "Import file…" on the documents list: a DOCX, ODT, HTML or Markdown file
 * becomes a new document (``POST /api/import``), which then opens.
 *
 * The file goes as the form's multipart ``file``; the server answers 201
 * ``{"id", "url"}`` or a refusal ``{"error", "message"}`` whose sentence
 * (too large, a zip bomb, macros, a damaged file…) is shown beside the
 * button, and nothing is created then.
 *
 * @module import-file
 */

/** Return Django's CSRF token from the form. */
function tokenOf(form) {
  const input = form.querySelector("input[name=csrfmiddlewaretoken]");
  return input instanceof HTMLInputElement ? input.value : "";
}

/**
 * Wire one import form.
 * @param {HTMLFormElement} form
 */
export function installImportForm(form) {
  const input = form.querySelector("[data-import-input]");
  const button = form.querySelector("[data-import-button]");
  const status = form.querySelector("[data-import-status]");
  if (!(input instanceof HTMLInputElement) || !(button instanceof HTMLButtonElement)) return;
  /** @param {string} message @param {boolean} [error] */
  const say = (message, error = false) => {
    if (!(status instanceof HTMLElement)) return;
    status.textContent = message;
    status.hidden = !message;
    status.classList.toggle("import-error", error);
  };
  button.addEventListener("click", () => {
    input.value = "";
    input.click();
  });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file, file.name);
    button.disabled = true;
    say(`Importing “${file.name}”…`);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": tokenOf(form) },
      });
      const data = await response.json().catch(() => null);
      if (response.status === 201 && data && typeof data.url === "string") {
        say(`Imported “${file.name}”. Opening it…`);
        window.location.assign(data.url);
        return;
      }
      const said = data && typeof data.message === "string" ? data.message : "";
      say(said || `The file couldn’t be imported (the server answered ${response.status}).`, true);
    } catch {
      say("The file couldn’t be sent: the server can’t be reached. Check your connection and try again.", true);
    } finally {
      button.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("form[data-import-form]")) {
  if (form instanceof HTMLFormElement) installImportForm(form);
}
