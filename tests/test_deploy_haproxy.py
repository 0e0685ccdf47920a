"""deploy/haproxy/haproxy.cfg: valid for Debian's HAProxy, and routes as the cluster's does.

The production example terminates TLS, so ``haproxy -c`` needs a
certificate file where the example names one: a throwaway self-signed one
is made with openssl. The example's backend must agree with what
:func:`collabdocs.haproxy.haproxy_config` generates for the cluster tests
(which prove it routes sockets to owners and drops dead workers): the same
owner-hint rules, server names and check timing, for the same workers.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
