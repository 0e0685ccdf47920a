"""URLs of the notifications app."""

from django.urls import path  # noqa: F401 - used once the first view lands

app_name = "notifications"

urlpatterns: list = []
