"""The WebSocket Origin check (collabdocs/origin.py) against a real daphne.

A page elsewhere must not open a socket with the victim's cookie: every
handshake here carries a signed-in editor's session cookie, so only the
Origin header decides. Refused handshakes are answered HTTP 403 before the
socket exists.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from collabdocs.devservers import free_port
from collabdocs.origin import normalize_origin, origin_trusted
from tests.realtime.conftest import create_document, create_user, db, session_cookie

# -- the pure comparison -------------------------------------------------------

OWN = ("http", "127.0.0.1", 8200)


@pytest.mark.parametrize(
    ("origin", "trusted", "ok"),
    [
        ("http://127.0.0.1:8200", [], True),
        ("HTTP://127.0.0.1:8200", [], True),
        ("http://127.0.0.1:8299", [], False),  # another port of the same host
        ("https://127.0.0.1:8200", [], False),  # another scheme
        ("http://127.0.0.1", [], False),  # port 80
        ("http://localhost:8200", [], False),  # another host name
        ("null", [], False),
        ("", [], False),
        ("http://127.0.0.1:8200@evil.example", [], False),
        ("ftp://127.0.0.1:8200", [], False),
        ("http://127.0.0.1:8299", ["http://127.0.0.1:8299"], True),
        ("http://127.0.0.1:8299", ["ws://127.0.0.1:8299"], True),  # a worker's socket URL
        ("https://docs.example.com", ["https://docs.example.com:443"], True),
        ("https://eu.docs.example.com", ["https://*.docs.example.com"], True),
        ("https://docs.example.com", ["https://*.docs.example.com"], False),
        ("http://eu.docs.example.com", ["https://*.docs.example.com"], False),
        ("https://evildocs.example.com", ["https://*.docs.example.com"], False),
    ],
)
def test_origins_are_compared_by_scheme_host_and_port(
    origin: str, trusted: list[str], ok: bool
) -> None:
    assert origin_trusted(origin, own=OWN, trusted=trusted) is ok


def test_default_ports_are_made_explicit() -> None:
    assert normalize_origin("https://Example.com") == ("https", "example.com", 443)
    assert normalize_origin("ws://[::1]:8000/ws/") == ("http", "::1", 8000)
    assert normalize_origin("http://x:notaport") is None


# -- real handshakes -------------------------------------------------------------


def _victim() -> tuple[str, str]:
    user = create_user("victim")
    return str(create_document(user, title="Private").public_id), session_cookie(user)


async def handshake(
    daphne: Any,
    doc_id: str,
    cookie: str,
    origin: str | None,
    headers: dict[str, str] | None = None,
    *,
    host_name: str = "127.0.0.1",
) -> int | str:
    """Open a socket; return the refusal's HTTP status or the first frame's type.

    ``host_name`` goes in the URL (so in the Host header); the TCP connection
    always goes to the daphne on 127.0.0.1.
    """
    url = f"ws://{host_name}:{daphne.port}/ws/docs/{doc_id}/"
    try:
        async with connect(
            url,
            origin=origin,
            open_timeout=20,
            host="127.0.0.1",
            port=daphne.port,
            additional_headers={"Cookie": cookie, **(headers or {})},
        ) as ws:
            return json.loads(await ws.recv())["type"]
    except InvalidStatus as exc:
        return exc.response.status_code


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_only_the_apps_own_origin_opens_a_socket(live_daphne: Any) -> None:
    doc_id, cookie = await db(_victim)
    port = live_daphne.port
    own = f"http://127.0.0.1:{port}"
    other_port = port + 1 if port < 65535 else port - 1
    assert await handshake(live_daphne, doc_id, cookie, own) == "hello"
    for foreign in (
        f"http://127.0.0.1:{other_port}",  # another app on the same host
        "http://127.0.0.1",  # port 80 of the same host
        f"https://127.0.0.1:{port}",  # another scheme
        f"http://localhost:{port}",  # another host name, though allowed
        f"http://evil.example:{port}",
        "null",
    ):
        assert await handshake(live_daphne, doc_id, cookie, foreign) == 403, foreign
    # A page on localhost talks to the socket on localhost: its own origin.
    assert (
        await handshake(
            live_daphne, doc_id, cookie, f"http://localhost:{port}", host_name="localhost"
        )
        == "hello"
    )
    # DNS rebinding: a foreign name resolving here is not an allowed host.
    assert (
        await handshake(
            live_daphne, doc_id, cookie, f"http://evil.example:{port}", host_name="evil.example"
        )
        == 403
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_a_client_without_origin_is_not_a_browser_and_may_connect(live_daphne: Any) -> None:
    doc_id, cookie = await db(_victim)
    assert await handshake(live_daphne, doc_id, cookie, None) == "hello"
    # It still needs a session of its own.
    assert await handshake(live_daphne, doc_id, "sessionid=forged", None) == "error"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_trusted_origins_and_worker_urls_come_from_settings(daphne_factory: Any) -> None:
    worker_port, stranger_port = free_port(), free_port()
    daphne = daphne_factory(
        CSRF_TRUSTED_ORIGINS="https://docs.example.com,https://*.eu.example.com",
        WORKER_URL=f"http://127.0.0.1:{worker_port}",
    )
    doc_id, cookie = await db(_victim)
    for origin in (
        "https://docs.example.com",
        "https://paris.eu.example.com",
        f"http://127.0.0.1:{worker_port}",
    ):
        assert await handshake(daphne, doc_id, cookie, origin) == "hello", origin
    for origin in (
        "http://docs.example.com",
        "https://eu.example.com",
        f"http://127.0.0.1:{stranger_port}",
    ):
        assert await handshake(daphne, doc_id, cookie, origin) == 403, origin


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
async def test_behind_a_tls_proxy_the_page_is_https(daphne_factory: Any) -> None:
    daphne = daphne_factory(SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    doc_id, cookie = await db(_victim)
    https_page = f"https://127.0.0.1:{daphne.port}"
    proxied = {"X-Forwarded-Proto": "https"}
    assert await handshake(daphne, doc_id, cookie, https_page, proxied) == "hello"
    assert await handshake(daphne, doc_id, cookie, https_page) == 403
    assert (
        await handshake(daphne, doc_id, cookie, f"http://127.0.0.1:{daphne.port}", proxied) == 403
    )
