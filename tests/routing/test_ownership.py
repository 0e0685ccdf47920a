"""Ownership: who serves a document, as one worker sees the ring."""

from __future__ import annotations

import uuid

import pytest

from routing.ownership import Ownership, Route, document_key
from routing.paths import (
    BadAddress,
    default_worker_id,
    normalize_base_url,
    page_socket_url,
    socket_url,
)
from routing.ring import HashRing

MEMBERS = {"a": "http://127.0.0.1:8001", "b": "http://127.0.0.1:8002", "c": "http://127.0.0.1:8003"}
DOCS = [str(uuid.UUID(int=i * 7919 + 17)) for i in range(300)]


def cluster(self_id: str = "a", *, serving: bool = True, members=MEMBERS) -> Ownership:
    ownership = Ownership(
        self_id=self_id, self_url=MEMBERS.get(self_id, "http://x:1"), cluster=True
    )
    ownership.set_members(members)
    ownership.set_serving(serving)
    return ownership


def test_single_node_serves_everything() -> None:
    ownership = Ownership.single_node()
    assert all(ownership.is_local(doc) for doc in DOCS[:20])
    assert ownership.route(DOCS[0]) == Route(local=True, worker_id="local", url=None)


def test_the_owner_is_the_rings_and_every_worker_agrees() -> None:
    ring = HashRing(list(MEMBERS))
    views = {member: cluster(member) for member in MEMBERS}
    for doc in DOCS:
        owner = ring.owner(document_key(doc))
        for member, ownership in views.items():
            route = ownership.route(doc)
            assert route.worker_id == owner
            assert route.local == (member == owner)
            assert route.url == MEMBERS[owner]


def test_document_keys_are_canonical() -> None:
    doc = uuid.uuid4()
    assert document_key(doc) == document_key(str(doc).upper()) == str(doc)
    assert cluster().route(doc) == cluster().route(str(doc).upper())


def test_a_worker_that_does_not_serve_leaves_itself_out() -> None:
    ownership = cluster("a", serving=False)
    without_a = HashRing({"b": 1, "c": 1})
    for doc in DOCS:
        route = ownership.route(doc)
        assert not route.local
        assert route.worker_id == without_a.owner(doc)


def test_an_empty_ring_has_no_owner() -> None:
    ownership = cluster("a", members={})
    assert ownership.route(DOCS[0]) == Route(local=False)
    assert cluster("a", serving=False, members={"a": MEMBERS["a"]}).route(DOCS[0]) == Route(
        local=False
    )


def test_listeners_hear_changes_only() -> None:
    ownership = cluster("a")
    heard: list[int] = []
    ownership.add_listener(lambda o: heard.append(o.view.version))
    assert ownership.set_members(MEMBERS) is False  # no change
    assert heard == []
    assert ownership.set_members({"a": MEMBERS["a"], "b": MEMBERS["b"]}) is True
    assert ownership.set_serving(False) is True
    assert len(heard) == 2
    assert not any(ownership.is_local(doc) for doc in DOCS)


def test_a_failing_listener_does_not_stop_the_others() -> None:
    ownership = cluster("a")
    heard: list[str] = []
    ownership.add_listener(lambda o: 1 / 0)
    ownership.add_listener(lambda o: heard.append("second"))
    ownership.set_serving(False)
    assert heard == ["second"]


def test_addresses() -> None:
    assert normalize_base_url("ws://127.0.0.1:8001/") == "http://127.0.0.1:8001"
    assert normalize_base_url("https://docs.example") == "https://docs.example"
    for bad in ("ftp://x", "http://", "http://x/path", "127.0.0.1:8001", "http://x:notaport"):
        with pytest.raises(BadAddress):
            normalize_base_url(bad)
    assert default_worker_id("http://127.0.0.1:8001") == "127.0.0.1:8001"
    assert default_worker_id("https://docs.example") == "docs.example:443"
    doc = DOCS[0]
    assert socket_url("http://127.0.0.1:8002", doc) == f"ws://127.0.0.1:8002/ws/docs/{doc}/"
    assert socket_url("https://w2.example", doc) == f"wss://w2.example/ws/docs/{doc}/"
    assert page_socket_url("http://127.0.0.1:8002", doc) == f"http://127.0.0.1:8002/ws/docs/{doc}/"
