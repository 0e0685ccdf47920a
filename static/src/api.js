/**
 * The page's one way to call the app's JSON endpoints (share dialog,
 * rename, version history): same-origin credentials, the CSRF token on
 * every request that is not a GET, JSON both ways.
 *
 * Error contract. ``api()`` resolves with the parsed JSON body of a 2xx
 * answer. Otherwise it rejects with an {@link ApiError} whose ``message``
 * is written for people, and never with anything else:
 *
 * - network failure (``fetch`` rejected: offline, DNS, CORS): ``status``
 *   0, ``data`` null, "Can’t reach the server…";
 * - non-2xx: ``status`` is the HTTP status, ``data`` the JSON body or null,
 *   and ``message`` the body's ``error`` (the app's endpoints explain every
 *   refusal there), else a sentence for 401 / 403 / 404, else "The server
 *   answered <status>.";
 * - a 2xx answer whose body is not JSON (a sign-in page after a redirect,
 *   a proxy's page): ``status`` as answered, ``data`` null, "The server
 *   answered <status>." — never a success without data.
 *
 * The endpoints answer ``{"error": "..."}`` with their status (see
 * documents/api.py ``json_endpoint``).
 *
 * @module api
 */

const STATUS_MESSAGES = {
  401: "Your session has ended. Sign in again and retry.",
  403: "That isn’t allowed. If you were signed out, reload the page.",
  404: "This document no longer exists, or you no longer have access.",
};

const OFFLINE_MESSAGE = "Can’t reach the server. Check your connection and try again.";

/** A call to a JSON endpoint failed; ``message`` is for people. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{status: number, data: Object|null}} details  ``status`` 0:
   *   no answer; ``data``: the answer's JSON body, if any
   */
  constructor(message, { status, data }) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.data = data;
  }
}

/**
 * Return the CSRF token: Django's cookie, else the page's form field.
 * @param {Document} [doc]
 */
function csrfToken(doc = document) {
  const match = doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = doc.querySelector("input[name=csrfmiddlewaretoken]");
  return input instanceof HTMLInputElement ? input.value : "";
}

/**
 * Call a JSON endpoint; resolve with its data (see the module's error
 * contract).
 *
 * @param {string} url
 * @param {Object} [options]
 * @param {string} [options.method]  GET unless told
 * @param {Object} [options.body]  sent as JSON with any other method
 *   (``{}`` when left out)
 * @param {typeof fetch} [options.fetchImpl]
 * @param {() => string} [options.token]  the CSRF token
 * @returns {Promise<any>}
 * @throws {ApiError}
 */
export async function api(
  url,
  { method = "GET", body, fetchImpl = (...args) => globalThis.fetch(...args), token = csrfToken } = {},
) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = token();
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    throw new ApiError(OFFLINE_MESSAGE, { status: 0, data: null });
  }
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("application/json")) {
    data = await response.json().catch(() => null);
  }
  if (response.ok && data !== null && typeof data === "object") return data;
  const status = response.status;
  const said = data && typeof data.error === "string" && data.error.trim() ? data.error : null;
  const fallback = response.ok ? null : STATUS_MESSAGES[/** @type {401|403|404} */ (status)];
  throw new ApiError(said || fallback || `The server answered ${status}.`, { status, data });
}
