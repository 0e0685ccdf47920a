"""URLs of the office app (namespace ``office``)."""

from django.urls import URLPattern

app_name = "office"

urlpatterns: list[URLPattern] = []
