"""Fixtures for the images tests: a shared document, signed-in clients, image bytes.

``people`` builds one document owned by ``owner`` and shared with an editor,
a commenter and a viewer; ``linker`` reaches it by its share link and
``stranger`` not at all. Image bytes are made with Pillow here, never read
from files.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from documents import services
from documents.models import Document, LinkMode
from documents.roles import Role


@dataclass
class People:
    """A document and one user per way of relating to it."""

    owner: Any
    editor: Any
    commenter: Any
    viewer: Any
    linker: Any
    stranger: Any
    doc: Document


@pytest.fixture
def people(db: None, django_user_model: Any) -> People:
    """Return a document shared with an editor, a commenter and a viewer."""

    def make(name: str) -> Any:
        return django_user_model.objects.create_user(
            username=name, email=f"{name}@example.com", password=None
        )

    owner = make("owner")
    doc = services.document_create(owner=owner, title="Field report")
    for name, role in (
        ("editor", Role.EDITOR),
        ("commenter", Role.COMMENTER),
        ("viewer", Role.VIEWER),
    ):
        make(name)
        services.share_grant(document=doc, actor=owner, identifier=name, role=role)
    return People(
        owner=owner,
        editor=django_user_model.objects.get(username="editor"),
        commenter=django_user_model.objects.get(username="commenter"),
        viewer=django_user_model.objects.get(username="viewer"),
        linker=make("linker"),
        stranger=make("stranger"),
        doc=doc,
    )


@pytest.fixture
def client_of(people: People) -> Callable[[Any], Client]:
    """Return ``client_of(user)``: a client signed in as ``user`` (None: anonymous)."""

    def make(user: Any) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def open_link(client: Client, document: Document, mode: str = LinkMode.VIEW) -> None:
    """Turn the document's link on in ``mode`` and open it with ``client``."""
    Document.objects.filter(pk=document.pk).update(link_mode=mode)
    document.refresh_from_db()
    url = reverse("documents:detail", args=[document.public_id])
    response = client.get(f"{url}?key={document.link_token}")
    assert response.status_code == 302, response.content[:300]


def image_bytes(
    fmt: str = "PNG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 30, 30),
    **save: Any,
) -> bytes:
    """Return a solid-colour image encoded by Pillow."""
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    PILImage.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def noise_png(size: tuple[int, int], seed: int) -> bytes:
    """Return a PNG of random pixels (it does not compress: bytes ≈ 3 × pixels)."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    PILImage.frombytes("RGB", size, pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def animated(fmt: str, frames: int = 4, size: tuple[int, int] = (32, 24)) -> bytes:
    """Return an animation: frames of differing colours lasting 100, 200... ms, loop 3."""
    pictures = [
        PILImage.new("RGB", size, (i * 60 % 256, 255 - i * 50 % 256, 40)) for i in range(frames)
    ]
    out = io.BytesIO()
    pictures[0].save(
        out,
        format=fmt,
        save_all=True,
        append_images=pictures[1:],
        duration=[100 * (i + 1) for i in range(frames)],
        loop=3,
    )
    return out.getvalue()


def upload(client: Client, document: Document, data: bytes, name: str = "picture.png") -> Any:
    """POST ``data`` as the multipart ``file`` to the document's upload endpoint."""
    return client.post(
        reverse("images:upload", args=[document.public_id]),
        {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


@pytest.fixture
def limits(settings: Any) -> Callable[..., None]:
    """Return ``limits(KEY=value, ...)`` overriding COLLABDOCS image settings for one test."""

    def override(**values: Any) -> None:
        settings.COLLABDOCS = {**settings.COLLABDOCS, **values}

    return override
