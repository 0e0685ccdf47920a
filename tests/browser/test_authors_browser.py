"""Show authors in Chromium: two people type, each character is coloured by
who wrote it, the legend gives names and shares, and it stays current.

The colours are CSS Custom Highlights (one per author): the test reads the
text of every range of each ``CSS.highlights`` entry, so it checks the
places, not a screenshot. Nothing is written into the document: the stored
content has no trace of the overlay.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_coediting_browser import (  # noqa: F401  (fixtures)
    SYNCED,
    _stored,
    open_page,
    people,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.usefixtures("editor_bundle")]

HIGHLIGHTS = """() => {
  const out = {};
  for (const [name, highlight] of CSS.highlights) {
    out[name] = [...highlight].map((range) => range.toString()).join("|");
  }
  return out;
}"""
LEGEND = """() => [...document.querySelectorAll('#authors-legend li')].map((li) => ({
  author: li.dataset.author,
  name: li.querySelector('.authors-name').textContent,
  share: li.querySelector('.authors-share').textContent,
}))"""


def _type(page: Any, index: int, text: str) -> None:
    page.evaluate("([i, t]) => window.collabdocs.quill.insertText(i, t, 'user')", [index, text])


def _settled(pages: list[Any]) -> None:
    for page in pages:
        page.wait_for_function(SYNCED, timeout=15_000)
    head = max(p.evaluate("() => window.collabdocs.client.revision") for p in pages)
    for page in pages:
        page.wait_for_function(
            "(rev) => window.collabdocs.client.revision >= rev", arg=head, timeout=15_000
        )


def test_show_authors_colours_each_persons_text_and_keeps_up(
    open_page: Any,  # noqa: F811  (the imported fixture)
    people: dict[str, Any],  # noqa: F811  (the imported fixture)
) -> None:
    alice_id, bob_id = people["alice"].pk, people["bob"].pk
    alice = open_page("alice")
    bob = open_page("bob")
    _type(alice, 0, "Alpha ")
    _settled([alice, bob])
    _type(bob, 6, "beta")
    _settled([alice, bob])

    toggle = alice.locator("#authors-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"  # off by default
    toggle.click()
    alice.wait_for_function(
        "(n) => CSS.highlights.has(n[0]) && CSS.highlights.has(n[1])",
        arg=[f"cd-author-{alice_id}", f"cd-author-{bob_id}"],
        timeout=10_000,
    )
    marks = alice.evaluate(HIGHLIGHTS)
    assert marks[f"cd-author-{alice_id}"] == "Alpha "
    assert marks[f"cd-author-{bob_id}"] == "beta"
    legend = alice.evaluate(LEGEND)
    assert legend == [
        {"author": str(alice_id), "name": "alice (you)", "share": "60 %"},
        {"author": str(bob_id), "name": legend[1]["name"], "share": "40 %"},
    ]
    assert legend[1]["name"] in {"bob", "Someone"}
    # The colours are for the screen: every highlight rule sits in @media
    # screen, so a printout shows the document, not who wrote it.
    media = alice.evaluate(
        """() => document.adoptedStyleSheets.flatMap((sheet) => [...sheet.cssRules])
          .filter((rule) => rule.cssText.includes('::highlight'))
          .map((rule) => rule.media ? rule.media.mediaText : 'none')"""
    )
    assert media and set(media) == {"screen"}, media

    # Bob keeps typing and Alice types too: the colours follow.
    _type(bob, 10, "!")
    _type(alice, 0, ">")
    _settled([alice, bob])
    alice.wait_for_function(
        "(n) => [...(CSS.highlights.get(n) || [])].map((r) => r.toString()).join('|') === 'beta!'",
        arg=f"cd-author-{bob_id}",
        timeout=10_000,
    )
    marks = alice.evaluate(HIGHLIGHTS)
    assert marks[f"cd-author-{alice_id}"] == ">Alpha "

    # The overlay is not content: nothing of it is stored.
    _, content = _stored(people["doc"])
    assert content == [{"insert": ">Alpha beta!\n"}]

    # Remembered per document: on again after a reload.
    alice.reload()
    alice.wait_for_function(SYNCED, timeout=15_000)
    assert alice.locator("#authors-toggle").get_attribute("aria-pressed") == "true"
    alice.wait_for_function(
        "(n) => CSS.highlights.has(n)", arg=f"cd-author-{bob_id}", timeout=10_000
    )
    assert alice.evaluate(HIGHLIGHTS)[f"cd-author-{bob_id}"] == "beta!"
    # And off again: no highlight left, the legend hidden.
    alice.locator("#authors-toggle").click()
    assert alice.evaluate("() => CSS.highlights.size") == 0
    assert alice.locator("#authors-legend").is_hidden()
    assert not alice.errors and not bob.errors
