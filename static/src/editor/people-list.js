/**
 * Who is here: the people list in the header and the ink that reads on a
 * person's colour. Colours come from the server (documents/people.py), one
 * per person everywhere: cursors, this list, suggestions and authorship.
 *
 * The list shows a dot (the person's initial on their colour) and their
 * name; the person comes first, as "Name (you)", with the name shown on
 * hover or focus only. At most {@link SHOWN} people are listed; the others
 * are behind a "+N" button whose popover names them all. On a phone
 * (presence.css, which editor.js imports) names are shown on hover, focus or tap of a dot; every
 * entry has an aria-label. Drawing is skipped when nothing changed, so a
 * presence frame (many a second) leaves an open popover and focus alone.
 *
 * @module editor/people-list
 */
import { UNKNOWN_COLOR, peopleColors } from "./colors.js";

/** How many people are listed before the rest go behind "+N". */
export const SHOWN = 4;

/**
 * Return "#000" or "#fff", whichever reads better on ``background`` (a
 * "#rrggbb" colour). The palette's colours all take white (WCAG AA).
 * @param {string} background
 */
export function readableOn(background) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(background || "");
  if (!m) return "#fff";
  const [r, g, b] = m.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black vs with white (WCAG): pick the larger.
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#202124" : "#fff";
}

/**
 * Return the initial shown in a person's dot.
 * @param {string} name
 */
function initial(name) {
  const trimmed = (name || "?").trim();
  return (trimmed[0] || "?").toUpperCase();
}

/**
 * @typedef {Object} Person
 * @property {number} id
 * @property {string} name
 * @property {string} color  the server's colour (grey until known)
 * @property {boolean} you
 */

/**
 * Return who to list: the person first, then everyone else once per user
 * (several tabs count once), in arrival order.
 *
 * @param {{id: number, name: string, color?: string}|null} me
 * @param {Array<{user?: {id: number, name: string, color?: string}}>} peers
 * @returns {Person[]}
 */
export function peopleToList(me, peers) {
  /** @type {Person[]} */
  const people = [];
  const seen = new Set();
  if (me) {
    people.push({ id: me.id, name: me.name, color: peopleColors.draw(me.id), you: true });
    seen.add(me.id);
  }
  for (const peer of peers) {
    const user = peer.user;
    if (!user || seen.has(user.id)) continue;
    seen.add(user.id);
    const color = peopleColors.get(user.id) ?? UNKNOWN_COLOR;
    people.push({ id: user.id, name: user.name || "Someone", color, you: false });
  }
  return people;
}

/**
 * Return a person's entry: a focusable item with a dot and a name.
 * @param {Person} person
 */
function entry(person) {
  const label = person.you ? `${person.name} (you)` : person.name;
  const li = document.createElement("li");
  li.className = person.you ? "cd-person cd-person-you" : "cd-person";
  li.dataset.userId = String(person.id);
  li.tabIndex = 0; // a phone shows the name of a tapped (focused) dot
  li.title = label;
  li.setAttribute("aria-label", label);
  const dot = document.createElement("span");
  dot.className = "avatar cd-person-dot";
  dot.style.background = person.color;
  dot.style.color = readableOn(person.color);
  dot.textContent = initial(person.name);
  dot.setAttribute("aria-hidden", "true");
  const name = document.createElement("span");
  name.className = "cd-person-label";
  name.textContent = label;
  name.setAttribute("aria-hidden", "true");
  li.append(dot, name);
  return li;
}

/**
 * Return the "+N" item: a button and the popover naming the others.
 * @param {Person[]} hidden
 * @param {boolean} open
 */
function overflow(hidden, open) {
  const li = document.createElement("li");
  li.className = "cd-people-more";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cd-people-more-button";
  button.textContent = `+${hidden.length}`;
  const names = hidden.map((p) => p.name).join(", ");
  button.setAttribute("aria-label", `${hidden.length} more: ${names}`);
  button.title = names;
  button.setAttribute("aria-expanded", String(open));
  const popover = document.createElement("ul");
  popover.className = "cd-people-popover";
  popover.id = "people-more";
  popover.hidden = !open;
  popover.setAttribute("aria-label", "More people in this document");
  button.setAttribute("aria-controls", popover.id);
  popover.append(...hidden.map(entry));
  li.append(button, popover);
  return li;
}

/** @type {WeakSet<HTMLElement>} lists whose popover is wired */
const wired = new WeakSet();

/**
 * Open or close the "+N" popover of ``element``.
 * @param {HTMLElement} element
 * @param {boolean} open
 */
function setOpen(element, open) {
  const button = element.querySelector(".cd-people-more-button");
  const popover = element.querySelector(".cd-people-popover");
  if (!(button instanceof HTMLElement) || !(popover instanceof HTMLElement)) return;
  button.setAttribute("aria-expanded", String(open));
  popover.hidden = !open;
}

/**
 * Wire the popover of ``element`` once: the button toggles it, Escape and a
 * click elsewhere close it.
 * @param {HTMLElement} element
 */
function wire(element) {
  if (wired.has(element)) return;
  wired.add(element);
  element.addEventListener("click", (event) => {
    const target = /** @type {Element} */ (event.target);
    const button = target.closest?.(".cd-people-more-button");
    if (button) setOpen(element, button.getAttribute("aria-expanded") !== "true");
  });
  element.addEventListener("keydown", (event) => {
    const button = element.querySelector(".cd-people-more-button");
    if (event.key !== "Escape" || button?.getAttribute("aria-expanded") !== "true") return;
    setOpen(element, false);
    /** @type {HTMLElement} */ (button).focus();
  });
  document.addEventListener("click", (event) => {
    if (!element.contains(/** @type {Node} */ (event.target))) setOpen(element, false);
  });
}

/**
 * Render who is here into ``#people`` (see the module comment).
 *
 * ``me`` is the person (``hello.user`` once connected): their colour, as
 * the server sent it, is recorded in {@link peopleColors} here.
 *
 * @param {HTMLElement|null} element
 * @param {{id: number, name: string, color?: string}|null} me
 * @param {Array<{session: string, user: {id: number, name: string, color: string}}>} peers
 */
export function renderPeople(element, me, peers) {
  peopleColors.learn(me);
  if (!element) return;
  const people = peopleToList(me, peers);
  const signature = JSON.stringify(people);
  if (element.dataset.signature === signature) return;
  element.dataset.signature = signature;
  wire(element);
  const open = element.querySelector(".cd-people-more-button")?.getAttribute("aria-expanded") === "true";
  const shown = people.length > SHOWN ? people.slice(0, SHOWN - 1) : people;
  const hidden = people.slice(shown.length);
  const items = shown.map(entry);
  if (hidden.length) items.push(overflow(hidden, open));
  element.replaceChildren(...items);
  element.dataset.count = String(people.length);
}
