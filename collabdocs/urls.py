"""Top-level URL configuration.

``routing.urls`` (the route endpoint ``/api/docs/<id>/route``) belongs to the
scale-out work; it is included when that module exists.
"""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "CollabDocs administration"
admin.site.site_title = "CollabDocs admin"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("documents.accounts")),
    path("", include("documents.urls")),
]

if find_spec("routing.urls") is not None:
    urlpatterns.append(path("", include("routing.urls")))
