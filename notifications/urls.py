"""URLs of the notifications app (namespace ``notifications``)."""

from django.urls import path

from notifications import api, views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_page, name="list"),
    path("notifications/read/", views.notification_read_all, name="read_all"),
    path("notifications/<int:notification_id>/", views.notification_open, name="open"),
    path("settings/notifications/", views.notification_settings, name="settings"),
    path("api/notifications", api.notifications_latest, name="api_list"),
    path("api/notifications/read", api.notifications_read, name="api_read"),
]
