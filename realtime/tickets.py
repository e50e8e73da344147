"""Short-lived WebSocket/SSE tickets (CONTRACT §1).

A ticket is the user's id signed with Django's `TimestampSigner` under its own salt, valid for
`REALTIME_TICKET_TTL` seconds. It exists so that SPA clients can authenticate a WebSocket or an
`EventSource` (neither can set an `Authorization` header) without putting their long-lived API token
in a URL, where proxies and browsers log it. A ticket names one user and nothing else; a DRF token or
any other string in its place fails the signature check.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

_SALT = "cutline.realtime.ticket"


def ticket_issue(*, user) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"u": user.pk})


def ticket_user_id(ticket: str) -> int | None:
    """The user id a valid, unexpired ticket names; None for anything else (expired, tampered, foreign)."""
    if not ticket or len(ticket) > 512:
        return None
    try:
        payload = signing.TimestampSigner(salt=_SALT).unsign_object(ticket, max_age=settings.REALTIME_TICKET_TTL)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    return user_id if isinstance(user_id, int) else None


def ticket_user(ticket: str):
    """The active user a ticket names, or None. Synchronous: call through `database_sync_to_async`."""
    from django.contrib.auth import get_user_model

    user_id = ticket_user_id(ticket)
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()
