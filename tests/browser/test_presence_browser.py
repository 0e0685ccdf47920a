"""Chromium: presence you can see, one colour per person, and no ghosts.

One daphne per test; people on one document (Alice owns it, the others may
edit). Checked on the pages themselves:

* the people list names people (dot + name), the person first as
  "(you)", each dot in the colour the server gives that user
  (``documents.people.user_color``), the same colour as their caret and
  flag on the others' pages and as their suggestions' ``--person-<id>``;
  with five people, three are listed and "+2" opens a popover naming the
  others; on a 390 px phone the names are tooltips (hidden until focus)
  and every entry keeps its aria-label;
* a remote caret's name flag stays up for seconds after the person moves
  (not ~1 s), goes away later, and comes back on hover over the caret;
* no ghosts: daphne is killed with SIGKILL while everyone is connected,
  Carol closes her page while the server is down (her socket died with the
  server: no ``leave`` was ever sent), daphne comes back on the same port;
  while it is down nobody is listed as here, and once the pages reconnect
  Alice's list shows exactly Bob, and no caret of Carol's is drawn.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from documents.people import user_color
from tests.browser.test_coediting_browser import SYNCED, _person_page, _user
from tests.conftest import DaphneProcess

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.usefixtures("editor_bundle"),
    pytest.mark.django_db(transaction=True),
]

#: What the people list shows: one entry per person, in order.
LISTED = """() => [...document.querySelectorAll('#people .cd-person')].map(li => ({
  id: Number(li.dataset.userId),
  name: li.querySelector('.cd-person-label')?.textContent ?? '',
  dot: getComputedStyle(li.querySelector('.cd-person-dot')).backgroundColor,
  label: li.getAttribute('aria-label'),
}))"""

#: The flag of the first remote caret: its colour and whether it shows.
FLAG = """() => {
  const flag = document.querySelector('.ql-cursor .ql-cursor-flag');
  if (!flag) return null;
  const style = getComputedStyle(flag);
  return {shown: style.visibility === 'visible' && Number(style.opacity) > 0.5,
          bg: style.backgroundColor,
          caret: getComputedStyle(document.querySelector('.ql-cursor .ql-cursor-caret'))
            .backgroundColor,
          name: flag.textContent.trim()};
}"""


#: SYNCED, after telling a page that is not connected that it is "online".
NUDGED_SYNCED = f"""() => {{
  const status = window.collabdocs.connection.status;
  if (status !== "connected") window.dispatchEvent(new Event("online"));
  return ({SYNCED})();
}}"""


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def world(daphne_factory: Callable[..., DaphneProcess], transactional_db: None) -> dict[str, Any]:
    """Alice owns a document that Bob and Carol may edit; one daphne serves it."""
    from guardian.shortcuts import assign_perm

    from documents import services
    from documents.roles import Role, perms_for

    alice = _user("alice", "Alice")
    bob = _user("bob", "Bob")
    carol = _user("carol", "Carol")
    dave, erin = _user("dave", "Dave"), _user("erin", "Erin")
    document = services.document_create(owner=alice, title="Presence")
    for user in (bob, carol, dave, erin):
        for perm in perms_for(Role.EDITOR):
            assign_perm(perm, user, document)
    server = daphne_factory()
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
        "erin": erin,
        "doc": document,
        "server": server,
    }


@pytest.fixture
def open_pages(
    chromium_browser: Any, world: dict[str, Any]
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Return ``open_pages(*names, phone=())``: their pages, connected."""
    server = world["server"]
    url = f"{server.url}/d/{world['doc'].public_id}/"
    contexts = []

    def open_(*names: str, phone: tuple[str, ...] = ()) -> dict[str, Any]:
        opened = {}
        for name in names:
            viewport = (390, 844) if name in phone else (1280, 900)
            context, page = _person_page(
                chromium_browser, world[name], server.url, viewport=viewport
            )
            contexts.append(context)
            page.goto(url)
            page.wait_for_function(SYNCED, timeout=30_000)
            opened[name] = page
        return opened

    yield open_
    for context in contexts:
        context.close()


def _screenshot(page: Any, name: str, tmp_path: Path) -> None:
    """Save a screenshot in $COLLABDOCS_SCREENSHOTS (else tmp_path) to look at."""
    folder = Path(os.environ.get("COLLABDOCS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"presence-{name}.png"))


def _listed_ids(page: Any) -> list[int]:
    return [entry["id"] for entry in page.evaluate(LISTED)]


def _restart_on_same_port(server: DaphneProcess, database_url: str, log_dir: Path) -> DaphneProcess:
    """Start a new daphne on ``server``'s port (the pages' socket URL)."""
    with mock.patch("tests.conftest.free_port", return_value=server.port):
        return DaphneProcess(database_url, None, log_dir)


def test_people_who_left_while_the_server_was_down_are_not_listed_after_it_returns(
    open_pages: Callable[..., dict[str, Any]],
    world: dict[str, Any],
    test_database_url: str,
    tmp_path: Path,
) -> None:
    """SIGKILL daphne; Carol leaves meanwhile; after the restart Alice lists only Bob."""
    pages = open_pages("alice", "bob", "carol")
    alice, bob, carol = pages["alice"], pages["bob"], pages["carol"]
    ids = {name: world[name].pk for name in ("alice", "bob", "carol")}
    everyone = [ids["alice"], ids["bob"], ids["carol"]]
    alice.wait_for_function(f"() => ({LISTED})().length === 3", timeout=10_000)
    assert sorted(_listed_ids(alice)) == sorted(everyone)
    carol.click(".ql-editor")
    carol.keyboard.type("C")
    alice.wait_for_selector(".ql-cursor", state="attached", timeout=10_000)

    server: DaphneProcess = world["server"]
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    carol.close()  # her socket died with the server: no leave was ever sent
    # While the server is down, nobody is claimed to be here but the person.
    alice.wait_for_function(
        f"() => window.collabdocs.connection.status !== 'connected'"
        f" && ({LISTED})().map(p => p.id).join() === '{ids['alice']}'",
        timeout=15_000,
    )
    started = time.monotonic()
    back = _restart_on_same_port(server, test_database_url, tmp_path)
    try:
        # Each page hears "online" (as when a network comes back) until it is
        # connected, so it retries at once rather than after its backoff.
        for page in (alice, bob):
            page.wait_for_function(NUDGED_SYNCED, timeout=30_000, polling=300)
        alice.wait_for_function(f"() => ({LISTED})().length === 2", timeout=10_000)
        print(f"presence: pages reconnected {time.monotonic() - started:.1f} s after the restart")
        assert _listed_ids(alice) == [ids["alice"], ids["bob"]]
        assert _listed_ids(bob) == [ids["bob"], ids["alice"]]
        assert alice.evaluate(
            "() => window.collabdocs.connection.peers.list().map(p => p.user.id)"
        ) == [ids["bob"]]
        assert alice.locator(".ql-cursor .ql-cursor-name", has_text="Carol").count() == 0
    finally:
        back.stop()


def test_names_and_one_colour_per_person_in_the_list_on_carets_and_flags(
    open_pages: Callable[..., dict[str, Any]], world: dict[str, Any], tmp_path: Path
) -> None:
    """Five people: names, +N, server colours everywhere, flags that stay, hover, phone."""
    pages = open_pages("alice", "bob", "carol", "dave", "erin", phone=("erin",))
    alice, bob, erin = pages["alice"], pages["bob"], pages["erin"]
    ids = {name: world[name].pk for name in ("alice", "bob", "carol", "dave", "erin")}
    colour = {name: _rgb(user_color(pk)) for name, pk in ids.items()}
    alice.wait_for_function(
        "() => document.querySelector('#people .cd-people-more-button')?.textContent === '+2'",
        timeout=10_000,
    )
    listed = alice.evaluate(LISTED)
    # Three listed (the person first), the other two behind "+2".
    shown = [e for e in listed if e["id"] in ids.values()][:3]
    assert [e["id"] for e in shown] == [ids["alice"], ids["bob"], ids["carol"]]
    assert [e["name"] for e in shown] == ["Alice (you)", "Bob", "Carol"]
    assert [e["dot"] for e in shown] == [colour["alice"], colour["bob"], colour["carol"]]
    assert (
        alice.locator("#people > .cd-person", has_text="Bob")
        .locator(".cd-person-label")
        .is_visible()
    ), "names are shown next to the dots on a wide screen"
    more = alice.locator(".cd-people-more-button")
    assert more.get_attribute("aria-label") == "2 more: Dave, Erin"
    popover = alice.locator(".cd-people-popover")
    assert popover.is_hidden()
    more.click()
    popover.wait_for(state="visible", timeout=5_000)
    assert popover.inner_text().split() == ["D", "Dave", "E", "Erin"]
    # Presence frames keep coming: the popover stays open until Escape.
    bob.click(".ql-editor")
    bob.keyboard.type("Bob was here")
    alice.wait_for_selector(".ql-cursor .ql-cursor-caret", state="attached", timeout=10_000)
    assert popover.is_visible()
    _screenshot(alice, "list-and-popover-1280", tmp_path)
    alice.keyboard.press("Escape")
    popover.wait_for(state="hidden", timeout=5_000)

    # Bob's caret and flag on Alice's page: his colour, white on it, shown.
    alice.wait_for_function(f"() => ({FLAG})()?.shown && ({FLAG})().name === 'Bob'", timeout=10_000)
    _screenshot(alice, "flag-1280", tmp_path)
    flag = alice.evaluate(FLAG)
    assert flag["bg"] == colour["bob"] and flag["caret"] == colour["bob"]
    assert (
        alice.evaluate(
            "() => getComputedStyle(document.querySelector('.ql-cursor .ql-cursor-flag')).color"
        )
        == "rgb(255, 255, 255)"
    )
    # Suggestions and authorship draw a person through --person-<id>.
    root_colour = alice.evaluate(
        "(id) => getComputedStyle(document.documentElement).getPropertyValue(`--person-${id}`)",
        ids["bob"],
    )
    assert root_colour.strip() == user_color(ids["bob"])
    # The flag stays up for seconds after Bob's last keystroke (it hid after
    # ~1 s before), then goes.
    bob.keyboard.press("End")
    alice.wait_for_function(f"() => ({FLAG})()?.shown", timeout=5_000)
    moved = time.monotonic()
    while time.monotonic() - moved < 3.0:
        assert alice.evaluate(FLAG)["shown"], f"flag gone {time.monotonic() - moved:.1f} s after"
        alice.wait_for_timeout(250)
    alice.wait_for_function(f"() => !({FLAG})().shown", timeout=10_000)
    print(f"presence: Bob's flag hid {time.monotonic() - moved:.1f} s after his last move")
    # Hovering his caret shows his name again.
    box = alice.locator(".ql-cursor .ql-cursor-caret-container").first.bounding_box()
    assert box is not None
    alice.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    alice.wait_for_function(f"() => ({FLAG})().shown", timeout=5_000)

    # On a phone: dots with aria-labels; a name shows when its dot is focused.
    phone = erin.evaluate(LISTED)
    assert phone[0]["label"] == "Erin (you)"
    assert all(entry["label"] for entry in phone)
    bob_entry = erin.locator("#people > .cd-person", has_text="Bob")
    assert bob_entry.locator(".cd-person-label").is_hidden()
    bob_entry.focus()
    bob_entry.locator(".cd-person-label").wait_for(state="visible", timeout=5_000)
    _screenshot(erin, "list-390", tmp_path)
    assert erin.evaluate("() => document.scrollingElement.scrollWidth") <= 390
