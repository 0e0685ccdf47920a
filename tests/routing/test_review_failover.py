"""Comment anchors and suggestions survive a worker failover (real ``runworker`` processes).

Two workers over real PostgreSQL, Redis and ZooKeeper. A commenter anchors
a comment and suggests text while an editor types, both connected through
the worker that does not own the document (redirected to the owner); the
owner is killed with ``kill -9``; both clients fail over to the survivor,
which rebuilds the document from storage. Checked: the marks are stored
and every client holds them exactly; the commenter can go on suggesting on
the new owner, and the server still refuses their plain typing; a decision
asked from a process that is no worker (``live_documents().apply_edit``)
is forwarded to the new owner and reaches both clients as one op.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from guardian.shortcuts import assign_perm

from collabdocs.devclient import WSClient
from collabdocs.devcluster import SESSION_TIMEOUT
from realtime.ot import Delta
from realtime.ot.review import suggestions
from tests.realtime.conftest import (
    create_document,
    create_user,
    db,
    session_cookie,
    share,
    stored_content,
)

pytestmark = [pytest.mark.zookeeper, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

THREAD = "abcdefghij0123"


def _document(people: dict[str, Any]) -> tuple[str, Any, str]:
    """Create a document shared with the editor and a new commenter."""
    commenter = create_user("commenter")
    document = create_document(people["users"]["owner"])
    share(document, people["users"]["editor"], edit=True)
    assign_perm("documents.view_document", commenter, document)
    assign_perm("documents.comment_document", commenter, document)
    return str(document.public_id), commenter, session_cookie(commenter)


async def _synced(clients: list[WSClient], doc_id: str) -> list[dict[str, Any]]:
    for client in clients:
        await client.wait_synchronized(30)
    head, content = await db(stored_content, doc_id)
    for client in clients:
        await client.wait_for(lambda c=client: c.ot.rev == head, 30)
        assert client.ot.content() == content
    return content


async def test_marks_survive_kill_9_of_the_owner(
    cluster_factory: Any, people: dict[str, Any], settings: Any, redis_server: Any
) -> None:
    cluster = cluster_factory(2)
    doc_id, commenter_user, commenter_cookie = await db(_document, people)
    owner = cluster.owner(doc_id)
    entry = cluster.others(owner)[0]
    editor = WSClient(entry.ws_url, doc_id, cookie=people["cookies"]["editor"])
    commenter = WSClient(entry.ws_url, doc_id, cookie=commenter_cookie)
    await editor.connect()
    await commenter.connect()
    assert editor.base == owner.ws_url and commenter.base == owner.ws_url
    mark = f"{commenter_user.pk}:lx3k9a1:fail"
    await editor.edit(Delta().insert("hello world"))
    await _synced([editor, commenter], doc_id)
    # Concurrently: the commenter suggests and anchors, the editor types.
    await commenter.edit(
        Delta().retain(6).insert("big ", {"suggest-insert": mark}).retain(5, {"comment": THREAD})
    )
    await editor.edit(Delta().insert("Say "))
    before = await _synced([editor, commenter], doc_id)
    assert "".join(o["insert"] for o in before) == "Say hello big world\n"

    killed = time.monotonic()
    owner.kill()
    # Both fail over; the commenter suggests more on the new owner.
    await commenter.edit(Delta().retain(4).insert("now ", {"suggest-insert": mark}))
    after = await _synced([editor, commenter], doc_id)
    took = time.monotonic() - killed
    print(f"review failover: synchronized {took:.1f} s after kill -9")
    # The session timeout, reconnect backoff and a busy test machine.
    assert took < SESSION_TIMEOUT + 20
    new_owner = cluster.owner(doc_id)
    assert new_owner is entry and commenter.base == entry.ws_url
    assert "".join(o["insert"] for o in after) == "Say now hello big world\n"
    assert [o["insert"] for o in after if (o.get("attributes") or {}).get("comment")] == ["world"]
    (suggestion,) = suggestions(after)
    assert (suggestion.id, suggestion.text) == (mark, "now big ")  # one suggestion, two runs

    # The new owner still holds the commenter to the policy.
    errors = len(commenter.ot.errors)
    await commenter.send_raw(
        {"type": "op", "id": "z" * 16 + ":1", "rev": commenter.ot.rev, "delta": [{"insert": "x"}]}
    )
    await commenter.wait_for(lambda: len(commenter.ot.errors) > errors, 10)
    assert commenter.ot.errors[-1]["code"] == "forbidden"

    # A decision from a process that is no worker goes to the new owner.
    from channels.layers import channel_layers

    from documents.live import decide_edit, live_documents

    settings.ZOOKEEPER_HOSTS = cluster.zk_hosts
    settings.ZOOKEEPER_ROOT = cluster.root
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.extra["url"]]},
        }
    }
    channel_layers.backends = {}
    head_before = editor.ot.rev
    applied = await asyncio.to_thread(
        live_documents().apply_edit,
        public_id=uuid.UUID(doc_id),
        edit=decide_edit(accept=True),
        user_id=people["users"]["owner"].pk,
        user_name="owner",
    )
    assert applied is not None and applied.revision == head_before + 1
    assert [d["id"] for d in applied.decided] == [mark]
    accepted = await _synced([editor, commenter], doc_id)
    assert "".join(o["insert"] for o in accepted) == "Say now hello big world\n"
    assert suggestions(accepted) == []
