/**
 * The timeslider: the document at any revision from its first to its head
 * (or between two chosen versions), read-only, with a scrubber, play/pause
 * and steps.
 *
 * Server side (contract.md "History"): ``…/timeline`` gives the range and
 * the saved points, ``…/timeline/content?rev=r`` the content at any r (the
 * server keeps checkpoints, so a jump costs one request), and
 * ``…/timeline/ops?after=r&limit=n`` a page of the ops after r, op ``rev``
 * being the revision it makes.
 *
 * How it moves:
 * - a jump (scrubbing, a step back, anything ahead past what is cached)
 *   fetches the content; scrubbing is throttled (one request per
 *   ``SCRUB_MS``, the last position always fetched) and a newer jump aborts
 *   the request of an older one, so a stale answer never shows;
 * - playing and stepping forward apply cached op pages to the content in
 *   hand (a tick's ops composed into one change, then applied in one pass
 *   over the document: ``doc.composeChanges``, ``doc.applyChange``), fetching the next page before the current
 *   one runs out; below ``ops_from`` (ops compacted away) playing moves by
 *   content fetches instead;
 * - the op cache is bounded (``CACHE_OPS``), oldest pages dropped first.
 *
 * ``OpCache`` and ``planMove`` are pure (tests/js/history_timeslider.test.mjs);
 * ``Timeslider`` takes its ``get`` and clock, and draws nothing itself.
 */
import { apply as applyRuns, fromJSON as runsFromJSON } from "../editor/authorship/runs.js";
import { applyChange, composeChanges } from "./doc.js";

export const PAGE_OPS = 500;
export const CACHE_OPS = 50_000;
export const SCRUB_MS = 120;
/** Applying more cached ops than this is slower than one content fetch. */
export const MAX_APPLY = 3000;
/** A whole playback takes about this many ticks, whatever its length. */
export const PLAY_TICKS = 400;
export const TICK_MS = 40;

/** @typedef {{rev: number, delta: Array<Object>, user?: {id: number, name: string}|null, at?: string|null}} TimelineOp */

export class OpCache {
  /** @param {number} [limit]  ops kept at most */
  constructor(limit = CACHE_OPS) {
    this.limit = limit;
    /** @type {Map<number, TimelineOp>} */
    this.ops = new Map();
  }

  /** @param {TimelineOp[]} ops */
  add(ops) {
    for (const op of ops) {
      if (op && Number.isInteger(op.rev) && Array.isArray(op.delta)) this.ops.set(op.rev, op);
    }
    // Maps keep insertion order: the first keys are the oldest pages.
    for (const key of this.ops.keys()) {
      if (this.ops.size <= this.limit) break;
      this.ops.delete(key);
    }
  }

  /**
   * The ops that take revision ``from`` to ``to`` (revs from+1..to), or
   * null when any is missing.
   * @param {number} from
   * @param {number} to
   * @returns {TimelineOp[]|null}
   */
  run(from, to) {
    const out = [];
    for (let rev = from + 1; rev <= to; rev += 1) {
      const op = this.ops.get(rev);
      if (!op) return null;
      out.push(op);
    }
    return out;
  }

  /**
   * How many ops after ``from`` are cached without a gap.
   * @param {number} from
   */
  ahead(from) {
    let n = 0;
    while (this.ops.has(from + n + 1)) n += 1;
    return n;
  }
}

/**
 * Decide how to go from revision ``current`` to ``target``: apply cached
 * ops, or fetch the content.
 *
 * @param {number|null} current  the revision shown (null: nothing yet)
 * @param {number} target
 * @param {OpCache} cache
 * @returns {{kind: "stay"} | {kind: "apply", ops: TimelineOp[]} | {kind: "fetch"}}
 */
export function planMove(current, target, cache) {
  if (current === target) return { kind: "stay" };
  if (current === null || target < current || target - current > MAX_APPLY) return { kind: "fetch" };
  const ops = cache.run(current, target);
  return ops ? { kind: "apply", ops } : { kind: "fetch" };
}

/**
 * How many revisions one playback tick moves.
 * @param {number} from
 * @param {number} to
 */
export function playStride(from, to) {
  return Math.max(1, Math.ceil((to - from) / PLAY_TICKS));
}

/**
 * @typedef {Object} SliderState
 * @property {number} first  the range's lowest revision
 * @property {number} last   its highest
 * @property {number|null} rev  the revision shown
 * @property {string|null} at  its time
 * @property {string} who  who made it (when reached by its op)
 * @property {Array<Object>} doc  its content
 * @property {Array<[number, number|null]>|null} runs  who wrote it (null: not known)
 * @property {boolean} playing
 * @property {boolean} busy  a request is out
 * @property {string} error
 * @property {Array<{rev: number, at: string, kind: string, version_id: number|null}>} points
 */

/**
 * The content endpoint's runs, validated; null when absent or malformed.
 * @param {unknown} value
 * @returns {Array<[number, number|null]>|null}
 */
function readRuns(value) {
  try {
    return value === undefined || value === null ? null : runsFromJSON(value);
  } catch {
    return null;
  }
}

export class Timeslider {
  /**
   * @param {Object} options
   * @param {(url: string, signal?: AbortSignal) => Promise<any>} options.get  a JSON GET
   * @param {string} options.base  ``/api/docs/<id>/timeline``
   * @param {(state: SliderState) => void} options.onChange
   * @param {(fn: () => void, ms: number) => any} [options.setTimer]
   * @param {(handle: any) => void} [options.clearTimer]
   */
  constructor({ get, base, onChange, setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (h) => clearTimeout(h) }) {
    this.get = get;
    this.base = base;
    this.onChange = onChange;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.cache = new OpCache();
    /** @type {SliderState} */
    this.state = { first: 0, last: 0, rev: null, at: null, who: "", doc: [], runs: null, playing: false, busy: false, error: "", points: [] };
    this.opsFrom = 0;
    this.head = 0;
    /** @type {AbortController|null} the content request in flight */
    this.inflight = null;
    this.scrubTimer = null;
    this.scrubTarget = null;
    this.playTimer = null;
    /** @type {Promise<void>|null} an op page being fetched */
    this.paging = null;
  }

  /** @param {Partial<SliderState>} change */
  update(change) {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }

  /**
   * Load the timeline and show revision ``start`` (the range's end unless told).
   * @param {{from?: number|null, to?: number|null, start?: number|null}} [range]
   */
  async open({ from = null, to = null, start = null } = {}) {
    this.pause();
    let timeline;
    try {
      timeline = await this.get(this.base);
    } catch (error) {
      this.update({ error: error.message });
      return;
    }
    this.head = timeline.head;
    this.opsFrom = timeline.ops_from ?? timeline.head;
    const first = Math.max(timeline.first, from ?? timeline.first);
    const last = Math.min(timeline.head, to ?? timeline.head);
    this.update({ first, last: Math.max(first, last), points: timeline.points || [], error: "" });
    await this.seek(start ?? this.state.last);
  }

  /** @param {number} rev */
  clamp(rev) {
    return Math.min(this.state.last, Math.max(this.state.first, Math.round(rev)));
  }

  /**
   * Show revision ``target``: from cached ops when they reach, else fetched.
   * @param {number} target
   */
  async seek(target) {
    target = this.clamp(target);
    const plan = planMove(this.state.rev, target, this.cache);
    if (plan.kind === "stay") return;
    if (plan.kind === "apply") {
      this.abort();
      this.applyOps(plan.ops);
      return;
    }
    this.abort();
    const controller = new AbortController();
    this.inflight = controller;
    this.update({ busy: true });
    try {
      const data = await this.get(`${this.base}/content?rev=${target}`, controller.signal);
      if (controller.signal.aborted) return;
      this.update({
        rev: data.rev, at: data.at ?? null, who: "", doc: data.content || [], runs: readRuns(data.runs),
        busy: false, error: "",
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.update({ busy: false, error: error.message });
      this.pause();
    } finally {
      if (this.inflight === controller) this.inflight = null;
    }
  }

  abort() {
    if (this.inflight) this.inflight.abort();
    this.inflight = null;
  }

  /** @param {TimelineOp[]} ops */
  applyOps(ops) {
    if (!ops.length) return;
    let doc = this.state.doc;
    try {
      // One pass over the document per tick, however many ops it plays.
      let change = ops[0].delta;
      for (let i = 1; i < ops.length; i += 1) change = composeChanges(change, ops[i].delta);
      doc = applyChange(doc, change);
    } catch {
      // The ops do not fit the content in hand (a gap): fetch instead.
      const target = ops[ops.length - 1].rev;
      this.state = { ...this.state, rev: null };
      this.seek(target);
      return;
    }
    // Authorship follows op by op (an op's inserts are its author's); a
    // restore's attribution is not in the op pages, so until the next jump
    // restored text reads as the restorer's.
    let runs = this.state.runs;
    try {
      for (const op of ops) runs = runs && applyRuns(runs, op.delta, op.user?.id ?? null);
    } catch {
      runs = null;
    }
    const last = ops[ops.length - 1];
    const who = last.user && typeof last.user.name === "string" ? last.user.name : "";
    this.update({ rev: last.rev, at: last.at ?? this.state.at, who, doc, runs, busy: false, error: "" });
  }

  /**
   * Scrubbing: at most one jump per ``SCRUB_MS``, the last one always made.
   * @param {number} target
   */
  scrub(target) {
    this.pause();
    this.scrubTarget = this.clamp(target);
    if (this.scrubTimer !== null) return;
    this.seek(this.scrubTarget);
    const fired = this.scrubTarget;
    this.scrubTimer = this.setTimer(() => {
      this.scrubTimer = null;
      if (this.scrubTarget !== null && this.scrubTarget !== fired) this.scrub(this.scrubTarget);
    }, SCRUB_MS);
  }

  /**
   * Make sure ops after ``rev`` are cached (one page), when they are stored.
   * @param {number} rev
   */
  async fetchOps(rev) {
    if (rev < this.opsFrom - 1 || rev >= this.head) return;
    if (this.paging) return this.paging;
    this.paging = (async () => {
      try {
        const data = await this.get(`${this.base}/ops?after=${rev}&limit=${PAGE_OPS}`);
        this.cache.add(data.ops || []);
      } finally {
        this.paging = null;
      }
    })();
    return this.paging;
  }

  /** Move ``by`` revisions (negative: back, by a content fetch). @param {number} by */
  async step(by) {
    this.pause();
    await this.advance(by);
  }

  /** @param {number} by */
  async advance(by) {
    const rev = this.state.rev ?? this.state.first;
    const target = this.clamp(rev + by);
    if (by > 0 && this.cache.ahead(rev) < target - rev) {
      try {
        await this.fetchOps(rev);
      } catch (error) {
        this.update({ error: error.message });
      }
    }
    await this.seek(target);
  }

  play() {
    if (this.state.playing) return;
    if (this.state.rev !== null && this.state.rev >= this.state.last) {
      this.state = { ...this.state, rev: null };
      this.update({ playing: true });
      this.seek(this.state.first).then(() => this.tick());
      return;
    }
    this.update({ playing: true });
    this.tick();
  }

  pause() {
    if (this.playTimer !== null) this.clearTimer(this.playTimer);
    this.playTimer = null;
    if (this.state.playing) this.update({ playing: false });
  }

  async tick() {
    if (!this.state.playing) return;
    const rev = this.state.rev ?? this.state.first;
    if (rev >= this.state.last) {
      this.pause();
      return;
    }
    const stride = playStride(this.state.first, this.state.last);
    // Fetch the next page while this one still has a few ticks to run.
    if (this.cache.ahead(rev) < stride * 4) {
      const end = rev + this.cache.ahead(rev);
      const fetching = this.fetchOps(end).catch((error) => this.update({ error: error.message }));
      if (this.cache.ahead(rev) < stride) await fetching;
    }
    if (!this.state.playing) return;
    await this.seek(rev + stride);
    if (!this.state.playing) return;
    this.playTimer = this.setTimer(() => {
      this.playTimer = null;
      this.tick();
    }, TICK_MS);
  }
}
