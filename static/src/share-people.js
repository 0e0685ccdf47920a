/**
 * Autocomplete of people and groups: the share dialog's "Add people",
 * "Share with a group" and "Transfer ownership" inputs, and a team page's
 * "Add a person" input.
 *
 * Every ``<input data-people-search="people|groups" data-people-url="…">``
 * on the page becomes an ARIA 1.2 combobox with list autocomplete
 * (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/): ``role=combobox``,
 * ``aria-expanded``, ``aria-controls`` a ``role=listbox`` whose options the
 * keyboard moves through with ``aria-activedescendant`` while the focus
 * stays in the input.
 *
 * Keys: ArrowDown / ArrowUp open the list and move (wrapping); Enter on a
 * highlighted option fills the input with it and closes the list (Enter
 * with nothing highlighted submits the form as typed); Escape closes the
 * list without closing the dialog around it; Tab closes it.
 *
 * The server decides who may be found (``GET /api/people?q=``, teams/api.py)
 * and the share endpoints stay the authority: a suggestion only fills the
 * input with a username or a group's name, which the form then submits as
 * if typed. A failed search (offline, throttled) closes the list and says
 * why in the polite status; typing still works.
 *
 * @module share-people
 */
import { api } from "./api.js";

/** Wait this long after the last keystroke before asking the server. */
export const DEBOUNCE_MS = 150;

/**
 * @typedef {{id: number, username: string, name: string, email?: string}} FoundPerson
 * @typedef {{id: number, name: string}} FoundGroup
 * @typedef {{people: FoundPerson[], groups: FoundGroup[]}} Found
 * @typedef {{value: string, label: string, detail: string}} Suggestion
 */

/**
 * Turn the server's answer into the suggestions of one input (pure).
 *
 * A person fills the input with their username (what the share form
 * accepts, even for someone found by their exact email); a group with its
 * name.
 *
 * @param {"people"|"groups"} kind
 * @param {Found} found
 * @returns {Suggestion[]}
 */
export function suggestionsFor(kind, found) {
  if (kind === "groups") {
    return (found.groups || []).map((group) => ({ value: group.name, label: group.name, detail: "Your group" }));
  }
  return (found.people || []).map((person) => ({
    value: person.username,
    label: person.name,
    detail: person.email ? `${person.username} · ${person.email}` : person.username,
  }));
}

/**
 * Return the index ``step`` away from ``index`` among ``count`` options,
 * wrapping; from "none" (-1) down is the first and up the last (pure).
 *
 * @param {number} index
 * @param {number} step  +1 or -1
 * @param {number} count
 */
export function moveIndex(index, step, count) {
  if (count <= 0) return -1;
  if (index < 0) return step > 0 ? 0 : count - 1;
  return (index + step + count) % count;
}

let nextId = 0;

/** One input made a combobox; see the module's documentation. */
export class PeopleCombobox {
  /**
   * @param {HTMLInputElement} input
   * @param {{url: string, kind: "people"|"groups", search?: (url: string) => Promise<Found>}} options
   */
  constructor(input, { url, kind, search = (address) => api(address) }) {
    this.input = input;
    this.url = url;
    this.kind = kind;
    this.search = search;
    /** @type {Suggestion[]} */
    this.suggestions = [];
    this.active = -1;
    /** Answers to older queries are dropped: only the latest counts. */
    this.sequence = 0;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    /** Until when a dialog's "cancel" belongs to the Escape that closed the list. */
    this.swallowCancelUntil = 0;

    const wrapper = input.closest(".combo") || this.wrap();
    const id = input.id || `people-search-${++nextId}`;
    input.id = id;
    this.list = document.createElement("ul");
    this.list.id = `${id}-listbox`;
    this.list.className = "combo-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", kind === "groups" ? "Groups" : "People");
    this.list.hidden = true;
    this.status = document.createElement("span");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    wrapper.append(this.list, this.status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.autocomplete = "off";
    input.dataset.peopleReady = "true";

    input.addEventListener("input", () => this.schedule());
    input.addEventListener("keydown", (event) => this.onKey(event));
    input.addEventListener("blur", () => this.close());
    input.form?.addEventListener("reset", () => this.clear());
    // A click on an option must not blur the input first.
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = /** @type {Element} */ (event.target).closest("[role=option]");
      if (option instanceof HTMLElement) this.choose(Number(option.dataset.index));
    });
    const dialog = input.closest("dialog");
    dialog?.addEventListener("cancel", (event) => {
      if (Date.now() < this.swallowCancelUntil) event.preventDefault();
    });
  }

  /** Put the input in a ``.combo`` wrapper (the listbox's positioning box). */
  wrap() {
    const wrapper = document.createElement("div");
    wrapper.className = "combo";
    this.input.before(wrapper);
    wrapper.append(this.input);
    return wrapper;
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** Search once typing pauses; a blank input closes the list. */
  schedule() {
    clearTimeout(this.timer);
    const query = this.input.value.trim();
    if (!query) {
      this.sequence++;
      this.clear();
      return;
    }
    this.timer = setTimeout(() => this.fetch(query), DEBOUNCE_MS);
  }

  /** @param {string} query */
  async fetch(query) {
    const sequence = ++this.sequence;
    const address = `${this.url}?q=${encodeURIComponent(query)}`;
    let found;
    try {
      found = await this.search(address);
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.clear();
      this.status.textContent = error instanceof Error ? error.message : "";
      return;
    }
    if (sequence !== this.sequence) return;
    this.show(suggestionsFor(this.kind, found));
  }

  /** @param {Suggestion[]} suggestions */
  show(suggestions) {
    this.suggestions = suggestions;
    this.active = -1;
    this.list.replaceChildren(...suggestions.map((suggestion, index) => this.option(suggestion, index)));
    const open = suggestions.length > 0 && document.activeElement === this.input;
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", String(open));
    this.input.removeAttribute("aria-activedescendant");
    const count = suggestions.length;
    this.status.textContent = count
      ? `${count} suggestion${count === 1 ? "" : "s"}; use the arrow keys to choose.`
      : "No suggestions.";
  }

  /**
   * @param {Suggestion} suggestion
   * @param {number} index
   */
  option(suggestion, index) {
    const item = document.createElement("li");
    item.id = `${this.list.id}-${index}`;
    item.className = "combo-option";
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.dataset.index = String(index);
    item.dataset.value = suggestion.value;
    const label = document.createElement("strong");
    label.textContent = suggestion.label;
    const detail = document.createElement("span");
    detail.textContent = suggestion.detail;
    item.append(label, detail);
    return item;
  }

  /** @param {number} index  -1: none */
  highlight(index) {
    this.active = index;
    for (const item of this.list.children) {
      item.setAttribute("aria-selected", String(item.id === `${this.list.id}-${index}`));
    }
    if (index < 0) {
      this.input.removeAttribute("aria-activedescendant");
      return;
    }
    const item = /** @type {HTMLElement} */ (this.list.children[index]);
    this.input.setAttribute("aria-activedescendant", item.id);
    item.scrollIntoView({ block: "nearest" });
  }

  /** @param {number} index */
  choose(index) {
    const suggestion = this.suggestions[index];
    if (!suggestion) return;
    this.input.value = suggestion.value;
    this.close();
    this.status.textContent = `${suggestion.label} chosen.`;
    this.input.focus();
  }

  /** Hide the list (the suggestions stay for ArrowDown to reopen it). */
  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  /** Forget the suggestions and close. */
  clear() {
    clearTimeout(this.timer);
    this.suggestions = [];
    this.list.replaceChildren();
    this.status.textContent = "";
    this.close();
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (event.isComposing) return;
    const count = this.suggestions.length;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        if (!count) return;
        event.preventDefault();
        if (!this.isOpen) {
          this.list.hidden = false;
          this.input.setAttribute("aria-expanded", "true");
        }
        this.highlight(moveIndex(this.active, event.key === "ArrowDown" ? 1 : -1, count));
        return;
      }
      case "Enter":
        if (this.isOpen && this.active >= 0) {
          event.preventDefault();
          this.choose(this.active);
        }
        return;
      case "Escape":
        if (this.isOpen) {
          event.preventDefault();
          event.stopPropagation();
          this.swallowCancelUntil = Date.now() + 500;
          this.close();
        }
        return;
      case "Tab":
        this.close();
        return;
    }
  }
}

/**
 * Make every ``input[data-people-search]`` under ``root`` a combobox (once).
 *
 * @param {ParentNode} [root]
 */
export function attachPeopleSearch(root = document) {
  for (const input of root.querySelectorAll("input[data-people-search]")) {
    if (!(input instanceof HTMLInputElement) || input.dataset.peopleReady) continue;
    const url = input.dataset.peopleUrl;
    if (!url) continue;
    const kind = input.dataset.peopleSearch === "groups" ? "groups" : "people";
    new PeopleCombobox(input, { url, kind });
  }
}

if (typeof document !== "undefined") attachPeopleSearch();
