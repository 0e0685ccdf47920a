/**
 * Times in the history panel (static/src/history/time.js): shown in the
 * viewer's zone, not the server's (UTC), with the full date and the zone
 * in the title; a missing or broken time shows nothing rather than
 * "Invalid Date".
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { showTime } from "../../static/src/history/time.js";

describe("showTime", () => {
  it("shows a UTC instant in the viewer's zone", () => {
    const iso = "2026-12-06T00:30:00+00:00";
    const tokyo = showTime(iso, { timeZone: "Asia/Tokyo", locale: "en-US" });
    const york = showTime(iso, { timeZone: "America/New_York", locale: "en-US" });
    assert.ok(tokyo && york);
    assert.equal(tokyo.text, "Dec 6, 2026, 9:30 AM");
    assert.equal(york.text, "Dec 5, 2026, 7:30 PM");
    assert.equal(tokyo.iso, "2026-12-06T00:30:00.000Z");
  });

  it("titles the time with the full date and the zone's name", () => {
    const shown = showTime("2026-12-06T00:30:05Z", { timeZone: "Europe/Berlin", locale: "en-GB" });
    assert.ok(shown);
    assert.match(shown.title, /Sunday.*6 December 2026.*01:30:05/);
    assert.match(shown.title, /\(Europe\/Berlin\)$/);
  });

  it("shows nothing for a missing or broken time", () => {
    assert.equal(showTime(null), null);
    assert.equal(showTime(""), null);
    assert.equal(showTime("yesterday-ish"), null);
  });

  it("uses the browser's zone when none is given", () => {
    const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    const shown = showTime("2026-12-06T00:30:00Z");
    assert.ok(shown && shown.title.endsWith(`(${zone})`));
  });
});
