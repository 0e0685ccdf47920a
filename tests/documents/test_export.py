"""Exports as plain text, HTML and Markdown, and their download endpoints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import compaction
from documents.export import export_html, export_markdown, export_text
from documents.models import Document, DocumentVersion, Operation
from tests.documents.conftest import World

RICH = [
    {"insert": "Plan"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Ship "},
    {"insert": "fast", "attributes": {"bold": True}},
    {"insert": " and "},
    {"insert": "safely ", "attributes": {"italic": True}},
    {"insert": "docs", "attributes": {"link": "https://example.com/a b"}},
    {"insert": " ~old~", "attributes": {"strike": True}},
    {"insert": "\n"},
    {"insert": "first"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "nested"},
    {"insert": "\n", "attributes": {"list": "bullet", "indent": 1}},
    {"insert": "second"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "done"},
    {"insert": "\n", "attributes": {"list": "checked"}},
    {"insert": "quoted 😀"},
    {"insert": "\n", "attributes": {"blockquote": True}},
    {"insert": "x = `y`"},
    {"insert": "\n", "attributes": {"code-block": "plain"}},
    {"insert": "print()"},
    {"insert": "\n", "attributes": {"code-block": "plain"}},
    {"insert": {"image": "https://example.com/cat.png"}},
    {"insert": {"formula": "e=mc^2"}},
    {"insert": " `tick` ", "attributes": {"code": True}},
    {"insert": "\n"},
]


def test_markdown_covers_blocks_lists_code_and_inline_formats() -> None:
    assert export_markdown(RICH) == (
        "# Plan\n\n"
        "Ship **fast** and *safely* [docs](https://example.com/a%20b) ~~\\~old\\~~~\n\n"
        "1. first\n"
        "    - nested\n"
        "2. second\n"
        "- [x] done\n\n"
        "> quoted 😀\n\n"
        "```\nx = `y`\nprint()\n```\n\n"
        "![image](https://example.com/cat.png)\\[formula\\] `` `tick` `` \n"
    )


def test_markdown_escapes_what_would_become_markup() -> None:
    ops = [
        {"insert": "*not bold* [x](y) <b>hi</b> # no\n"},
        {"insert": "# not a heading\n"},
        {"insert": "1. not a list\n"},
        {"insert": "click", "attributes": {"link": "javascript:alert(1)"}},
        {"insert": {"image": "javascript:alert(1)"}},
        {"insert": "\n"},
    ]
    md = export_markdown(ops)
    assert "\\*not bold\\* \\[x\\](y) \\<b\\>hi\\</b\\> # no" in md
    assert "\\# not a heading" in md
    assert "1\\. not a list" in md
    assert "javascript" not in md
    assert "click\\[image\\]" in md


def test_text_and_html() -> None:
    assert export_text(RICH).startswith("Plan\nShip fast and safely docs ~old~\nfirst\n")
    page = export_html(
        [{"insert": "<script>alert(1)</script>"}, {"insert": "\n"}], title="<b>T</b> & co"
    )
    assert page.startswith("<!doctype html>")
    assert "<title>&lt;b&gt;T&lt;/b&gt; &amp; co</title>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<h1>Plan</h1>" in export_html(RICH, title="x")


# --------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------


def _set_content(doc: Document, ops: list[dict]) -> DocumentVersion:
    Operation.objects.create(document=doc, revision=1, op_id="e" * 16 + ":1", delta=ops)
    Document.objects.filter(pk=doc.pk).update(head_revision=1)
    doc.refresh_from_db()
    return doc.versions.get(kind="initial")


@pytest.mark.parametrize(
    ("fmt", "mime", "needle"),
    [
        ("txt", "text/plain", "Plan\n"),
        ("html", "text/html", "<h1>Plan</h1>"),
        ("md", "text/markdown", "# Plan"),
    ],
)
def test_viewers_download_the_current_document(
    world: World, login: Callable[..., Client], fmt: str, mime: str, needle: str
) -> None:
    _set_content(world.doc, RICH)
    response = login("viewer").get(reverse("documents:export", args=[world.doc.public_id, fmt]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(mime)
    assert response["Content-Disposition"] == f'attachment; filename="quarterly-plan.{fmt}"'
    assert needle in response.content.decode()


def test_strangers_and_unknown_formats_get_404(world: World, login: Callable[..., Client]) -> None:
    url = reverse("documents:export", args=[world.doc.public_id, "txt"])
    assert login("stranger").get(url).status_code == 404
    assert login("anonymous").get(url).status_code == 302  # to sign in
    bad = reverse("documents:export", args=[world.doc.public_id, "exe"])
    assert login("owner").get(bad).status_code == 404


def test_versions_download_only_where_history_is_visible(
    world: World, login: Callable[..., Client]
) -> None:
    initial = _set_content(world.doc, RICH)
    Document.objects.filter(pk=world.doc.pk).update(updated_at=initial.created_at)
    compaction.version_compact(document=world.doc, keep_ops=0)
    url = reverse("documents:export_version", args=[world.doc.public_id, initial.pk, "txt"])
    response = login("editor").get(url)
    assert response.status_code == 200 and response.content == b"\n"
    assert response["Content-Disposition"] == 'attachment; filename="quarterly-plan-r0.txt"'
    assert login("viewer").get(url).status_code == 403
    Document.objects.filter(pk=world.doc.pk).update(history_visible_to_viewers=True)
    assert login("viewer").get(url).status_code == 200
    assert login("stranger").get(url).status_code == 404
    other = DocumentVersion.objects.exclude(document=world.doc).first()
    if other is not None:
        wrong = reverse("documents:export_version", args=[world.doc.public_id, other.pk, "txt"])
        assert login("editor").get(wrong).status_code == 404


def test_trashed_document_exports_for_its_owner_only(
    world: World, login: Callable[..., Client]
) -> None:
    Document.objects.filter(pk=world.doc.pk).update(trashed_at=timezone.now())
    url = reverse("documents:export", args=[world.doc.public_id, "md"])
    assert login("owner").get(url).status_code == 200
    assert login("editor").get(url).status_code == 404
