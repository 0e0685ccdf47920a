/*
 * The document lists (templates/documents/list.html): stars toggle in
 * place, and the sort menu applies itself. Both are plain forms that work
 * without this script (a star's form posts and comes back; the menu has a
 * "Go" button); the script only saves the reload.
 *
 * A star that fails (offline, the document gone) keeps its old state and
 * says why in a toast.
 */
import { api } from "./api.js";
import { toast } from "./toasts.js";

/**
 * Show a star button's state.
 * @param {HTMLFormElement} form
 * @param {boolean} starred
 */
function showStar(form, starred) {
  const button = form.querySelector("[data-star]");
  const value = form.querySelector("[data-star-value]");
  if (button) {
    button.setAttribute("aria-pressed", String(starred));
    button.setAttribute("title", starred ? "Starred (click to unstar)" : "Star");
  }
  if (value instanceof HTMLInputElement) value.value = starred ? "0" : "1";
}

/**
 * Toggle one document's star without reloading the page.
 * @param {HTMLFormElement} form
 */
async function toggleStar(form) {
  const button = form.querySelector("[data-star]");
  if (!button || button.getAttribute("aria-busy") === "true") return;
  const wanted = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await api(form.action, { method: "POST", body: { starred: wanted } });
    showStar(form, Boolean(answer.starred));
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), { tone: "error" });
  } finally {
    button.removeAttribute("aria-busy");
  }
}

/** Wire the list page's stars and sort menu, if this is a list page. */
export function setUpList(doc = document) {
  doc.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("[data-star-form]")) return;
    event.preventDefault();
    toggleStar(form);
  });
  const sort = doc.querySelector("[data-list-sort]");
  const go = doc.querySelector("[data-list-sort-go]");
  if (sort instanceof HTMLSelectElement && sort.form) {
    if (go instanceof HTMLElement) go.hidden = true;
    sort.addEventListener("change", () => sort.form?.requestSubmit());
  }
}

setUpList();
