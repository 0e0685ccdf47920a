"""Images go when their document goes, and the sweep removes what nothing names.

Delete forever releases files after commit (only files no other row names);
``sweep_images`` keeps images named by the current content, any stored
version or any stored op, and removes the rest once the grace period is over.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from documents import export
from documents import services as documents_services
from documents.models import Document, DocumentVersion, Operation, VersionKind
from images import services
from images.models import Image
from images.sweep import sweep
from tests.images.conftest import People, image_bytes

# Files are released after commit: the tests that check them run the
# on_commit callbacks with django_capture_on_commit_callbacks(execute=True).
pytestmark = pytest.mark.django_db


def store(document: Document, user: Any, color: tuple[int, int, int]) -> Image:
    return services.store_image(document=document, user=user, data=image_bytes(color=color))


def embed(image: Image) -> dict[str, Any]:
    return {"insert": {"image": services.src_of(image)}, "attributes": {"alt": "a picture"}}


def age(*images: Image, hours: float = 48) -> None:
    Image.objects.filter(pk__in=[i.pk for i in images]).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def exists(image: Image) -> bool:
    return bool(default_storage.exists(image.blob))


def test_delete_forever_removes_the_documents_images_and_their_files(
    people: People, django_capture_on_commit_callbacks: Any
) -> None:
    doc = people.doc
    only_here = store(doc, people.owner, (1, 2, 3))
    shared = store(doc, people.owner, (4, 5, 6))
    other = documents_services.document_create(owner=people.owner, title="Keeps a copy")
    copied = services.copy_images(document=other, user=people.owner, srcs=[services.src_of(shared)])
    assert copied.refused == []
    documents_services.document_trash(document=doc, actor=people.owner)
    with django_capture_on_commit_callbacks(execute=True):
        documents_services.document_delete_forever(document=doc, actor=people.owner)
    assert not Image.objects.filter(document_id=doc.pk).exists()
    assert not exists(only_here)  # nobody else named it
    assert exists(shared)  # the other document's copy still needs it
    kept = Image.objects.get(document=other)
    assert services.read_image(kept) == default_storage.open(kept.blob).read()


def test_trashing_alone_keeps_everything(people: People) -> None:
    image = store(people.doc, people.owner, (7, 7, 7))
    documents_services.document_trash(document=people.doc, actor=people.owner)
    assert Image.objects.filter(pk=image.pk).exists() and exists(image)


def test_the_sweep_keeps_what_content_versions_and_ops_name(
    people: People, django_capture_on_commit_callbacks: Any
) -> None:
    doc = people.doc
    in_snapshot, in_named, in_op, orphan, fresh = (
        store(doc, people.owner, (10 * i, 1, 1)) for i in range(1, 6)
    )
    snapshot = doc.snapshot
    assert snapshot is not None
    snapshot.content = [embed(in_snapshot), {"insert": "\n"}]
    snapshot.save(update_fields=["content"])
    DocumentVersion.objects.create(
        document=doc,
        revision=5,
        content=[embed(in_named), {"insert": "\n"}],
        kind=VersionKind.NAMED,
    )
    Operation.objects.create(
        document=doc, revision=6, op_id="c:1", delta=[{"retain": 1}, embed(in_op)]
    )
    age(in_snapshot, in_named, in_op, orphan)
    dry = sweep(dry_run=True)
    assert [row[0] for row in dry.images] == [str(orphan.id)]
    assert Image.objects.filter(pk=orphan.pk).exists() and exists(
        orphan
    )  # a dry run changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep()
    assert [row[0] for row in report.images] == [str(orphan.id)]
    remaining = set(Image.objects.filter(document=doc).values_list("pk", flat=True))
    assert remaining == {in_snapshot.pk, in_named.pk, in_op.pk, fresh.pk}  # fresh: within the grace
    assert not exists(orphan)
    again = sweep()
    assert again.images == [] and again.files == []  # idempotent


def test_the_sweep_removes_files_no_row_names_after_the_grace(
    people: People, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path  # alone: other tests' rolled-back uploads left files
    data = image_bytes(color=(99, 1, 1))
    name = services.blob_name("ab" + "0" * 62, "png")
    default_storage.save(name, ContentFile(data))
    foreign = "images/ab/notes.txt"
    default_storage.save(foreign, ContentFile(b"not ours"))
    assert sweep().files == []  # too new: a row may be committing
    assert sweep(now=timezone.now() + timedelta(days=2), dry_run=True).files == [name]
    assert default_storage.exists(name)
    assert sweep(now=timezone.now() + timedelta(days=2)).files == [name]
    assert not default_storage.exists(name)
    assert default_storage.exists(foreign)  # not a file this app wrote


def test_the_sweep_stops_at_its_limit(people: People) -> None:
    images = [store(people.doc, people.owner, (i, 50, 50)) for i in range(3)]
    age(*images)
    report = sweep(limit=2)
    assert report.truncated and report.examined == 2 and len(report.images) == 2
    assert len(sweep(limit=2).images) == 1


def test_the_command_lists_in_a_dry_run_and_removes_otherwise(people: People) -> None:
    image = store(people.doc, people.owner, (200, 200, 1))
    age(image, hours=5)
    out = io.StringIO()
    call_command("sweep_images", "--dry-run", "--grace-hours", "1", stdout=out)
    assert f"would remove image {image.id}" in out.getvalue()
    assert Image.objects.filter(pk=image.pk).exists()
    out = io.StringIO()
    call_command("sweep_images", "--grace-hours", "6", stdout=out)
    assert "0 image(s)" in out.getvalue()  # within the 6-hour grace
    call_command("sweep_images", "--grace-hours", "1", stdout=io.StringIO())
    assert not Image.objects.filter(pk=image.pk).exists()
    with pytest.raises(CommandError):
        call_command("sweep_images", "--limit", "0")


def test_exports_read_only_the_exported_documents_images(
    people: People, client_of: Callable[[Any], Client]
) -> None:
    image = store(people.doc, people.owner, (5, 50, 150))
    other = documents_services.document_create(owner=people.owner, title="Other")
    source = export.image_source()
    src = services.src_of(image)
    assert source(people.doc, src) == (services.read_image(image), "image/png")
    assert source(other, src) is None
    assert source(people.doc, "https://example.com/x.png") is None
    assert services.image_for_src(other, src) is None
