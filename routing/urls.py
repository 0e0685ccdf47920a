"""HTTP routes of the routing app (included at the site root)."""

from __future__ import annotations

from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("api/docs/<uuid:doc_id>/route", views.document_route, name="document-route"),
]
