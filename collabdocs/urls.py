"""Top-level URL configuration.

``routing.urls`` (the route endpoint ``/api/docs/<id>/route``) belongs to the
scale-out work; it is included when that module exists. The cluster's staff
page sits among the admin's pages, so it comes before the admin's catch-all.
"""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

from routing.admin_views import cluster_view

admin.site.site_header = "CollabDocs administration"
admin.site.site_title = "CollabDocs admin"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/cluster/", admin.site.admin_view(cluster_view), name="cluster-status"),
    path("admin/", admin.site.urls),
    path("accounts/", include("documents.accounts")),
    path("", include("documents.urls")),
]

if find_spec("routing.urls") is not None:
    urlpatterns.append(path("", include("routing.urls")))
