/**
 * The image endpoints of the server (contract "Images"), from the browser.
 *
 * - {@link uploadImage}: ``POST /api/docs/<id>/images`` with the file in the
 *   multipart field ``file``, over XMLHttpRequest so that the upload's
 *   progress can be shown (fetch has no upload progress). Resolves with
 *   ``{src, width, height, bytes, type}``; rejects with an
 *   {@link UploadError} whose ``message`` is the server's sentence for
 *   people (``{"error": code, "message": …}``) or one of ours for a
 *   network failure, an abort, or an answer that is not the API's.
 * - {@link copyImages}: ``POST /api/docs/<id>/images/copy`` ``{"srcs"}`` →
 *   ``{"map", "refused"}``: images of other documents the person can view
 *   become images of this one.
 *
 * @module editor/images/upload
 */
import { api } from "../../api.js";

/**
 * Return the CSRF token: Django's cookie, else the page's form field (as
 * api.js, which keeps its own private).
 */
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input instanceof HTMLInputElement ? input.value : "";
}

/** An upload the server refused or that never reached it. */
export class UploadError extends Error {
  /**
   * @param {string} message  for people
   * @param {{code: string, status: number}} details  ``code``: the
   *   server's (``too_large``, ``not_an_image``…) or ``network`` /
   *   ``aborted`` / ``bad_answer``; ``status`` 0 when there was no answer
   */
  constructor(message, { code, status }) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    this.status = status;
  }
}

const MESSAGES = {
  network: "The image couldn’t be uploaded: the server can’t be reached. Check your connection and try again.",
  aborted: "The upload was cancelled.",
  403: "You can’t add images to this document.",
  404: "This document no longer exists, or you no longer have access.",
  413: "The image is too large.",
};

/**
 * What the server said about an upload.
 * @typedef {Object} Uploaded
 * @property {string} src  ``/media/i/<uuid>.<ext>``
 * @property {number} width
 * @property {number} height
 * @property {number} bytes
 * @property {string} type
 */

/**
 * Upload ``file`` as an image of the document ``docId``.
 * @param {Object} options
 * @param {string} options.docId
 * @param {Blob} options.file
 * @param {string} [options.name]  the file name sent (a Blob has none)
 * @param {(fraction: number) => void} [options.onProgress]  0..1 as bytes go out
 * @param {AbortSignal} [options.signal]
 * @param {() => XMLHttpRequest} [options.makeRequest]
 * @returns {Promise<Uploaded>}
 */
export function uploadImage({
  docId,
  file,
  name = /** @type {File} */ (file).name || "image",
  onProgress = () => {},
  signal,
  makeRequest = () => new XMLHttpRequest(),
}) {
  return new Promise((resolve, reject) => {
    const xhr = makeRequest();
    xhr.open("POST", `/api/docs/${encodeURIComponent(docId)}/images`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.withCredentials = true;
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(Math.min(1, event.loaded / event.total));
    });
    xhr.addEventListener("load", () => {
      const data = parse(xhr.responseText, xhr.getResponseHeader("Content-Type") || "");
      if (xhr.status === 201 && data && typeof data.src === "string") {
        onProgress(1);
        resolve(/** @type {Uploaded} */ (data));
        return;
      }
      reject(refusal(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new UploadError(MESSAGES.network, { code: "network", status: 0 })));
    xhr.addEventListener("abort", () => reject(new UploadError(MESSAGES.aborted, { code: "aborted", status: 0 })));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, name);
    xhr.send(form);
  });
}

/** @returns {Record<string, any>|null} */
function parse(text, contentType) {
  if (!contentType.includes("application/json")) return null;
  try {
    const data = JSON.parse(text);
    return data && typeof data === "object" ? data : null;
  } catch {
    return null;
  }
}

/**
 * The error for a refused upload: the server's message when it gave one.
 * @param {number} status
 * @param {Record<string, any>|null} data
 */
export function refusal(status, data) {
  const code = data && typeof data.error === "string" ? data.error : "bad_answer";
  const said = data && typeof data.message === "string" && data.message.trim() ? data.message : null;
  const message = said || MESSAGES[/** @type {403|404|413} */ (status)] || `The image couldn’t be uploaded: the server answered ${status}.`;
  return new UploadError(message, { code, status });
}

/**
 * Make the images ``srcs`` (of documents the person can view) images of
 * the document ``docId``.
 * @param {string} docId
 * @param {string[]} srcs
 * @returns {Promise<{map: Record<string, string>, refused: string[]}>}
 * @throws {import("../../api.js").ApiError}
 */
export async function copyImages(docId, srcs) {
  const data = await api(`/api/docs/${encodeURIComponent(docId)}/images/copy`, { method: "POST", body: { srcs } });
  const map = data.map && typeof data.map === "object" ? data.map : {};
  const refused = Array.isArray(data.refused) ? data.refused : [];
  return { map, refused };
}
