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

from realtime.tickets import ticket_user_id


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
        # The signature and age are checked here, without the database; that the user still exists and is
        # active is checked by the consumer in the same query as its snapshot (realtime/selectors.py), so
        # a connect costs one database round trip and one thread hop, not two.
        user_id = ticket_user_id(ticket)
        user = AnonymousUser() if user_id is None else TicketUser(user_id)
        return await self.inner(dict(scope, user=user), receive, send)


class TicketUser:
    """The user a valid ticket names, not yet read from the database: only `pk` is known.

    Only the job consumers see it (the scope of `/ws/` routes), and they refuse it with 4401 unless the
    user row exists and is active (`realtime.selectors.UserInactive`). Nothing else in a socket's life
    needs more of the user than its id."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, pk: int) -> None:
        self.pk = self.id = pk

    def __repr__(self) -> str:
        return f"<TicketUser {self.pk}>"


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
