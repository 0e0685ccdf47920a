"""WebSocket URL patterns (named so to avoid confusion with the routing app)."""
from __future__ import annotations

websocket_urlpatterns: list = []
