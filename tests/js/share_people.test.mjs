/**
 * The autocomplete's pure parts (share-people.js): what a suggestion fills
 * the input with, and how the arrow keys move. Failure modes covered: a
 * person suggested by display name (the share form needs a username), an
 * email shown where the server sent none, arrows stepping off either end
 * of the list instead of wrapping, a move in an empty list.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { moveIndex, suggestionsFor } from "../../static/src/share-people.js";

describe("suggestionsFor", () => {
  const found = {
    people: [
      { id: 1, username: "mia", name: "Mia Moreau", email: "mia@corp.test" },
      { id: 2, username: "stan", name: "stan" },
    ],
    groups: [{ id: 3, name: "Design" }],
  };

  it("fills a person's username, shows their name and what the server sent", () => {
    assert.deepEqual(suggestionsFor("people", found), [
      { value: "mia", label: "Mia Moreau", detail: "mia · mia@corp.test" },
      { value: "stan", label: "stan", detail: "stan" },
    ]);
  });

  it("fills a group's name for the group input", () => {
    assert.deepEqual(suggestionsFor("groups", found), [{ value: "Design", label: "Design", detail: "Your group" }]);
  });

  it("treats a missing list as empty", () => {
    assert.deepEqual(suggestionsFor("people", /** @type {any} */ ({})), []);
  });
});

describe("moveIndex", () => {
  it("starts at the first going down and the last going up", () => {
    assert.equal(moveIndex(-1, 1, 3), 0);
    assert.equal(moveIndex(-1, -1, 3), 2);
  });

  it("wraps at both ends", () => {
    assert.equal(moveIndex(2, 1, 3), 0);
    assert.equal(moveIndex(0, -1, 3), 2);
    assert.equal(moveIndex(1, 1, 3), 2);
  });

  it("has nowhere to go in an empty list", () => {
    assert.equal(moveIndex(-1, 1, 0), -1);
  });
});
