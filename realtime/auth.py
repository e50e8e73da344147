"""Who is on the other end of a WebSocket (CONTRACT §1).

Two ways in: the session cookie of a page on our origin, or `?token=<ticket>` from
`POST /api/realtime/ticket`. When a `token` is given it is the only credential considered: a bad or
expired ticket (or a long-lived API token pasted in its place) leaves the socket anonymous, and the
consumer closes it with 4401, rather than silently falling back to whatever cookie came along.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from realtime.selectors import db_read
from realtime.tickets import ticket_user


def query_ticket(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    values = query.get("token")
    return values[0] if values else None


class WebSocketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_stack = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        ticket = query_ticket(scope)
        if ticket is None:
            return await self.session_stack(scope, receive, send)
        user = await db_read(ticket_user)(ticket)
        return await self.inner(dict(scope, user=user or AnonymousUser()), receive, send)


class OriginValidator:
    """Channels' `AllowedHostsOriginValidator`, except that a socket with no `Origin` header that brings a
    ticket is let through (CONTRACT §7): scripts and native apps send no Origin, and cross-site socket
    hijacking needs a browser, which always sends one. A foreign Origin is refused as before; a missing
    Origin without a ticket (a cookie-only socket) is refused too. The ticket itself is checked next, by
    `WebSocketAuthMiddleware` (a bad one closes with 4401)."""

    def __init__(self, inner):
        self.inner = inner
        self.checked = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", ()))
        if not has_origin and query_ticket(scope) is not None:
            return await self.inner(scope, receive, send)
        return await self.checked(scope, receive, send)
