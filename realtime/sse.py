"""`GET /api/jobs/{id}/events`: Server-Sent Events per CONTRACT §5.

An async view: daphne serves each stream as a coroutine on its event loop, so an open stream costs a
little memory and no thread. The stream subscribes to the job's group *before* it reads the database,
then sends the snapshot (new stream) or every stored event after `Last-Event-ID` (resumed stream), then
live events. Every event goes out once, in `seq` order: anything not newer than the last id sent is
dropped, a gap in live events is filled from the database first, and when the stream has heard nothing
for `REALTIME_RESYNC_INTERVAL` it asks the database whether it missed something (a lost group message).
Without a channel layer (Redis down) the stream still works, by asking the database at that interval.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from psycopg_pool import PoolTimeout

from config import metrics
from config.exceptions import database_unavailable_body, error_body
from jobs.models import RenderJob
from realtime.events import GROUP_MESSAGE_TYPE, TERMINAL_TYPES, group_for_job
from realtime.selectors import db_read, stored_events, stream_opening
from realtime.sse_slots import sse_slot_refresh, sse_slot_release, sse_slot_take
from realtime.tickets import ticket_user_for_stream

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300
# How often an open stream re-confirms its slot in the per-user limit (well inside sse_slots.STALE_AFTER).
SLOT_REFRESH_SECONDS = 15.0
MAX_TIMEOUT = 600


class _BadParameter(Exception):
    def __init__(self, attr: str, detail: str) -> None:
        super().__init__(detail)
        self.attr, self.detail = attr, detail


def _error(status: int, code: str, detail: str, attr: str | None = None, **headers: str) -> JsonResponse:
    response = JsonResponse(
        error_body(status_code=status, code=code.upper(), detail=detail, attr=attr, item_code=code), status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _token_user(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else None


async def _authenticate(request: HttpRequest, job_id):
    """The ticket when `?token=` is given (and only it), else a DRF token header, else the session.

    A ticket that opened this job's stream keeps resuming it for the life of the job (realtime/tickets.py).
    """
    if "token" in request.GET:
        return await db_read(ticket_user_for_stream)(request.GET["token"], job_id=job_id)
    header = request.headers.get("Authorization")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "token" or not key.strip():
            return None
        return await db_read(_token_user)(key.strip())
    user = await request.auser()
    return user if user.is_authenticated else None


def _timeout(request: HttpRequest) -> float:
    raw = request.GET.get("timeout")
    if raw is None or raw == "":
        return float(DEFAULT_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        raise _BadParameter("timeout", f"timeout must be a number of seconds, got {raw[:20]!r}.") from None
    if not 1 <= value <= MAX_TIMEOUT:
        raise _BadParameter("timeout", f"timeout must be between 1 and {MAX_TIMEOUT} seconds, got {raw[:20]}.")
    return value


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID")
    attr = "Last-Event-ID"
    if raw is None or raw.strip() == "":
        raw, attr = request.GET.get("last_event_id"), "last_event_id"
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise _BadParameter(attr, f"{attr} must be an event id (a whole number), got {raw[:20]!r}.") from None
    if value < 0:
        raise _BadParameter(attr, f"{attr} must not be negative, got {value}.")
    return value


def _visible(user, job_id) -> bool:
    return RenderJob.objects.visible_to(user).filter(pk=job_id).exists()


@csrf_exempt  # read-only; other methods get a JSON 404/405 instead of Django's HTML CSRF page
async def job_events(request: HttpRequest, job_id) -> HttpResponse:
    try:
        return await _job_events(request, job_id)
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        logger.warning("SSE for job %s: database unavailable: %s", job_id, exc)
        response = JsonResponse(database_unavailable_body(), status=503)
        response["Retry-After"] = "5"
        return response


async def _job_events(request: HttpRequest, job_id) -> HttpResponse:
    user = await _authenticate(request, job_id)
    if user is None:
        return _error(401, "not_authenticated", "Authentication credentials were not provided or are not valid.",
                      WWW_Authenticate="Token")
    if request.method not in ("GET", "HEAD"):
        if not await db_read(_visible)(user, job_id):
            return _error(404, "not_found", "No such job.")
        return _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.', Allow="GET")
    try:
        timeout = _timeout(request)
        last_event_id = _last_event_id(request)
    except _BadParameter as exc:
        return _error(400, "invalid", exc.detail, exc.attr)
    if not await db_read(_visible)(user, job_id):
        return _error(404, "not_found", "No such job.")
    if request.method == "HEAD":
        slot = None
    else:
        slot = await sse_slot_take(user_id=user.pk)
        if slot is None:
            return _error(429, "too_many_streams",
                          f"You already have {settings.REALTIME_MAX_SSE_PER_USER} event streams open; "
                          "close one (or use the WebSocket /ws/jobs for all your jobs).", Retry_After="15")
    response = StreamingHttpResponse(
        _event_stream(str(job_id), last_event_id=last_event_id, timeout=timeout, user_id=user.pk, slot=slot),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _frame(event: dict[str, Any]) -> str:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"


class _Subscription:
    """This stream's channel in the job's group; messages land in `inbox` (a cancel-safe local queue)."""

    def __init__(self, job_id: str) -> None:
        self.group = group_for_job(job_id)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.pump: asyncio.Task | None = None

    async def open(self) -> bool:
        if self.layer is None:
            return False
        try:
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(self.group, self.channel)
        except Exception as exc:
            logger.warning("SSE for %s: channel layer unavailable, reading the database instead: %s", self.group, exc)
            await self.close()
            return False
        self.pump = asyncio.get_running_loop().create_task(self._pump())
        return True

    async def _pump(self) -> None:
        # The pub/sub layer treats a cancelled receive() as the end of the channel, so waiting with a
        # timeout happens on our own queue, never on receive() itself.
        while True:
            self.inbox.put_nowait(await self.layer.receive(self.channel))

    async def close(self) -> None:
        if self.pump is not None:
            self.pump.cancel()
            try:
                await self.pump
            except BaseException:  # noqa: S110 - the pump ends by cancellation (or with the layer's error)
                pass
            self.pump = None
        if self.channel is not None:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception as exc:
                logger.warning("SSE could not leave %s: %s", self.group, exc)
            self.channel = None


async def _event_stream(job_id: str, *, last_event_id: int | None, timeout: float, user_id: int | None = None,
                        slot: str | None = None) -> AsyncIterator[str]:
    subscription = _Subscription(job_id)
    live = await subscription.open()
    metrics.sse_streams_add(1)
    try:
        opening = await db_read(stream_opening)(job_id=job_id, last_event_id=last_event_id)
        for event in opening.events:
            yield _frame(event)
        if opening.finished:
            return
        seq = opening.seq
        check_every = settings.REALTIME_RESYNC_INTERVAL
        keepalive_every = settings.REALTIME_SSE_KEEPALIVE
        now = time.monotonic()
        idle_until, keepalive_at, check_at = now + timeout, now + keepalive_every, now + check_every
        refresh_at = now + SLOT_REFRESH_SECONDS
        while True:
            wait = max(0.0, min(idle_until, keepalive_at, check_at) - time.monotonic())
            message = None
            if live:
                try:
                    message = await asyncio.wait_for(subscription.inbox.get(), wait)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(wait)
            pending: list[dict[str, Any]] = []
            if message is not None and message.get("type") == GROUP_MESSAGE_TYPE:
                event = message["event"]
                if event["seq"] > seq + 1:
                    pending = await db_read(stored_events)(job_id=job_id, after=seq, before=event["seq"])
                pending.append(event)
            elif time.monotonic() >= check_at:
                pending = await db_read(stored_events)(job_id=job_id, after=seq)
                check_at = time.monotonic() + check_every
            now = time.monotonic()
            for event in pending:
                if event["seq"] <= seq:
                    continue
                yield _frame(event)
                metrics.event_delivered(event, via="sse")
                seq = event["seq"]
                idle_until, keepalive_at, check_at = now + timeout, now + keepalive_every, now + check_every
                if event["type"] in TERMINAL_TYPES:
                    return
            if now >= idle_until:
                return
            if now >= keepalive_at:
                yield ": keep-alive\n\n"
                keepalive_at = now + keepalive_every
            if slot is not None and now >= refresh_at:
                await sse_slot_refresh(user_id=user_id, slot=slot)
                refresh_at = now + SLOT_REFRESH_SECONDS
    finally:
        metrics.sse_streams_add(-1)
        await subscription.close()
        if slot is not None:
            await sse_slot_release(user_id=user_id, slot=slot)
