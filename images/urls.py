"""URLs of the images app (namespace ``images``)."""

from django.urls import URLPattern

app_name = "images"

urlpatterns: list[URLPattern] = []
