"""Accounts: sign in, sign out (confirmed on GET), sign up (and turning it off), password change.

Password reset by email: tests/test_password_reset.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-battery-9"


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def signup_off(settings: Any) -> None:
    settings.COLLABDOCS = {**settings.COLLABDOCS, "SIGNUP_ENABLED": False}


def test_login_page_matches_the_site(client: Client) -> None:
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sign in" in body and "app.css" in body and "Create an account" in body


def test_login_and_land_on_my_documents(client: Client, alice: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("documents:list")
    assert client.get(reverse("documents:list")).status_code == 200


def test_login_follows_next(client: Client, alice: Any) -> None:
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": "/shared/"}
    )
    assert response["Location"] == "/shared/"


def test_login_refuses_foreign_next(client: Client, alice: Any) -> None:
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    assert response["Location"] == reverse("documents:list")


def test_wrong_password_says_so(client: Client, alice: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signed_in_users_skip_the_login_page(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert client.get(reverse("login"))["Location"] == reverse("documents:list")


def test_logout_get_asks_to_confirm_and_signs_nobody_out(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.get(reverse("logout"))
    body = response.content.decode()
    assert response.status_code == 200 and "Sign out of CollabDocs?" in body
    assert f'<form method="post" action="{reverse("logout")}"' in body
    assert "csrfmiddlewaretoken" in body and "Cancel" in body
    assert f'href="{reverse("documents:list")}"' in body
    assert "no-cache" in response["Cache-Control"]
    assert "_auth_user_id" in client.session


def test_logout_post_signs_out(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_logout_get_when_signed_out_goes_to_sign_in(client: Client) -> None:
    response = client.get(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_the_user_menu_has_sign_out_password_and_admin_for_staff(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    body = client.get(reverse("documents:list")).content.decode()
    assert f'action="{reverse("logout")}"' in body and reverse("password_change") in body
    assert reverse("admin:index") not in body
    alice.is_staff = True
    alice.save()
    assert reverse("admin:index") in client.get(reverse("documents:list")).content.decode()


def test_signup_creates_an_account_and_signs_in(client: Client) -> None:
    response = client.post(
        reverse("signup"),
        {
            "username": "bob",
            "email": "bob@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("documents:list"), 302)]
    assert "Welcome, bob!" in response.content.decode()
    user = get_user_model().objects.get(username="bob")
    assert user.email == "bob@example.com" and user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"username": "bob", "email": "ALICE@example.com"},
            "An account with this email address already exists.",
        ),
        (
            {"username": "alice", "email": "new@example.com"},
            "A user with that username already exists.",
        ),
        ({"username": "bob", "email": ""}, "This field is required."),
        ({"username": "bob", "email": "not-an-email"}, "Enter a valid email address."),
    ],
)
def test_signup_refusals(client: Client, alice: Any, data: dict, error: str) -> None:
    response = client.post(
        reverse("signup"), {**data, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_signup_refuses_weak_passwords(client: Client) -> None:
    response = client.post(
        reverse("signup"),
        {"username": "bob", "email": "bob@example.com", "password1": "123", "password2": "123"},
    )
    assert "This password is too short." in response.content.decode()
    assert not get_user_model().objects.exists()


def test_signup_can_be_turned_off(client: Client, signup_off: None) -> None:
    response = client.get(reverse("signup"))
    assert response.status_code == 404
    assert "Sign-up is closed" in response.content.decode()
    response = client.post(
        reverse("signup"),
        {
            "username": "bob",
            "email": "bob@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 404
    assert not get_user_model().objects.exists()


def test_login_page_hides_signup_when_off(client: Client, signup_off: None) -> None:
    body = client.get(reverse("login")).content.decode()
    assert "Create an account" not in body and reverse("signup") not in body


def test_password_change(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert client.get(reverse("password_change")).status_code == 200
    new = "Another-long-pass-42"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert "Password changed" in client.get(reverse("password_change_done")).content.decode()


def test_password_change_needs_the_old_password(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "X-long-pass-42a",
            "new_password2": "X-long-pass-42a",
        },
    )
    assert (
        response.status_code == 200
        and "Your old password was entered incorrectly" in response.content.decode()
    )
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_pages_need_sign_in(client: Client) -> None:
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
