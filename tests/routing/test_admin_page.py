"""The staff page /admin/cluster/: workers, ring shares, a document's owner and lock."""

from __future__ import annotations

import json
import uuid

import pytest
from kazoo.client import KazooClient

from routing.ring import HashRing
from routing.zk import start_client, stop_client
from tests.realtime.conftest import create_document, create_user

pytestmark = pytest.mark.django_db

URL = "/admin/cluster/"


@pytest.fixture
def staff(client):
    """Sign in staff who may view documents (titles need it, see below)."""
    from django.contrib.auth.models import Permission

    user = create_user("operator", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_document"))
    client.force_login(user)
    return client


def test_only_staff_see_it(client):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(create_user("plain"))
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_index_links_to_it(staff):
    response = staff.get("/admin/")
    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()


def test_single_node_says_so(staff):
    response = staff.get(URL)
    assert response.status_code == 200
    assert "Single node" in response.content.decode()


@pytest.mark.zookeeper
def test_cluster_mode_lists_workers_their_documents_and_a_documents_owner(
    staff, settings, zookeeper_server
):
    root = f"/admin-test-{uuid.uuid4().hex[:8]}"
    settings.ZOOKEEPER_HOSTS = zookeeper_server.extra["hosts"]
    settings.ZOOKEEPER_ROOT = root
    owner = create_user("docowner")
    document = create_document(owner, title="Quarterly plan")
    doc = str(document.public_id)
    ring = HashRing(["w1", "w2"])
    holder = ring.owner(doc)
    client: KazooClient = start_client(hosts=settings.ZOOKEEPER_HOSTS, timeout=2)
    try:
        for worker_id, port in (("w1", 8001), ("w2", 8002)):
            docs = {doc: 3} if worker_id == holder else {}
            data = {
                "url": f"http://127.0.0.1:{port}",
                "started": "2026-01-01T00:00:00+00:00",
                "pid": port,
                "host": "box",
                "serving": True,
                "documents": len(docs),
                "sockets": sum(docs.values()),
                "docs": docs,
                "updated": "now",
            }
            client.create(
                f"{root}/workers/{worker_id}",
                json.dumps(data).encode(),
                ephemeral=True,
                makepath=True,
            )
        lock = client.Lock(f"{root}/locks/{doc}", holder)
        assert lock.acquire(blocking=False)

        page = staff.get(URL).content.decode()
        assert "w1" in page and "w2" in page and "http://127.0.0.1:8002" in page
        shares = HashRing(["w1", "w2"]).shares()
        assert f"{round(100 * shares['w1'], 1)} %" in page
        assert "Quarterly plan" in page and doc in page

        found = staff.get(URL, {"doc": doc}).content.decode()
        port = 8001 if holder == "w1" else 8002
        assert f"<strong>{holder}</strong> <code>http://127.0.0.1:{port}</code>" in found
        assert f"{holder} (3 sockets)" in found
        assert f"held by <strong>{holder}</strong>" in found

        bad = staff.get(URL, {"doc": "nope"}).content.decode()
        assert "is not a document id" in bad
        lock.release()
    finally:
        stop_client(client)


@pytest.mark.zookeeper
def test_zookeeper_away_is_shown_not_raised(staff, settings):
    from collabdocs.devservers import free_port

    settings.ZOOKEEPER_HOSTS = f"127.0.0.1:{free_port()}"
    settings.COLLABDOCS = {**settings.COLLABDOCS, "ZK_CONNECT_TIMEOUT": 1}
    response = staff.get(URL)
    assert response.status_code == 200
    assert "ZooKeeper: could not reach ZooKeeper" in response.content.decode()


def publish(
    client: KazooClient, root: str, worker_id: str, port: int, docs: dict[str, int]
) -> None:
    data = {
        "url": f"http://127.0.0.1:{port}",
        "started": "2026-01-01T00:00:00+00:00",
        "pid": port,
        "host": "box",
        "serving": True,
        "documents": len(docs),
        "sockets": sum(docs.values()),
        "docs": docs,
        "updated": "now",
    }
    client.create(
        f"{root}/workers/{worker_id}", json.dumps(data).encode(), ephemeral=True, makepath=True
    )


@pytest.mark.zookeeper
def test_staff_read_only_the_titles_of_documents_they_may_view(client, settings, zookeeper_server):
    from django.contrib.auth.models import Permission
    from guardian.shortcuts import assign_perm

    root = f"/admin-titles-{uuid.uuid4().hex[:8]}"
    settings.ZOOKEEPER_HOSTS = zookeeper_server.extra["hosts"]
    settings.ZOOKEEPER_ROOT = root
    operator = create_user("plainstaff", is_staff=True)
    private = create_document(create_user("alice"), title="Secret merger plan")
    shared = create_document(create_user("bob"), title="Shared roadmap")
    mine = create_document(operator, title="Operator notes")
    assign_perm("documents.view_document", operator, shared)
    ids = {doc.title: str(doc.public_id) for doc in (private, shared, mine)}
    zk_client: KazooClient = start_client(hosts=settings.ZOOKEEPER_HOSTS, timeout=2)
    try:
        publish(zk_client, root, "w1", 8001, {ids[title]: 1 for title in ids})
        client.force_login(operator)
        page = client.get(URL).content.decode()
        assert all(doc_id in page for doc_id in ids.values())  # ids are shown
        assert "Shared roadmap" in page and "Operator notes" in page
        assert "Secret merger plan" not in page
        looked_up = client.get(URL, {"doc": ids["Secret merger plan"]}).content.decode()
        assert ids["Secret merger plan"] in looked_up
        assert "Secret merger plan" not in looked_up
        assert "Shared roadmap" in client.get(URL, {"doc": ids["Shared roadmap"]}).content.decode()

        # The model-wide view permission (the admin's own) shows every title.
        auditor = create_user("auditor", is_staff=True)
        auditor.user_permissions.add(Permission.objects.get(codename="view_document"))
        client.force_login(auditor)
        assert "Secret merger plan" in client.get(URL).content.decode()
        client.force_login(create_user("root", is_staff=True, is_superuser=True))
        assert (
            "Secret merger plan"
            in client.get(URL, {"doc": ids["Secret merger plan"]}).content.decode()
        )
    finally:
        stop_client(zk_client)
