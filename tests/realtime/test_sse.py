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
    assert [(f["id"], f["event"]) for f in frames] == [(str(owner_job.last_seq + 1), "job.snapshot")]
    assert frames[0]["data"]["job"]["status"] == "CANCELED"


async def test_resumed_stream_replays_what_it_missed_and_ends_for_a_finished_job(owner, owner_job):
    for percent in (10.0, 20.0):
        await database_sync_to_async(services.job_progress_record)(
            job_id=owner_job.pk, attempt=1, phase="ENCODE", progress=percent, message="Encoding"
        )
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    seen = owner_job.last_seq + 1  # the client saw the claim's event and the 10 % one
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events", headers={**await token_header(owner), "Last-Event-ID": str(seen)}
    )
    frames = parse_frames(await read_all(response))
    assert [(f["id"], f["event"]) for f in frames] == [(str(seen + 1), "job.progress"), (str(seen + 2), "job.canceled")]
    assert frames[0]["data"]["progress"] == 20.0


async def test_last_event_id_query_parameter_resumes_like_the_header(owner, owner_job):
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events?last_event_id={owner_job.last_seq}", headers=await token_header(owner)
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
    claimed = owner_job.last_seq
    assert [(f["id"], f["event"]) for f in frames] == [
        (str(claimed), "job.snapshot"), (str(claimed + 1), "job.progress"), (str(claimed + 2), "job.canceled"),
    ]


async def test_idle_stream_sends_keep_alives_and_closes_after_its_timeout(owner, owner_job, settings):
    settings.REALTIME_SSE_KEEPALIVE = 0.4
    response = await AsyncClient().get(
        f"/api/jobs/{owner_job.pk}/events?timeout=1", headers=await token_header(owner)
    )
    frames = parse_frames(await asyncio.wait_for(read_all(response), 10))
    assert frames[0]["event"] == "job.snapshot"
    assert {"comment": "keep-alive"} in frames[1:]


# --- tickets that keep resuming one stream, and the per-user stream limit ----------------------------------


async def test_an_expired_ticket_keeps_resuming_the_stream_it_opened_and_nothing_else(owner, owner_job, settings):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import RenderJob
    from tests.realtime.conftest import close_code, open_socket, running_job

    ticket = await database_sync_to_async(ticket_issue)(user=owner)
    other_job = await database_sync_to_async(running_job)(owner)
    first = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={ticket}&timeout=1")
    assert first.status_code == 200
    await read_all(first)  # the server closes the idle stream after 1 s

    settings.REALTIME_TICKET_TTL = 0  # every ticket is now past its lifetime
    resumed = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={ticket}&timeout=1",
                                      headers={"Last-Event-ID": "1"})
    assert resumed.status_code == 200
    await read_all(resumed)
    # Bound to this job's stream only: another job's stream and the sockets need a fresh ticket.
    elsewhere = await AsyncClient().get(f"/api/jobs/{other_job.pk}/events?token={ticket}")
    assert elsewhere.status_code == 401
    socket = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    assert await close_code(socket) == 4401
    # An expired ticket that never opened a stream opens none.
    unused = await database_sync_to_async(ticket_issue)(user=owner)
    assert (await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={unused}")).status_code == 401
    # Long after the job ended, the binding is no longer honoured.
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    await database_sync_to_async(RenderJob.objects.filter(pk=owner_job.pk).update)(
        finished_at=timezone.now() - timedelta(hours=1))
    late = await AsyncClient().get(f"/api/jobs/{owner_job.pk}/events?token={ticket}", headers={"Last-Event-ID": "1"})
    assert late.status_code == 401


async def test_streams_per_user_are_capped_with_429(owner, owner_job, stranger, settings, redis_conn):
    from tests.realtime.conftest import running_job

    settings.REALTIME_MAX_SSE_PER_USER = 2
    headers = await token_header(owner)
    url = f"/api/jobs/{owner_job.pk}/events"
    open_streams = [await AsyncClient().get(url, headers=headers) for _ in range(2)]
    assert [r.status_code for r in open_streams] == [200, 200]
    refused = await AsyncClient().get(url, headers=headers)
    assert refused.status_code == 429 and refused["Retry-After"]
    body = refused.json()
    assert body["code"] == "TOO_MANY_STREAMS" and body["errors"][0]["code"] == "too_many_streams"
    # Another user is not affected.
    stranger_job = await database_sync_to_async(running_job)(stranger)
    theirs = await AsyncClient().get(f"/api/jobs/{stranger_job.pk}/events", headers=await token_header(stranger))
    assert theirs.status_code == 200
    # Streams that end give their slot back.
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    for response in open_streams:
        await read_all(response)
    again = await AsyncClient().get(url, headers=headers)
    assert again.status_code == 200
    await read_all(again)
    await database_sync_to_async(services.job_mark_canceled)(job_id=stranger_job.pk)
    await read_all(theirs)
