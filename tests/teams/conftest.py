"""Fixtures for the teams tests: people, and a signed-in test client for anyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client


def make_user(username: str, **extra: Any) -> Any:
    """Create an active user with an ``@example.com`` address (no password: fast)."""
    extra.setdefault("email", f"{username}@example.com")
    return get_user_model().objects.create_user(username=username, password=None, **extra)


@pytest.fixture
def login(db: None) -> Callable[[Any], Client]:
    """Return a function giving a test client signed in as a user."""

    def sign_in(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in
