"""The database reads behind every socket and stream. Synchronous: async code calls them through
`database_sync_to_async`, one hop per connect or catch-up, never per live event."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection

from jobs.models import JobEvent, RenderJob
from jobs.representation import job_representation
from jobs.selectors import SNAPSHOT_LOG_SCAN, job_events_after, job_log, job_snapshot, log_from_events
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

    Raises `UserInactive` when the user is gone or inactive (checked in the same query: a ticket's user
    is verified here, not by a query of its own)."""
    if connection.vendor == "postgresql":
        snapshots = _snapshots_sql(user_id=user.pk, job_id=job_id)
        return snapshots[0] if snapshots else None
    _check_active(user)
    job = RenderJob.objects.filter(owner_id=user.pk, pk=job_id).first()
    return None if job is None else _snapshot(job, job_log(job=job))


def active_job_snapshots(*, user) -> list[dict[str, Any]]:
    """One `job.snapshot` per PENDING/RUNNING job of the user, oldest first (`UserInactive` as above)."""
    if connection.vendor == "postgresql":
        return _snapshots_sql(user_id=user.pk, job_id=None)
    _check_active(user)
    jobs = RenderJob.objects.filter(owner_id=user.pk).active().order_by("created_at")
    return [_snapshot(job, job_log(job=job)) for job in jobs]


def _check_active(user) -> None:
    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        raise UserInactive


def _snapshot(job: RenderJob, log: list[dict[str, Any]]) -> dict[str, Any]:
    # The row was read just now: no `refresh_from_db` (jobs.selectors.job_snapshot's) needed.
    return event_snapshot(job, job_repr=job_representation(job), log=log)


_job_fields = [field for field in RenderJob._meta.concrete_fields]
_job_attnames = [field.attname for field in _job_fields]


@functools.cache
def _snapshot_query(one_job: bool) -> str:
    """The user check, the job row(s) and each job's recent events in one round trip (PostgreSQL).

    Built once from the models' metadata; what Django's ORM spent most of a connect on was compiling
    the three queries (`first`, `refresh_from_db`, `job_log`) this replaces, plus the ticket's user query.
    """
    user_table = get_user_model()._meta.db_table
    job_table, event_table = RenderJob._meta.db_table, JobEvent._meta.db_table
    columns = ", ".join(f'j."{field.column}"' for field in _job_fields)
    job_filter = "j.id = %s" if one_job else "j.status = ANY(%s)"
    # Identifiers come from the models' metadata; every value is a query parameter.
    return f"""
        SELECT j.id IS NOT NULL, {columns},
          (SELECT COALESCE(json_agg(json_build_array(e.type, e.payload) ORDER BY e.seq DESC), '[]'::json)
             FROM (SELECT type, payload, seq FROM "{event_table}" e
                    WHERE e.job_id = j.id AND e.seq <= j.last_seq
                    ORDER BY e.seq DESC LIMIT {int(SNAPSHOT_LOG_SCAN)}) e)
        FROM "{user_table}" u
        LEFT JOIN "{job_table}" j ON j.owner_id = u.id AND {job_filter}
        WHERE u.id = %s AND u.is_active
        ORDER BY j.created_at
    """  # noqa: S608


def _snapshots_sql(*, user_id, job_id) -> list[dict[str, Any]]:
    one_job = job_id is not None
    params = [job_id if one_job else list(RenderJob.ACTIVE_STATUSES), user_id]
    connection.ensure_connection()
    # A server-binding cursor and a prepared statement: PostgreSQL parses and plans the query once per
    # connection, and nothing here quotes the parameters into the long query text on every connect
    # (Django's cursors bind on the client side).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_snapshot_query(one_job), params, prepare=True)
        rows = cursor.fetchall()
    if not rows:
        raise UserInactive
    snapshots = []
    for row in rows:
        if not row[0]:
            continue
        job = RenderJob.from_db(connection.alias, _job_attnames, _job_values(row[1:-1]))
        events = row[-1]
        snapshots.append(_snapshot(job, log_from_events(json.loads(events) if isinstance(events, str) else events)))
    return snapshots


def _job_values(values) -> list[Any]:
    # Raw rows skip the fields' from_db_value converters; apply the ones the model's fields have.
    return [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(_job_fields, values, strict=True)
    ]


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
