/**
 * What to do with an image that arrives in pasted HTML, and the small pure
 * helpers the upload paths share. No DOM beyond ``Blob``/``atob`` (node has
 * both), no Quill, so node tests it.
 *
 * An ``<img>``'s source is one of:
 *
 * - ``copy``: an image of the project's storage (``/media/i/<uuid>.<ext>``,
 *   also written as an absolute URL of this origin, as browsers copy it):
 *   mapped into this document by ``POST /api/docs/<id>/images/copy``;
 * - ``data``: a ``data:image/…;base64`` URL: decoded and uploaded, whatever
 *   its size (documents hold no inline images any more);
 * - ``remote``: an http(s) URL elsewhere: uploaded from the clipboard's
 *   own copy of the image when it has one, else a link to it;
 * - ``keep``: any other source the content policy already accepts (another
 *   path under the storage prefix): kept as it is;
 * - ``drop``: anything else (``blob:``, ``file:``, ``cid:``…): left out.
 *
 * @module editor/images/classify
 */

/** The image types the server takes, by MIME type, with their extension. */
export const IMAGE_TYPES = Object.freeze({
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
});

/** The ``accept`` of the file picker. */
export const ACCEPT = Object.keys(IMAGE_TYPES).join(",");

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const STORED_NAME = new RegExp(`^i/${UUID}\\.(png|jpg|gif|webp)$`);

/**
 * @typedef {{kind: "copy", src: string} | {kind: "data", src: string} |
 *   {kind: "remote", src: string} | {kind: "keep", src: string} |
 *   {kind: "drop", src: string}} Classified
 */

/**
 * Classify a pasted image source (see the module docstring).
 * @param {string} src  the ``<img>``'s ``src`` attribute
 * @param {{imagePathPrefix: string}} policy
 * @param {(src: string) => boolean} allowed  the content policy's verdict
 *   (schema.js ``imageAllowed`` bound to the policy)
 * @param {string} origin  the page's origin, e.g. ``http://127.0.0.1:8000``
 * @returns {Classified}
 */
export function classifySource(src, policy, allowed, origin) {
  const raw = typeof src === "string" ? src.trim() : "";
  if (/^data:image\//i.test(raw)) return { kind: "data", src: raw };
  let path = raw;
  if (/^https?:\/\//i.test(raw)) {
    let url;
    try {
      url = new URL(raw);
    } catch {
      return { kind: "drop", src: raw };
    }
    if (url.origin !== origin) return { kind: "remote", src: raw };
    path = url.pathname; // this site's own image, copied with its full URL
  }
  const prefix = policy.imagePathPrefix;
  if (path.startsWith(prefix) && STORED_NAME.test(path.slice(prefix.length))) return { kind: "copy", src: path };
  if (allowed(path)) return { kind: "keep", src: path };
  return { kind: "drop", src: raw };
}

/**
 * Decode a base64 ``data:image`` URL into a Blob, or null when it is not
 * one (a bad base64 body, another encoding, a type the server refuses).
 * @param {string} url
 * @returns {Blob|null}
 */
export function dataUrlToBlob(url) {
  const match = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i.exec(url);
  if (!match) return null;
  const type = match[1].toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(IMAGE_TYPES, type)) return null;
  let binary;
  try {
    binary = atob(match[2].replace(/\s+/g, ""));
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type });
}

/**
 * Return a file name for an upload of ``type`` that has none (a pasted
 * blob, a data: URL): ``pasted-image.png``.
 * @param {string} type
 */
export function fileNameFor(type) {
  const ext = Object.prototype.hasOwnProperty.call(IMAGE_TYPES, type) ? IMAGE_TYPES[type] : "img";
  return `pasted-image.${ext}`;
}

/**
 * Whether a file the person dropped, pasted or picked is an image at all
 * (the server decides whether it is a good one).
 * @param {{type: string, name?: string}} file
 */
export function looksLikeImage(file) {
  if (file.type) return file.type.startsWith("image/");
  return /\.(png|jpe?g|gif|webp)$/i.test(file.name || "");
}

/**
 * The key of a pasted image's stand-in embed: the paste matcher puts
 * ``{[PENDING]: n}`` where the image was, {@link takePending} takes it out
 * and says where it was. Never reaches the document.
 */
export const PENDING = "collabdocs-pending-image";

/**
 * Take the stand-ins out of a converted paste.
 * @param {{ops: Array<{insert?: unknown, retain?: unknown, delete?: number, attributes?: Object}>}} delta
 * @param {T} out  an empty Delta the rest is pushed onto (adjacent
 *   inserts of the same formats merge, as in any Delta)
 * @returns {{delta: T, pending: Array<{offset: number, id: number, attributes: Object|undefined}>}}
 *   ``offset``: the stand-in's index in the cleaned paste; ``attributes``:
 *   the formats Quill gave it (a link, a review mark…)
 * @template {{push: (op: Object) => unknown}} T
 */
export function takePending(delta, out) {
  const pending = [];
  let offset = 0;
  for (const op of delta.ops) {
    const insert = op.insert;
    if (insert && typeof insert === "object" && Object.prototype.hasOwnProperty.call(insert, PENDING)) {
      pending.push({ offset, id: Number(/** @type {Record<string, unknown>} */ (insert)[PENDING]), attributes: op.attributes });
      continue;
    }
    out.push(op);
    if (typeof insert === "string") offset += insert.length;
    else if (insert !== undefined) offset += 1;
  }
  return { delta: out, pending };
}

/**
 * Return the width (a schema value: px as digits) for an image dragged to
 * ``px`` wide, kept between 16 px and ``max`` (the editor's width).
 * @param {number} px
 * @param {number} max
 */
export function widthValue(px, max) {
  const upper = Math.max(16, Math.min(9999, Math.floor(max)));
  return String(Math.max(16, Math.min(upper, Math.round(px))));
}
