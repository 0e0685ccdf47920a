/**
 * 4503 after ``unavailable`` + ``retry_after`` (no server serves the
 * document right now, e.g. the workers are fenced): the browser waits the
 * hinted time before asking the route endpoint, instead of asking at once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { FakeSocket, FakeTimers, settle } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

const ROUTE = "http://example.test/api/docs/d1/route";

function setup() {
  FakeSocket.all = [];
  FakeSocket.onCreate = null;
  const timers = new FakeTimers();
  const calls = [];
  const conn = new Connection({
    url: "ws://example.test/ws/docs/d1/",
    routeUrl: ROUTE,
    client: new OTClient({ clientId: "CCCCCCCCCCCCCCCCCCCCCC" }),
    adapter: { flush() {}, applyRemote() {}, loadContent() {}, getRange: () => null },
    canEdit: true,
    WebSocketImpl: FakeSocket,
    fetchImpl: async (url) => {
      calls.push(url);
      return { status: 200, ok: true, json: async () => ({ url: "ws://w2.test/ws/docs/d1/" }) };
    },
    timers,
    random: () => 0.5,
  });
  conn.start();
  return { timers, calls, ws: () => FakeSocket.all.at(-1) };
}

describe("retry hint before 4503", () => {
  it("waits retry_after before asking the route", async () => {
    const { timers, calls, ws } = setup();
    ws().deliver({ type: "error", code: "unavailable", message: "no server", retry_after: 1000 });
    ws().serverClose(4503);
    assert.deepEqual(timers.delays(), [1000]);
    timers.runNext();
    await settle();
    assert.deepEqual(calls, [ROUTE]);
    assert.equal(ws().url, "ws://w2.test/ws/docs/d1/");
  });

  it("without a hint asks the route at once, as before", async () => {
    const { timers, calls, ws } = setup();
    ws().serverClose(4503);
    assert.deepEqual(timers.delays(), [0]);
    timers.runNext();
    await settle();
    assert.deepEqual(calls, [ROUTE]);
  });

  it("uses a hint once: the next 4503 without one asks at once", async () => {
    const { timers, ws } = setup();
    ws().deliver({ type: "error", code: "unavailable", message: "no server", retry_after: 800 });
    ws().serverClose(4503);
    timers.runNext();
    await settle();
    ws().serverClose(4503);
    assert.deepEqual(timers.delays(), [0]);
  });
});
