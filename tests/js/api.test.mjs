/**
 * The page's one JSON call, api(): what it sends, and its error contract
 * (a 2xx JSON body resolves; a refusal, no answer or an unreadable answer
 * rejects with an ApiError whose message is for people).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ApiError, api } from "../../static/src/api.js";

/**
 * Return a fake fetch answering ``status`` with ``body`` and the calls it got.
 * @param {number} status
 * @param {string} body
 * @param {string} [type]
 */
function answering(status, body, type = "application/json") {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push([url, init]);
    return {
      status,
      ok: status >= 200 && status < 300,
      headers: { get: (name) => (name.toLowerCase() === "content-type" ? type : null) },
      json: async () => JSON.parse(body),
    };
  };
  return { fetchImpl, calls };
}

const token = () => "tok";

/** Return the ApiError ``promise`` rejects with. */
async function refusal(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail("api() resolved");
}

describe("api() requests", () => {
  it("GETs with credentials and no CSRF token, and resolves with the JSON body", async () => {
    const { fetchImpl, calls } = answering(200, '{"title": "Plans"}');
    assert.deepEqual(await api("/x", { fetchImpl, token }), { title: "Plans" });
    const [[url, init]] = calls;
    assert.equal(url, "/x");
    assert.equal(init.method, "GET");
    assert.equal(init.credentials, "same-origin");
    assert.equal(init.body, undefined);
    assert.equal(init.headers["X-CSRFToken"], undefined);
  });

  it("POSTs JSON with the CSRF token, an empty object when no body is given", async () => {
    const { fetchImpl, calls } = answering(200, "{}");
    await api("/x", { method: "POST", body: { a: 1 }, fetchImpl, token });
    await api("/y", { method: "POST", fetchImpl, token });
    assert.equal(calls[0][1].body, '{"a":1}');
    assert.equal(calls[1][1].body, "{}");
    for (const [, init] of calls) {
      assert.equal(init.headers["X-CSRFToken"], "tok");
      assert.equal(init.headers["Content-Type"], "application/json");
    }
  });
});

describe("api() error contract", () => {
  it("carries the endpoint's own error, status and data on a refusal", async () => {
    const { fetchImpl } = answering(400, '{"error": "That name is taken."}');
    const error = await refusal(api("/x", { method: "POST", fetchImpl, token }));
    assert.equal(error.message, "That name is taken.");
    assert.equal(error.status, 400);
    assert.deepEqual(error.data, { error: "That name is taken." });
  });

  it("explains a refusal without a message by its status", async () => {
    const signedOut = await refusal(api("/x", answering(401, "{}")));
    assert.match(signedOut.message, /session has ended/);
    const broken = await refusal(api("/x", answering(502, "<html>", "text/html")));
    assert.equal(broken.message, "The server answered 502.");
    assert.equal(broken.data, null);
  });

  it("says the server cannot be reached when fetch fails (status 0)", async () => {
    const fetchImpl = async () => {
      throw new TypeError("Failed to fetch");
    };
    const error = await refusal(api("/x", { fetchImpl }));
    assert.equal(error.status, 0);
    assert.match(error.message, /Can’t reach the server/);
  });

  it("refuses a 2xx answer that is not JSON (a sign-in page) instead of resolving empty", async () => {
    const error = await refusal(api("/x", answering(200, "<html>login</html>", "text/html")));
    assert.equal(error.status, 200);
    assert.equal(error.message, "The server answered 200.");
  });
});
