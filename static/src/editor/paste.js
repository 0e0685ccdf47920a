/**
 * Pasted and dropped content, kept inside the schema before it reaches the
 * document, and the person told what was changed.
 *
 * Quill turns pasted HTML into a change with its clipboard matchers; three
 * more run after its own:
 *
 * - ``img``: during a paste, images/index.js decides first
 *   ({@link handlePastedImages}): images of the project's storage are
 *   copied into the document, ``data:`` images uploaded, remote ones
 *   fetched and uploaded where the browser may (else a link), each as an
 *   upload job with a placeholder. What it leaves (and ``<img>`` in HTML
 *   converted outside a paste): an image the server would refuse is
 *   replaced by a link to it when it has a linkable URL, or left out.
 * - ``iframe``: the same for videos whose host is not on the allowlist.
 * - ``h4, h5, h6``: headings deeper than the schema allows become its
 *   deepest heading (the registered header blot only knows the schema's).
 *
 * Dropped or pasted image files are uploaded (images/index.js replaces
 * Quill's uploader, which would make them ``data:`` URLs).
 *
 * Everything that gets past these (a change made any other way) is still
 * cleaned by the outgoing guard (schema.js ``sanitizeChange``).
 *
 * @module editor/paste
 */
import Delta from "quill-delta";

import { HEADER_LEVELS, checkAttribute, imageAllowed, videoAllowed } from "./schema.js";

/**
 * What a paste changed, counted until the person is told.
 * @typedef {Object} PasteReport
 * @property {number} imageLinks  remote images turned into links
 * @property {number} imagesDropped  images left out (too big, unusable source)
 * @property {number} videoLinks  videos from other hosts turned into links
 * @property {number} videosDropped  videos left out
 */

/**
 * Return the sentence that tells the person what happened to their content,
 * or "" when nothing did.
 * @param {Partial<PasteReport> & {links?: number}} report  missing counts are 0
 * @param {import("./schema.js").EmbedPolicy} policy
 */
export function describeReport(report, policy) {
  const parts = [];
  const say = (count, one, many) => {
    if (count) parts.push(count === 1 ? one : many.replace("#", String(count)));
  };
  say(report.imageLinks, "An image from another site became a link to it",
    "# images from other sites became links to them");
  say(report.imagesDropped, "An image was left out: its source can’t be read (save it and upload the file)",
    "# images were left out: their sources can’t be read (save them and upload the files)");
  const hosts = policy.videoHosts.length ? `only videos from ${policy.videoHosts.join(", ")}` : "no videos";
  say(report.videoLinks, `A video became a link: ${hosts} can be embedded`,
    `# videos became links: ${hosts} can be embedded`);
  say(report.videosDropped, `A video was left out: ${hosts} can be embedded`,
    `# videos were left out: ${hosts} can be embedded`);
  say(report.links, "A link of a kind that is not allowed was removed",
    "# links of a kind that is not allowed were removed");
  return parts.length ? `${parts.join(". ")}.` : "";
}

/**
 * Who decides first about a pasted ``<img>`` (images/index.js): a function
 * returning the delta to use instead, or null to leave it to the rules
 * here.
 * @typedef {(node: Element, delta: Delta) => Delta|null} PastedImageHandler
 */

/** @type {WeakMap<object, PastedImageHandler>} */
const IMAGE_HANDLERS = new WeakMap();

/**
 * Let ``handler`` decide first about each ``<img>`` Quill converts in ``quill``.
 * @param {object} quill
 * @param {PastedImageHandler} handler
 */
export function handlePastedImages(quill, handler) {
  IMAGE_HANDLERS.set(quill, handler);
}

/** Return ``url`` when it is a link the schema accepts, else null. */
const linkable = (url) => (typeof url === "string" && checkAttribute("link", url) === null ? url : null);

/**
 * Install the paste matchers on ``quill``.
 *
 * @param {import("quill").default} quill
 * @param {import("./schema.js").EmbedPolicy} policy
 * @param {(report: Partial<PasteReport>) => void} tell  called with each
 *   count as it is made; the caller sums them into one notice per paste
 */
export function installPasteGuard(quill, policy, tell) {
  const count = (key) => tell({ [key]: 1 });

  quill.clipboard.addMatcher("img", (/** @type {Element} */ node, delta) => {
    const handled = IMAGE_HANDLERS.get(quill)?.(node, delta);
    if (handled) return handled;
    const src = node.getAttribute("src") || "";
    if (imageAllowed(src, policy)) return delta;
    const href = /^https?:/i.test(src) ? linkable(src) : null;
    if (href === null) {
      count("imagesDropped");
      return new Delta();
    }
    count("imageLinks");
    const label = (node.getAttribute("alt") || "").trim() || href;
    return new Delta().insert(label, { link: href });
  });

  quill.clipboard.addMatcher("iframe", (/** @type {Element} */ node, delta) => {
    const src = node.getAttribute("src") || "";
    if (videoAllowed(src, policy)) return delta;
    const href = linkable(src);
    if (href === null) {
      count("videosDropped");
      return new Delta();
    }
    count("videoLinks");
    // A video is a block of its own: keep the link on a line of its own.
    return new Delta().insert(href, { link: href }).insert("\n");
  });

  const deepest = HEADER_LEVELS[HEADER_LEVELS.length - 1];
  if (deepest !== undefined && deepest < 6) {
    const deeper = Array.from({ length: 6 - deepest }, (_, i) => `h${deepest + 1 + i}`).join(", ");
    quill.clipboard.addMatcher(deeper, (_node, delta) => {
      const last = delta.ops[delta.ops.length - 1];
      if (!last || typeof last.insert !== "string" || !last.insert.endsWith("\n")) return delta;
      return delta.compose(new Delta().retain(delta.length() - 1).retain(1, { header: deepest }));
    });
  }
}
