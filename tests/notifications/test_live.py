"""The live push: a notification reaches every socket its recipient has open,
on any document, and no one else's.

In process, through the real ASGI stack and the consumer's ``user_notify``
handler (Channels' communicator, in-memory layer); and end to end, where a
share made over HTTP on a real daphne reaches the recipient's real socket
(``collabdocs.devclient.WSClient``) on another document, with the unread
count the bell shows.

Failure modes covered: the push reaching a bystander's socket on the same
document; the push missing a socket of the recipient on another document.
(That nothing is pushed before the commit is covered in test_notify.py.)
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from typing import Any

import pytest

from collabdocs.devclient import WSClient
from documents.roles import Role
from notifications.models import Kind, Notification
from notifications.services import notify
from tests.conftest import DaphneProcess
from tests.notifications.conftest import grant
from tests.realtime import conftest as realtime

pytestmark = pytest.mark.django_db(transaction=True)

# The realtime tests' socket fixtures: a fresh registry and channel layer
# per test, and ``ws_connect`` to open sockets through the ASGI app.
_fresh_realtime_state = realtime._fresh_realtime_state
ws_connect = realtime.ws_connect


@pytest.fixture
def trio(transactional_db: None) -> dict[str, Any]:
    """Olivia owns two documents; Bob edits both; Carol views the first."""
    olivia = realtime.create_user("olivia", first_name="Olivia")
    bob = realtime.create_user("bob", email="bob@example.com")
    carol = realtime.create_user("carol")
    first = realtime.create_document(olivia, title="First")
    second = realtime.create_document(olivia, title="Second")
    for doc in (first, second):
        grant(doc, bob, Role.EDITOR)
    grant(first, carol, Role.VIEWER)
    return {
        "olivia": olivia,
        "bob": bob,
        "carol": carol,
        "first": first,
        "second": second,
        "cookies": {
            name: realtime.session_cookie(user)
            for name, user in (("olivia", olivia), ("bob", bob), ("carol", carol))
        },
    }


def mention_bob(people: dict[str, Any]) -> Notification | None:
    return notify(
        recipient=people["bob"],
        kind=Kind.MENTION,
        document=people["first"],
        actor=people["olivia"],
        text="Olivia mentioned you in “First”: look",
        url=f"/d/{people['first'].public_id}/#thread-abcdefghij123456",
    )


async def test_a_notification_reaches_every_socket_of_the_recipient_only(
    trio: dict[str, Any], ws_connect: Any
) -> None:
    cookies = trio["cookies"]
    bob_first = await ws_connect(trio["first"].public_id, cookie=cookies["bob"])
    bob_second = await ws_connect(trio["second"].public_id, cookie=cookies["bob"])
    carol_first = await ws_connect(trio["first"].public_id, cookie=cookies["carol"])
    olivia_first = await ws_connect(trio["first"].public_id, cookie=cookies["olivia"])
    for sock in (bob_first, bob_second, carol_first, olivia_first):
        while not await sock.nothing(0.3):
            await sock.recv()  # presence frames about each other
    notification = await realtime.db(mention_bob, trio)
    assert notification is not None
    for sock in (bob_first, bob_second):
        frame = await sock.recv_type("notify")
        assert frame["unread"] == 1
        assert frame["notification"]["id"] == notification.pk
        assert frame["notification"]["text"] == "Olivia mentioned you in “First”: look"
        assert frame["notification"]["actor"] == {"id": trio["olivia"].pk, "name": "Olivia"}
    assert await carol_first.nothing(0.5)
    assert await olivia_first.nothing(0.1)


def _request(server: DaphneProcess, path: str, cookie: str, body: dict | None = None) -> Any:
    """GET (or POST ``body`` as JSON with the CSRF token) on the daphne; return JSON or HTML."""
    headers = {"Cookie": cookie}
    data = None
    if body is not None:
        token = re.search(r"csrftoken=([^;]+)", cookie)
        assert token, cookie
        headers.update({"Content-Type": "application/json", "X-CSRFToken": token.group(1)})
        data = json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        if response.headers.get_content_type() == "application/json":
            return json.loads(text)
        return text


async def test_a_share_over_http_reaches_the_recipients_open_socket_end_to_end(
    trio: dict[str, Any], daphne_factory: Any
) -> None:
    server = daphne_factory()
    third = await realtime.db(realtime.create_document, trio["olivia"], title="Third")
    frames: list[dict] = []
    bob = WSClient(
        server.ws_url,
        str(trio["first"].public_id),
        cookie=trio["cookies"]["bob"],
        on_message=frames.append,
    )
    await bob.connect()
    cookie = trio["cookies"]["olivia"] + "; csrftoken=" + "t" * 32
    answer = await asyncio.to_thread(
        _request,
        server,
        f"/api/docs/{third.public_id}/share",
        cookie,
        {"identifier": "bob", "role": "commenter"},
    )
    assert "share" in answer, answer
    await bob.wait_for(lambda: any(f.get("type") == "notify" for f in frames), timeout=10)
    [frame] = [f for f in frames if f.get("type") == "notify"]
    assert frame["unread"] == 1
    assert frame["notification"]["kind"] == "shared"
    assert frame["notification"]["text"] == "Olivia gave you comment access to “Third”."
    assert frame["notification"]["document"] == {"id": str(third.public_id), "title": "Third"}
    # The page the bell links to agrees.
    listed = await asyncio.to_thread(_request, server, "/api/notifications", trio["cookies"]["bob"])
    assert [item["id"] for item in listed["notifications"]] == [frame["notification"]["id"]]
    await bob.close()
