/**
 * The browser's retry policy (retry.js): exponential backoff with jitter,
 * and when a reconnect goes at once or waits. Failure modes covered: a
 * client that reconnects at once in a loop (a server that keeps sending a
 * gap, a reload that keeps failing) must fall back to the backoff; the
 * backoff must start again after a ``hello``.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Backoff, ReconnectDelay } from "../../static/src/editor/retry.js";

describe("backoff", () => {
  it("doubles from the initial delay up to the cap, with jitter", () => {
    const middle = new Backoff({ initial: 250, max: 10_000, random: () => 0.5 });
    assert.deepEqual(Array.from({ length: 8 }, () => middle.next()), [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
    const low = new Backoff({ initial: 250, max: 10_000, random: () => 0 });
    const high = new Backoff({ initial: 250, max: 10_000, random: () => 0.999 });
    for (let i = 0; i < 10; i += 1) {
      const [a, b] = [low.next(), high.next()];
      assert.ok(a < b || b === 10_000);
      assert.ok(b <= 10_000);
    }
    middle.reset();
    assert.equal(middle.next(), 250);
  });
});


describe("reconnect delay", () => {
  it("goes at once three times in 10 s, then backs off, and at once again later", () => {
    let now = 0;
    const delay = new ReconnectDelay({ now: () => now, random: () => 0.5 });
    assert.deepEqual([delay.next(true), delay.next(true), delay.next(true)], [0, 0, 0]);
    assert.deepEqual([delay.next(true), delay.next(true)], [500, 1000], "a loop backs off");
    now = 10_000;
    assert.equal(delay.next(true), 0, "the window has passed");
  });

  it("backs off for lost sockets and starts again after a hello", () => {
    const delay = new ReconnectDelay({ now: () => 0, random: () => 0.5 });
    assert.deepEqual([delay.next(false), delay.next(false), delay.later()], [500, 1000, 2000]);
    delay.reset();
    assert.equal(delay.next(false), 500);
    const many = Array.from({ length: 10 }, () => delay.later());
    assert.equal(Math.max(...many), 15_000, "capped at 15 s");
  });
});
