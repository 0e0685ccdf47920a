"""URLs of the teams pages and their JSON endpoints (namespace ``teams``)."""

from django.urls import URLPattern

app_name = "teams"

urlpatterns: list[URLPattern] = []
