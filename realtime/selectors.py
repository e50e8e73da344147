"""The database reads behind every socket and stream. Synchronous: async code calls them through
`database_sync_to_async`, one hop per connect or catch-up, never per live event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from jobs.models import RenderJob
from jobs.representation import job_representation
from jobs.selectors import job_events_after, job_log, job_snapshot
from realtime.events import TERMINAL_TYPES, event_snapshot


def db_read(func: Callable) -> Callable:
    """`database_sync_to_async` for the reads of sockets and streams.

    Kept on Channels' one thread-sensitive executor. Running them on the loop's default thread pool
    (`thread_sensitive=False`) made connect bursts no faster on two cores, and the suite then ran the
    database connection pool dry (PoolTimeout); the cause was not pinned down, so the safe path stays.
    """
    return database_sync_to_async(func)


# A catch-up never sends more than this many stored events at once; the rest follow on the next one.
CATCH_UP_LIMIT = 1000


class UserInactive(Exception):
    """The socket's user no longer exists or is not active: the socket is refused with 4401."""


def job_snapshot_for(*, user, job_id) -> dict[str, Any] | None:
    """The `job.snapshot` of one of the user's jobs; None when there is no such job for this user.

    Raises `UserInactive` when the user is gone or inactive (a ticket's user is verified here, not by
    the middleware). On PostgreSQL, sockets read the same on the event loop (realtime/snapshots.py)."""
    _check_active(user)
    job = RenderJob.objects.filter(owner_id=user.pk, pk=job_id).first()
    return None if job is None else snapshot_from_job(job, job_log(job=job))


def active_job_snapshots(*, user) -> list[dict[str, Any]]:
    """One `job.snapshot` per PENDING/RUNNING job of the user, oldest first (`UserInactive` as above)."""
    _check_active(user)
    jobs = RenderJob.objects.filter(owner_id=user.pk).active().order_by("created_at")
    return [snapshot_from_job(job, job_log(job=job)) for job in jobs]


def _check_active(user) -> None:
    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        raise UserInactive


def snapshot_from_job(job: RenderJob, log: list[dict[str, Any]], *, has_captions: bool | None = None) -> dict[str, Any]:
    """The snapshot of a job row read just now (no `refresh_from_db`, as jobs.selectors.job_snapshot does)."""
    return event_snapshot(job, job_repr=job_representation(job, has_captions=has_captions), log=log)


def stored_events(*, job_id, after: int, before: int | None = None) -> list[dict[str, Any]]:
    """The stored events of a job with `after < seq < before`, in order, as sent on the wire."""
    events = job_events_after(job_id=job_id, seq=after)
    if before is not None:
        events = events.filter(seq__lt=before)
    return [event.payload for event in events[:CATCH_UP_LIMIT]]


@dataclass
class StreamOpening:
    """What an SSE stream sends first, and whether that already ends it."""

    events: list[dict[str, Any]]
    seq: int
    finished: bool


def stream_opening(*, job_id, last_event_id: int | None) -> StreamOpening:
    """A new stream opens with the snapshot; a resumed one with every stored event after `last_event_id`.

    The job row is read before the events: if it is terminal then, its terminal event is already stored
    and the replay ends the stream; if it turns terminal in between, the replay carries that event.
    """
    job = RenderJob.objects.get(pk=job_id)
    if last_event_id is None:
        snapshot = job_snapshot(job=job)
        return StreamOpening(events=[snapshot], seq=snapshot["seq"], finished=job.is_terminal)
    events = stored_events(job_id=job_id, after=last_event_id)
    seq = max([last_event_id, *(event["seq"] for event in events)])
    finished = any(event["type"] in TERMINAL_TYPES for event in events)
    if job.is_terminal and len(events) < CATCH_UP_LIMIT:
        finished = True
    return StreamOpening(events=events, seq=seq, finished=finished)
