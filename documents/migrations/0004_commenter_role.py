"""The commenter role: the ``comment_document`` permission and comment links.

Existing editors (users and groups holding ``change_document``) are given
``comment_document`` too, so every share row says what it allows; the
selectors treat editing as implying commenting anyway, so the backfill
loses nothing if a row is missed. Reversing removes only the rows added.
"""

from django.db import migrations, models


def _comment_permission(apps, *, create):
    """Return (content type id, comment permission id or None).

    Ids, not instances: the guardian models of a migration state may be
    rendered against another copy of auth's Permission.
    """
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="documents", model="document")
    lookup = {"content_type_id": content_type.pk, "codename": "comment_document"}
    if create:
        permission, _ = Permission.objects.get_or_create(
            **lookup, defaults={"name": "Can comment on and suggest changes to document"}
        )
        return content_type.pk, permission.pk
    return content_type.pk, Permission.objects.filter(**lookup).values_list("pk", flat=True).first()


def backfill_editors(apps, schema_editor):
    """Give every holder of change_document on a document comment_document."""
    content_type_id, comment_id = _comment_permission(apps, create=True)
    for model_name, holder in (
        ("UserObjectPermission", "user_id"),
        ("GroupObjectPermission", "group_id"),
    ):
        rows = apps.get_model("guardian", model_name).objects
        of_documents = rows.filter(content_type_id=content_type_id)
        editors = of_documents.filter(permission__codename="change_document")
        have = set(of_documents.filter(permission_id=comment_id).values_list(holder, "object_pk"))
        rows.bulk_create(
            [
                rows.model(
                    content_type_id=content_type_id,
                    permission_id=comment_id,
                    object_pk=object_pk,
                    **{holder: holder_id},
                )
                for holder_id, object_pk in editors.values_list(holder, "object_pk")
                if (holder_id, object_pk) not in have
            ]
        )


def drop_comment_rows(apps, schema_editor):
    """Remove comment_document rows (the role does not exist before this)."""
    _, comment_id = _comment_permission(apps, create=False)
    if comment_id is None:
        return
    for model_name in ("UserObjectPermission", "GroupObjectPermission"):
        apps.get_model("guardian", model_name).objects.filter(permission_id=comment_id).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0003_deep_json"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="document",
            options={
                "ordering": ["-updated_at"],
                "permissions": [
                    ("share_document", "Can share document"),
                    ("comment_document", "Can comment on and suggest changes to document"),
                ],
            },
        ),
        migrations.AlterField(
            model_name="document",
            name="link_mode",
            field=models.CharField(
                choices=[
                    ("off", "Off"),
                    ("view", "Anyone with the link can view"),
                    ("comment", "Anyone with the link can comment"),
                    ("edit", "Anyone with the link can edit"),
                ],
                default="off",
                max_length=8,
            ),
        ),
        migrations.RunPython(backfill_editors, drop_comment_rows),
    ]
