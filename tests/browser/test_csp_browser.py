"""The Content-Security-Policy in Chromium (collabdocs/csp.py, issue 9).

A second loopback server stands for a third party: it records every request
it gets. Script, iframe and image pointing at it are injected into the
editor page, as a stored XSS or a collaborator's embed would; Chromium must
block each (the recorder gets nothing, a ``securitypolicyviolation`` is
reported) while the editor, the document list, the history panel, the
sign-in page and the admin all work with no violation at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.test_coediting_browser import (
    REPO,
    SYNCED,
    _session_key,
    _user,
)
from tests.browser.thirdparty import Recorder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("editor_bundle"),
]

# Installed before any page script (Playwright's init scripts are not subject
# to the page's CSP): every violation the page reports, in order.
COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.effectiveDirective, blocked: e.blockedURI,
                            sample: e.sample, source: e.sourceFile});
});
"""
VIOLATIONS = "() => window.__violations"
LOADED = "() => document.getElementById('history-panel').dataset.loaded === 'true'"


@pytest.fixture
def site(live_daphne: Any) -> dict[str, Any]:
    """Alice owns a formatted document; Root is staff."""
    from django.contrib.auth import get_user_model

    from documents import services

    alice = _user("alice", "Alice")
    root = get_user_model().objects.create_superuser(username="root", password="pw-root-98765")
    document = services.document_create(owner=alice, title="Policy")
    return {"alice": alice, "root": root, "doc": document, "server": live_daphne}


@pytest.fixture
def browse(chromium_browser: Any, site: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Return ``browse(name)``: a page signed in as that person, collecting violations."""
    contexts: list[Any] = []

    def open_(name: str | None) -> Any:
        context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        if name is not None:
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": _session_key(site[name]),
                        "url": site["server"].url,
                    }
                ]
            )
        context.add_init_script(COLLECT_VIOLATIONS)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield open_
    for context in contexts:
        context.close()


def test_the_policy_allows_quill_cursors_stylesheet_by_its_hash() -> None:
    """The hash in the policy is that of the CSS inside node_modules' quill-cursors."""
    import base64
    import hashlib
    import json
    import re

    from collabdocs.csp import STYLE_HASHES

    bundle = (REPO / "node_modules/quill-cursors/dist/quill-cursors.js").read_text()
    found = re.findall(r'\.push\(\[t\.id,("(?:[^"\\]|\\.)*")', bundle)
    assert len(found) == 1, "quill-cursors' bundle changed shape: find its CSS again"
    css = json.loads(found[0])
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in STYLE_HASHES, f"update STYLE_HASHES: 'sha256-{digest}'"


def _goto(page: Any, url: str) -> dict[str, str]:
    """Open ``url``; return the response's headers (and check it is 200 with a policy)."""
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    headers = response.all_headers()
    assert "default-src 'self'" in headers.get("content-security-policy", ""), (url, headers)
    return headers


def test_injected_remote_script_frame_and_image_are_blocked(
    browse: Callable[..., Any], site: dict[str, Any], recorder: Recorder
) -> None:
    """A remote script, iframe, image and an inline script injected into the editor never load."""
    page = browse("alice")
    _goto(page, f"{site['server'].url}/d/{site['doc'].public_id}/")
    page.wait_for_function(SYNCED, timeout=30_000)
    page.evaluate(
        """(origin) => {
          const add = (tag, attrs) => {
            const el = document.createElement(tag);
            Object.assign(el, attrs);
            document.body.append(el);
          };
          add("script", {src: origin + "/evil.js"});
          add("iframe", {src: origin + "/frame"});
          add("img", {src: origin + "/pixel.gif"});
          add("script", {textContent: "window.__inline = true;"});
          // What a pasted or stored embed becomes inside the editor.
          document.querySelector(".ql-editor").insertAdjacentHTML("beforeend",
            `<p><img src="${origin}/in-editor.gif">`
            + `<iframe class="ql-video" src="${origin}/video"></iframe></p>`);
        }""",
        recorder.origin,
    )
    # The blocked loads are reported asynchronously: wait for all five.
    deadline = time.monotonic() + 10
    while True:
        blocked = [v for v in page.evaluate(VIOLATIONS) if v["blocked"].startswith(recorder.origin)]
        if len(blocked) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(0.5)  # and give a load that got through the time to arrive
    violations = page.evaluate(VIOLATIONS)
    print("violations:", violations)
    assert recorder.paths == [], f"the third party was reached: {recorder.paths}"
    by_directive = {(v["directive"], v["blocked"].replace(recorder.origin, "")) for v in violations}
    assert ("script-src-elem", "/evil.js") in by_directive
    # Chromium reports a blocked frame by its origin only.
    frames = [
        v
        for v in violations
        if v["directive"] == "frame-src" and v["blocked"].startswith(recorder.origin)
    ]
    assert len(frames) >= 2, frames  # Quill may move the editor's iframe: reported again
    assert ("img-src", "/pixel.gif") in by_directive
    assert ("img-src", "/in-editor.gif") in by_directive
    assert any(v["directive"] == "script-src-elem" and v["blocked"] == "inline" for v in violations)
    assert page.evaluate("() => [window.__pwned, window.__inline]") == [None, None]
    # The editor still works.
    page.click(".ql-editor")
    page.keyboard.type("still here")
    page.wait_for_function(SYNCED, timeout=15_000)
    assert "still here" in page.evaluate("() => window.collabdocs.quill.getText()")


def test_pages_work_with_no_violation(browse: Callable[..., Any], site: dict[str, Any]) -> None:
    """Editor (formatted text, history, share dialog), list, sign-in and admin: no violation."""
    base = site["server"].url
    alice = browse("alice")
    headers = _goto(alice, f"{base}/d/{site['doc'].public_id}/")
    print("policy:", headers["content-security-policy"])
    alice.wait_for_function(SYNCED, timeout=30_000)
    alice.click(".ql-editor")
    alice.keyboard.type("Red words")
    alice.evaluate(
        "() => window.collabdocs.quill.formatText(0, 3, {color: '#e60000', bold: true}, 'user')"
    )
    alice.wait_for_function(SYNCED, timeout=15_000)
    alice.click("[data-history-open]")
    alice.wait_for_function(LOADED, timeout=15_000)
    alice.click("[data-history-close]")
    alice.click(".doc-actions .share-button")
    alice.locator("#share-dialog").wait_for(state="visible")
    # Reload: the first paint is the server's HTML, colours as style attributes.
    _goto(alice, f"{base}/d/{site['doc'].public_id}/")
    alice.wait_for_function(SYNCED, timeout=30_000)
    assert alice.evaluate(VIOLATIONS) == [], "editor page"
    # quill-cursors' own stylesheet (allowed by its hash) is in force.
    assert alice.evaluate("""() => [...document.styleSheets].some((sheet) => !sheet.href &&
        [...sheet.cssRules].some((rule) => rule.selectorText === ".ql-cursor.hidden"))""")
    _goto(alice, f"{base}/")
    assert alice.evaluate(VIOLATIONS) == [], "document list"

    anonymous = browse(None)
    _goto(anonymous, f"{base}/accounts/login/")
    assert anonymous.evaluate(VIOLATIONS) == [], "sign-in page"

    root = browse("root")
    for path in (
        "/admin/",
        "/admin/documents/document/",
        f"/admin/documents/document/{site['doc'].pk}/change/",
        "/admin/auth/user/add/",
        "/admin/cluster/",
    ):
        _goto(root, f"{base}{path}")
        assert root.evaluate(VIOLATIONS) == [], path
    for page in (alice, anonymous, root):
        assert page.errors == []


# -- the header itself (Django's test client, no browser) ----------------------


def _policy(response: Any) -> dict[str, str]:
    """Return the response's policy as {directive: sources}."""
    header = response["Content-Security-Policy"]
    policy = {}
    for part in header.split(";"):
        directive, _, sources = part.strip().partition(" ")
        policy[directive] = sources
    return policy


def test_frames_only_from_the_video_allowlist(client: Any, settings: Any) -> None:
    """No video host: frame-src 'none'; named hosts: only those, and the editor is told."""
    from documents import services

    alice = _user("alice")
    document = services.document_create(owner=alice, title="Frames")
    client.force_login(alice)
    policy = _policy(client.get("/"))
    assert policy["frame-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"

    settings.COLLABDOCS = {
        **settings.COLLABDOCS,
        "VIDEO_HOSTS": ["www.youtube.com", "player.vimeo.com"],
        "IMAGE_DATA_MAX_BYTES": 1000,
    }
    page = client.get(f"/d/{document.public_id}/")
    assert _policy(page)["frame-src"] == "https://player.vimeo.com https://www.youtube.com"
    html = page.content.decode()
    assert 'data-video-hosts="player.vimeo.com,www.youtube.com"' in html
    assert 'data-image-data-max-bytes="1000"' in html
    assert 'data-image-path-prefix="/media/"' in html


def test_sockets_allowed_to_every_worker_of_a_cluster(client: Any) -> None:
    """In a cluster the editor may connect to each worker on the ring and any port of its host."""
    from routing.ownership import Ownership
    from routing.state import RoutingState, install_routing_state, routing_state

    alice = _user("alice")
    client.force_login(alice)
    assert _policy(client.get("/"))["connect-src"] == "'self' ws://testserver"
    ownership = Ownership(self_id="a", self_url="http://127.0.0.1:8001", cluster=True)
    ownership.set_members({"a": "http://127.0.0.1:8001", "b": "https://w2.example:8443"})
    previous = routing_state()
    install_routing_state(RoutingState(ownership=ownership))
    try:
        sources = _policy(client.get("/"))["connect-src"].split()
    finally:
        install_routing_state(previous)
    for source in (
        "'self'",
        "ws://testserver",
        "ws://127.0.0.1:8001",
        "https://w2.example:8443",
        "wss://w2.example:8443",
        "ws://testserver:*",
    ):
        assert source in sources, (source, sources)


def test_a_refused_host_still_gets_the_policy(client: Any) -> None:
    """A request for a host not in ALLOWED_HOSTS is answered 400, with the policy."""
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert _policy(response)["connect-src"] == "'self'"
    assert _policy(response)["script-src"] == "'self'"
