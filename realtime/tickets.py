"""Short-lived WebSocket/SSE tickets (CONTRACT §1).

A ticket is the user's id signed with Django's `TimestampSigner` under its own salt, valid for
`REALTIME_TICKET_TTL` seconds. It exists so that SPA clients can authenticate a WebSocket or an
`EventSource` (neither can set an `Authorization` header) without putting their long-lived API token
in a URL, where proxies and browsers log it. A ticket names one user and nothing else; a DRF token or
any other string in its place fails the signature check.

An `EventSource` reconnects by itself with the same URL, so a ticket that opened a job's SSE stream
while fresh stays good *for that job's stream* for the life of the job (`ticket_user_for_stream`): the
first use binds it to (user, job) in the cache, and an expired ticket is accepted only with that binding,
only for that job, and only while the job is active (or just finished, so the terminal event can be
replayed). Sockets and every other job's stream still need a fresh ticket.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from jobs.models import RenderJob

_SALT = "cutline.realtime.ticket"
# How long a bound ticket is remembered; the job's state decides whether it is still honoured.
_BINDING_SECONDS = 7 * 24 * 3600
# A stream of a job that finished this recently may still resume once, to replay the terminal event.
STREAM_GRACE_AFTER_FINISH = timedelta(minutes=10)


def ticket_issue(*, user) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"u": user.pk})


def _unsign(ticket: str, *, max_age: float | None) -> int | None:
    if not ticket or len(ticket) > 512:
        return None
    try:
        payload = signing.TimestampSigner(salt=_SALT).unsign_object(ticket, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    return user_id if isinstance(user_id, int) else None


def ticket_user_id(ticket: str) -> int | None:
    """The user id a valid, unexpired ticket names; None for anything else (expired, tampered, foreign)."""
    return _unsign(ticket, max_age=settings.REALTIME_TICKET_TTL)


def _binding_key(ticket: str, job_id) -> str:
    digest = hashlib.sha256(ticket.encode()).hexdigest()[:40]
    return f"realtime:sse-ticket:{digest}:{job_id}"


def ticket_user_for_stream(ticket: str, *, job_id):
    """The user for `job_id`'s SSE stream: a fresh ticket (which binds it to this job), or an expired one
    already bound to this job while the job is active or just finished. Synchronous (ORM, cache)."""
    from django.contrib.auth import get_user_model

    user_id = ticket_user_id(ticket)
    if user_id is not None:
        job = RenderJob.objects.filter(pk=job_id, owner_id=user_id).only("id").first()
        if job is not None:
            cache.set(_binding_key(ticket, job_id), user_id, timeout=_BINDING_SECONDS)
    else:
        user_id = _unsign(ticket, max_age=None)
        if user_id is None or cache.get(_binding_key(ticket, job_id)) != user_id:
            return None
        job = RenderJob.objects.filter(pk=job_id, owner_id=user_id).only("status", "finished_at").first()
        if job is None:
            return None
        if job.is_terminal and (job.finished_at is None
                                or timezone.now() - job.finished_at > STREAM_GRACE_AFTER_FINISH):
            return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def ticket_user(ticket: str):
    """The active user a ticket names, or None. Synchronous: call through `database_sync_to_async`."""
    from django.contrib.auth import get_user_model

    user_id = ticket_user_id(ticket)
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()
