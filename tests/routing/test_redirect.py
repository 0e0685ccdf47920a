"""Redirects through the real ASGI app: after auth and permission, never before.

The process plays worker "a" of a three-worker ring (no ZooKeeper: the
ownership is set by hand and installed as a worker installs it: in the
routing state for the views, and as the registry's placement for the
consumer), so every path of the consumer and the route endpoint can be
checked without processes.
"""

from __future__ import annotations

import uuid

import pytest

from realtime.registry import Registry, install_registry
from routing.ownership import Ownership
from routing.ring import HashRing
from routing.state import RoutingState, install_routing_state, uninstall_routing_state
from tests.realtime.conftest import create_document, create_user

pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = {"a": "http://127.0.0.1:8001", "b": "http://127.0.0.1:8002", "c": "http://127.0.0.1:8003"}
RING = HashRing(list(MEMBERS))


def as_worker(
    self_id: str = "a", *, members: dict[str, str] = MEMBERS, serving: bool = True
) -> Ownership:
    """Play worker ``self_id`` for the views (the route endpoint, the page)."""
    ownership = Ownership(self_id=self_id, self_url=MEMBERS[self_id], cluster=True)
    ownership.set_members(members)
    ownership.set_serving(serving)
    install_routing_state(RoutingState(ownership=ownership))
    return ownership


def serving_as(
    self_id: str = "a", *, members: dict[str, str] = MEMBERS, serving: bool = True
) -> Ownership:
    """Play worker ``self_id`` for sockets too (call in the test's event loop)."""
    ownership = as_worker(self_id, members=members, serving=serving)
    install_registry(Registry(placement=ownership))
    return ownership


def document_owned_by(owner_id: str, people) -> str:
    """Return the id of a document of ``people``' owner that ``owner_id`` owns."""
    from guardian.shortcuts import assign_perm

    if RING.owner(people["doc_id"]) == owner_id:
        return people["doc_id"]
    for _ in range(200):
        document = create_document(people["users"]["owner"])
        if RING.owner(str(document.public_id)) == owner_id:
            for name in ("editor", "viewer"):
                perm = "change_document" if name == "editor" else "view_document"
                assign_perm("documents.view_document", people["users"][name], document)
                assign_perm(f"documents.{perm}", people["users"][name], document)
            return str(document.public_id)
    raise AssertionError("no document landed on " + owner_id)


async def first_frame_and_close(sock) -> tuple[dict, int]:
    frame = await sock.recv()
    return frame, await sock.closed()


async def test_a_reader_on_a_non_owner_is_redirected_to_the_owner(people, ws_connect):
    serving_as("a")
    doc = await _db(document_owned_by, "b", people)
    sock = await ws_connect(doc, cookie=people["cookies"]["viewer"], expect_hello=False)
    frame, code = await first_frame_and_close(sock)
    assert frame == {"type": "redirect", "url": f"ws://127.0.0.1:8002/ws/docs/{doc}/"}
    assert code == 4301


async def test_strangers_and_anonymous_learn_nothing_from_a_non_owner(people, ws_connect):
    serving_as("a")
    doc = await _db(document_owned_by, "c", people)
    anonymous = await ws_connect(doc, expect_hello=False)
    frame, code = await first_frame_and_close(anonymous)
    assert (frame["type"], frame["code"], code) == ("error", "denied", 4401)
    stranger = await ws_connect(doc, cookie=people["cookies"]["stranger"], expect_hello=False)
    frame, code = await first_frame_and_close(stranger)
    assert (frame["type"], frame["code"], code) == ("error", "denied", 4404)
    missing = await ws_connect(
        str(uuid.uuid4()), cookie=people["cookies"]["owner"], expect_hello=False
    )
    assert (await first_frame_and_close(missing))[1] == 4404


async def test_the_owner_serves(people, ws_connect):
    serving_as("a")
    doc = await _db(document_owned_by, "a", people)
    sock = await ws_connect(doc, cookie=people["cookies"]["editor"])
    assert sock.hello["type"] == "hello" and sock.hello["can_edit"] is True


async def test_no_worker_on_the_ring_is_4503(people, ws_connect):
    serving_as("a", members={})
    sock = await ws_connect(people["doc_id"], cookie=people["cookies"]["owner"], expect_hello=False)
    frame, code = await first_frame_and_close(sock)
    assert (frame["code"], frame["retry_after"], code) == ("unavailable", 1000, 4503)


async def test_a_fenced_worker_answers_4503_with_a_retry_hint_never_a_redirect(people, ws_connect):
    ownership = serving_as("a", serving=False)
    ownership.set_fenced(True)
    for owner in ("a", "b"):
        doc = await _db(document_owned_by, owner, people)
        sock = await ws_connect(doc, cookie=people["cookies"]["owner"], expect_hello=False)
        frame, code = await first_frame_and_close(sock)
        assert (frame["type"], frame["code"], code) == ("error", "unavailable", 4503)
        assert frame["retry_after"] == 1000


async def test_a_worker_that_stopped_serving_redirects_its_own_documents(people, ws_connect):
    serving_as("a", serving=False)
    doc = await _db(document_owned_by, "a", people)
    sock = await ws_connect(doc, cookie=people["cookies"]["owner"], expect_hello=False)
    frame, code = await first_frame_and_close(sock)
    others = HashRing(["b", "c"]).owner(doc)
    assert frame == {"type": "redirect", "url": f"ws://{MEMBERS[others][7:]}/ws/docs/{doc}/"}
    assert code == 4301


# -- the route endpoint and the page -------------------------------------------


def test_the_route_endpoint_answers_the_owner(client, people):
    as_worker("a")
    for owner in ("a", "b", "c"):
        doc = document_owned_by(owner, people)
        client.force_login(people["users"]["viewer"])
        response = client.get(f"/api/docs/{doc}/route")
        assert response.status_code == 200
        port = MEMBERS[owner].rsplit(":", 1)[1]
        assert response.json() == {"url": f"ws://127.0.0.1:{port}/ws/docs/{doc}/"}
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-cache", "no-store"} <= cache_control


def test_the_route_endpoint_is_503_with_no_worker(client, people):
    as_worker("a", members={})
    client.force_login(people["users"]["owner"])
    response = client.get(f"/api/docs/{people['doc_id']}/route")
    assert response.status_code == 503 and response["Retry-After"] == "1"


def test_the_route_endpoint_checks_access_before_routing(client, people):
    as_worker("a")
    assert client.get(f"/api/docs/{people['doc_id']}/route").status_code == 401
    client.force_login(create_user("nosy"))
    assert client.get(f"/api/docs/{people['doc_id']}/route").status_code == 404


def test_the_page_points_the_editor_at_the_owner(people):
    from django.template import Context, Template

    as_worker("a")
    template = Template("{% load routing_tags %}{% document_socket_path doc %}")
    remote = document_owned_by("c", people)
    local = document_owned_by("a", people)
    assert template.render(Context({"doc": remote})) == f"http://127.0.0.1:8003/ws/docs/{remote}/"
    assert template.render(Context({"doc": local})) == f"/ws/docs/{local}/"
    uninstall_routing_state()
    assert template.render(Context({"doc": remote})) == f"/ws/docs/{remote}/"


async def _db(fn, *args):
    from tests.realtime.conftest import db

    return await db(fn, *args)
