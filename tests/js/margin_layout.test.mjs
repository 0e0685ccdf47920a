/**
 * Placing the review margin's cards (margin-layout.js). Failure modes
 * covered: cards overlapping one another (two threads on one line, a tall
 * thread pushing into the next), cards listed out of text order (equal
 * anchors swapping on relayout), the active card not beside its text,
 * cards pushed above the top of the margin, detached threads mixed into
 * the anchored ones. A randomized check asserts the invariant on many
 * layouts and prints its seed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { marginOrder, placeCards } from "../../static/src/editor/review/margin-layout.js";
import { rng, seeds } from "./helpers.mjs";

/** @param {ReturnType<typeof placeCards>["placements"]} placements */
const tops = (placements) => Object.fromEntries(placements.map((p) => [p.key, p.top]));

/**
 * Assert no card overlaps the one before it and none starts above 0.
 * @param {Array<{key: string, height: number}>} cards
 * @param {ReturnType<typeof placeCards>} result
 * @param {number} gap
 */
function assertNoOverlap(cards, { placements, height }, gap) {
  const heightOf = new Map(cards.map((c) => [c.key, c.height]));
  let end = -Infinity;
  for (const { key, top } of placements) {
    assert.ok(top >= 0, `${key} starts above the margin (${top})`);
    assert.ok(top >= end + gap - 1e-9, `${key} at ${top} overlaps the card ending at ${end}`);
    end = top + /** @type {number} */ (heightOf.get(key));
  }
  assert.equal(height, placements.length ? end : 0);
}

describe("margin order", () => {
  it("lists anchored cards by anchor index, then key, then detached ones as given", () => {
    const order = marginOrder([
      { key: "thread:z", index: null, want: 0, height: 10 },
      { key: "thread:b", index: 5, want: 40, height: 10 },
      { key: "suggestion:1:a:bbbb", index: 5, want: 40, height: 10 },
      { key: "thread:a", index: 2, want: 20, height: 10 },
      { key: "thread:y", index: null, want: 0, height: 10 },
    ]);
    assert.deepEqual(order.map((c) => c.key), [
      "thread:a", "suggestion:1:a:bbbb", "thread:b", "thread:z", "thread:y",
    ]);
  });
});

describe("placing cards", () => {
  it("puts each card beside its line when there is room", () => {
    const cards = [
      { key: "a", index: 0, want: 10, height: 50 },
      { key: "b", index: 30, want: 200, height: 50 },
    ];
    const result = placeCards(cards, { gap: 8 });
    assert.deepEqual(tops(result.placements), { a: 10, b: 200 });
    assert.equal(result.height, 250);
  });

  it("pushes a card down below the one before it when they would overlap", () => {
    const cards = [
      { key: "a", index: 0, want: 10, height: 100 },
      { key: "b", index: 1, want: 10, height: 40 },
      { key: "c", index: 9, want: 60, height: 40 },
    ];
    const result = placeCards(cards, { gap: 8 });
    assert.deepEqual(tops(result.placements), { a: 10, b: 118, c: 166 });
    assertNoOverlap(cards, result, 8);
  });

  it("puts the active card beside its text and pushes the ones above it up", () => {
    const cards = [
      { key: "a", index: 0, want: 100, height: 60 },
      { key: "b", index: 1, want: 100, height: 60 },
      { key: "c", index: 2, want: 100, height: 60 },
    ];
    const result = placeCards(cards, { active: "c", gap: 10 });
    assert.deepEqual(tops(result.placements), { a: 0, b: 70, c: 140 });
    const middle = placeCards(cards, { active: "b", gap: 10 });
    assert.deepEqual(tops(middle.placements), { a: 30, b: 100, c: 170 });
    assertNoOverlap(cards, middle, 10);
  });

  it("never pushes a card above the top of the margin", () => {
    const cards = [
      { key: "a", index: 0, want: 0, height: 80 },
      { key: "b", index: 1, want: 0, height: 80 },
      { key: "c", index: 2, want: 5, height: 80 },
    ];
    const result = placeCards(cards, { active: "c", gap: 8 });
    assert.deepEqual(tops(result.placements), { a: 0, b: 88, c: 176 });
  });

  it("lists detached cards after the last anchored one, marked detached", () => {
    const cards = [
      { key: "gone", index: null, want: 0, height: 30 },
      { key: "a", index: 4, want: 300, height: 50 },
    ];
    const { placements, height } = placeCards(cards, { gap: 8 });
    assert.deepEqual(placements, [
      { key: "a", top: 300, detached: false },
      { key: "gone", top: 358, detached: true },
    ]);
    assert.equal(height, 388);
  });

  it("treats a missing or negative line height as the top", () => {
    const cards = [
      { key: "a", index: 0, want: Number.NaN, height: 20 },
      { key: "b", index: 1, want: -50, height: 20 },
    ];
    assert.deepEqual(tops(placeCards(cards, { gap: 4 }).placements), { a: 0, b: 24 });
  });

  it("keeps the invariant on random layouts, with or without an active card", () => {
    const runs = seeds(40);
    console.log(`margin layout seeds: ${runs[0]}.. (SEED=<n> reruns one)`);
    for (const seed of runs) {
      const random = rng(seed);
      const n = random.int(0, 30);
      const cards = Array.from({ length: n }, (_, i) => ({
        key: `k${i}`,
        index: random.chance(0.15) ? null : random.int(0, 500),
        want: random.int(-20, 3000),
        height: random.int(20, 300),
      }));
      const anchoredKeys = cards.filter((c) => c.index !== null).map((c) => c.key);
      const active = random.chance(0.6) && anchoredKeys.length ? random.pick(anchoredKeys) : null;
      const gap = random.int(0, 12);
      const result = placeCards(cards, { active, gap });
      try {
        assert.equal(result.placements.length, n);
        assertNoOverlap(cards, result, gap);
        if (active) {
          // Beside its text unless the cards above it need the room.
          const ordered = marginOrder(cards).filter((c) => c.index !== null);
          const above = ordered.slice(0, ordered.findIndex((c) => c.key === active));
          const room = above.reduce((sum, c) => sum + c.height + gap, 0);
          const card = /** @type {typeof cards[0]} */ (cards.find((c) => c.key === active));
          assert.equal(tops(result.placements)[active], Math.max(room, card.want, 0));
        }
      } catch (err) {
        console.log(`margin layout failed with SEED=${seed}`);
        throw err;
      }
    }
  });
});
