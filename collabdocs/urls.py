"""Top-level URL configuration.

``/healthz`` and ``/readyz`` (:mod:`collabdocs.health`) and ``/metrics``
(:mod:`collabdocs.metrics_view`) come first: the balancer and Prometheus
ask them every few seconds; then ``/favicon.ico`` (:mod:`collabdocs.favicon`),
which browsers ask unasked. The cluster's staff page sits
among the admin's pages, so it comes before the admin's catch-all;
``routing.urls`` holds the route endpoint ``/api/docs/<id>/route``.
"""

from django.contrib import admin
from django.urls import include, path

from collabdocs import favicon, health, metrics_view
from routing.admin_views import cluster_view

admin.site.site_header = "CollabDocs administration"
admin.site.site_title = "CollabDocs admin"
admin.site.index_title = "Administration"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("admin/cluster/", admin.site.admin_view(cluster_view), name="cluster-status"),
    path("admin/", admin.site.urls),
    path("accounts/", include("documents.accounts")),
    path("", include("documents.urls")),
    path("", include("teams.urls")),
    path("", include("images.urls")),
    path("", include("office.urls")),
    path("", include("review.urls")),
    path("", include("notifications.urls")),
    path("", include("routing.urls")),
]
