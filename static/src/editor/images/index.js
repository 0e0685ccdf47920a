/**
 * Images in the editor (issue 13): insert by toolbar, paste and drop, with
 * upload progress; resize by dragging; alt text; copies between documents.
 *
 * Ways in, all ending in uploads.js's jobs (a placeholder at a tracked
 * position, then the embed inserted as the person's change):
 *
 * - the toolbar's image button opens a file picker (PNG, JPEG, GIF, WebP;
 *   several files at once);
 * - files dropped on the editor or pasted (Quill's uploader module, whose
 *   ``upload`` is replaced here: files go to ``POST /api/docs/<id>/images``
 *   instead of becoming ``data:`` URLs);
 * - ``<img>`` in pasted HTML (paste.js's matcher asks
 *   {@link pastedImage} first): an image of the project's storage is
 *   copied into this document (``…/images/copy``; the ones the person may
 *   not view are left out), a ``data:`` image is uploaded, a remote one is
 *   uploaded from the browser's own copy when the clipboard carries its
 *   file beside the HTML, else it becomes a link to it (paste.js). The
 *   page never fetches a remote image: its connect-src is the site only
 *   (collabdocs/csp.py), so no paste makes a request to a third party.
 *   One notice per paste says what happened.
 *
 * Selected images get a frame to resize them and a small panel for their
 * width and alt text (resize.js).
 *
 * @module editor/images
 */
import Delta from "quill-delta";

import { handlePastedImages } from "../paste.js";
import { imageAllowed } from "../schema.js";
import {
  ACCEPT,
  PENDING,
  classifySource,
  dataUrlToBlob,
  fileNameFor,
  looksLikeImage,
  takePending,
} from "./classify.js";
import { installResize } from "./resize.js";
import { copyImages, uploadImage } from "./upload.js";
import { Uploads } from "./uploads.js";
import "./images.css";

/**
 * Install image handling on the editor.
 * @param {{quill: any, app: HTMLElement, notices: any, docId: string, policy: any,
 *   access: () => {canEdit: boolean, canComment: boolean}}} context
 * @returns {object} what the browser tests and window.collabdocs.images reach
 */
export function installImages(context) {
  const { quill, app, notices, docId, policy } = context;
  const uploads = new Uploads({ quill, notices });

  /**
   * The job of one file: upload it, insert the embed.
   * @param {Blob} file
   * @param {string} [name]
   * @param {Record<string, unknown>} [attributes]
   */
  const fileItem = (file, name = "", attributes = undefined) => ({
    label: name || /** @type {File} */ (file).name || fileNameFor(file.type),
    /** @type {import("./uploads.js").Work} */
    work: (progress, signal) =>
      uploadImage({ docId, file, name: name || undefined, onProgress: progress, signal }).then((uploaded) => ({
        embed: { image: uploaded.src },
        attributes,
      })),
  });

  /**
   * Upload ``files`` at ``range`` (replacing what it selects).
   * @param {{index: number, length: number}} range
   * @param {FileList|File[]} files
   */
  const uploadFiles = (range, files) => {
    if (!quill.isEnabled()) return; // a drop on a read-only editor
    const all = Array.from(files);
    // The server's limit (data-image-max-bytes): a bigger file is refused
    // here, before megabytes are sent only to be turned away.
    const maxBytes = Number(app.dataset.imageMaxBytes) || Infinity;
    const candidates = all.filter(looksLikeImage);
    const images = candidates.filter((file) => file.size <= maxBytes);
    const tooBig = candidates.length - images.length;
    if (tooBig) {
      const limit = `${Math.round((maxBytes / (1024 * 1024)) * 10) / 10} MB`;
      notices.show({
        kind: "images",
        message: tooBig === 1 ? `That image is larger than ${limit}, the most this server accepts: it was not added.`
          : `${tooBig} images are larger than ${limit}, the most this server accepts: they were not added.`,
        tone: "warning",
      });
    }
    const others = all.length - candidates.length;
    if (others) {
      notices.show({
        kind: "images",
        message: others === 1 ? "That file isn’t an image: only PNG, JPEG, GIF and WebP images can be added here."
          : `${others} files aren’t images: only PNG, JPEG, GIF and WebP images can be added here.`,
        tone: "warning",
      });
    }
    if (!images.length) return;
    if (range.length) quill.deleteText(range.index, range.length, "user");
    uploads.start(range.index, images.map((file) => fileItem(file)));
  };

  // Drops and pasted files (Quill's clipboard and drop handler call this).
  const uploader = quill.getModule("uploader");
  if (uploader) uploader.upload = uploadFiles;

  // The toolbar's button: a file picker.
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = ACCEPT;
  picker.multiple = true;
  picker.hidden = true;
  picker.className = "cd-image-picker";
  app.append(picker);
  /**
   * Where the picker's files go: the selection when it was opened, tracked
   * while the person chooses (collaborators may type meanwhile).
   * @type {{at: import("./track.js").Tracked, length: number}|null}
   */
  let picked = null;
  const unpick = () => {
    if (picked) uploads.tracker.release(picked.at);
    const was = picked;
    picked = null;
    return was;
  };
  picker.addEventListener("change", () => {
    const files = picker.files ? Array.from(picker.files) : [];
    picker.value = "";
    const was = unpick();
    const range = was ? { index: was.at.index, length: was.length } : quill.getSelection(true);
    if (files.length && range) uploadFiles(range, files);
  });
  picker.addEventListener("cancel", unpick);
  const pick = () => {
    unpick();
    const range = quill.getSelection(true);
    picked = { at: uploads.tracker.track(range.index), length: range.length };
    picker.click();
  };
  quill.getModule("toolbar")?.addHandler("image", pick);

  // Pasted HTML: <img> sources that need the server become stand-ins
  // (classify.js PENDING) while Quill converts the paste, and jobs once it
  // is applied. Outside a paste (an API's HTML) paste.js's rules apply.
  /**
   * The paste being converted: its jobs (by stand-in id), the storage
   * images it copies, and the one copy request they share.
   * @typedef {{index: number, items: Array<{label: string, work: import("./uploads.js").Work}>,
   *   copies: string[], answer: Promise<{map: Record<string, string>, refused: string[]}>|null,
   *   files: File[]}} Paste
   */
  /** @type {Paste|null} */
  let pasting = null;
  const allowed = (src) => imageAllowed(src, policy);

  handlePastedImages(quill, (node, delta) => {
    if (!pasting) return null;
    const verdict = classifySource(node.getAttribute("src") || "", policy, allowed, window.location.origin);
    if (verdict.kind === "keep" || verdict.kind === "drop") return null;
    const attributes = delta.ops[0]?.attributes;
    const label = (node.getAttribute("alt") || "").trim() || "image";
    const id = pasting.items.length;
    if (verdict.kind === "data") {
      const blob = dataUrlToBlob(verdict.src);
      if (!blob) return null; // paste.js leaves out what cannot be read
      pasting.items.push(fileItem(blob, fileNameFor(blob.type), attributes));
    } else if (verdict.kind === "copy") {
      pasting.items.push(copyItem(verdict.src, label, attributes, pasting));
    } else {
      // A remote image: the browser's own copy of it, when the clipboard
      // holds one (Chromium puts the image's file beside the HTML when
      // one image is copied); else paste.js makes it a link and says so.
      const file = pasting.files.shift();
      if (!file) return null;
      pasting.items.push(fileItem(file, "", attributes));
    }
    return new Delta().insert({ [PENDING]: id }, attributes);
  });

  /**
   * A pasted image of the storage: one copy request for the whole paste.
   * @param {string} src
   * @param {string} label
   * @param {Record<string, unknown>|undefined} attributes
   * @param {Paste} paste
   */
  const copyItem = (src, label, attributes, paste) => {
    paste.copies.push(src);
    // Asked once the paste is applied, when every source of it is known.
    const ask = () => (paste.answer ??= copyImages(docId, [...new Set(paste.copies)]));
    return {
      label,
      /** @type {import("./uploads.js").Work} */
      work: async () => {
        let result;
        try {
          result = await ask();
        } catch (error) {
          throw new Error(`Images copied from another document couldn’t be added: ${error.message}`);
        }
        const mapped = result.map[src];
        if (typeof mapped === "string" && imageAllowed(mapped, policy)) {
          return { embed: { image: mapped }, attributes };
        }
        return { counted: /** @type {const} */ ("refused") };
      },
    };
  };

  const clipboard = quill.clipboard;
  const convert = clipboard.convert.bind(clipboard);
  clipboard.convert = (data, formats) => {
    const converted = convert(data, formats);
    if (!pasting || !pasting.items.length) return converted;
    const { delta, pending } = takePending(converted, new Delta());
    const paste = pasting;
    const items = pending.map((p) => ({ ...paste.items[p.id], offset: p.offset }));
    paste.items = [];
    const index = paste.index;
    uploads.armPaste(index, () => uploads.start(index, items));
    return delta;
  };
  // The image files a paste carries beside its HTML, seen before Quill's
  // own paste listener (on the editor inside this container) reads it.
  /** @type {File[]} */
  let clipboardFiles = [];
  quill.container.addEventListener("paste", (/** @type {ClipboardEvent} */ event) => {
    clipboardFiles = Array.from(event.clipboardData?.files || []).filter(looksLikeImage);
    setTimeout(() => (clipboardFiles = []), 0);
  }, true);
  const onPaste = clipboard.onPaste.bind(clipboard);
  clipboard.onPaste = (range, data) => {
    pasting = { index: range.index, items: [], copies: [], answer: null, files: [...clipboardFiles] };
    try {
      onPaste(range, data);
    } finally {
      pasting = null;
      uploads.disarm();
    }
  };

  // Leaving while an image is on its way would lose it: ask first, as the
  // page does for unsent edits.
  window.addEventListener("beforeunload", (event) => {
    if (uploads.pending > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  const resize = installResize({ quill });

  return { context, uploads, uploadFiles, pick, resize, get pending() { return uploads.pending; } };
}
