"""Suggestions and comments in exports, previews and the page's first paint.

What people rely on: an export shows the document as accepted so far (a
pending insertion is not text yet, a pending deletion still is, a proposed
format is not applied, comment anchors never show); asked for markup it
shows every suggestion with who made it and when, in each format's own
way, and no text, name or stated time can break out of that markup.

Failure modes covered: suggested text leaking into the accepted export;
text proposed for deletion missing from it; proposed formats applied early;
comment ids showing; the final newline dropped; a name or text closing a
CriticMarkup mark or injecting HTML; an absurd browser time crashing the
export; a deleted author crashing it; names read once per author rather
than per run; the history's version preview and the page showing pending
suggestions as if accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents.export import export, export_html, export_markdown, export_text
from documents.models import Document, DocumentVersion, Operation
from documents.proposals import describe_formats
from documents.render import render_html, render_text
from tests.documents.conftest import World

#: 2026-12-05 21:15 UTC in base 36 milliseconds, as a browser writes it.
T = "mxawvd40"
WHEN = "2026-12-05 21:15 UTC"
ALICE, BOB = 41, 42
A = f"{ALICE}:{T}:ab12"
B = f"{BOB}:{T}:cd34"
NAMES = {ALICE: "Alice", BOB: "Bob"}


def content_by(alice: int, bob: int) -> list[dict]:
    """Return the fixture's content, Alice's and Bob's marks made by these ids.

    "Keep the plan" with "the" suggested for deletion by Bob, " simple now"
    proposed by Alice (partly bold), "plan" proposed bold and not italic by
    Bob, a comment on "Keep", and a new line Alice proposed after it (as
    Quill makes one: her line break, then her text, before the final
    newline).
    """
    a, b = f"{alice}:{T}:ab12", f"{bob}:{T}:cd34"
    return [
        {"insert": "Keep", "attributes": {"comment": "thread0000000001"}},
        {"insert": " "},
        {"insert": "the ", "attributes": {"suggest-delete": b}},
        {"insert": "plan", "attributes": {"suggest-format": b + '|{"bold":true,"italic":null}'}},
        {"insert": " simple", "attributes": {"suggest-insert": a}},
        {"insert": " now", "attributes": {"suggest-insert": a, "bold": True}},
        {"insert": "\nAdded line", "attributes": {"suggest-insert": a}},
        {"insert": "\n"},
    ]


CONTENT = content_by(ALICE, BOB)


# The accepted document ------------------------------------------------------


def test_text_export_is_the_accepted_document() -> None:
    assert export_text(CONTENT) == "Keep the plan\n"


def test_html_export_is_the_accepted_document_without_review_markup() -> None:
    page = export_html(CONTENT, title="T")
    assert "<p>Keep the plan</p>" in page
    for leak in ("simple", "Added", "thread0000000001", "<ins", "<del", "<strong>", "ins {"):
        assert leak not in page


def test_markdown_export_is_the_accepted_document() -> None:
    assert export_markdown(CONTENT) == "Keep the plan\n"


def test_the_final_newline_survives_when_it_was_suggested() -> None:
    only = [{"insert": "new\n", "attributes": {"suggest-insert": A}}]
    assert render_text(only) == "\n"
    assert render_html(only) == "<p><br></p>"


def test_an_accepted_read_of_plain_content_is_unchanged() -> None:
    plain = [{"insert": "a"}, {"insert": "b", "attributes": {"bold": True}}, {"insert": "\n"}]
    assert render_html(plain) == "<p>a<strong>b</strong></p>"


def test_malformed_ops_are_still_ignored_with_marks_around() -> None:
    ops: list[Any] = [
        "junk",
        {"retain": 3},
        {"insert": 5},
        {"insert": "ok", "attributes": "bad"},
        {"insert": "x", "attributes": {"unknown": True}},
        {"insert": "\n"},
    ]
    assert render_text(ops) == "okx\n"
    assert render_text(ops, suggestions="markup") == "okx\n"


# Marked up ------------------------------------------------------------------------


def test_html_markup_attributes_each_suggestion() -> None:
    html = render_html(CONTENT, suggestions="markup", names=NAMES)
    assert (
        f'<del title="Bob suggested deleting · {WHEN}" datetime="2026-12-05T21:15:00Z">the </del>'
        in html
    )
    # One <ins> for Alice's run, across plain and bold text.
    assert html.count("Alice suggested inserting") == 2  # this run and the new line's text
    assert (
        f'<ins title="Alice suggested inserting · {WHEN}" datetime="2026-12-05T21:15:00Z">'
        " simple<strong> now</strong></ins>" in html
    )
    assert (
        f'<span class="suggested-format" title="Bob suggested bold, no italic · {WHEN}">'
        "plan</span>"
        f'<small class="suggestion-note">(Bob suggested bold, no italic · {WHEN})</small>'
    ) in html
    # Proposed formats are shown, not applied.
    assert "<strong>plan" not in html
    assert f'<ins title="Alice suggested a line break · {WHEN}"' in html and "¶</ins>" in html
    assert "thread0000000001" not in html


def test_html_export_page_styles_the_markup() -> None:
    page = export_html(CONTENT, title="T", suggestions="markup", names=NAMES)
    assert "<style>" in page and "ins {" in page and "<ins " in page


def test_markdown_markup_is_critic_markup() -> None:
    md = export_markdown(CONTENT, suggestions="markup", names=NAMES)
    assert md == (
        f"Keep {{--the --}}{{>>Bob suggested deleting · {WHEN}<<}}"
        f"{{==plan==}}{{>>Bob suggested bold, no italic · {WHEN}<<}}"
        f"{{++ simple **now**++}}{{>>Alice suggested inserting · {WHEN}<<}}"
        f" {{++¶++}}{{>>Alice suggested a line break · {WHEN}<<}}\n\n"
        f"{{++Added line++}}{{>>Alice suggested inserting · {WHEN}<<}}\n"
    )


def test_text_markup_brackets_insertions_and_deletions() -> None:
    assert render_text(CONTENT, suggestions="markup") == (
        "Keep [-the -]plan[+ simple now\nAdded line+]\n"
    )


def test_text_cannot_close_a_critic_mark_early() -> None:
    tricky = [{"insert": "a ++} {>> b", "attributes": {"suggest-insert": A}}, {"insert": "\n"}]
    md = export_markdown(tricky, suggestions="markup", names={ALICE: "Al}} <<}"})
    assert md.startswith("{++a ++\\} \\{\\>\\> b++}{>>Al\\}\\} <<\\} suggested inserting")
    # Every mark opened is closed exactly once.
    assert md.count("{++") == 1 and md.count("++}") == 1


def test_names_and_text_cannot_inject_html() -> None:
    evil = [{"insert": "<img src=x onerror=alert(1)>", "attributes": {"suggest-delete": A}}]
    html = render_html(evil, suggestions="markup", names={ALICE: '"><script>alert(1)</script>'})
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;</del>" in html


def test_unknown_authors_and_absurd_times_still_export() -> None:
    future = f"{ALICE}:zzzzzzzzzz:ab12"  # beyond any date
    ops = [{"insert": "x", "attributes": {"suggest-insert": future}}, {"insert": "\n"}]
    html = render_html(ops, suggestions="markup", names={})
    assert '<ins title="someone suggested inserting · an unknown time">x</ins>' in html
    md = export_markdown(ops, suggestions="markup")
    assert "{>>someone suggested inserting · an unknown time<<}" in md


def test_describe_formats_in_words() -> None:
    assert describe_formats({"bold": True, "header": 2, "italic": None}) == (
        "bold, header 2, no italic"
    )


def test_export_refuses_unknown_modes_and_formats() -> None:
    with pytest.raises(ValueError, match="suggestions"):
        export(CONTENT, fmt="txt", title="T", suggestions="all")
    with pytest.raises(ValueError, match="format"):
        export(CONTENT, fmt="xls", title="T", suggestions="markup")


@pytest.mark.django_db
def test_export_names_authors_from_their_accounts_in_one_query(make_user: Any) -> None:
    alice = make_user("alice", first_name="Alice", last_name="Liddell")
    bob = make_user("bob")
    content = [
        {"insert": "one", "attributes": {"suggest-insert": f"{alice.pk}:{T}:ab12"}},
        {"insert": " two", "attributes": {"suggest-delete": f"{bob.pk}:{T}:cd34"}},
        {"insert": " three", "attributes": {"suggest-insert": f"{alice.pk}:{T}:ef56"}},
        {"insert": " four", "attributes": {"suggest-insert": "999999:mxawvd40:gh78"}},
        {"insert": "\n"},
    ]
    with CaptureQueriesContext(connection) as queries:
        md = export(content, fmt="md", title="T", suggestions="markup")
    assert len(queries.captured_queries) == 1
    assert md.count("Alice Liddell suggested inserting") == 2
    assert "bob suggested deleting" in md and "someone suggested inserting" in md
    with CaptureQueriesContext(connection) as queries:
        assert export(content, fmt="txt", title="T") == " two\n"
    assert len(queries.captured_queries) == 0


# Where people see documents --------------------------------------------------


def _set_content(doc: Document, ops: list[dict]) -> None:
    """Make the content ``ops`` (which end with a plain newline: the initial one)."""
    assert ops[-1] == {"insert": "\n"}
    delta = ops[:-1]  # inserted before the document's initial newline
    Operation.objects.create(document=doc, revision=1, op_id="e" * 16 + ":1", delta=delta)
    Document.objects.filter(pk=doc.pk).update(head_revision=1)


@pytest.mark.parametrize(
    ("fmt", "expected"), [("txt", "Keep the plan\n"), ("md", "Keep the plan\n")]
)
def test_downloads_are_the_accepted_document(
    world: World, login: Callable[..., Client], fmt: str, expected: str
) -> None:
    _set_content(world.doc, CONTENT)
    response = login("viewer").get(reverse("documents:export", args=[world.doc.public_id, fmt]))
    assert response.status_code == 200 and response.content.decode() == expected


def test_version_previews_show_the_accepted_document(
    world: World, login: Callable[..., Client]
) -> None:
    version = DocumentVersion.objects.create(
        document=world.doc, revision=0, content=CONTENT, kind="named", name="Draft"
    )
    url = reverse("documents:history_version", args=[world.doc.public_id, version.pk])
    data = login("editor").get(url).json()
    assert data["html"] == "<p>Keep the plan</p>"


def test_the_page_paints_the_accepted_document_before_the_editor_loads(
    world: World, login: Callable[..., Client]
) -> None:
    _set_content(world.doc, CONTENT)
    body = login("commenter").get(reverse("documents:detail", args=[world.doc.public_id]))
    html = body.content.decode()
    assert '<div id="editor" class="doc-content"><p>Keep the plan</p></div>' in html


def test_the_history_panel_offers_marked_up_downloads(
    world: World, login: Callable[..., Client]
) -> None:
    html = login("viewer").get(reverse("documents:detail", args=[world.doc.public_id]))
    body = html.content.decode()
    for fmt in ("txt", "html", "md"):
        url = reverse("documents:export", args=[world.doc.public_id, fmt])
        assert f'href="{url}?suggestions=markup"' in body


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("txt", "Keep [-the -]plan[+ simple now\nAdded line+]\n"),
        ("md", "{--the --}{>>Bob suggested deleting"),
        ("html", '<ins title="Alice suggested inserting'),
    ],
)
def test_downloads_with_suggestions_marked_up(
    world: World, login: Callable[..., Client], make_user: Any, fmt: str, needle: str
) -> None:
    alice = make_user("alice-r", first_name="Alice")
    bob = make_user("bob-r", first_name="Bob")
    _set_content(world.doc, content_by(alice.pk, bob.pk))
    url = reverse("documents:export", args=[world.doc.public_id, fmt])
    response = login("viewer").get(url, {"suggestions": "markup"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="quarterly-plan-suggestions.{fmt}"'
    )
    assert needle in response.content.decode()


def test_a_version_downloads_with_suggestions_marked_up(
    world: World, login: Callable[..., Client]
) -> None:
    version = DocumentVersion.objects.create(
        document=world.doc, revision=0, content=CONTENT, kind="named", name="Draft"
    )
    url = reverse("documents:export_version", args=[world.doc.public_id, version.pk, "txt"])
    client = login("editor")
    assert client.get(url).content.decode() == "Keep the plan\n"
    marked = client.get(url, {"suggestions": "markup"})
    assert marked.content.decode() == "Keep [-the -]plan[+ simple now\nAdded line+]\n"
    assert marked["Content-Disposition"] == (
        'attachment; filename="quarterly-plan-r0-suggestions.txt"'
    )


@pytest.mark.parametrize("option", ["all", "MARKUP", ""])
def test_an_unknown_suggestions_option_is_a_404(
    world: World, login: Callable[..., Client], option: str
) -> None:
    url = reverse("documents:export", args=[world.doc.public_id, "txt"])
    assert login("owner").get(url, {"suggestions": option}).status_code == 404
