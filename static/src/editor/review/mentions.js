/**
 * The ``@`` picker of a comment box: typing ``@`` and the start of a name
 * lists the people who can see the document (``GET people?q=``, through
 * the ``search`` function it is given); arrow keys move, Enter or Tab
 * inserts ``@username``, Escape closes, a click picks.
 *
 * Accessibility: the textarea is a combobox (``aria-expanded``,
 * ``aria-controls``, ``aria-activedescendant``) over a ``listbox``.
 * Ordering: only the answer to the latest query is shown (a slow earlier
 * answer is dropped), and answers are cached per query for the box's life.
 *
 * @module editor/review/mentions
 */
import { insertMention, mentionAt } from "./text.js";

/** @typedef {{id: number, username: string, name: string}} Person */

/** Wait this long after a key before asking the server. */
const DEBOUNCE_MS = 120;

let boxes = 0;

export class MentionPicker {
  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {(query: string) => Promise<Person[]>} search
   */
  constructor(textarea, search) {
    this.textarea = textarea;
    this.search = search;
    boxes += 1;
    this.id = `mention-list-${boxes}`;
    /** @type {Map<string, Promise<Person[]>>} */
    this._cache = new Map();
    /** @type {Person[]} */
    this.people = [];
    this.activeIndex = -1;
    /** @type {{start: number, query: string}|null} */
    this._typing = null;
    this._asked = 0;
    this._timer = 0;

    this.list = document.createElement("ul");
    this.list.className = "mention-list";
    this.list.id = this.id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "People to mention");
    this.list.hidden = true;
    textarea.after(this.list);
    textarea.setAttribute("role", "combobox");
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", this.id);
    textarea.setAttribute("aria-expanded", "false");

    textarea.addEventListener("input", () => this._update());
    textarea.addEventListener("click", () => this._update());
    textarea.addEventListener("keyup", (event) => {
      if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") {
        this._update();
      }
    });
    textarea.addEventListener("keydown", (event) => this._key(event));
    textarea.addEventListener("blur", () => {
      // A click on an option keeps the focus (mousedown is cancelled).
      this.close();
    });
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const target = event.target instanceof Element ? event.target.closest("[data-index]") : null;
      if (target instanceof HTMLElement) this.choose(Number(target.dataset.index));
    });
  }

  /** Whether the list is showing. */
  get isOpen() {
    return !this.list.hidden;
  }

  /** Read the mention before the caret and ask for people (debounced). */
  _update() {
    const { value, selectionStart, selectionEnd } = this.textarea;
    this._typing = selectionStart === selectionEnd ? mentionAt(value, selectionStart) : null;
    clearTimeout(this._timer);
    if (!this._typing) {
      this.close();
      return;
    }
    const query = this._typing.query;
    this._timer = window.setTimeout(() => this._ask(query), DEBOUNCE_MS);
  }

  /** @param {string} query */
  async _ask(query) {
    const asked = ++this._asked;
    let answer = this._cache.get(query.toLowerCase());
    if (!answer) {
      answer = this.search(query);
      this._cache.set(query.toLowerCase(), answer);
      answer.catch(() => this._cache.delete(query.toLowerCase()));
    }
    let people;
    try {
      people = await answer;
    } catch (err) {
      console.warn("collabdocs: people search failed", err);
      if (asked === this._asked) this.close();
      return;
    }
    // Only the latest question's answer, and only while still typing it.
    if (asked !== this._asked || !this._typing || this._typing.query !== query) return;
    this._show(people);
  }

  /** @param {Person[]} people */
  _show(people) {
    this.people = people;
    this.activeIndex = people.length ? 0 : -1;
    this.list.replaceChildren();
    if (!people.length) {
      const empty = document.createElement("li");
      empty.className = "mention-empty";
      empty.textContent = "No one with access matches";
      this.list.append(empty);
    }
    people.forEach((person, i) => {
      const option = document.createElement("li");
      option.id = `${this.id}-${i}`;
      option.className = "mention-option";
      option.setAttribute("role", "option");
      option.dataset.index = String(i);
      option.dataset.username = person.username;
      const name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = person.name || person.username;
      const handle = document.createElement("span");
      handle.className = "mention-username";
      handle.textContent = `@${person.username}`;
      option.append(name, " ", handle);
      this.list.append(option);
    });
    this.list.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
    this._highlight();
  }

  _highlight() {
    for (const option of this.list.querySelectorAll(".mention-option")) {
      const on = option instanceof HTMLElement && Number(option.dataset.index) === this.activeIndex;
      option.setAttribute("aria-selected", String(on));
      if (on) option.scrollIntoView({ block: "nearest" });
    }
    if (this.activeIndex >= 0) this.textarea.setAttribute("aria-activedescendant", `${this.id}-${this.activeIndex}`);
    else this.textarea.removeAttribute("aria-activedescendant");
  }

  /** @param {KeyboardEvent} event */
  _key(event) {
    if (!this.isOpen) return;
    const n = this.people.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!n) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.activeIndex = (this.activeIndex + step + n) % n;
      this._highlight();
    } else if ((event.key === "Enter" || event.key === "Tab") && this.activeIndex >= 0) {
      event.preventDefault();
      event.stopPropagation();
      this.choose(this.activeIndex);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    }
  }

  /**
   * Put ``@username`` of the ``index``-th person where the mention is
   * being typed.
   * @param {number} index
   */
  choose(index) {
    const person = this.people[index];
    const typing = this._typing;
    if (!person || !typing) return;
    const { value, caret } = insertMention(
      this.textarea.value,
      typing.start,
      this.textarea.selectionStart,
      person.username,
    );
    this.textarea.value = value;
    this.textarea.setSelectionRange(caret, caret);
    this.textarea.focus();
    this.close();
    // Let the box resize and its buttons wake up, as after typing.
    this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  close() {
    clearTimeout(this._timer);
    this._asked += 1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.people = [];
    this.activeIndex = -1;
    this.textarea.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
  }
}
