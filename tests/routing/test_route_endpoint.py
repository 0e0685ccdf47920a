"""GET /api/docs/<id>/route: the WebSocket URL of a document one may read."""

from __future__ import annotations

import uuid

import pytest

from tests.realtime.conftest import create_document, create_user, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc():
    owner = create_user("route-owner")
    document = create_document(owner)
    document.owner_user = owner
    return document


def url(doc_id) -> str:
    return f"/api/docs/{doc_id}/route"


def test_a_reader_gets_this_workers_websocket_url(client, doc):
    reader = create_user("reader")
    share(doc, reader)
    client.force_login(reader)
    response = client.get(url(doc.public_id), HTTP_HOST="127.0.0.1:8123")
    assert response.status_code == 200
    assert response.json() == {"url": f"ws://127.0.0.1:8123/ws/docs/{doc.public_id}/"}


def test_worker_url_setting_wins(client, doc, settings):
    settings.WORKER_URL = "https://docs.example:9443/"
    client.force_login(doc.owner_user)
    response = client.get(url(doc.public_id))
    assert response.json() == {"url": f"wss://docs.example:9443/ws/docs/{doc.public_id}/"}


def test_anonymous_is_401(client, doc):
    response = client.get(url(doc.public_id))
    assert response.status_code == 401 and "error" in response.json()


def test_strangers_and_missing_documents_are_404(client, doc):
    client.force_login(create_user("nobody"))
    assert client.get(url(doc.public_id)).status_code == 404
    assert client.get(url(uuid.uuid4())).status_code == 404


def test_a_share_link_remembered_in_the_session_counts(client, doc):
    from documents.models import LinkMode

    doc.link_mode = LinkMode.VIEW
    doc.save(update_fields=["link_mode"])
    client.force_login(create_user("linked"))
    session = client.session
    session["doc_links"] = {str(doc.public_id): doc.link_token}
    session.save()
    assert client.get(url(doc.public_id)).status_code == 200


def test_only_get(client, doc):
    client.force_login(doc.owner_user)
    assert client.post(url(doc.public_id)).status_code == 405
