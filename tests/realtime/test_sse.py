"""`GET /api/jobs/{id}/events` through Django's async stack, the real database and the real channel layer.

The disconnect/reconnect test with a real streaming HTTP client against daphne is in tests/e2e.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from rest_framework.authtoken.models import Token

from jobs import services
from realtime.tickets import ticket_issue

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def parse_frames(text: str) -> list[dict]:
    """SSE frames as dicts: `id`, `event`, `data` (decoded) or `comment`."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        frame: dict = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                frame["comment"] = line[1:].strip()
            else:
                name, _, value = line.partition(": ")
                frame[name] = json.loads(value) if name == "data" else value
        frames.append(frame)
    return frames


async def read_all(response) -> str:
    chunks = [chunk async for chunk in response.streaming_content]
    return b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode()


async def token_header(user) -> dict:
    token, _ = await database_sync_to_async(Token.objects.get_or_create)(user=user)
    return {"Authorization": f"Token {token.key}"}


async def test_anonymous_stream_is_refused_with_401():
    response = await AsyncClient().get("/api/jobs/00000000-0000-4000-8000-000000000000/events")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


async def test_another_users_job_stream_is_404(owner_job, stranger):
    response = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events", headers=await token_header(stranger))
    assert response.status_code == 404


async def test_other_methods_on_the_stream_get_json_404_or_405(owner_job, owner, stranger):
    url = f"/api/jobs/{owner_job.pk}/events"
    foreign = await AsyncClient().post(url, headers=await token_header(stranger))
    assert foreign.status_code == 404
    own = await AsyncClient().post(url, headers=await token_header(owner))
    assert own.status_code == 405
    assert own["Allow"] == "GET"
    assert own.json()["errors"][0]["code"] == "method_not_allowed"


async def test_api_token_in_the_url_is_refused_with_401(owner, owner_job):
    key = (await token_header(owner))["Authorization"].split()[1]
    response = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={key}")
    assert response.status_code == 401


async def test_bad_timeout_is_refused_with_400_naming_the_parameter(owner, owner_job):
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events?timeout=601", headers=await token_header(owner)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timeout"


async def test_new_stream_of_a_finished_job_sends_its_snapshot_and_ends(owner, owner_job):
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    ticket = await database_sync_to_async(ticket_issue)(user=owner)
    response = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={ticket}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    frames = parse_frames(await read_all(response))
    assert [(f["id"], f["event"]) for f in frames] == [("2", "job.snapshot")]
    assert frames[0]["data"]["job"]["status"] == "CANCELED"


async def test_resumed_stream_replays_what_it_missed_and_ends_for_a_finished_job(owner, owner_job):
    for percent in (10.0, 20.0):
        await database_sync_to_async(services.job_progress_record)(
            job_id=owner_job.pk, attempt=1, phase="ENCODE", progress=percent, message="Encoding"
        )
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events", headers={**await token_header(owner), "Last-Event-ID": "2"}
    )
    frames = parse_frames(await read_all(response))
    assert [(f["id"], f["event"]) for f in frames] == [("3", "job.progress"), ("4", "job.canceled")]
    assert frames[0]["data"]["progress"] == 20.0


async def test_last_event_id_query_parameter_resumes_like_the_header(owner, owner_job):
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events?last_event_id=1", headers=await token_header(owner)
    )
    assert [f["event"] for f in parse_frames(await read_all(response))] == ["job.canceled"]


async def test_live_events_follow_the_snapshot_until_the_terminal_event(owner, owner_job):
    response = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events", headers=await token_header(owner))
    stream = response.streaming_content.__aiter__()
    # The snapshot is sent after the stream joined the job's group: events from here on are live ones.
    first = await asyncio.wait_for(stream.__anext__(), 10)
    await database_sync_to_async(services.job_progress_record)(
        job_id=owner_job.pk, attempt=1, phase="ENCODE", progress=50.0, message="Half way"
    )
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    rest = [chunk async for chunk in stream]
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in [first, *rest]).decode()
    frames = parse_frames(text)
    assert [(f["id"], f["event"]) for f in frames] == [
        ("1", "job.snapshot"), ("2", "job.progress"), ("3", "job.canceled"),
    ]


async def test_idle_stream_sends_keep_alives_and_closes_after_its_timeout(owner, owner_job, settings):
    settings.REALTIME_SSE_KEEPALIVE = 0.4
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events?timeout=1", headers=await token_header(owner)
    )
    frames = parse_frames(await asyncio.wait_for(read_all(response), 10))
    assert frames[0]["event"] == "job.snapshot"
    assert {"comment": "keep-alive"} in frames[1:]
