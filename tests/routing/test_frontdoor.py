"""The front door's pure parts: the owner hint in socket URLs and the HAProxy file.

No servers: the configuration is checked by Debian's ``haproxy -c`` (what an
operator runs before a reload), the URLs by value.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from collabdocs.haproxy import haproxy_config
from routing.frontdoor import front_door, hinted_socket_url, install_front_door, server_name
from routing.ownership import Ownership
from routing.paths import page_socket_url, socket_url

DOC = uuid.UUID("6f1d6b5e-1d2c-4b8f-9a43-1f0e2d3c4b5a")


@pytest.fixture
def door() -> Iterator[str]:
    install_front_door("http://127.0.0.1:8000")
    yield "http://127.0.0.1:8000"
    install_front_door(None)


def test_server_names_are_addresses_no_url_encoder_touches() -> None:
    assert server_name("http://127.0.0.1:8001") == "127.0.0.1-8001"
    assert server_name("https://w1.example.com") == "w1.example.com-443"
    assert server_name("http://[::1]:8002") == "--1-8002"


def test_without_a_front_door_socket_urls_are_the_owners_own() -> None:
    assert front_door() is None
    assert socket_url("http://127.0.0.1:8001", DOC) == f"ws://127.0.0.1:8001/ws/docs/{DOC}/"
    assert page_socket_url("http://127.0.0.1:8001", DOC) == (
        f"http://127.0.0.1:8001/ws/docs/{DOC}/"
    )


def test_behind_a_front_door_every_socket_url_names_the_owner_on_the_front_door(door: str) -> None:
    hinted = f"ws://127.0.0.1:8000/w/127.0.0.1-8002/ws/docs/{DOC}/"
    assert socket_url("http://127.0.0.1:8002", DOC) == hinted
    assert page_socket_url("http://127.0.0.1:8002", DOC) == "http" + hinted[2:]
    assert hinted_socket_url("https://docs.example.com", "http://10.0.0.5:8001", DOC) == (
        f"wss://docs.example.com/w/10.0.0.5-8001/ws/docs/{DOC}/"
    )


def test_the_consumers_redirect_goes_through_the_front_door(door: str) -> None:
    ownership = Ownership(self_id="a", self_url="http://127.0.0.1:8001", cluster=True)
    ownership.set_members({"b": "http://127.0.0.1:8002"})
    ownership.set_serving(False)
    location = ownership.locate(DOC)
    assert not location.local
    assert location.socket_url == f"ws://127.0.0.1:8000/w/127.0.0.1-8002/ws/docs/{DOC}/"


def test_the_config_routes_hints_checks_readiness_and_hides_metrics() -> None:
    config = haproxy_config(
        bind="127.0.0.1:8000", workers=["http://127.0.0.1:8001", "http://127.0.0.1:8002"]
    )
    assert "bind 127.0.0.1:8000" in config
    assert "http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1" in config
    assert "default-server check inter 1000 fall 2 rise 1" in config
    assert "use-server 127.0.0.1-8002 if { var(txn.owner) -m str 127.0.0.1-8002 }" in config
    assert "server 127.0.0.1-8001 127.0.0.1:8001" in config
    assert "http-request deny deny_status 404 if { path /metrics }" in config
    assert "option redispatch" in config


def test_the_config_refuses_no_workers_and_clashing_names() -> None:
    with pytest.raises(ValueError, match="at least one"):
        haproxy_config(bind="127.0.0.1:8000", workers=[])
    with pytest.raises(ValueError, match="share a server name"):
        haproxy_config(
            bind="127.0.0.1:8000", workers=["http://127.0.0.1:8001", "https://127.0.0.1:8001"]
        )


def test_runworker_refuses_a_front_door_that_is_no_http_url() -> None:
    with pytest.raises(CommandError, match="not an http"):
        call_command("runworker", "--port", "8999", "--front-door", "ftp://127.0.0.1:8000")
    assert front_door() is None


def test_haproxy_accepts_the_config(tmp_path: Path) -> None:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert Path(binary).exists(), "haproxy is missing: make system-packages installs it"
    path = tmp_path / "haproxy.cfg"
    path.write_text(
        haproxy_config(
            bind="127.0.0.1:8000",
            workers=["http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"],
            stats_socket=str(tmp_path / "stats.sock"),
        )
    )
    done = subprocess.run(
        [binary, "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr
