"""WebSocket URL patterns (named so to avoid confusion with the routing app)."""

from __future__ import annotations

from django.urls import path

from realtime.consumers import DocumentConsumer

websocket_urlpatterns: list = [
    path("ws/docs/<uuid:doc_id>/", DocumentConsumer.as_asgi()),
]
