"""ASGI entry point: Django for HTTP, the realtime consumers for WebSocket.

daphne serves both, so ``make run`` and ``manage.py runworker`` are the real
server. Static files are served by WhiteNoise inside the Django app.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collabdocs.settings")
# Build the Django app (and so populate the app registry) before importing
# anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 - after get_asgi_application()

from collabdocs.health import HealthEndpoints  # noqa: E402 - after get_asgi_application()
from collabdocs.origin import OriginValidator  # noqa: E402 - after get_asgi_application()
from collabdocs.socket_auth import SocketAuthStack  # noqa: E402 - after get_asgi_application()
from realtime.ws_urls import websocket_urlpatterns  # noqa: E402 - after get_asgi_application()

application = ProtocolTypeRouter(
    {
        # /healthz and /readyz are answered before Django: a balancer's check
        # must not depend on ALLOWED_HOSTS, the HTTPS redirect or middleware.
        "http": HealthEndpoints(django_asgi_app),
        # A handshake from a foreign origin (scheme, host and port, as the
        # CSRF check compares them) is refused outright: HTTP 403. With the
        # database down, the session lookup answers `unavailable` + 4503
        # (collabdocs.socket_auth), never HTTP 500.
        "websocket": OriginValidator(SocketAuthStack(URLRouter(websocket_urlpatterns))),
    }
)
