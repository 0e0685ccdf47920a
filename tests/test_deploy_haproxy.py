"""deploy/haproxy/haproxy.cfg: valid for Debian's HAProxy, and routes as the cluster's does.

The production example terminates TLS, so ``haproxy -c`` needs a
certificate file where the example names one: a throwaway self-signed one
is made with openssl. The example's backend must agree with what
:func:`collabdocs.haproxy.haproxy_config` generates for the cluster tests
(which prove it routes sockets to owners and drops dead workers): the same
owner-hint rules, server names and check timing, for the same workers.
Then the example runs, on loopback ports in front of a backend that echoes
what it receives: plain http is redirected, the headers the workers trust
are the balancer's and never the client's, ``/metrics`` stops at the
balancer, the owner hint is taken off the path, and the health check names
the public host and https. Last, in front of a real worker set up as the
example environment says: the login page over https sets a Secure cookie
and HSTS, and a person's socket goes over wss through the balancer to the
owner the path names, and its op is acknowledged.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collabdocs.devservers import free_port, wait_for_port
from collabdocs.haproxy import haproxy_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "deploy" / "haproxy" / "haproxy.cfg"
CERT = "/etc/haproxy/certs/docs.example.com.pem"


def _backend(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("backend workers")
    section: list[str] = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            section.append(stripped)
    return section


def test_haproxy_accepts_the_example(tmp_path: Path) -> None:
    haproxy, openssl = shutil.which("haproxy"), shutil.which("openssl")
    assert haproxy and openssl, "haproxy and openssl are needed (apt-get install haproxy)"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=docs.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem = tmp_path / "docs.example.com.pem"
    pem.write_text(cert.read_text() + key.read_text())
    config = tmp_path / "haproxy.cfg"
    text = EXAMPLE.read_text()
    assert CERT in text
    config.write_text(text.replace(CERT, str(pem)))
    result = subprocess.run(
        [haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[WARNING]" not in output and "[ALERT]" not in output, output


def test_the_example_routes_like_the_tested_front_door() -> None:
    example = _backend(EXAMPLE.read_text())
    servers = [line.split()[2] for line in example if line.startswith("server ")]
    workers = ["http://" + address for address in servers]
    generated = _backend(haproxy_config(bind="127.0.0.1:8000", workers=workers))
    # Everything but the check request, which names the public host and
    # https here (production's ALLOWED_HOSTS and SECURE_SSL_REDIRECT).
    missing = [
        line for line in generated if not line.startswith("http-check send") and line not in example
    ]
    assert not missing, missing
    (check,) = [line for line in example if line.startswith("http-check send")]
    assert "uri /readyz" in check and "hdr X-Forwarded-Proto https" in check


def test_the_example_keeps_metrics_private_and_overwrites_what_workers_trust() -> None:
    text = EXAMPLE.read_text()
    assert "http-request deny deny_status 404 if { path /metrics }" in text
    for rule in (
        "http-request set-header X-Forwarded-Proto https",
        "http-request set-header X-Real-IP %[src]",
        "http-request del-header X-Forwarded-For",
        "http-request redirect scheme https",
    ):
        assert rule in text, rule


# -- the example, running ------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """A worker stand-in: 200 to the health check, the request echoed as JSON."""

    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        request = {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
        type(self).seen.append(request)
        body = json.dumps(request).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _runnable(text: str, *, pem: Path, http_port: int, https_port: int, backend: int) -> str:
    """Return the example on loopback ports, every server at ``backend``, in the foreground."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.split(" ", 1)[0] in {"log", "user", "group", "chroot", "stats"}:
            continue
        if stripped.startswith("maxconn "):
            line = "    maxconn 1000"  # 20,000 needs more file descriptors than a test gets
        if stripped == "bind :80":
            line = f"    bind 127.0.0.1:{http_port}"
        elif stripped.startswith("bind :443"):
            line = f"    bind 127.0.0.1:{https_port} ssl crt {pem} alpn http/1.1"
        elif stripped.startswith("server "):
            line = f"    server {stripped.split()[1]} 127.0.0.1:{backend}"
        out.append(line)
    return "\n".join(out) + "\n"


def _https_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.request("GET", path, headers={"Host": "docs.example.com", **headers})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, body


@pytest.fixture
def running_example(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Run the example for real in front of an echoing backend; yield (http, https) ports."""
    haproxy, openssl = shutil.which("haproxy"), shutil.which("openssl")
    assert haproxy and openssl
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=docs.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem = tmp_path / "site.pem"
    pem.write_text(cert.read_text() + key.read_text())
    _Echo.seen = []
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        _runnable(
            EXAMPLE.read_text(),
            pem=pem,
            http_port=http_port,
            https_port=https_port,
            backend=backend.server_address[1],
        )
    )
    proc = subprocess.Popen(
        [haproxy, "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert wait_for_port(https_port, timeout=20, proc=proc)
        deadline = time.monotonic() + 10
        while not any(r["path"] == "/readyz" for r in _Echo.seen):  # the first check
            assert time.monotonic() < deadline, "no health check reached the backend"
            time.sleep(0.05)
        time.sleep(0.3)  # rise 1: up after that first check
        yield http_port, https_port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        backend.shutdown()
        backend.server_close()


def test_the_running_example_terminates_tls_and_overwrites_what_workers_trust(
    running_example: tuple[int, int],
) -> None:
    http_port, https_port = running_example
    # Plain http is redirected to https.
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("GET", "/docs/", headers={"Host": "docs.example.com"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == "https://docs.example.com/docs/"
    conn.close()
    # The client's own scheme, address and hops never reach a worker.
    forged = {"X-Forwarded-Proto": "http", "X-Real-IP": "6.6.6.6", "X-Forwarded-For": "6.6.6.6"}
    status, body = _https_get(https_port, "/docs/", forged)
    seen = json.loads(body)
    assert status == 200 and seen["path"] == "/docs/"
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-real-ip"] == "127.0.0.1" and seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["host"] == "docs.example.com"
    # /metrics never leaves the balancer.
    before = len(_Echo.seen)
    status, _ = _https_get(https_port, "/metrics", {})
    assert status == 404 and not [r for r in _Echo.seen[before:] if r["path"] == "/metrics"]
    # A body over the largest the app accepts (a 20 MB import) stops at the
    # door on its declared length: no worker receives a byte of it.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=context, timeout=10)
    conn.putrequest("POST", "/api/import", skip_host=True)
    conn.putheader("Host", "docs.example.com")
    conn.putheader("Content-Length", "30000000")
    conn.endheaders()
    response = conn.getresponse()
    conn.close()
    assert response.status == 413
    assert not [r for r in _Echo.seen[before:] if r["path"] == "/api/import"]
    # The owner hint is taken off the path before it reaches the worker.
    status, body = _https_get(https_port, "/w/10.0.0.12-8001/ws/docs/abc/?rev=3", {})
    assert json.loads(body)["path"] == "/ws/docs/abc/?rev=3"
    # The health check names the public host and https (ALLOWED_HOSTS, the redirect).
    check = next(r for r in _Echo.seen if r["path"] == "/readyz")
    assert check["host"] == "docs.example.com" and check["x-forwarded-proto"] == "https"


# -- the example in front of a real worker, over TLS ----------------------------


@pytest.mark.e2e
def test_a_person_edits_over_wss_through_the_example_with_secure_cookies(
    test_database_url: str, transactional_db: None, tmp_path: Path, settings: Any
) -> None:
    """The guide's TLS setup end to end: https pages, Secure cookies, a wss socket to the owner."""
    from tests.realtime.conftest import create_document, create_user, session_cookie
    from tests.test_deploy_env import _example

    # The session's auth hash is signed with SECRET_KEY: the worker's, which
    # may not be the development key (DEBUG is off).
    settings.SECRET_KEY = secret_key = secrets.token_urlsafe(50)
    user = create_user("tls-editor")
    document = create_document(user)
    cookie = session_cookie(user)
    worker_port, http_port, https_port = free_port(), free_port(), free_port()
    env = {**os.environ, **_example()}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "collabdocs.settings",
            "SECRET_KEY": secret_key,
            "DATABASE_URL": test_database_url,
            "REDIS_URL": "",
            "ZOOKEEPER_HOSTS": "",
            "EMAIL_HOST": "",
            "FRONT_DOOR_URL": f"https://docs.example.com:{https_port}",
        }
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "runworker", "--single-node", "--port", str(worker_port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 - the child owns it
        start_new_session=True,
    )
    key, cert, pem = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "site.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=docs.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem.write_text(cert.read_text() + key.read_text())
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        _runnable(
            EXAMPLE.read_text(),
            pem=pem,
            http_port=http_port,
            https_port=https_port,
            backend=worker_port,
        )
    )
    haproxy = subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_port(worker_port, timeout=60, proc=worker)
        assert wait_for_port(https_port, timeout=20, proc=haproxy)
        # Pages over https: the login page, its CSRF cookie Secure.
        deadline = time.monotonic() + 20
        while True:  # until a check has put the worker in the pool
            status, headers = _https_head(https_port, "/accounts/login/")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200, (status, (tmp_path / "worker.log").read_text()[-2000:])
        csrf = [v for k, v in headers if k.lower() == "set-cookie" and "csrftoken" in v]
        assert csrf and "Secure" in csrf[0], headers
        assert any(k.lower() == "strict-transport-security" for k, _ in headers), headers
        # The socket: wss through the balancer, to the owner named in the path.
        asyncio.run(_edit_over_wss(https_port, str(document.public_id), cookie))
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)
        worker.terminate()
        worker.wait(timeout=30)
    assert "Traceback" not in (tmp_path / "worker.log").read_text()


def _https_head(port: int, path: str) -> tuple[int, list[tuple[str, str]]]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.request("GET", path, headers={"Host": f"docs.example.com:{port}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheaders()


async def _edit_over_wss(port: int, doc_id: str, cookie: str) -> None:
    from websockets.asyncio.client import connect

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    origin = f"https://docs.example.com:{port}"
    url = f"wss://docs.example.com:{port}/w/10.0.0.11-8001/ws/docs/{doc_id}/"
    async with connect(
        url,
        origin=origin,  # type: ignore[arg-type]  # websockets types Origin as a NewType of str
        additional_headers={"Cookie": cookie},
        ssl=context,
        host="127.0.0.1",
        port=port,
        open_timeout=20,
    ) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert hello["type"] == "hello" and hello["doc"] == doc_id, hello
        op = {
            "type": "op",
            "id": "tls-deploy-client-0001:1",
            "rev": hello["rev"],
            "delta": [{"insert": "x"}],
        }
        await ws.send(json.dumps(op))
        seen: list[dict[str, Any]] = []
        while not any(
            m.get("type") == "ack" and m.get("id") == "tls-deploy-client-0001:1" for m in seen
        ):
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            except TimeoutError:
                raise AssertionError(f"no ack; got {seen}") from None
            seen += frame["messages"] if frame.get("type") == "batch" else [frame]
