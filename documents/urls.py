"""URLs of the document pages and their JSON endpoints (namespace ``documents``)."""

from django.urls import path

from documents import api, history_api, history_views, views

app_name = "documents"

urlpatterns = [
    path("", views.document_list, {"section": "mine"}, name="list"),
    path("shared/", views.document_list, {"section": "shared"}, name="shared"),
    path("starred/", views.document_list, {"section": "starred"}, name="starred"),
    path("trash/", views.document_list, {"section": "trash"}, name="trash"),
    path("new/", views.document_create, name="create"),
    path("d/<uuid:public_id>/", views.document_detail, name="detail"),
    path("d/<uuid:public_id>/trash/", views.document_trash, name="trash_document"),
    path("d/<uuid:public_id>/restore/", views.document_restore, name="restore"),
    path("d/<uuid:public_id>/delete/", views.document_delete, name="delete"),
    path("d/<uuid:public_id>/star/", views.document_star, name="star"),
    path("d/<uuid:public_id>/copy/", views.document_copy, name="copy"),
    path("api/docs/<uuid:public_id>/rename", api.rename, name="rename"),
    path("api/docs/<uuid:public_id>/share", api.share, name="share"),
    path("api/docs/<uuid:public_id>/share/role", api.share_role, name="share_role"),
    path("api/docs/<uuid:public_id>/share/revoke", api.share_revoke, name="share_revoke"),
    path("api/docs/<uuid:public_id>/share/group", api.share_group, name="share_group"),
    path(
        "api/docs/<uuid:public_id>/share/group/revoke",
        api.share_group_revoke,
        name="share_group_revoke",
    ),
    path("api/docs/<uuid:public_id>/share/link", api.share_link, name="share_link"),
    path("api/docs/<uuid:public_id>/share/transfer", api.share_transfer, name="share_transfer"),
    path("api/docs/<uuid:public_id>/history", history_views.history_list, name="history"),
    path("api/docs/<uuid:public_id>/history/name", history_views.history_name, name="history_name"),
    path(
        "api/docs/<uuid:public_id>/history/settings",
        history_views.history_settings,
        name="history_settings",
    ),
    path(
        "api/docs/<uuid:public_id>/history/<int:version_id>",
        history_views.history_version,
        name="history_version",
    ),
    path(
        "api/docs/<uuid:public_id>/history/<int:version_id>/restore",
        history_views.history_restore,
        name="history_restore",
    ),
    path(
        "api/docs/<uuid:public_id>/history/restore/undo",
        history_api.restore_undo,
        name="history_restore_undo",
    ),
    path("api/docs/<uuid:public_id>/compare", history_api.compare, name="compare"),
    path("api/docs/<uuid:public_id>/timeline", history_api.timeline_summary, name="timeline"),
    path(
        "api/docs/<uuid:public_id>/timeline/content",
        history_api.timeline_content,
        name="timeline_content",
    ),
    path("api/docs/<uuid:public_id>/timeline/ops", history_api.timeline_ops, name="timeline_ops"),
    path("d/<uuid:public_id>/export/<str:fmt>", history_views.export_current, name="export"),
    path(
        "d/<uuid:public_id>/history/<int:version_id>/export/<str:fmt>",
        history_views.export_version,
        name="export_version",
    ),
]
