/**
 * The timeslider (static/src/history/timeslider.js) against an in-memory
 * timeline built from random changes (the revisions' contents composed
 * with quill-delta, the oracle). It must show exactly the content of every
 * revision it lands on, whether it got there by a jump (content fetch) or
 * by applying op pages; scrubbing must not flood the server nor show a
 * stale answer after a newer one; playback must read ops in pages, not one
 * request per op, and cross compacted history (below ops_from) by jumps.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import {
  MAX_APPLY, OpCache, PAGE_OPS, SCRUB_MS, Timeslider, planMove, playStride,
} from "../../static/src/history/timeslider.js";
import { apply as applyRuns, initial } from "../../static/src/editor/authorship/runs.js";
import { FakeTimers, randomChange, rng, seeds } from "./helpers.mjs";

/** Let every pending promise callback run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A timeline of ``n`` revisions after r0, served as the endpoints do.
 * ``hold(pattern)`` makes matching requests wait until released.
 */
function timeline(seed, n, { opsFrom = 1 } = {}) {
  const random = rng(seed);
  const contents = [new Delta().insert("Start\n")];
  const runs = [initial(6, null)];
  const ops = [];
  for (let rev = 1; rev <= n; rev += 1) {
    const change = randomChange(random, contents[rev - 1]);
    contents.push(contents[rev - 1].compose(change));
    const user = { id: 1 + (rev % 3), name: `P${1 + (rev % 3)}` };
    runs.push(applyRuns(runs[rev - 1], change.ops, user.id));
    ops.push({ rev, delta: change.ops, user, at: new Date(Date.UTC(2026, 0, 1, 0, 0, rev)).toISOString() });
  }
  const server = {
    contents,
    runs,
    requests: /** @type {string[]} */ ([]),
    held: /** @type {Array<{url: string, release: () => void}>} */ ([]),
    holding: /** @type {RegExp|null} */ (null),
    /** @param {string} url @param {AbortSignal} [signal] */
    get(url, signal) {
      server.requests.push(url);
      const answer = () => {
        if (signal?.aborted) throw new Error("aborted");
        const [path, query = ""] = url.split("?");
        const params = new URLSearchParams(query);
        if (path.endsWith("/timeline")) return { first: 0, head: n, points: [], ops_from: opsFrom };
        if (path.endsWith("/content")) {
          const rev = Number(params.get("rev"));
          return { rev, at: rev ? ops[rev - 1].at : null, content: contents[rev].ops, runs: runs[rev] };
        }
        const after = Math.max(Number(params.get("after")), opsFrom - 1);
        const page = ops.slice(after, after + Number(params.get("limit")));
        return { ops: page, next: after + page.length < n ? after + page.length : null };
      };
      if (server.holding && server.holding.test(url)) {
        return new Promise((resolve, reject) => {
          server.held.push({ url, release: () => { try { resolve(answer()); } catch (e) { reject(e); } } });
        });
      }
      return Promise.resolve().then(answer);
    },
  };
  return server;
}

function slider(server, timers = new FakeTimers()) {
  const shown = [];
  const ts = new Timeslider({
    base: "/api/docs/x/timeline",
    get: server.get,
    onChange: (state) => shown.push(state),
    setTimer: timers.setTimeout,
    clearTimer: timers.clearTimeout,
  });
  return { ts, shown, timers };
}

describe("op cache and planning", () => {
  it("hands out a run only when it has every op, and stays bounded", () => {
    const cache = new OpCache(5);
    cache.add([1, 2, 3].map((rev) => ({ rev, delta: [] })));
    assert.equal(cache.run(0, 3)?.length, 3);
    assert.equal(cache.run(0, 4), null);
    assert.equal(cache.ahead(0), 3);
    cache.add([4, 5, 6, 7].map((rev) => ({ rev, delta: [] })));
    assert.equal(cache.ops.size, 5, "the oldest ops were dropped");
    assert.equal(cache.run(0, 3), null);
    assert.equal(cache.run(2, 7)?.length, 5);
  });

  it("applies cached ops forward, fetches backward, far, or across a gap", () => {
    const cache = new OpCache();
    cache.add(Array.from({ length: MAX_APPLY + 10 }, (_, i) => ({ rev: i + 1, delta: [] })));
    assert.deepEqual(planMove(5, 5, cache), { kind: "stay" });
    assert.equal(planMove(5, 9, cache).kind, "apply");
    assert.equal(planMove(9, 5, cache).kind, "fetch");
    assert.equal(planMove(null, 5, cache).kind, "fetch");
    assert.equal(planMove(0, MAX_APPLY + 5, cache).kind, "fetch");
    assert.equal(planMove(MAX_APPLY + 5, MAX_APPLY + 20, cache).kind, "fetch");
    assert.equal(playStride(0, 100), 1);
    assert.equal(playStride(0, 100_000), 250);
  });
});

describe("timeslider", () => {
  it("opens at the head and jumps anywhere with one content request each", async () => {
    const server = timeline(7, 120);
    const { ts, shown } = slider(server);
    await ts.open();
    assert.equal(ts.state.rev, 120);
    assert.deepEqual(ts.state.doc, server.contents[120].ops);
    for (const rev of [0, 57, 3]) {
      await ts.seek(rev);
      assert.deepEqual(ts.state.doc, server.contents[rev].ops, `revision ${rev}`);
    }
    assert.deepEqual(server.requests.slice(2), ["0", "57", "3"].map((r) => `/api/docs/x/timeline/content?rev=${r}`));
    assert.ok(shown.every((state) => state.rev === null || state.rev <= 120));
  });

  it("plays from first to last, exact at every revision, reading ops in pages", async () => {
    const runs = seeds(Number(process.env.RUNS || 2));
    console.log(`history timeslider seeds ${runs[0]}…${runs.at(-1)} (SEED=<n> to repeat one)`);
    for (const seed of runs) {
      const n = 1300;
      const server = timeline(seed, n);
      const { ts, shown, timers } = slider(server);
      await ts.open({ start: 0 });
      ts.play();
      for (let i = 0; i < 5000 && ts.state.playing; i += 1) {
        await flush();
        timers.runNext();
      }
      assert.equal(ts.state.playing, false, `seed ${seed}: playback ends`);
      assert.equal(ts.state.rev, n);
      const landed = shown.filter((state) => state.rev !== null);
      assert.ok(landed.length > n / playStride(0, n) - 2, `seed ${seed}: one frame per tick`);
      for (const state of landed) {
        assert.deepEqual(state.doc, server.contents[state.rev].ops, `seed ${seed}, revision ${state.rev}`);
        assert.deepEqual(state.runs, server.runs[state.rev], `seed ${seed}: authorship at ${state.rev}`);
      }
      assert.equal(ts.state.who, `P${1 + (n % 3)}`, "the last change's author is named");
      const opRequests = server.requests.filter((url) => url.includes("/ops?"));
      assert.equal(opRequests.length, Math.ceil(n / PAGE_OPS), `seed ${seed}: ${opRequests.join(" ")}`);
    }
  });

  it("steps forward by ops and back by content", async () => {
    const server = timeline(11, 40);
    const { ts } = slider(server);
    await ts.open({ start: 10 });
    await ts.step(1);
    await ts.step(1);
    assert.equal(ts.state.rev, 12);
    assert.deepEqual(ts.state.doc, server.contents[12].ops);
    await ts.step(-1);
    assert.equal(ts.state.rev, 11);
    assert.deepEqual(ts.state.doc, server.contents[11].ops);
    assert.deepEqual(server.requests.filter((u) => u.includes("/ops?")), ["/api/docs/x/timeline/ops?after=10&limit=500"]);
  });

  it("throttles scrubbing, always lands on the last position, never shows a stale answer", async () => {
    const server = timeline(5, 200);
    const { ts, shown, timers } = slider(server);
    await ts.open();
    server.holding = /\/content\?/;
    // Twenty positions within one throttle window: one request now, one after.
    for (let rev = 100; rev < 120; rev += 1) ts.scrub(rev);
    assert.equal(server.held.length, 1);
    timers.advance(SCRUB_MS);
    assert.equal(server.held.length, 2);
    assert.deepEqual(server.held.map((h) => h.url.split("=")[1]), ["100", "119"]);
    // The newer answer comes first; the older one, aborted, is never shown.
    server.held[1].release();
    await flush();
    server.held[0].release();
    await flush();
    assert.equal(ts.state.rev, 119);
    assert.deepEqual(ts.state.doc, server.contents[119].ops);
    assert.ok(!shown.some((state) => state.rev === 100), "the stale revision was never drawn");
  });

  it("plays across compacted history (below ops_from) by jumps, then by ops", async () => {
    const server = timeline(3, 300, { opsFrom: 200 });
    const { ts, shown, timers } = slider(server);
    await ts.open({ start: 0 });
    ts.play();
    for (let i = 0; i < 2000 && ts.state.playing; i += 1) {
      await flush();
      timers.runNext();
    }
    assert.equal(ts.state.rev, 300);
    for (const state of shown.filter((s) => s.rev !== null)) {
      assert.deepEqual(state.doc, server.contents[state.rev].ops, `revision ${state.rev}`);
    }
    const afters = server.requests.filter((url) => url.includes("/ops?")).map((url) => Number(/after=(\d+)/.exec(url)?.[1]));
    assert.ok(afters.length > 0 && afters.every((after) => after >= 199), `op pages only from ops_from: ${afters}`);
  });
});
