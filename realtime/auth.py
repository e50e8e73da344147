"""Who is on the other end of a WebSocket: the session cookie of a page on our origin."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack


def WebSocketAuthMiddleware(inner):
    return AuthMiddlewareStack(inner)
