/**
 * Where each card of the review margin goes: pure arithmetic (no DOM), so
 * node tests can check ordering and overlap on their own.
 *
 * The margin shows one card per thread or suggestion beside the line its
 * anchor is on. Cards cannot overlap, so some move away from their line:
 *
 * - Anchored cards come first, in the order of their anchors in the text
 *   (index, then key, so equal anchors keep one order on every relayout).
 * - With no active card, cards are placed top to bottom, each at its
 *   anchor's height or just below the card before it.
 * - The active card sits exactly beside its anchor (as far as the cards
 *   above it leave room for); the cards above it are pushed up, the cards
 *   below it pushed down. This is what Google Docs does and what a person
 *   reading one thread expects.
 * - Detached cards (no anchor) follow the last anchored card, in the order
 *   given.
 *
 * Invariant of the result: in order, every card starts at least ``gap``
 * below the end of the one before it, and no card starts above 0.
 *
 * @module editor/review/margin-layout
 */

/**
 * @typedef {Object} CardBox
 * @property {string} key
 * @property {number|null} index  the anchor's index in the text; null: detached
 * @property {number} want  the height of the anchor's line (ignored when detached)
 * @property {number} height  the card's height
 */

/**
 * @typedef {Object} Placement
 * @property {string} key
 * @property {number} top
 * @property {boolean} detached
 */

/**
 * Return the cards in margin order: anchored ones by anchor index (then
 * key), then the detached ones in the order given.
 * @param {CardBox[]} cards
 * @returns {CardBox[]}
 */
export function marginOrder(cards) {
  const anchored = cards.filter((card) => card.index !== null);
  const detached = cards.filter((card) => card.index === null);
  anchored.sort(
    (a, b) => /** @type {number} */ (a.index) - /** @type {number} */ (b.index) || compareKeys(a.key, b.key),
  );
  return [...anchored, ...detached];
}

/**
 * @param {string} a
 * @param {string} b
 */
function compareKeys(a, b) {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/**
 * Place ``cards`` (see the module's rules) and return where each starts,
 * in margin order, with the total height they take.
 *
 * @param {CardBox[]} cards
 * @param {Object} [options]
 * @param {string|null} [options.active]  the key of the active card
 * @param {number} [options.gap]  the space kept between two cards
 * @returns {{placements: Placement[], height: number}}
 */
export function placeCards(cards, { active = null, gap = 8 } = {}) {
  const ordered = marginOrder(cards);
  const anchored = ordered.filter((card) => card.index !== null);
  const detached = ordered.filter((card) => card.index === null);
  /** @type {number[]} */
  const tops = new Array(anchored.length).fill(0);
  // lowest[i]: the highest a card may start with every card before it
  // stacked tightly from 0 above it.
  const lowest = [];
  let sum = 0;
  for (const card of anchored) {
    lowest.push(sum);
    sum += card.height + gap;
  }
  const pivot = anchored.findIndex((card) => card.key === active);
  const want = (/** @type {CardBox} */ card) => Math.max(0, Number.isFinite(card.want) ? card.want : 0);
  if (pivot >= 0) {
    tops[pivot] = Math.max(lowest[pivot], want(anchored[pivot]));
    // Upward: as close to its own line as the next card allows, never
    // above the room the cards before it need.
    for (let i = pivot - 1; i >= 0; i -= 1) {
      const ceiling = tops[i + 1] - gap - anchored[i].height;
      tops[i] = Math.max(lowest[i], Math.min(want(anchored[i]), ceiling));
    }
  }
  // Downward from the pivot (or from the top when nothing is active).
  const start = pivot >= 0 ? pivot + 1 : 0;
  for (let i = start; i < anchored.length; i += 1) {
    const floor = i === 0 ? 0 : tops[i - 1] + anchored[i - 1].height + gap;
    tops[i] = Math.max(want(anchored[i]), floor);
  }
  /** @type {Placement[]} */
  const placements = anchored.map((card, i) => ({ key: card.key, top: tops[i], detached: false }));
  let next = anchored.length ? tops[anchored.length - 1] + anchored[anchored.length - 1].height + gap : 0;
  for (const card of detached) {
    placements.push({ key: card.key, top: next, detached: true });
    next += card.height + gap;
  }
  return { placements, height: Math.max(0, next - gap) };
}
