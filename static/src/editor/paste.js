/**
 * Pasted and dropped content, kept inside the schema before it reaches the
 * document, and the person told what was changed.
 *
 * Quill turns pasted HTML into a change with its clipboard matchers; three
 * more run after its own:
 *
 * - ``img``: an image the server would refuse (a remote http(s) source, a
 *   ``data:`` URL over the size limit, anything else) is replaced by a link
 *   to it when it has a linkable URL, or left out. Uploads come in a later
 *   issue; until then only ``data:`` images and the project's storage work.
 * - ``iframe``: the same for videos whose host is not on the allowlist.
 * - ``h4, h5, h6``: headings deeper than the schema allows become its
 *   deepest heading (the registered header blot only knows the schema's).
 *
 * Dropped or pasted image files go through Quill's uploader as ``data:``
 * URLs; the ones over the limit are left out here too.
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
  const kb = Math.floor(policy.imageDataMaxBytes / 1024);
  say(report.imagesDropped, `An image was left out: only images under ${kb} KB can be added until uploads arrive`,
    `# images were left out: only images under ${kb} KB can be added until uploads arrive`);
  const hosts = policy.videoHosts.length ? `only videos from ${policy.videoHosts.join(", ")}` : "no videos";
  say(report.videoLinks, `A video became a link: ${hosts} can be embedded`,
    `# videos became links: ${hosts} can be embedded`);
  say(report.videosDropped, `A video was left out: ${hosts} can be embedded`,
    `# videos were left out: ${hosts} can be embedded`);
  say(report.links, "A link of a kind that is not allowed was removed",
    "# links of a kind that is not allowed were removed");
  return parts.length ? `${parts.join(". ")}.` : "";
}

/** Return ``url`` when it is a link the schema accepts, else null. */
const linkable = (url) => (typeof url === "string" && checkAttribute("link", url) === null ? url : null);

/**
 * Install the paste matchers and the uploader's size check on ``quill``.
 *
 * @param {import("quill").default} quill
 * @param {import("./schema.js").EmbedPolicy} policy
 * @param {(report: Partial<PasteReport>) => void} tell  called with each
 *   count as it is made; the caller sums them into one notice per paste
 */
export function installPasteGuard(quill, policy, tell) {
  const count = (key) => tell({ [key]: 1 });

  quill.clipboard.addMatcher("img", (/** @type {Element} */ node, delta) => {
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

  // Dropped or pasted files: Quill reads them as data: URLs; refuse the
  // ones that would be over the limit before reading them (base64 grows
  // by 4/3, plus the "data:image/png;base64," prefix).
  const uploader = /** @type {import("quill/modules/uploader.js").default|undefined} */ (
    quill.getModule("uploader")
  );
  if (uploader) {
    const upload = uploader.upload.bind(uploader);
    uploader.upload = (range, files) => {
      const small = [];
      for (const file of Array.from(files)) {
        if (Math.ceil(file.size / 3) * 4 + 40 <= policy.imageDataMaxBytes) small.push(file);
        else count("imagesDropped");
      }
      if (small.length) upload(range, small);
    };
  }
}
