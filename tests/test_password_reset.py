"""Forgot password: the emailed one-time link, through the locmem outbox.

Failure modes covered: an unknown address (same page, nothing sent, so no
account enumeration), a link used twice or tampered with (refused, password
unchanged), a forged Host header (the link still starts with SITE_URL),
too many requests per address or per IP (429, nothing sent), a mail server
that is down (logged, same page), and the other sessions of the account
(signed out by the new password).
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-battery-9"
NEW_PASSWORD = "Another-long-pass-42"
SITE_URL = "https://docs.example.com"


@pytest.fixture(autouse=True)
def fast_hashing_and_fresh_throttles(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = SITE_URL
    # The throttles' counts live in a process-wide cache: start each test at 0.
    caches["throttle"].clear()


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


def ask_for_link(client: Client, email: str, **extra: Any) -> Any:
    return client.post(reverse("password_reset"), {"email": email}, **extra)


def link_in(message: Any) -> str:
    """Return the one reset link in an email's body."""
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1, message.body
    return str(links[0])


def set_password_through(client: Client, link: str, password: str) -> Any:
    """Open the emailed link, then post the new password on the page it leads to."""
    path = link.removeprefix(SITE_URL)
    response = client.get(path)
    assert response.status_code == 302, "the token moves into the session"
    form_url = response["Location"]
    assert form_url.endswith("/set-password/")
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_the_login_page_offers_the_reset(client: Client) -> None:
    body = client.get(reverse("login")).content.decode()
    assert "Forgot password?" in body and reverse("password_reset") in body


def test_reset_by_email_from_request_to_sign_in(
    client: Client, alice: Any, mailoutbox: list[Any]
) -> None:
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200 and "Forgot your password?" in page.content.decode()

    response = ask_for_link(client, "ALICE@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert "Check your email" in client.get(response["Location"]).content.decode()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your CollabDocs password"
    assert "Hello alice," in message.body and "works once, within 3 days" in message.body
    link = link_in(message)
    assert link.startswith(f"{SITE_URL}/accounts/password/reset/")

    done = set_password_through(client, link, NEW_PASSWORD)
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert "Password set" in client.get(done["Location"]).content.decode()

    fresh = Client()
    signed_in = fresh.post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("documents:list")
    old = Client()
    refused = old.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in old.session


def test_unknown_address_sends_nothing_and_shows_the_same_page(
    client: Client, alice: Any, mailoutbox: list[Any]
) -> None:
    known = ask_for_link(client, "alice@example.com")
    unknown = ask_for_link(client, "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [message.to for message in mailoutbox] == [["alice@example.com"]]


def test_inactive_account_gets_no_email(client: Client, alice: Any, mailoutbox: list[Any]) -> None:
    alice.is_active = False
    alice.save()
    assert ask_for_link(client, "alice@example.com")["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_used_link_is_refused_and_changes_nothing(
    client: Client, alice: Any, mailoutbox: list[Any]
) -> None:
    ask_for_link(client, "alice@example.com")
    link = link_in(mailoutbox[0])
    set_password_through(client, link, NEW_PASSWORD)

    again = Client().get(link.removeprefix(SITE_URL))
    body = again.content.decode()
    assert again.status_code == 200 and "This link can’t be used" in body
    assert reverse("password_reset") in body and "new_password1" not in body
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_a_tampered_link_is_refused(client: Client, alice: Any, mailoutbox: list[Any]) -> None:
    ask_for_link(client, "alice@example.com")
    path = link_in(mailoutbox[0]).removeprefix(SITE_URL)
    tampered = re.sub(r"/[^/]+/$", "/cxyz-0123456789abcdef0123456789abcdef/", path)
    response = client.get(tampered)
    assert response.status_code == 200 and "This link can’t be used" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_forged_host_does_not_reach_the_link(
    client: Client, alice: Any, mailoutbox: list[Any], settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    ask_for_link(client, "alice@example.com", HTTP_HOST="evil.example.net")
    assert link_in(mailoutbox[0]).startswith(SITE_URL + "/")


def test_a_new_password_signs_out_other_sessions(
    client: Client, alice: Any, mailoutbox: list[Any]
) -> None:
    other_device = Client()
    other_device.force_login(alice)
    assert other_device.get(reverse("documents:list")).status_code == 200
    ask_for_link(client, "alice@example.com")
    set_password_through(client, link_in(mailoutbox[0]), NEW_PASSWORD)
    response = other_device.get(reverse("documents:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_weak_new_password_is_refused(client: Client, alice: Any, mailoutbox: list[Any]) -> None:
    ask_for_link(client, "alice@example.com")
    response = set_password_through(client, link_in(mailoutbox[0]), "12345")
    assert (
        response.status_code == 200 and "This password is too short." in response.content.decode()
    )
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_malformed_address_is_an_error_and_sends_nothing(
    client: Client, alice: Any, mailoutbox: list[Any]
) -> None:
    response = ask_for_link(client, "not-an-email")
    assert (
        response.status_code == 200 and "Enter a valid email address." in response.content.decode()
    )
    assert mailoutbox == []


def test_requests_per_address_are_throttled(
    client: Client, alice: Any, mailoutbox: list[Any], settings: Any
) -> None:
    throttles = {**settings.COLLABDOCS["THROTTLES"], "password_reset": "2/d"}
    settings.COLLABDOCS = {**settings.COLLABDOCS, "THROTTLES": throttles}
    for _ in range(2):
        assert ask_for_link(client, "alice@example.com").status_code == 302
    refused = ask_for_link(client, "Alice@Example.com")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "for this address" in refused.content.decode()
    assert len(mailoutbox) == 2
    # Another address from the same IP is still served.
    assert ask_for_link(client, "nobody@example.com").status_code == 302


def test_requests_per_ip_are_throttled(
    client: Client, alice: Any, mailoutbox: list[Any], settings: Any
) -> None:
    throttles = {**settings.COLLABDOCS["THROTTLES"], "password_reset_ip": "2/d"}
    settings.COLLABDOCS = {**settings.COLLABDOCS, "THROTTLES": throttles}
    for address in ("a@example.com", "b@example.com"):
        assert ask_for_link(client, address).status_code == 302
    refused = ask_for_link(client, "alice@example.com")
    assert refused.status_code == 429 and "from your address" in refused.content.decode()
    assert mailoutbox == []
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


def test_a_mail_server_that_is_down_shows_the_same_page_and_is_logged(
    client: Client, alice: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with caplog.at_level(logging.ERROR, logger="django.contrib.auth"):
        response = ask_for_link(client, "alice@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert any("Failed to send password reset email" in r.getMessage() for r in caplog.records)
