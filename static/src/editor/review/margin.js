/**
 * The review margin: cards (comment threads, suggestions) beside the text
 * they are about, in ``<aside id="review-margin">`` next to ``.doc-paper``.
 *
 * Contract (issue 12, §7): ``new Margin(quill, element)``; ``put(key,
 * card, anchor)`` shows ``card`` beside ``anchor()`` (``{index, length}``
 * in the text, or null: detached, listed after the anchored cards);
 * ``remove(key)``; ``activate(key)`` highlights the card, scrolls it into
 * view and emits ``"activate"`` (key, {source}); ``layout()`` places the
 * cards by anchor without overlap (margin-layout.js). Keys are
 * ``thread:<id>`` and ``suggestion:<mark>``. A card with ``hidden`` set
 * takes no place.
 *
 * Layout. On a wide screen the margin is a column beside the paper
 * (comments.css); each card is absolutely placed at its anchor's height in
 * the margin's own coordinates (the difference of two client rectangles,
 * so scrolling does not matter). Narrower than ``NARROW_QUERY`` the margin
 * is a panel the person opens with a toggle in the toolbar row: a sheet at
 * the bottom of the window, the canvas padded by its height so every line
 * of the text can still be scrolled above it; the cards are a list in
 * anchor order.
 *
 * Relayout happens at most once per animation frame, after a text change
 * (anchors move because they are content), a resize of the window, of the
 * text or of any card (a reply box opening). All measuring is done before
 * any card moves, so a relayout forces one browser layout, not one per
 * card; anchors are found in one walk over the lines (see ``_measure``).
 *
 * Activation from the text: sources of cards register
 * ``findWith(index => key | null)``; when the person's cursor moves (or,
 * in a read-only editor, they click the text), the first key found is
 * activated (source ``"text"``); a cursor outside every card's text
 * deactivates. Clicking inside a card, or tabbing into it, activates it
 * (source ``"card"``); a button's own click does its job without.
 *
 * @module editor/review/margin
 */
import { Emitter } from "../emitter.js";
import { marginOrder, placeCards } from "./margin-layout.js";

/** Below this width the margin is a panel behind a toggle. */
export const NARROW_QUERY = "(max-width: 899px)";

/** Space kept between two cards, in CSS pixels. */
const GAP = 8;

/** A caret move this soon after a pointer press on the text is a click. */
const POINTER_MS = 800;

/** A line taller than this (px) wraps: place a card at its anchor's own spot. */
const WRAPPED_LINE = 48;

/**
 * @typedef {{index: number, length: number}} Anchor
 * @typedef {{card: HTMLElement, anchor: () => (Anchor|null)}} Entry
 */

export class Margin extends Emitter {
  /**
   * @param {any} quill  the editor (Quill 2)
   * @param {HTMLElement} element  ``#review-margin``
   */
  constructor(quill, element) {
    super();
    this.quill = quill;
    this.element = element;
    /** @type {Map<string, Entry>} */
    this._entries = new Map();
    /** @type {string|null} */
    this._active = null;
    /** @type {Array<(index: number) => (string|null)>} */
    this._finders = [];
    this._frame = 0;
    this._narrow = window.matchMedia(NARROW_QUERY);

    element.classList.add("review-margin");
    this.head = document.createElement("div");
    this.head.className = "review-margin-head";
    const title = document.createElement("h2");
    title.className = "review-margin-title";
    title.textContent = "Comments";
    /** Controls other modules add to the head (filters, "Accept all"). */
    this.tools = document.createElement("div");
    this.tools.className = "review-margin-tools";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "review-margin-close";
    close.setAttribute("aria-label", "Close comments");
    close.textContent = "×";
    close.addEventListener("click", () => this.setOpen(false));
    this.head.append(title, this.tools, close);
    this.cards = document.createElement("div");
    this.cards.className = "review-margin-cards";
    element.replaceChildren(this.head, this.cards);
    if (!element.id) element.id = "review-margin";

    this.toggle = this._makeToggle();
    this.canvas = element.closest(".doc-canvas");

    /** @type {WeakMap<Element, number>} each card's height, as last observed */
    this._heights = new WeakMap();
    this._resize = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const box = entry.borderBoxSize?.[0];
        if (box && entry.target !== quill.root) this._heights.set(entry.target, box.blockSize);
      }
      // Observers run after the browser's layout and before its paint: a
      // layout now shows the new sizes in this very frame.
      this.layout();
    });
    this._resize.observe(quill.root);
    quill.on("text-change", () => this.scheduleLayout());
    quill.on("selection-change", (/** @type {Anchor|null} */ range, _old, source) => {
      // A blur (null) is often a click into a card: keep the card active.
      if (range && source === "user") this.activateAt(range.index);
    });
    // Whether the person is pointing at the text (not moving the caret with
    // keys): only then does activating from the text open the narrow panel.
    this._pointedAt = -Infinity;
    quill.root.addEventListener("pointerdown", () => {
      this._pointedAt = performance.now();
    });
    // A read-only editor may not report clicks as selection changes.
    quill.root.addEventListener("click", (/** @type {MouseEvent} */ event) => {
      if (quill.isEnabled()) return;
      const index = this._indexOf(event.target);
      if (index !== null) this.activateAt(index);
    });
    window.addEventListener("resize", () => this.scheduleLayout());
    this._narrow.addEventListener("change", () => {
      this.setOpen(false);
      this.layout();
    });
    const fromCard = (/** @type {Event} */ event) => {
      const target = event.target;
      const card = target instanceof Element ? target.closest("[data-margin-key]") : null;
      const key = card instanceof HTMLElement ? card.dataset.marginKey : undefined;
      if (key && key !== this._active && this._entries.has(key)) this.activate(key, { source: "card" });
    };
    // A press focuses before its click: activating then would move the card
    // (to its anchor) between press and release, and the click would miss.
    // So focus from a pointer waits for the click; focus from the keyboard
    // (Tab) activates at once.
    let pressing = false;
    this.cards.addEventListener("pointerdown", () => {
      pressing = true;
    });
    document.addEventListener("pointerup", () => {
      // After the click it ends (click follows pointerup in the same task).
      setTimeout(() => {
        pressing = false;
      }, 0);
    });
    this.cards.addEventListener("click", fromCard);
    this.cards.addEventListener("focusin", (event) => {
      if (!pressing) fromCard(event);
    });
    this._refreshCount(0);
  }

  /** The key of the active card, or null. */
  get active() {
    return this._active;
  }

  /** Whether the margin is shown as a panel behind a toggle (narrow window). */
  get narrow() {
    return this._narrow.matches;
  }

  /**
   * Show ``card`` under ``key`` beside ``anchor()``; a second put of the
   * same key updates its anchor (and swaps the card if it is another
   * element: update cards in place to keep focus in them).
   * @param {string} key
   * @param {HTMLElement} card
   * @param {() => (Anchor|null)} anchor
   */
  put(key, card, anchor) {
    const known = this._entries.get(key);
    card.dataset.marginKey = key;
    card.classList.add("review-card");
    card.classList.toggle("is-active", key === this._active);
    if (known && known.card !== card) {
      this._resize.unobserve(known.card);
      known.card.replaceWith(card);
    } else if (!known) {
      this.cards.append(card);
    }
    if (!known || known.card !== card) this._resize.observe(card);
    this._entries.set(key, { card, anchor });
    this.scheduleLayout();
  }

  /** @param {string} key */
  has(key) {
    return this._entries.has(key);
  }

  /**
   * Return the card shown under ``key``, if any.
   * @param {string} key
   */
  card(key) {
    return this._entries.get(key)?.card ?? null;
  }

  /**
   * Take the card of ``key`` out of the margin (no-op when absent).
   * @param {string} key
   */
  remove(key) {
    const entry = this._entries.get(key);
    if (!entry) return;
    this._entries.delete(key);
    this._resize.unobserve(entry.card);
    entry.card.remove();
    if (this._active === key) {
      this._active = null;
      this.emit("activate", null, { source: "removed" });
    }
    this.scheduleLayout();
  }

  /**
   * Make ``key``'s card the active one (null: none), move it beside its
   * anchor, scroll it into view and emit ``"activate"``. In a narrow window
   * the panel opens when asked by the page (``"api"``) or by a click on
   * the text; a caret moved by keys into commented text does not pop it up.
   * @param {string|null} key
   * @param {{source?: string}} [options]  who asked: "card", "text", or
   *   the caller's word (default "api")
   */
  activate(key, { source = "api" } = {}) {
    const next = key !== null && this._entries.has(key) ? key : null;
    if (this._active && this._active !== next) this.card(this._active)?.classList.remove("is-active");
    this._active = next;
    const card = next ? this.card(next) : null;
    if (card) {
      card.classList.add("is-active");
      const pointed = performance.now() - this._pointedAt < POINTER_MS;
      if (this.narrow && (source === "api" || (source === "text" && pointed))) this.setOpen(true);
      this.layout();
      if (!this.narrow || this.isOpen()) card.scrollIntoView({ block: "nearest" });
    } else {
      this.scheduleLayout();
    }
    this.emit("activate", next, { source });
  }

  /**
   * Let the text activate cards: ``finder(index)`` returns the key of the
   * card whose text holds ``index``, or null.
   * @param {(index: number) => (string|null)} finder
   */
  findWith(finder) {
    this._finders.push(finder);
  }

  /**
   * Activate the card whose text holds ``index`` (the finders decide), or
   * none.
   * @param {number} index
   */
  activateAt(index) {
    for (const finder of this._finders) {
      const key = finder(index);
      if (key && this._entries.has(key) && !this.card(key)?.hidden) {
        if (key !== this._active) this.activate(key, { source: "text" });
        return;
      }
    }
    if (this._active) this.activate(null, { source: "text" });
  }

  /**
   * Return the index in the text where ``node`` starts, or null.
   * @param {EventTarget|null} node
   * @returns {number|null}
   */
  _indexOf(node) {
    if (!(node instanceof Node)) return null;
    const blot = this.quill.constructor.find(node, true);
    if (!blot || blot === this.quill.scroll || typeof blot.offset !== "function") return null;
    return blot.offset(this.quill.scroll);
  }

  /** Whether the narrow panel is open. */
  isOpen() {
    return this.element.dataset.open === "true";
  }

  /**
   * Open or close the panel (narrow windows; wide ones always show it).
   * @param {boolean} open
   */
  setOpen(open) {
    this.element.dataset.open = String(open);
    this.toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("review-panel-open", open && this.narrow);
  }

  /** Relayout at the next animation frame (at most once per frame). */
  scheduleLayout() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.layout();
    });
  }

  /** Place every visible card now (see the module's layout rules). */
  layout() {
    if (this._frame) {
      cancelAnimationFrame(this._frame);
      this._frame = 0;
    }
    const visible = [...this._entries].filter(([, entry]) => !entry.card.hidden);
    const filled = visible.length ? "filled" : "empty";
    if (this.canvas instanceof HTMLElement && this.canvas.dataset.reviewMargin !== filled) {
      this.canvas.dataset.reviewMargin = filled;
    }
    this._refreshCount(visible.length);
    const narrow = this.narrow;
    /** @type {import("./margin-layout.js").CardBox[]} */
    const boxes = visible.map(([key, entry]) => {
      const anchor = safeAnchor(entry.anchor);
      return { key, index: anchor ? anchor.index : null, want: 0, height: 0 };
    });
    if (narrow) {
      marginOrder(boxes).forEach((box, i) => {
        const card = /** @type {Entry} */ (this._entries.get(box.key)).card;
        place(card, "", String(i), box.index === null);
      });
      this.cards.style.minHeight = "";
      return;
    }
    // Every read before the first write: one browser layout in all. Heights
    // come from the ResizeObserver (a card not yet observed is measured).
    this._measure(boxes);
    for (const box of boxes) {
      const card = /** @type {Entry} */ (this._entries.get(box.key)).card;
      box.height = this._heights.get(card) || card.offsetHeight;
    }
    const { placements, height } = placeCards(boxes, { active: this._active, gap: GAP });
    // Only what moved is written: most keystrokes move no card, and an
    // unchanged write would still cost a style pass over every card.
    placements.forEach((spot, i) => {
      const card = /** @type {Entry} */ (this._entries.get(spot.key)).card;
      place(card, `${Math.round(spot.top)}px`, String(i), spot.detached);
    });
    const minHeight = `${Math.ceil(height)}px`;
    if (this.cards.style.minHeight !== minHeight) this.cards.style.minHeight = minHeight;
  }

  /**
   * Set each anchored box's ``want``: the height of its anchor in the
   * margin's coordinates. One walk over the lines in text order (not
   * ``quill.getBounds`` per card, which costs a pass over the whole
   * document each): the top of the anchor's line, or the exact spot when
   * the anchor is inside a line that wraps.
   * @param {import("./margin-layout.js").CardBox[]} boxes
   */
  _measure(boxes) {
    const anchored = boxes.filter((box) => box.index !== null);
    if (!anchored.length) return;
    anchored.sort((a, b) => /** @type {number} */ (a.index) - /** @type {number} */ (b.index));
    const origin = this.cards.getBoundingClientRect().top;
    const container = this.quill.container.getBoundingClientRect().top;
    const lines = this.quill.getLines();
    let line = 0;
    let start = 0;
    /** @type {DOMRect|null} */
    let rect = null;
    for (const box of anchored) {
      const index = /** @type {number} */ (box.index);
      while (line < lines.length - 1 && start + lines[line].length() <= index) {
        start += lines[line].length();
        line += 1;
        rect = null;
      }
      if (!lines.length) break;
      rect = rect || lines[line].domNode.getBoundingClientRect();
      const current = /** @type {DOMRect} */ (rect);
      if (index > start && current.height > WRAPPED_LINE) {
        const bounds = this.quill.getBounds(index, 0);
        box.want = bounds ? container + bounds.top - origin : current.top - origin;
      } else {
        box.want = current.top - origin;
      }
    }
  }

  /** The toolbar-row button that opens the panel in a narrow window. */
  _makeToggle() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "review-margin-toggle";
    button.setAttribute("aria-controls", this.element.id || "review-margin");
    button.setAttribute("aria-expanded", "false");
    button.title = "Show comments and suggestions";
    const label = document.createElement("span");
    label.textContent = "Comments";
    const count = document.createElement("span");
    count.className = "review-margin-count";
    button.append(label, count);
    button.addEventListener("click", () => this.setOpen(!this.isOpen()));
    const row = this.element.ownerDocument.querySelector(".doc-toolbar-row");
    if (row) row.append(button);
    else this.element.before(button);
    return button;
  }

  /** @param {number} shown  the cards showing */
  _refreshCount(shown) {
    const count = this.toggle.querySelector(".review-margin-count");
    if (count) count.textContent = shown ? String(shown) : "";
  }

  /**
   * Recount and relayout after cards were hidden or shown (``hidden`` is
   * the card owner's to set).
   */
  refresh() {
    this.scheduleLayout();
  }
}

/**
 * Set a card's place, touching only what differs.
 * @param {HTMLElement} card
 * @param {string} top
 * @param {string} order
 * @param {boolean} detached
 */
function place(card, top, order, detached) {
  if (card.style.top !== top) card.style.top = top;
  if (card.style.order !== order) card.style.order = order;
  if (card.classList.contains("is-detached") !== detached) card.classList.toggle("is-detached", detached);
}

/**
 * Return ``anchor()``, or null when it throws or answers nonsense (one bad
 * source of cards must not stop the margin).
 * @param {() => (Anchor|null)} anchor
 * @returns {Anchor|null}
 */
function safeAnchor(anchor) {
  try {
    const value = anchor();
    if (value && Number.isInteger(value.index) && value.index >= 0) return value;
  } catch (err) {
    console.error("collabdocs: a margin anchor failed", err);
  }
  return null;
}
