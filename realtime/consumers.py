"""WebSocket endpoints (CONTRACT §4): `/ws/jobs` (every job of the user) and `/ws/jobs/{job_id}` (one job).

Connect order matters for "nothing lost": the socket joins its group *before* the snapshot is read, so an
event committed after that read is published after the join and reaches it; one committed before is in
the snapshot, and its live copy (same or lower `seq`) is dropped here. A live event that skips a `seq`
(a group message lost) is preceded by the stored events in between, read from the database.
"""

from __future__ import annotations

import abc
import json
import logging
from typing import Any

import psycopg
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

from config import metrics
from realtime import presence
from realtime import snapshots as snapshot_reader
from realtime.events import TERMINAL_TYPES, group_for_job, group_for_owner
from realtime.selectors import UserInactive, active_job_snapshots, db_read, job_snapshot_for, stored_events

logger = logging.getLogger(__name__)

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_NO_SUCH_JOB = 4404
CLOSE_TOO_MANY_SOCKETS = 4429
CLOSE_TRY_AGAIN_LATER = 1013

# What a snapshot read raises while the database cannot be reached: on the event loop (psycopg's own
# error) or on the database thread (Django's, or the pool's timeout).
DATABASE_DOWN = (psycopg.OperationalError, OperationalError, InterfaceError, PoolTimeout)

# `seen[job_id]` for a job whose terminal event went out: nothing for it is newer, so nothing is sent.
FINISHED = 2**62


class _JobEventsConsumer(AsyncJsonWebsocketConsumer, abc.ABC):
    """What both endpoints share: refusals, the per-user limit, ping, and in-order, once-only delivery."""

    user_id: int | None = None
    live = False
    group: str | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' default closes stale DB connections (a thread hop) before every message; our handlers
        # touch the database only through database_sync_to_async, which does that itself. Skipping it
        # keeps a live event's path free of threads.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        # Per socket state stays small (thousands of sockets per process): job id → highest seq sent.
        self.seen: dict[str, int] = {}
        # The handshake is answered once the snapshot is ready, so the 101 and the snapshot leave in one
        # write (twisted sends what a step wrote when the socket is next writable): one syscall less per
        # connect in a reconnect storm. Messages of the group that arrive before are not sent (`live`).
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_NOT_AUTHENTICATED)
            return
        group = self.group_for(user)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
            self.group = group
        except Exception as exc:
            logger.warning("websocket for user %s: channel layer unavailable: %s", user.pk, exc)
        try:
            snapshots = await self.snapshots(user)
        except UserInactive:
            # A ticket's user is checked here, in the snapshot's query (realtime/auth.py's TicketUser).
            await self.leave_groups()
            await self.refuse(CLOSE_NOT_AUTHENTICATED)
            return
        except DATABASE_DOWN as exc:
            # As when the channel layer is down: the client is asked to come back, nothing is logged as a crash.
            logger.warning("websocket for user %s: database unavailable: %s", user.pk, exc)
            await self.leave_groups()
            await self.refuse(CLOSE_TRY_AGAIN_LATER)
            return
        except BaseException:
            await self.leave_groups()
            await presence.settle()
            raise
        if not snapshots and self.job_id() is not None:
            await self.leave_groups()
            await self.refuse(CLOSE_NO_SUCH_JOB)
            return
        if not await presence.socket_slot_take(user_id=user.pk, channel_name=self.channel_name):
            await self.leave_groups()
            await self.refuse(CLOSE_TOO_MANY_SOCKETS)
            return
        self.user_id = user.pk
        await self.accept()
        for snapshot in snapshots:
            await self.send_json(snapshot)
            self.remember(snapshot)
        if self.group is None:
            # The snapshot is true; live news cannot come without the layer, so ask the client to come back.
            await self.close(CLOSE_TRY_AGAIN_LATER)
            return
        self.live = True
        presence.watch(self)

    async def refuse(self, code: int) -> None:
        # Refusals accept and then close with a code, so browsers and SPA clients can read why.
        await self.accept()
        await self.close(code)
        await presence.settle()

    async def snapshots(self, user) -> list[dict[str, Any]]:
        if snapshot_reader.available():
            # PostgreSQL: on the event loop, batched with the sockets connecting at the same moment.
            return await presence.snapshots_read(user_id=user.pk, job_id=self.job_id())
        return await db_read(self.read_snapshots)(user)

    async def disconnect(self, code: int) -> None:
        self.live = False
        await self.leave_groups()
        if self.user_id is not None:
            await presence.unwatch(self)
            await presence.socket_slot_release(user_id=self.user_id, channel_name=self.channel_name)
            self.user_id = None

    async def leave_groups(self) -> None:
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception as exc:
                logger.warning("could not leave %s: %s", self.group, exc)
            self.group = None

    # --- client → server ------------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    # --- channel layer → client -----------------------------------------------------------------------
    async def job_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        job_id, seq = event["job_id"], event["seq"]
        if not self.live or seq <= self.seen.get(job_id, 0):
            return
        if seq > self.seen.get(job_id, 0) + 1:
            await self.catch_up(job_id, before=seq)
            if seq <= self.seen.get(job_id, 0):
                return
        await self.send_json(event)
        metrics.event_delivered(event, via="socket")
        self.remember(event)

    async def job_resync(self, message: dict[str, Any]) -> None:
        """Sent by this process's presence task when a watched job moved on without us hearing of it."""
        if self.live and self.seen.get(message["job_id"]) != FINISHED:
            await self.catch_up(message["job_id"], before=None)

    async def catch_up(self, job_id: str, *, before: int | None) -> None:
        events = await db_read(stored_events)(
            job_id=job_id, after=self.seen.get(job_id, 0), before=before
        )
        for event in events:
            if event["seq"] <= self.seen.get(job_id, 0):
                continue
            await self.send_json(event)
            self.remember(event)

    def remember(self, event: dict[str, Any]) -> None:
        terminal = event["type"] in TERMINAL_TYPES or (event["type"] == "job.snapshot" and _is_terminal(event))
        self.seen[event["job_id"]] = FINISHED if terminal else event["seq"]

    def lagging_jobs(self) -> dict[str, int]:
        return {job_id: seq for job_id, seq in self.seen.items() if seq != FINISHED}

    # --- per endpoint ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def group_for(self, user) -> str:
        """The Channels group this endpoint listens to."""

    @abc.abstractmethod
    def job_id(self):
        """The job the endpoint follows, or None for all the user's active jobs."""

    @abc.abstractmethod
    def read_snapshots(self, user) -> list[dict[str, Any]]:
        """The snapshots to send on connect, read through the ORM (SQLite). None of a job the endpoint
        follows refuses the socket with 4404."""


def _is_terminal(snapshot: dict[str, Any]) -> bool:
    return snapshot.get("job", {}).get("status") in {"SUCCEEDED", "FAILED", "CANCELED"}


class JobConsumer(_JobEventsConsumer):
    """`/ws/jobs/{job_id}`: that job's snapshot on connect (also when finished), then its events."""

    def group_for(self, user) -> str:
        return group_for_job(self.job_id())

    def job_id(self):
        return self.scope["url_route"]["kwargs"]["job_id"]

    def read_snapshots(self, user) -> list[dict[str, Any]]:
        snapshot = job_snapshot_for(user=user, job_id=self.job_id())
        return [] if snapshot is None else [snapshot]


class OwnerJobsConsumer(_JobEventsConsumer):
    """`/ws/jobs`: a snapshot per PENDING/RUNNING job on connect, then every event of every job of the user."""

    def group_for(self, user) -> str:
        return group_for_owner(user.pk)

    def job_id(self):
        return None

    def read_snapshots(self, user) -> list[dict[str, Any]]:
        return active_job_snapshots(user=user)


class UnknownPathConsumer(AsyncJsonWebsocketConsumer):
    """Any /ws/ path no route matched: accept, then close 4404, instead of failing the handshake with a 500."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=4404)
