"""The commenter role: the ``comment_document`` permission and comment links.

Existing editors (users and groups holding ``change_document``) are given
``comment_document`` too, so every share row says what it allows; the
selectors treat editing as implying commenting anyway, so the backfill
loses nothing if a row is missed. Reversing removes only the rows added.
"""

from django.db import migrations, models


def _comment_permission(apps, *, create):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="documents", model="document")
    lookup = {"content_type": content_type, "codename": "comment_document"}
    if create:
        permission, _ = Permission.objects.get_or_create(
            **lookup, defaults={"name": "Can comment on and suggest changes to document"}
        )
        return content_type, permission
    return content_type, Permission.objects.filter(**lookup).first()


def backfill_editors(apps, schema_editor):
    """Give every holder of change_document on a document comment_document."""
    content_type, comment = _comment_permission(apps, create=True)
    for model_name, holder in (
        ("UserObjectPermission", "user_id"),
        ("GroupObjectPermission", "group_id"),
    ):
        rows = apps.get_model("guardian", model_name).objects
        editors = rows.filter(content_type=content_type, permission__codename="change_document")
        have = set(
            rows.filter(content_type=content_type, permission=comment).values_list(
                holder, "object_pk"
            )
        )
        rows.bulk_create(
            [
                rows.model(
                    content_type=content_type,
                    permission=comment,
                    object_pk=object_pk,
                    **{holder: holder_id},
                )
                for holder_id, object_pk in editors.values_list(holder, "object_pk")
                if (holder_id, object_pk) not in have
            ]
        )


def drop_comment_rows(apps, schema_editor):
    """Remove comment_document rows (the role does not exist before this)."""
    content_type, comment = _comment_permission(apps, create=False)
    if comment is None:
        return
    for model_name in ("UserObjectPermission", "GroupObjectPermission"):
        apps.get_model("guardian", model_name).objects.filter(permission=comment).delete()


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
