/**
 * Images on their way into the document: uploads with a progress
 * placeholder, and copies of images from other documents.
 *
 * Every image that needs the server first is a *job*: a tracked position
 * (track.js) where it will go, a placeholder drawn over the editor at that
 * position (not document content: collaborators see nothing until the
 * image is in), and a promise for the embed. The position follows the
 * document through every change (the person's, collaborators', silent
 * corrections: Quill's ``editor-change`` sees them all, before the
 * binding's ``text-change`` listener can correct anything). When the
 * promise settles the embed is inserted at the position *then* as the
 * person's own change (source ``user``: the binding sends it, Suggesting
 * mode turns it into their suggestion, undo takes it back), or the
 * placeholder goes and the person is told why.
 *
 * A *batch* is what one action brought (files dropped together, one
 * paste): its jobs keep their order at a shared position, and their
 * outcomes are told in one notice when the last one settles.
 *
 * Failure modes: a refusal by the server (type, size, pixels, quota,
 * permission) shows its sentence; a lost connection shows ours; an editor
 * that became read-only meanwhile (access taken away, Viewing mode) gets
 * nothing and is told; a cancelled upload (the placeholder's button) is
 * silent. Nothing is inserted twice and nothing is sent for a failure.
 *
 * @module editor/images/uploads
 */
import Delta from "quill-delta";

import { PositionTracker } from "./track.js";

/**
 * What one image job produces: an embed to insert, only a count (a copy
 * that was ``refused``), or nothing (cancelled).
 * @typedef {{embed: {image: string}, attributes?: Record<string, unknown>} |
 *   {counted: "refused"|"dropped"} | null} Outcome
 */

/**
 * How a batch went, for its one notice.
 * @typedef {Object} Tally
 * @property {number} refused  copied images the person may not view
 * @property {number} dropped  images whose source could not be used
 * @property {number} inserted
 * @property {number} notEditable  images that came back after editing ended
 * @property {string[]} errors  the server's or the network's sentences
 */

/** @returns {Tally} */
const emptyTally = () => ({ refused: 0, dropped: 0, inserted: 0, notEditable: 0, errors: [] });

/**
 * Return the notice for a batch's tally, or "" when it went well.
 * @param {Tally} tally
 * @returns {{message: string, tone: "info"|"warning"|"error"}}
 */
export function describeTally(tally) {
  const parts = [];
  const say = (count, one, many) => {
    if (count) parts.push(count === 1 ? one : many.replace("#", String(count)));
  };
  say(tally.refused, "An image was left out: it belongs to a document you can’t open",
    "# images were left out: they belong to documents you can’t open");
  say(tally.dropped, "An image was left out: its source can’t be read (save it and upload the file)",
    "# images were left out: their sources can’t be read (save them and upload the files)");
  say(tally.notEditable, "An uploaded image wasn’t added: you can’t edit this document now",
    "# uploaded images weren’t added: you can’t edit this document now");
  const errors = [...new Set(tally.errors)];
  for (const error of errors) parts.push(error.replace(/\.$/, ""));
  if (!parts.length) return { message: "", tone: "info" };
  const tone = errors.length || tally.notEditable ? "error" : "warning";
  return { message: `${parts.join(". ")}.`, tone };
}

/**
 * A job's work: given a progress callback and an abort signal, resolve
 * with its outcome; a rejection's ``message`` is told (unless aborted).
 * @typedef {(progress: (fraction: number) => void, signal: AbortSignal) => Promise<Outcome>} Work
 */

/**
 * @typedef {Object} Job
 * @property {import("./track.js").Tracked} tracked
 * @property {Batch} batch
 * @property {number} order  its place in the batch
 * @property {HTMLElement} element  its placeholder
 * @property {AbortController} abort
 */

/**
 * @typedef {Object} Batch
 * @property {Job[]} jobs
 * @property {number} open  jobs not settled yet
 * @property {Tally} tally
 */

export class Uploads {
  /**
   * @param {Object} options
   * @param {import("quill").default} options.quill
   * @param {{show: (notice: {kind: string, message: string, tone?: "info"|"warning"|"error"}) => unknown}} options.notices
   */
  constructor({ quill, notices }) {
    this.quill = quill;
    this.notices = notices;
    this.tracker = new PositionTracker();
    /** @type {Set<Job>} */
    this.jobs = new Set();
    /**
     * A paste whose placeholders start with its own text-change
     * (see {@link Uploads#armPaste}).
     * @type {{index: number, start: () => void}|null}
     */
    this.armed = null;
    this.layer = document.createElement("div");
    this.layer.className = "cd-image-uploads";
    this.layer.setAttribute("aria-live", "polite");
    quill.container.append(this.layer);
    quill.on("editor-change", (name, delta) => {
      if (name !== "text-change") return;
      this.tracker.transform(/** @type {Delta} */ (delta));
      const armed = this.armed;
      if (armed) {
        // The paste itself: its placeholders are at positions after it.
        this.armed = null;
        armed.start();
      }
      this.scheduleLayout();
    });
    quill.root.addEventListener("scroll", () => this.scheduleLayout(), { passive: true });
    window.addEventListener("resize", () => this.scheduleLayout());
    this._frame = 0;
  }

  /** How many images are on their way. */
  get pending() {
    return this.jobs.size;
  }

  /**
   * Start a batch of jobs at ``index`` (all at one position, kept in order).
   * @param {number} index
   * @param {Array<{label: string, work: Work, offset?: number}>} items
   *   ``offset``: added to ``index`` (a pasted image's place in the paste)
   */
  start(index, items) {
    if (!items.length) return;
    /** @type {Batch} */
    const batch = { jobs: [], open: items.length, tally: emptyTally() };
    items.forEach((item, order) => {
      const tracked = this.tracker.track(index + (item.offset ?? 0));
      const abort = new AbortController();
      const element = this.placeholder(item.label, abort);
      /** @type {Job} */
      const job = { tracked, batch, order, element, abort };
      batch.jobs.push(job);
      this.jobs.add(job);
      const progress = (fraction) => {
        const bar = element.querySelector("progress");
        if (bar) bar.value = fraction;
      };
      item.work(progress, abort.signal).then(
        (outcome) => this.settle(job, outcome, null),
        (error) => this.settle(job, null, error),
      );
    });
    this.scheduleLayout();
  }

  /**
   * Have the next text-change of the person (a paste being applied) start
   * ``start``; when the paste changes nothing (it was only images), the
   * caller calls {@link Uploads#disarm}, which starts it at once.
   * @param {number} index
   * @param {() => void} start
   */
  armPaste(index, start) {
    this.armed = { index, start };
  }

  /** Start an armed paste that produced no change (its images were all it had). */
  disarm() {
    const armed = this.armed;
    this.armed = null;
    armed?.start();
  }

  /**
   * A job is done: insert what it made at its position now, or tell why not.
   * @param {Job} job
   * @param {Outcome} outcome
   * @param {unknown} error
   */
  settle(job, outcome, error) {
    this.jobs.delete(job);
    job.element.remove();
    const index = Math.min(job.tracked.index, Math.max(0, this.quill.getLength() - 1));
    this.tracker.release(job.tracked);
    const tally = job.batch.tally;
    if (error) {
      if (!(error instanceof Error && /** @type {any} */ (error).code === "aborted")) {
        tally.errors.push(error instanceof Error ? error.message : String(error));
      }
    } else if (outcome && !("embed" in outcome)) {
      tally[outcome.counted] += 1;
    } else if (outcome) {
      if (!this.quill.isEnabled()) {
        tally.notEditable += 1;
      } else {
        const change = new Delta().retain(index).insert(outcome.embed, outcome.attributes);
        // An image is its own undo step, apart from what was typed meanwhile.
        const history = /** @type {any} */ (this.quill).history;
        history?.cutoff();
        this.quill.updateContents(change, "user");
        history?.cutoff();
        tally.inserted += 1;
        // The batch's later jobs at the same place go after this one.
        const length = change.length() - index;
        for (const other of job.batch.jobs) {
          if (other.order > job.order && !other.tracked.gone && other.tracked.index === index) {
            other.tracked.index += length;
          }
        }
      }
    }
    job.batch.open -= 1;
    if (job.batch.open === 0) this.tell(job.batch.tally);
    this.scheduleLayout();
  }

  /**
   * Show a batch's notice, if it has anything to say.
   * @param {Tally} tally
   */
  tell(tally) {
    const { message, tone } = describeTally(tally);
    if (message) this.notices.show({ kind: "images", message, tone });
  }

  /**
   * A placeholder: the file's name, a progress bar, and a button to cancel.
   * @param {string} label
   * @param {AbortController} abort
   */
  placeholder(label, abort) {
    const element = document.createElement("div");
    element.className = "cd-image-upload";
    element.setAttribute("role", "status");
    const name = document.createElement("span");
    name.className = "cd-image-upload-name";
    name.textContent = label;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.setAttribute("aria-label", `Uploading ${label}`);
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "cd-image-upload-cancel";
    cancel.textContent = "×";
    cancel.title = "Cancel";
    cancel.setAttribute("aria-label", `Cancel uploading ${label}`);
    cancel.addEventListener("click", () => abort.abort());
    element.append(name, bar, cancel);
    this.layer.append(element);
    return element;
  }

  /** Place the placeholders on the next frame. */
  scheduleLayout() {
    if (this._frame || !this.jobs.size) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.layout();
    });
  }

  /** Put each placeholder at its position's place on screen. */
  layout() {
    const length = this.quill.getLength();
    for (const job of this.jobs) {
      const bounds = this.quill.getBounds(Math.min(job.tracked.index, Math.max(0, length - 1)));
      if (!bounds) continue;
      job.element.style.left = `${Math.max(0, bounds.left)}px`;
      job.element.style.top = `${bounds.top + bounds.height}px`;
    }
  }
}
