"""Quotas hold under parallel uploads; the admin lists images read-only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from images import services
from images.apps import check_image_prefix
from images.exceptions import ImageRejected
from images.models import Image
from tests.images.conftest import People, image_bytes


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_cannot_both_slip_under_the_document_quota(
    people: People, limits: Callable[..., None]
) -> None:
    pictures = [image_bytes(color=(i, 100, 100)) for i in range(4)]
    probe = services.store_image(document=people.doc, user=people.owner, data=pictures[0])
    Image.objects.filter(pk=probe.pk).delete()
    # Room for exactly one more image of this size.
    limits(IMAGE_DOC_QUOTA_BYTES=probe.bytes + probe.bytes // 2)
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def put(data: bytes) -> None:
        start.wait(timeout=10)
        try:
            services.store_image(document=people.doc, user=people.owner, data=data)
            outcomes.append("stored")
        except ImageRejected as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put, args=(data,)) for data in pictures[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["quota_exceeded", "quota_exceeded", "stored"]
    assert Image.objects.filter(document=people.doc).count() == 1


@pytest.mark.django_db
def test_the_admin_lists_images_and_changes_none(people: People, django_user_model: Any) -> None:
    image = services.store_image(document=people.doc, user=people.editor, data=image_bytes())
    root = django_user_model.objects.create_superuser("root", "root@example.com", None)
    client = Client()
    client.force_login(root)
    listing = client.get(reverse("admin:images_image_changelist"))
    assert listing.status_code == 200
    assert str(image.id) in listing.content.decode()
    page = client.get(reverse("admin:images_image_change", args=[image.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.get(reverse("admin:images_image_add")).status_code == 403
    assert client.post(reverse("admin:images_image_delete", args=[image.pk])).status_code == 403
    assert Image.objects.filter(pk=image.pk).exists()


def test_a_path_prefix_that_would_refuse_uploaded_images_fails_the_checks(settings: Any) -> None:
    assert check_image_prefix() == []
    settings.COLLABDOCS = {**settings.COLLABDOCS, "IMAGE_PATH_PREFIX": "/files/"}
    errors = check_image_prefix()
    assert [error.id for error in errors] == ["images.E002"]
    assert "/media/i/" in errors[0].msg
