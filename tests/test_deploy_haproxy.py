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
the public host and https.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
    # The owner hint is taken off the path before it reaches the worker.
    status, body = _https_get(https_port, "/w/10.0.0.12-8001/ws/docs/abc/?rev=3", {})
    assert json.loads(body)["path"] == "/ws/docs/abc/?rev=3"
    # The health check names the public host and https (ALLOWED_HOSTS, the redirect).
    check = next(r for r in _Echo.seen if r["path"] == "/readyz")
    assert check["host"] == "docs.example.com" and check["x-forwarded-proto"] == "https"
