/**
 * Read-only rendering of a document or a compare's redline delta.
 *
 * The redline (``GET …/compare``, contract.md "History") is the ``to``
 * content with the deleted text of ``from`` interleaved where it was; an
 * op may carry ``"diff": "insert"|"delete"|"format"`` and ``"diff-author":
 * <user id>``. Those two are not document formats: they never reach the
 * editor's schema or Quill; this module draws them itself.
 *
 * Two steps: ``lineModel(ops)`` (pure: the ops cut into lines, each with
 * its block attributes and its spans) and ``renderLines(container, lines,
 * options)`` (DOM: every string goes in as text, links only with an
 * allowed scheme, images only from this site's media path). Inserted text
 * is underlined in its author's colour, deleted text struck through, a
 * format change outlined; a paragraph break that was inserted or deleted
 * shows as a pilcrow with the same mark.
 */

/**
 * @typedef {{insert: string|Object, attributes?: Object, diff?: string, "diff-author"?: number|null, by?: number|null}} RedlineOp
 * @typedef {{text?: string, embed?: {kind: string, value: any}, attrs: Object, diff: string|null, author: number|null, by?: number|null}} Span
 * @typedef {{attrs: Object, diff: string|null, author: number|null, spans: Span[]}} Line
 */

const DIFFS = new Set(["insert", "delete", "format"]);

/** @param {RedlineOp} op */
function markOf(op) {
  const diff = typeof op.diff === "string" && DIFFS.has(op.diff) ? op.diff : null;
  const author = typeof op["diff-author"] === "number" ? op["diff-author"] : null;
  return { diff, author };
}

/**
 * Cut ``ops`` (insert ops, with or without diff marks) into lines. A line
 * ends at a newline, which carries the line's block attributes; text after
 * the last newline (not in a valid document) makes a last line of its own.
 *
 * @param {RedlineOp[]} ops
 * @returns {Line[]}
 */
export function lineModel(ops) {
  /** @type {Line[]} */
  const lines = [];
  /** @type {Span[]} */
  let spans = [];
  for (const op of Array.isArray(ops) ? ops : []) {
    if (!op || op.insert === undefined) continue;
    const attrs = op.attributes && typeof op.attributes === "object" ? op.attributes : {};
    const { diff, author } = markOf(op);
    const by = typeof op.by === "number" ? op.by : null;
    if (typeof op.insert !== "string") {
      const [kind] = Object.keys(op.insert || {});
      if (kind) spans.push({ embed: { kind, value: op.insert[kind] }, attrs, diff, author, by });
      continue;
    }
    const parts = op.insert.split("\n");
    parts.forEach((text, i) => {
      if (text) spans.push({ text, attrs, diff, author, by });
      if (i < parts.length - 1) {
        lines.push({ attrs, diff, author, spans });
        spans = [];
      }
    });
  }
  if (spans.length) lines.push({ attrs: {}, diff: null, author: null, spans });
  return lines;
}

/**
 * Return ``ops`` (a document) cut at the authorship runs' edges, each
 * piece with ``by``: who wrote it (runs as contract.md "Authorship":
 * ``[[length, user id or null], …]``). Runs shorter than the document
 * leave the rest unattributed; longer ones are cut off.
 *
 * @param {RedlineOp[]} ops
 * @param {Array<[number, number|null]>} runs
 * @returns {Array<RedlineOp & {by?: number|null}>}
 */
export function attribute(ops, runs) {
  const out = [];
  let r = 0;
  let used = 0; // units of runs[r] already given out
  for (const op of ops) {
    if (typeof op.insert !== "string") {
      const run = runs[r];
      out.push({ ...op, by: run ? run[1] : null });
      if (run && ++used >= run[0]) {
        r += 1;
        used = 0;
      }
      continue;
    }
    let at = 0;
    while (at < op.insert.length) {
      const run = runs[r];
      if (!run) {
        out.push({ ...op, insert: op.insert.slice(at), by: null });
        break;
      }
      const n = Math.min(run[0] - used, op.insert.length - at);
      out.push({ ...op, insert: op.insert.slice(at, at + n), by: run[1] });
      at += n;
      used += n;
      if (used >= run[0]) {
        r += 1;
        used = 0;
      }
    }
  }
  return out;
}

/**
 * The marks of a line model in reading order, for tests and summaries:
 * ``[{diff, author, text}]`` with adjacent spans of one mark joined and a
 * marked paragraph break as "\n".
 *
 * @param {Line[]} lines
 */
export function marks(lines) {
  /** @type {{diff: string, author: number|null, text: string}[]} */
  const out = [];
  const add = (diff, author, text) => {
    const last = out[out.length - 1];
    if (last && last.diff === diff && last.author === author) last.text += text;
    else out.push({ diff, author, text });
  };
  for (const line of lines) {
    for (const span of line.spans) {
      if (span.diff) add(span.diff, span.author, span.text ?? `[${span.embed?.kind}]`);
    }
    if (line.diff) add(line.diff, line.author, "\n");
  }
  return out;
}

/**
 * A one-line summary of a compare: "+12 words, −3 words, formatting changed".
 * @param {{added_words?: number, removed_words?: number, formatted?: number|boolean}} summary
 */
export function summaryText(summary) {
  const parts = [];
  const added = Number(summary?.added_words) || 0;
  const removed = Number(summary?.removed_words) || 0;
  const plural = (n) => (n === 1 ? "word" : "words");
  if (added) parts.push(`+${added} ${plural(added)}`);
  if (removed) parts.push(`\u2212${removed} ${plural(removed)}`);
  if (summary?.formatted) parts.push("formatting changed");
  return parts.length ? parts.join(", ") : "No changes";
}

const LINK_SCHEMES = /^(https?:|mailto:|tel:)/i;
const HEX = /^#[0-9a-f]{6}$/i;
const INLINE_TAGS = [["bold", "strong"], ["italic", "em"], ["underline", "u"], ["strike", "s"], ["code", "code"]];

/**
 * @typedef {Object} RenderOptions
 * @property {(author: number|null) => string|null} [colorOf]  an author's colour
 * @property {(author: number|null) => string} [nameOf]  an author's name
 * @property {string} [mediaPrefix]  images are drawn only from here ("/media/")
 * @property {boolean} [showAuthors]  tint text by who wrote it (spans' ``by``)
 */

/**
 * @param {Span} span
 * @param {RenderOptions} options
 * @returns {Node}
 */
function spanNode(span, options) {
  /** @type {Node} */
  let node;
  if (span.embed) {
    const { kind, value } = span.embed;
    const prefix = options.mediaPrefix || "/media/";
    if (kind === "image" && typeof value === "string" && value.startsWith(prefix)) {
      const img = document.createElement("img");
      img.src = value;
      img.alt = typeof span.attrs.alt === "string" ? span.attrs.alt : "";
      img.className = "redline-image";
      node = img;
    } else if (kind === "divider" || kind === "pagebreak") {
      const hr = document.createElement("hr");
      hr.className = `redline-${kind}`;
      node = hr;
    } else {
      const box = document.createElement("span");
      box.className = "redline-embed";
      box.textContent = `[${kind}]`;
      node = box;
    }
  } else {
    node = document.createTextNode(span.text || "");
  }
  for (const [format, tag] of INLINE_TAGS) {
    if (span.attrs[format] === true) {
      const wrap = document.createElement(tag);
      wrap.append(node);
      node = wrap;
    }
  }
  const { link, color, background } = span.attrs;
  if (typeof link === "string" && LINK_SCHEMES.test(link)) {
    const a = document.createElement("a");
    a.href = link;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    a.append(node);
    node = a;
  }
  if ((typeof color === "string" && HEX.test(color)) || (typeof background === "string" && HEX.test(background))) {
    const wrap = document.createElement("span");
    if (typeof color === "string" && HEX.test(color)) wrap.style.color = color;
    if (typeof background === "string" && HEX.test(background)) wrap.style.background = background;
    wrap.append(node);
    node = wrap;
  }
  if (options.showAuthors && span.by !== undefined && span.by !== null) {
    const wrap = document.createElement("span");
    wrap.className = "history-author";
    wrap.dataset.author = String(span.by);
    const color = options.colorOf?.(span.by);
    if (color && HEX.test(color)) wrap.style.setProperty("--author-color", color);
    const who = options.nameOf?.(span.by);
    if (who) wrap.title = who;
    wrap.append(node);
    node = wrap;
  }
  return markNode(node, span.diff, span.author, options);
}

/**
 * Wrap ``node`` in its diff mark: ``<ins>`` (author's colour), ``<del>``,
 * or a ``.redline-format`` span; unmarked text as it is.
 * @param {Node} node
 * @param {string|null} diff
 * @param {number|null} author
 * @param {RenderOptions} options
 */
function markNode(node, diff, author, options) {
  if (!diff) return node;
  const tag = diff === "insert" ? "ins" : diff === "delete" ? "del" : "span";
  const wrap = document.createElement(tag);
  wrap.className = `redline-${diff}`;
  wrap.dataset.diff = diff;
  if (author !== null) wrap.dataset.author = String(author);
  const color = options.colorOf?.(author);
  if (color && HEX.test(color)) wrap.style.setProperty("--author-color", color);
  const who = options.nameOf?.(author);
  const what = diff === "insert" ? "Added" : diff === "delete" ? "Deleted" : "Formatting changed";
  wrap.title = who ? `${what} by ${who}` : what;
  wrap.append(node);
  return wrap;
}

/** @param {Object} attrs */
function blockTag(attrs) {
  if (attrs.header === 1 || attrs.header === 2 || attrs.header === 3) return `h${attrs.header}`;
  if (attrs.blockquote === true) return "blockquote";
  if (attrs["code-block"] === true) return "pre";
  if (typeof attrs.list === "string") return "li";
  return "p";
}

/**
 * Return the element of one line.
 * @param {Line} line
 * @param {RenderOptions} options
 */
function lineNode(line, options) {
  const block = document.createElement(blockTag(line.attrs));
  if (line.spans.length === 0 && !line.diff) block.append(document.createElement("br"));
  for (const span of line.spans) block.append(spanNode(span, options));
  if (line.diff) {
    block.append(markNode(document.createTextNode("\u00b6"), line.diff, line.author, options));
    block.dataset.diff = line.diff;
  }
  const { align, indent, table } = line.attrs;
  if (align === "center" || align === "right" || align === "justify") block.style.textAlign = align;
  if (typeof indent === "number" && indent >= 1 && indent <= 8) block.style.marginLeft = `${indent * 2}em`;
  if (typeof table === "string") block.classList.add("redline-cell");
  if (line.attrs.list === "checked" || line.attrs.list === "unchecked") block.dataset.list = line.attrs.list;
  return block;
}

/**
 * Group lines into the container's top-level blocks: a line alone, or a
 * run of list lines of one kind (one ``<ul>``/``<ol>``); each with a key
 * that changes whenever its drawing would.
 * @param {Line[]} lines
 * @returns {Array<{key: string, lines: Line[], list: string}>}
 */
function blocksOf(lines) {
  /** @type {Array<{key: string, lines: Line[], list: string}>} */
  const blocks = [];
  for (const line of lines) {
    const key = JSON.stringify(line);
    const list = typeof line.attrs.list === "string" ? (line.attrs.list === "ordered" ? "ol" : "ul") : "";
    const last = blocks[blocks.length - 1];
    if (list && last && last.list === list) {
      last.lines.push(line);
      last.key += `\n${key}`;
    } else {
      blocks.push({ key: list ? `${list}:${key}` : key, lines: [line], list });
    }
  }
  return blocks;
}

/** The keys of what a container shows, for ``renderLines``'s ``incremental``. */
const drawn = new WeakMap();

/**
 * Draw ``lines`` into ``container``. With ``incremental`` (the timeslider,
 * which draws the document again at every tick), only the blocks between
 * the unchanged start and the unchanged end are replaced: a tick's change
 * is usually in one place, and redrawing a 1 MB document whole costs half
 * a second of layout. ``key`` names the options; when it changes,
 * everything is drawn again.
 *
 * @param {HTMLElement} container
 * @param {Line[]} lines
 * @param {RenderOptions & {incremental?: boolean, key?: string}} [options]
 */
export function renderLines(container, lines, options = {}) {
  const blocks = blocksOf(lines);
  const build = (/** @type {{lines: Line[], list: string}} */ block) => {
    if (!block.list) return lineNode(block.lines[0], options);
    const list = document.createElement(block.list);
    for (const line of block.lines) list.append(lineNode(line, options));
    return list;
  };
  const before = drawn.get(container);
  const keys = blocks.map((block) => block.key);
  drawn.set(container, { keys, options: options.key ?? "" });
  if (!options.incremental || !before || before.options !== (options.key ?? "")
      || container.children.length !== before.keys.length) {
    const all = document.createDocumentFragment();
    for (const block of blocks) all.append(build(block));
    container.replaceChildren(all);
    return;
  }
  const old = before.keys;
  let head = 0;
  while (head < old.length && head < keys.length && old[head] === keys[head]) head += 1;
  let tail = 0;
  while (tail < old.length - head && tail < keys.length - head
         && old[old.length - 1 - tail] === keys[keys.length - 1 - tail]) tail += 1;
  const children = [...container.children];
  for (const child of children.slice(head, old.length - tail)) child.remove();
  const anchor = children[old.length - tail] ?? null;
  const fresh = document.createDocumentFragment();
  for (const block of blocks.slice(head, blocks.length - tail)) fresh.append(build(block));
  container.insertBefore(fresh, anchor);
}
