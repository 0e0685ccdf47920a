"""URLs of the office app (namespace ``office``): the import endpoints (office.views)."""

from django.urls import URLPattern, path

from office import views

app_name = "office"

urlpatterns: list[URLPattern] = [
    path("api/import", views.import_new, name="import"),
    path("api/docs/<uuid:public_id>/import/convert", views.import_convert, name="import-convert"),
]
