"""The snapshot a connecting socket is sent first, read on the event loop (PostgreSQL).

A connect used to read its snapshot on Channels' database thread (`database_sync_to_async`): a hop to
that thread and back, Django's connection checks before and after, and the two threads taking the GIL
from each other. In a reconnect storm that was a large part of what a connect cost beyond a bare
consumer. Here each event loop keeps one asynchronous psycopg connection of its own for these reads, and
the reads of sockets connecting at the same moment go to PostgreSQL together: one prepared statement per
batch, which unnests the batch's (user, job) pairs and answers for all of them in one round trip.

The query is the one `realtime/selectors.py` describes for a single socket: the user check (a ticket's
user must exist and be active), the job row(s) and each job's recent events for the log. The connection
is in autocommit, so every batch sees what was committed before it started: a socket joins its group
before asking, and "nothing lost" holds as it did (see realtime/consumers.py).

SQLite keeps the ORM path on the database thread (`realtime.selectors`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any
from uuid import UUID

import psycopg
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

from config.postgres.base import health
from jobs.models import JobEvent, RenderJob
from jobs.selectors import SNAPSHOT_LOG_SCAN, log_from_events
from realtime.selectors import UserInactive, snapshot_from_job

logger = logging.getLogger(__name__)

# The most (user, job) pairs one query answers; more wait for the next batch.
BATCH_LIMIT = 500

# Every column but the timeline: a snapshot needs of it only whether it has a captions track, which the
# query answers; loading and decoding a long timeline on every connect would cost more than the rest.
_job_fields = [field for field in RenderJob._meta.concrete_fields if field.name != "timeline"]
_job_attnames = [field.attname for field in _job_fields]


def available() -> bool:
    """Whether sockets read their snapshots here (PostgreSQL) rather than on the database thread."""
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


@functools.cache
def _batch_query(one_job: bool) -> str:
    """The snapshots of a batch of sockets, one row per (socket, job), ordered by socket.

    Identifiers come from the models' metadata; every value is a query parameter. Parameters: the
    users' ids (and, for `/ws/jobs/{id}`, the job ids, the same length), then for `/ws/jobs` the active
    statuses. A socket's user that is missing or inactive gives one row with `user_ok` false.
    """
    user_table = get_user_model()._meta.db_table
    job_table, event_table = RenderJob._meta.db_table, JobEvent._meta.db_table
    columns = ", ".join(f'j."{field.column}"' for field in _job_fields)
    if one_job:
        wanted = "unnest(%s::bigint[], %s::uuid[]) WITH ORDINALITY AS r(user_id, job_id, ord)"
        job_filter = "j.id = r.job_id"
    else:
        wanted = "unnest(%s::bigint[]) WITH ORDINALITY AS r(user_id, ord)"
        job_filter = "j.status = ANY(%s)"
    return f"""
        SELECT r.ord, u.id IS NOT NULL, j.id IS NOT NULL, {columns},
          COALESCE(j.timeline -> 'tracks' @> '[{{"kind": "captions"}}]'::jsonb, false),
          (SELECT COALESCE(json_agg(json_build_array(e.type, e.payload) ORDER BY e.seq DESC), '[]'::json)
             FROM (SELECT type, payload, seq FROM "{event_table}" e
                    WHERE e.job_id = j.id AND e.seq <= j.last_seq
                    ORDER BY e.seq DESC LIMIT {int(SNAPSHOT_LOG_SCAN)}) e)
        FROM {wanted}
        LEFT JOIN "{user_table}" u ON u.id = r.user_id AND u.is_active
        LEFT JOIN "{job_table}" j ON j.owner_id = u.id AND {job_filter}
        ORDER BY r.ord, j.created_at
    """  # noqa: S608


def _snapshots_from_rows(rows: list[tuple], count: int) -> list[list[dict[str, Any]] | None]:
    """Per socket of the batch (in order): its snapshots, or None when its user is missing or inactive."""
    answers: list[list[dict[str, Any]] | None] = [[] for _ in range(count)]
    database = connections[DEFAULT_DB_ALIAS]
    for row in rows:
        index = row[0] - 1
        if not row[1]:
            answers[index] = None
            continue
        if not row[2]:
            continue
        values = [
            field.from_db_value(value, None, database) if hasattr(field, "from_db_value") else value
            for field, value in zip(_job_fields, row[3:-2], strict=True)
        ]
        job = RenderJob.from_db(DEFAULT_DB_ALIAS, _job_attnames, values)  # the timeline stays deferred
        has_captions, events = row[-2], row[-1]
        log = log_from_events(json.loads(events) if isinstance(events, str) else events)
        answers[index].append(snapshot_from_job(job, log, has_captions=has_captions))
    return answers


class SnapshotReader:
    """One event loop's connection for snapshot reads, and the batches sent on it."""

    def __init__(self) -> None:
        self.connection: psycopg.AsyncConnection | None = None
        self.pending: list[tuple[int, UUID | None, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None

    async def read(self, *, user_id: int, job_id: UUID | None) -> list[dict[str, Any]]:
        """The socket's snapshots: one job's (an empty list when the user has no such job), or every active
        job's of the user when `job_id` is None. Raises `UserInactive`, or the database's error."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.pending.append((user_id, job_id, answer))
        if self.sending is None or self.sending.done():
            self.sending = loop.create_task(self._send())
        snapshots = await answer
        if snapshots is None:
            raise UserInactive
        return snapshots

    async def _send(self) -> None:
        # What arrives while a batch is out goes in the next one.
        while self.pending:
            batch, self.pending = self.pending[:BATCH_LIMIT], self.pending[BATCH_LIMIT:]
            try:
                for one_job in (True, False):
                    part = [entry for entry in batch if (entry[1] is not None) is one_job]
                    if part:
                        await self._answer(part, one_job=one_job)
            finally:
                for _, _, answer in batch:  # only when the reader is closed under a batch (cancelled)
                    if not answer.done():
                        answer.cancel()

    async def _answer(self, batch: list[tuple[int, UUID | None, asyncio.Future]], *, one_job: bool) -> None:
        user_ids = [user_id for user_id, _, _ in batch]
        if one_job:
            params: list[Any] = [user_ids, [job_id for _, job_id, _ in batch]]
        else:
            params = [user_ids, list(RenderJob.ACTIVE_STATUSES)]
        try:
            rows = await self._fetch(_batch_query(one_job), params)
            answers = _snapshots_from_rows(rows, len(batch))
        except Exception as exc:
            # Every socket of the batch hears of the failure.
            answers = [exc] * len(batch)
        for (_, _, answer), snapshots in zip(batch, answers, strict=True):
            if answer.done():  # its socket may have gone away meanwhile
                continue
            if isinstance(snapshots, Exception):
                answer.set_exception(snapshots)
            else:
                answer.set_result(snapshots)

    async def _fetch(self, query: str, params: list[Any]) -> list[tuple]:
        reused = self.connection is not None and not self.connection.closed
        try:
            return await self._execute(query, params)
        except psycopg.OperationalError:
            if not reused:
                raise
        # A connection that broke while idle (PostgreSQL restarted, a proxy's idle timeout) is noticed by
        # the first query sent on it: the batch is sent once more, on a new connection.
        return await self._execute(query, params)

    async def _execute(self, query: str, params: list[Any]) -> list[tuple]:
        connection = await self._connection()
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(query, params, prepare=True)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            await self._drop_connection()
            raise

    async def _connection(self) -> psycopg.AsyncConnection:
        if self.connection is None or self.connection.closed:
            if health.down_recently():
                # The web process failed to reach the database a moment ago (config/postgres): fail at once.
                raise psycopg.OperationalError("the database did not accept a connection a moment ago")
            database = connections[DEFAULT_DB_ALIAS]
            params = database.get_connection_params()
            # Django's synchronous cursor class does not fit an asynchronous connection; its adapters
            # (`context`: time zone, JSON loaders) are kept, so values load as the ORM would load them.
            params.pop("cursor_factory", None)
            # Django turns psycopg's prepared statements off unless OPTIONS asks for them (for connection
            # poolers); this one statement, run for every batch, is prepared unless OPTIONS says otherwise.
            if "prepare_threshold" not in database.settings_dict["OPTIONS"]:
                params["prepare_threshold"] = 1
            try:
                self.connection = await psycopg.AsyncConnection.connect(**params, autocommit=True)
            except psycopg.OperationalError:
                health.record(False)
                raise
            health.record(True)
        return self.connection

    async def _drop_connection(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # noqa: S110 - closing a connection that is already broken
                pass

    async def close(self) -> None:
        if self.sending is not None and not self.sending.done():
            self.sending.cancel()
        for _, _, answer in self.pending:
            if not answer.done():
                answer.cancel()
        self.pending = []
        await self._drop_connection()
