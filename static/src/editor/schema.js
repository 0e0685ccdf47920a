/**
 * What a document may contain, on the browser side: built from the same
 * data file as the server's ``parse_change`` (realtime/ot/schema.json), so
 * the two cannot drift (tests/js/schema.test.mjs compares them).
 *
 * Three uses:
 *
 * - {@link quillFormats}: Quill 2's ``formats`` whitelist, so the editor
 *   registers exactly the schema's formats and embeds; {@link ANY_SCOPE_FORMATS}
 *   names the review marks, which go on text, embeds and line ends alike.
 * - {@link checkAttribute} / {@link checkEmbed}: the verdict on one value,
 *   as the server gives it (null when accepted, else why not).
 * - {@link sanitizeChange}: the outgoing guard. A change Quill or a paste
 *   produced is brought inside the schema before it is sent: values that
 *   have an obvious equivalent are mapped (``header: 5`` → 3,
 *   ``rgb(255, 0, 0)`` → ``#ff0000``, ``" https://x.org "`` → ``https://x.org``),
 *   everything else is dropped. Lengths never change, so positions do not.
 *
 * Pure: no DOM, no Quill; node imports it as is (esbuild bundles the JSON).
 *
 * @module editor/schema
 */
import Delta from "quill-delta";

import SCHEMA from "../../../realtime/ot/schema.json" with { type: "json" };

const FORMATS = SCHEMA.formats;
const EMBEDS = SCHEMA.embeds;

/** Own-property test: ``toString``, ``__proto__``… are never schema names. */
const has = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

/** Compiled ``pattern`` of each string-kind format. */
const PATTERNS = Object.fromEntries(
  Object.entries(/** @type {Record<string, {kind: string, pattern?: string}>} */ (FORMATS))
    .filter(([, spec]) => spec.kind === "string" && spec.pattern)
    .map(([name, spec]) => [name, new RegExp(/** @type {string} */ (spec.pattern))]),
);

/**
 * Return the ``formats`` option of Quill 2: the schema's inline and block
 * formats and its embeds (``table`` brings Quill's table containers with it,
 * as ``list`` does its list container). Embed-scope attributes (alt, width, height) are
 * not blots; Quill's image and video blots handle them themselves.
 * @returns {string[]}
 */
export function quillFormats() {
  const formats = Object.entries(FORMATS)
    .filter(([, spec]) => spec.scope !== "embed")
    .map(([name]) => name);
  return [...formats, ...Object.keys(EMBEDS)];
}

/**
 * The formats of scope ``any``: the review marks (suggest-insert,
 * suggest-delete, suggest-format, comment), carried by text, embeds and
 * line ends alike. Quill needs them registered specially (review/suggest-blots.js).
 * @type {string[]}
 */
export const ANY_SCOPE_FORMATS = Object.entries(FORMATS)
  .filter(([, spec]) => spec.scope === "any")
  .map(([name]) => name);

/** The header levels the schema allows, ascending (Quill's tag names follow). */
export const HEADER_LEVELS = [...(FORMATS.header?.values ?? [])].sort((a, b) => a - b);

/** The link schemes the schema allows (Quill's link sanitiser uses them). */
export const LINK_SCHEMES = [...(FORMATS.link?.schemes ?? [])];

/**
 * The deployment's embed policy (settings COLLABDOCS_VIDEO_HOSTS and the
 * image limits), as the document page passes it on ``#editor-app``.
 * @typedef {Object} EmbedPolicy
 * @property {string[]} videoHosts  https hosts whose iframes are allowed
 * @property {number} imageDataMaxBytes  longest accepted ``data:`` image URL
 * @property {string} imagePathPrefix  same-origin path of the project's storage
 */

/** @type {EmbedPolicy} No video host, small data: images, the default storage prefix. */
export const DEFAULT_POLICY = Object.freeze({
  videoHosts: [],
  imageDataMaxBytes: 256 * 1024,
  imagePathPrefix: "/media/",
});

/**
 * Read the policy from ``#editor-app``'s dataset (data-video-hosts,
 * data-image-data-max-bytes, data-image-path-prefix).
 * @param {Object<string,string|undefined>} dataset
 * @returns {EmbedPolicy}
 */
export function policyFromDataset(dataset) {
  const hosts = (dataset.videoHosts || "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const max = Number(dataset.imageDataMaxBytes);
  return {
    videoHosts: hosts,
    imageDataMaxBytes: Number.isSafeInteger(max) && max >= 0 ? max : DEFAULT_POLICY.imageDataMaxBytes,
    imagePathPrefix: dataset.imagePathPrefix || DEFAULT_POLICY.imagePathPrefix,
  };
}

const describe = (value) => JSON.stringify(value) ?? String(value);

/** A lone surrogate or U+0000: the server refuses them in every string. */
// eslint-disable-next-line no-control-regex -- U+0000 is what this looks for
const BAD_CHAR = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Return why the server refuses ``name: value``, or null when it accepts it
 * (the same rules as realtime/ot/schema.py; scope is not checked here). A
 * null value (removal) is accepted on retains only.
 * @param {string} name
 * @param {unknown} value
 * @param {{retain?: boolean}} [where]
 * @returns {string|null}
 */
export function checkAttribute(name, value, { retain = false } = {}) {
  if (!has(FORMATS, name)) return `unknown attribute '${name}'`;
  if (value === null) return retain ? null : `attribute '${name}' cannot be null on an insert`;
  const spec = FORMATS[name];
  switch (spec.kind) {
    case "boolean":
      return typeof value === "boolean" ? null : `attribute '${name}' must be true or false, got ${describe(value)}`;
    case "enum":
      return spec.values.includes(value) ? null : `attribute '${name}' must be one of ${describe(spec.values)}, got ${describe(value)}`;
    case "color":
      return typeof value === "string" && /^#[0-9A-Fa-f]{6}$/.test(value) ? null : `attribute '${name}' must be #rrggbb, got ${describe(value)}`;
    case "url":
      return checkUrl(name, value, spec);
    case "string":
      if (typeof value !== "string") return `attribute '${name}' must be a string, got ${describe(value)}`;
      if (spec.maxLength !== undefined && value.length > spec.maxLength) return `attribute '${name}' is longer than ${spec.maxLength}`;
      if (PATTERNS[name] && !PATTERNS[name].test(value)) return `attribute '${name}' has a bad value ${describe(value)}`;
      return BAD_CHAR.test(value) ? `attribute '${name}' has a lone surrogate or U+0000` : null;
    default:
      return `attribute '${name}' has an unknown kind '${spec.kind}'`;
  }
}

/** The scheme of an absolute URL, lower case, or null (a relative URL). */
const schemeOf = (url) => /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1].toLowerCase() ?? null;

function checkUrl(name, value, spec) {
  if (typeof value !== "string" || !value) return `attribute '${name}' must be a non-empty URL string, got ${describe(value)}`;
  if (spec.maxLength !== undefined && value.length > spec.maxLength) return `attribute '${name}' is longer than ${spec.maxLength}`;
  // Browsers drop tabs and newlines inside a URL ("java\tscript:") and trim
  // its ends: refuse control characters and surrounding spaces.
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(value) || value.trim() !== value) {
    return `attribute '${name}' has control characters or surrounding spaces`;
  }
  const scheme = schemeOf(value);
  // No scheme: a relative URL, resolved against the page (http or https).
  if (scheme !== null && !spec.schemes.includes(scheme)) {
    return `attribute '${name}' must be a URL with scheme ${spec.schemes.join(", ")}, got ${describe(value.slice(0, 60))}`;
  }
  return BAD_CHAR.test(value) ? `attribute '${name}' has a lone surrogate` : null;
}

/**
 * Return why the server refuses the embed ``{type: value}``, or null.
 * @param {Object} embed  an insert's object, e.g. ``{image: "data:…"}``
 * @param {EmbedPolicy} [policy]
 * @returns {string|null}
 */
export function checkEmbed(embed, policy = DEFAULT_POLICY) {
  if (embed === null || typeof embed !== "object" || Array.isArray(embed)) return "an embed must be an object";
  const keys = Object.keys(embed);
  if (keys.length !== 1) return "an embed has exactly one type";
  const [type] = keys;
  if (!has(EMBEDS, type)) return `unknown embed '${type}'`;
  const value = embed[type];
  // A marker (divider, pagebreak) has no source: its value is exactly true.
  if (EMBEDS[type].kind === "marker") return value === true ? null : `embed '${type}' must be exactly true, got ${describe(value)}`;
  if (typeof value !== "string") return `embed '${type}' must be a string, got ${describe(value)}`;
  switch (EMBEDS[type].kind) {
    case "image":
      return imageAllowed(value, policy) ? null : `embed 'image' is not an allowed source: ${describe(value.slice(0, 60))}`;
    case "video":
      return videoAllowed(value, policy) ? null : `embed 'video' is not from an allowed host: ${describe(value.slice(0, 60))}`;
    default:
      return `embed '${type}' has an unknown kind`;
  }
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}$/;
const PATH_REST = /^[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const HTTPS = /^https:\/\/([A-Za-z0-9.-]+)(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?$/;
/** Longest image path or video URL the server takes. */
const MAX_SOURCE = 2048;

/**
 * Whether an image source is one the server accepts: a ``data:`` image
 * URL of at most the limit's characters, or a path under the project's
 * storage.
 * @param {string} src
 * @param {EmbedPolicy} policy
 */
export function imageAllowed(src, policy = DEFAULT_POLICY) {
  if (typeof src !== "string") return false;
  if (src.startsWith("data:")) return src.length <= policy.imageDataMaxBytes && DATA_IMAGE.test(src);
  const prefix = policy.imagePathPrefix;
  return (
    src.length <= MAX_SOURCE &&
    src.startsWith(prefix) &&
    PATH_REST.test(src.slice(prefix.length)) &&
    !`${src}/`.includes("/../") &&
    !src.includes("//") &&
    // As the server: a browser reads %2e%2e as "..".
    !/%2e|%2f|%5c/i.test(src)
  );
}

/**
 * Whether a video (iframe) source is https on an allowlisted host.
 * @param {string} src
 * @param {EmbedPolicy} policy
 */
export function videoAllowed(src, policy = DEFAULT_POLICY) {
  if (typeof src !== "string" || src.length > MAX_SOURCE) return false;
  const match = HTTPS.exec(src);
  return match !== null && policy.videoHosts.includes(match[1].toLowerCase());
}

// -- mapping values to the schema -------------------------------------------

/** The CSS named colours a paste commonly carries (the rest are dropped). */
const NAMED_COLORS = {
  black: "#000000", silver: "#c0c0c0", gray: "#808080", grey: "#808080", white: "#ffffff",
  maroon: "#800000", red: "#ff0000", purple: "#800080", fuchsia: "#ff00ff", green: "#008000",
  lime: "#00ff00", olive: "#808000", yellow: "#ffff00", navy: "#000080", blue: "#0000ff",
  teal: "#008080", aqua: "#00ffff", orange: "#ffa500",
};

/**
 * Return ``value`` as ``#rrggbb`` (from #rgb, #RRGGBB, rgb()/rgba() with
 * full alpha, a basic named colour), or null.
 * @param {unknown} value
 */
function toHexColor(value) {
  if (typeof value !== "string") return null;
  const v = value.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(v)) return v;
  if (/^#[0-9a-f]{3}$/.test(v)) return `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}`;
  if (has(NAMED_COLORS, v)) return NAMED_COLORS[v];
  const rgb = /^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*([\d.]+)\s*)?\)$/.exec(v);
  if (!rgb || (rgb[4] !== undefined && Number(rgb[4]) < 1)) return null; // transparent: no colour
  const parts = rgb.slice(1, 4).map(Number);
  if (parts.some((n) => n > 255)) return null;
  return `#${parts.map((n) => n.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Return the schema value closest to ``value`` for ``name``, or undefined
 * when there is none (the attribute is then dropped).
 */
function mapValue(name, value) {
  const spec = FORMATS[name];
  switch (spec.kind) {
    case "enum": {
      const numeric = spec.values.every((v) => typeof v === "number");
      if (numeric) {
        const n = typeof value === "string" && /^\d{1,3}$/.test(value) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1) return undefined;
        if (spec.values.includes(n)) return n;
        // Deeper headings and indents than the schema allows: the deepest it allows.
        return n > Math.max(...spec.values) ? Math.max(...spec.values) : undefined;
      }
      if (name === "list" && value === "check") return "unchecked";
      return undefined;
    }
    case "color":
      return toHexColor(value) ?? undefined;
    case "url": {
      if (typeof value !== "string") return undefined;
      const v = value.trim();
      // Reached only for a refused value: trim the spaces a pasted URL
      // brings; a bare host ("example.com/x") then gets https://.
      const mapped = schemeOf(v) === null && /^[\w-]+(\.[\w-]+)+([/?#]\S*)?$/.test(v) ? `https://${v}` : v;
      return checkAttribute(name, mapped) === null ? mapped : undefined;
    }
    case "boolean":
      return value === "true" ? true : value === "false" ? false : undefined;
    default:
      return undefined;
  }
}

/**
 * What {@link sanitizeChange} removed, for telling the person.
 * @typedef {Object} Removed
 * @property {number} images  image embeds dropped (remote or too big)
 * @property {number} videos  video embeds dropped (host not allowed)
 * @property {number} embeds  other embeds dropped
 * @property {number} links   links dropped (scheme not allowed)
 * @property {string[]} attributes  names of other attributes dropped or mapped
 */

/**
 * Clean one op's attributes; return [attributes|undefined, changed].
 * @param {Object|undefined} attributes
 * @param {"text"|"newline"|"embed"|"retain"} where
 * @param {Object|null} embed  the schema's embed (where === "embed")
 * @param {Removed} removed
 */
function cleanAttributes(attributes, where, embed, removed) {
  if (!attributes) return [undefined, false];
  /** @type {Record<string, unknown>|undefined} the cleaned copy, made at the first change */
  let out;
  for (const name of Object.keys(attributes)) {
    const value = attributes[name];
    const spec = has(FORMATS, name) ? FORMATS[name] : null;
    let keep = spec !== null;
    if (keep && where !== "retain") {
      // As the server's scopes, and as Quill's document holds them: block
      // formats on line ends, inline ones on text (not on line ends, where
      // Quill keeps none) and inline embeds, an embed's own attributes on it.
      // Scope "any" (the review marks) goes on text, embeds and line ends alike.
      if (spec.scope === "any") keep = true;
      else if (where === "embed") {
        keep = embed.attributes.includes(name) || (embed.scope !== "block" && spec.scope === "inline");
      } else if (spec.scope === "block") keep = where === "newline";
      else if (spec.scope === "inline") keep = where === "text";
      else keep = false;
    }
    let next = value;
    if (keep && checkAttribute(name, value, { retain: where === "retain" }) !== null) {
      next = mapValue(name, value);
      keep = next !== undefined;
    }
    if (keep && next === value) {
      if (out) out[name] = value;
      continue;
    }
    if (!out) {
      out = {};
      for (const earlier of Object.keys(attributes)) {
        if (earlier === name) break;
        out[earlier] = attributes[earlier];
      }
    }
    if (keep) out[name] = next;
    if (name === "link" && !keep) removed.links += 1;
    else if (!removed.attributes.includes(name)) removed.attributes.push(name);
  }
  if (!out) return [attributes, false];
  return [Object.keys(out).length ? out : undefined, true];
}

/**
 * Bring ``change`` inside the schema (see the module docstring).
 *
 * Embeds that are not allowed are deleted from the change (an insert
 * dropped), so the result may be shorter than what Quill shows: the caller
 * corrects the editor to ``oldDoc.compose(result)``.
 *
 * @param {Delta} change
 * @param {EmbedPolicy} [policy]
 * @returns {{change: Delta, altered: boolean, removed: Removed}}
 */
export function sanitizeChange(change, policy = DEFAULT_POLICY) {
  /** @type {Removed} */
  const removed = { images: 0, videos: 0, embeds: 0, links: 0, attributes: [] };
  let altered = false;
  const out = new Delta();
  for (const op of change.ops) {
    if (typeof op.delete === "number") {
      out.push(op);
    } else if (op.retain !== undefined) {
      const [attributes, changed] = cleanAttributes(op.attributes, "retain", null, removed);
      altered ||= changed;
      if (typeof op.retain !== "number") {
        // A retain of an embed (quill-delta's embed handlers): not in the protocol.
        out.retain(1, attributes);
        altered = true;
      } else out.retain(op.retain, attributes);
    } else if (typeof op.insert === "string") {
      if (!op.attributes) {
        out.push(op);
        continue;
      }
      // Split at line ends: block formats go on "\n", inline ones on the text.
      for (const piece of op.insert.split(/(\n)/)) {
        if (!piece) continue;
        const [attributes, changed] = cleanAttributes(op.attributes, piece === "\n" ? "newline" : "text", null, removed);
        altered ||= changed;
        out.insert(piece, attributes);
      }
    } else {
      const reason = checkEmbed(op.insert, policy);
      if (reason !== null) {
        altered = true;
        const type = op.insert && typeof op.insert === "object" ? Object.keys(op.insert)[0] : "";
        if (type === "image") removed.images += 1;
        else if (type === "video") removed.videos += 1;
        else removed.embeds += 1;
        continue;
      }
      const embed = /** @type {Record<string, unknown>} */ (op.insert); // checkEmbed passed
      const [type] = Object.keys(embed);
      const [attributes, changed] = cleanAttributes(op.attributes, "embed", EMBEDS[type], removed);
      altered ||= changed;
      out.insert(embed, attributes);
    }
  }
  return { change: altered ? out.chop() : change, altered, removed };
}

/** Whether every count in ``removed`` is zero. */
export function nothingRemoved(removed) {
  return !removed.images && !removed.videos && !removed.embeds && !removed.links && !removed.attributes.length;
}

