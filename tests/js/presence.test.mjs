/**
 * Presence on the page: one colour per person as the server sent it, who
 * is listed (the person first, several tabs once), and no ghosts: while
 * the socket is gone nobody is listed as here, and the next hello's peers
 * replace whoever was known. Failure modes: a malformed colour or id from
 * the server is ignored (the person stays grey), a listener that throws
 * does not stop the others, a socket lost without any ``leave``.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import Delta from "quill-delta";

import { PeopleColors, UNKNOWN_COLOR, peopleColors } from "../../static/src/editor/colors.js";
import { Connection } from "../../static/src/editor/connection.js";
import { OTClient } from "../../static/src/editor/ot-client.js";
import { peopleToList } from "../../static/src/editor/people-list.js";
import { FakeSocket, FakeTimers } from "./helpers.mjs";

if (!process.env.VERBOSE) console.warn = () => {};

describe("people colours", () => {
  it("keep the server's colour per id and ignore what is not a colour or an id", () => {
    const colors = new PeopleColors();
    /** @type {Array<[number, string]>} */
    const heard = [];
    colors.onLearn(() => {
      throw new Error("a broken listener");
    });
    colors.onLearn((id, color) => heard.push([id, color]));
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(colors.learn({ id: 7, color: "#C62828" }), true);
      assert.equal(colors.learn({ id: 7, color: "#c62828" }), false, "the same colour again");
      for (const bad of [
        { id: 8, color: "red" },
        { id: 8, color: "#c6282" },
        { id: 8, color: "url(x)" },
        { id: 8, color: UNKNOWN_COLOR }, // the page's stand-in, never the server's
        { id: 0, color: "#0277bd" },
        { id: -1, color: "#0277bd" },
        { id: "8", color: "#0277bd" },
        { id: 1.5, color: "#0277bd" },
        null,
        undefined,
      ]) {
        assert.equal(colors.learn(bad), false, JSON.stringify(bad));
      }
    } finally {
      console.error = error;
    }
    assert.equal(colors.get(7), "#c62828");
    assert.equal(colors.get(8), null);
    assert.equal(colors.draw(8), UNKNOWN_COLOR);
    assert.deepEqual(heard, [[7, "#c62828"]]);
  });
});

describe("the people list", () => {
  it("puts the person first, lists each other person once, in the server's colour", () => {
    peopleColors.learn({ id: 101, color: "#2e7d32" });
    peopleColors.learn({ id: 102, color: "#7b1fa2" });
    const me = { id: 101, name: "Alice" };
    const peers = [
      { session: "b1", user: { id: 102, name: "Bob", color: "#7b1fa2" } },
      { session: "a2", user: { id: 101, name: "Alice", color: "#2e7d32" } }, // her other tab
      { session: "b2", user: { id: 102, name: "Bob", color: "#7b1fa2" } }, // his other tab
      { session: "c1", user: { id: 103, name: "", color: "#ffffff" } }, // colour never learned
    ];
    assert.deepEqual(peopleToList(me, peers), [
      { id: 101, name: "Alice", color: "#2e7d32", you: true },
      { id: 102, name: "Bob", color: "#7b1fa2", you: false },
      { id: 103, name: "Someone", color: UNKNOWN_COLOR, you: false },
    ]);
  });
});

const USER = { id: 201, name: "alice", color: "#c62828" };

function connect() {
  FakeSocket.all = [];
  const timers = new FakeTimers();
  let doc = new Delta().insert("\n");
  const conn = new Connection({
    url: "ws://example.test/ws/docs/d1/",
    routeUrl: "http://example.test/api/docs/d1/route",
    client: new OTClient({ clientId: "CCCCCCCCCCCCCCCCCCCCCC" }),
    adapter: {
      flush: () => {},
      applyRemote: (delta) => {
        doc = doc.compose(delta);
      },
      loadContent: (content) => {
        doc = new Delta(content);
      },
      getRange: () => null,
    },
    canEdit: true,
    WebSocketImpl: FakeSocket,
    fetchImpl: async () => ({ status: 500, ok: false, json: async () => ({}) }),
    timers,
    random: () => 0.5,
    now: () => timers.now,
  });
  /** @type {string[][]} */
  const lists = [];
  let cursors = 0;
  conn.on("peers", (list) => lists.push(list.map((p) => p.session)));
  conn.on("cursors", () => (cursors += 1));
  conn.start();
  return { conn, timers, lists, ws: () => FakeSocket.all.at(-1), cursors: () => cursors };
}

const hello = (rev, peers) => ({
  type: "hello", protocol: 1, doc: "d1", rev, content: [{ insert: "abc\n" }],
  session: "me", user: USER, can_edit: true, peers,
});

describe("no ghosts", () => {
  it("lists nobody while the socket is gone and exactly the hello's peers after", () => {
    const { conn, timers, lists, ws, cursors } = connect();
    const bob = { id: 202, name: "bob", color: "#0277bd" };
    const carol = { id: 203, name: "carol", color: "#ad1457" };
    ws().deliver(hello(2, [
      { session: "b1", user: bob, range: { index: 1, length: 0 } },
      { session: "c1", user: carol, range: null },
    ]));
    assert.deepEqual(lists.at(-1), ["b1", "c1"]);
    assert.equal(peopleColors.get(203), "#ad1457", "colours learned from hello.peers");

    // The server dies: no leave for anyone. Carol closes her tab meanwhile.
    const drawn = cursors();
    ws().serverClose(1006);
    assert.deepEqual(lists.at(-1), [], "nobody is known to be here without a socket");
    assert.deepEqual(conn.peers.localRanges(conn.client), []);
    assert.ok(cursors() > drawn, "the cursors are redrawn (removed)");

    timers.advance(10_000);
    assert.ok(FakeSocket.all.length >= 2, "reconnecting");
    ws().deliver(hello(2, [{ session: "b2", user: bob, range: null }]));
    assert.deepEqual(lists.at(-1), ["b2"]);
    assert.deepEqual(conn.peers.list().map((p) => p.user.id), [202]);
  });
});
