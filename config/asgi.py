"""ASGI entry point: HTTP through Django, WebSockets through Channels (see realtime/routing.py)."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Initialise Django (app registry, settings) before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from realtime.auth import OriginValidator, WebSocketAuthMiddleware  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# The web process's latency tail is Python's cyclic garbage collector: with thousands of sockets each
# delivery allocates a few dicts, gen-0 fills every few milliseconds and the full collections it cascades
# into stall the event loop for 30-140 ms (measured, docs/realtime.md). Collect far less often, and move
# everything alive after start-up (Django, DRF, the URL resolvers) out of the collector's sight.
if settings.WEB_GC_GEN0_THRESHOLD:
    gc.set_threshold(settings.WEB_GC_GEN0_THRESHOLD, 50, 100)
    gc.collect()
    gc.freeze()
