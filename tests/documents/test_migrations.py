"""Migration 0004 (the commenter role) on a database with shares made before it.

Failure modes: an editor shared before the role existed losing the right to
comment once rows are read by role, a group's editors forgotten, viewers
raised to commenters, the backfill duplicating rows when run twice, and the
reverse leaving comment rows behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("documents", "0003_deep_json")]
AFTER = [("documents", "0004_commenter_role")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to ``targets`` and return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The state must hold guardian (and auth) too: documents does not depend on it.
    executor.loader.build_graph()
    others = [
        node
        for node in executor.loader.graph.leaf_nodes()
        if node[0] in ("guardian", "auth", "contenttypes")
    ]
    return executor.loader.project_state(targets + others).apps


@pytest.fixture
def before_commenters(transactional_db: None) -> Iterator[Any]:
    """Return the apps as of 0003; migrate everything forward again afterwards."""
    apps = migrate(BEFORE)
    yield apps
    call_command("migrate", verbosity=0)


def rows(apps: Any, model: str, holder: str) -> set[tuple[int, str, str]]:
    manager = apps.get_model("guardian", model).objects
    return set(manager.values_list(holder, "object_pk", "permission__codename"))


def test_editors_gain_the_comment_permission_and_viewers_do_not(
    before_commenters: Any,
) -> None:
    apps = before_commenters
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Document = apps.get_model("documents", "Document")
    user_perms = apps.get_model("guardian", "UserObjectPermission")
    group_perms = apps.get_model("guardian", "GroupObjectPermission")
    kind, _ = ContentType.objects.get_or_create(app_label="documents", model="document")

    def perm(codename: str) -> Any:
        return Permission.objects.get_or_create(
            content_type=kind, codename=codename, defaults={"name": codename}
        )[0]

    owner = User.objects.create(username="owner-m")
    editor = User.objects.create(username="editor-m")
    viewer = User.objects.create(username="viewer-m")
    team = Group.objects.create(name="team-m")
    doc = Document.objects.create(owner=owner, title="Old")
    pk = str(doc.pk)
    for user, codenames in (
        (editor, ("view_document", "change_document")),
        (viewer, ("view_document",)),
    ):
        for codename in codenames:
            user_perms.objects.create(
                user=user, permission=perm(codename), content_type=kind, object_pk=pk
            )
    for codename in ("view_document", "change_document"):
        group_perms.objects.create(
            group=team, permission=perm(codename), content_type=kind, object_pk=pk
        )

    apps = migrate(AFTER)
    users = rows(apps, "UserObjectPermission", "user_id")
    assert (editor.pk, pk, "comment_document") in users
    assert (viewer.pk, pk, "comment_document") not in users
    assert (team.pk, pk, "comment_document") in rows(apps, "GroupObjectPermission", "group_id")
    assert len(users) == 4  # editor: view, change, comment; viewer: view

    # Back and forth: the reverse removes what it added, the forward adds it once.
    apps = migrate(BEFORE)
    assert all(
        row[2] != "comment_document" for row in rows(apps, "UserObjectPermission", "user_id")
    )
    apps = migrate(AFTER)
    assert len(rows(apps, "UserObjectPermission", "user_id")) == 4
