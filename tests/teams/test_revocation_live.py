"""A team's changes cut its members off live, through a real socket.

A real daphne with the suite's Redis channel layer serves the sockets; the
change is made here through :mod:`teams.services`, as the team pages make
it. Removing a member closes that member's socket (4403) and deleting the
team closes every remaining member's; a person with their own share keeps
editing. Failure mode: the team app changing membership in a way
``documents.revocation`` does not hear (a bulk update, a raw delete), which
would leave a removed person editing until their next re-check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.layers import channel_layers

from documents import services as documents_services
from teams import services
from tests.conftest import DaphneProcess
from tests.realtime.conftest import create_document, create_user, db, session_cookie, share
from tests.realtime.revocation_harness import LiveSocket, use_redis_layer

pytestmark = pytest.mark.e2e

#: Seconds from the change to the close: the point is seconds, not minutes.
WITHIN = 3.0


@pytest.fixture
def live(
    daphne_factory: Callable[..., DaphneProcess],
    redis_server: Any,
    settings: Any,
    transactional_db: None,
) -> Iterator[DaphneProcess]:
    """Return a daphne whose channel layer is the suite's Redis, as this process's is."""
    use_redis_layer(settings, redis_server.extra["url"])
    yield daphne_factory(REDIS_URL=redis_server.extra["url"])
    channel_layers.backends = {}


async def _closes(sock: LiveSocket, change: Callable[[], Any], label: str) -> None:
    started = time.monotonic()
    await db(change)
    code, seen = await sock.closed(timeout=WITHIN + 5)
    elapsed = time.monotonic() - started
    print(f"{label}: closed {code} after {elapsed * 1000:.0f} ms")
    assert code == 4403, (code, seen)
    assert elapsed < WITHIN, elapsed


async def test_removing_a_member_and_deleting_the_team_close_their_sockets(
    live: DaphneProcess,
) -> None:
    def setup() -> dict[str, Any]:
        owner, kim, lee, outsider = (create_user(n) for n in ("owner", "kim", "lee", "outsider"))
        team = services.team_create(creator=kim, name="Writers")
        services.team_add_member(team=team, actor=kim, identifier="lee")
        document = create_document(owner)
        documents_services.share_with_group(
            document=document, actor=owner, group_name="Writers", role="editor"
        )
        share(document, outsider, edit=True)
        cookies = {u.username: session_cookie(u) for u in (kim, lee, outsider)}
        return {"team": team, "kim": kim, "lee": lee, "doc": document, "cookies": cookies}

    world = await db(setup)
    doc_id = str(world["doc"].public_id)
    sockets = {
        name: await LiveSocket.open(live.url, doc_id, cookie)
        for name, cookie in world["cookies"].items()
    }
    try:
        for sock in sockets.values():
            await sock.edit("hi ")
        team = world["team"]
        await _closes(
            sockets["lee"],
            lambda: services.team_remove_member(team=team, actor=world["kim"], user=world["lee"]),
            "team_remove_member",
        )
        await sockets["kim"].edit("still a member ")
        await _closes(
            sockets["kim"],
            lambda: services.team_delete(team=team, actor=world["kim"]),
            "team_delete",
        )
        await sockets["outsider"].edit("own share, untouched ")
    finally:
        for sock in sockets.values():
            await sock.close()
