"""WebSocket consumers through the real ASGI application, real PostgreSQL and the real Redis channel layer."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core import signing
from rest_framework.authtoken.models import Token

from jobs import services
from jobs.models import JobEvent, RenderJob
from realtime import events as rt
from tests.factories import UserFactory
from tests.realtime.conftest import close_code, open_socket, running_job, session_cookie, ticket_for

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PROGRESS_KEYS = {"type", "job_id", "project_id", "seq", "ts", "status", "progress", "phase", "message", "eta_seconds"}


async def record_progress(job, percent: float, message: str = "Encoding"):
    return await database_sync_to_async(services.job_progress_record)(
        job_id=job.pk, attempt=job.attempt, phase="ENCODE", progress=percent, message=message
    )


async def next_events(communicator, count: int) -> list[dict]:
    return [await communicator.receive_json_from(timeout=5) for _ in range(count)]


# --- who may connect -------------------------------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_4401():
    communicator = await open_socket("/ws/jobs")
    assert await close_code(communicator) == 4401


async def test_session_cookie_opens_the_socket_with_the_job_snapshot(owner, owner_job):
    cookie = await database_sync_to_async(session_cookie)(owner)
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}", headers=[cookie])
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["type"] == "job.snapshot"
    assert snapshot["job_id"] == str(owner_job.pk)
    assert snapshot["seq"] == owner_job.last_seq
    assert snapshot["job"]["status"] == "RUNNING"
    await communicator.disconnect()


async def test_ticket_opens_the_socket(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    assert (await communicator.receive_json_from(timeout=5))["type"] == "job.snapshot"
    await communicator.disconnect()


async def test_expired_ticket_is_refused_with_4401(owner, owner_job, monkeypatch):
    issued_long_ago = signing.b62_encode(int(time.time()) - 3600)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: issued_long_ago)
    ticket = await ticket_for(owner)
    monkeypatch.undo()
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    assert await close_code(communicator) == 4401


async def test_tampered_ticket_is_refused_with_4401(owner, owner_job, stranger):
    ticket = await ticket_for(stranger)
    payload, _, rest = ticket.partition(":")
    other_payload = (await ticket_for(owner)).partition(":")[0]
    assert other_payload != payload
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={other_payload}:{rest}")
    assert await close_code(communicator) == 4401


async def test_api_token_in_the_url_is_refused_with_4401(owner, owner_job):
    token, _ = await database_sync_to_async(Token.objects.get_or_create)(user=owner)
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={token.key}")
    assert await close_code(communicator) == 4401


@pytest.mark.parametrize("path", ["/ws/jobs/{job_id}", "/ws/jobs"])
async def test_ticket_of_a_deactivated_user_is_refused_with_4401_and_no_snapshot(owner, owner_job, path):
    ticket = await ticket_for(owner)
    owner.is_active = False
    await database_sync_to_async(owner.save)(update_fields=["is_active"])
    communicator = await open_socket(f"{path.format(job_id=owner_job.pk)}?token={ticket}")
    assert await close_code(communicator) == 4401


async def test_ticket_of_a_deleted_user_is_refused_with_4401(owner, owner_job, stranger):
    ticket = await ticket_for(stranger)
    await database_sync_to_async(stranger.delete)()
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    assert await close_code(communicator) == 4401


async def test_bad_ticket_is_refused_even_with_a_valid_session_cookie(owner, owner_job):
    cookie = await database_sync_to_async(session_cookie)(owner)
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token=nonsense", headers=[cookie])
    assert await close_code(communicator) == 4401


async def test_another_users_job_is_closed_with_4404_before_any_message(owner_job, stranger):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(stranger)}")
    await record_progress(owner_job, 10.0)
    assert await close_code(communicator) == 4404
    assert await communicator.receive_nothing(timeout=0.5)


async def test_unknown_job_is_closed_with_4404(owner):
    communicator = await open_socket(f"/ws/jobs/00000000-0000-4000-8000-000000000000?token={await ticket_for(owner)}")
    assert await close_code(communicator) == 4404


async def test_socket_over_the_per_user_limit_is_closed_with_4429(owner, owner_job, settings):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 2
    ticket = await ticket_for(owner)
    first = await open_socket(f"/ws/jobs?token={ticket}")
    second = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    for communicator in (first, second):  # fully connected (and counted) before the next one knocks
        assert (await communicator.receive_json_from(timeout=5))["type"] == "job.snapshot"
    third = await open_socket(f"/ws/jobs?token={ticket}")
    assert await close_code(third) == 4429
    await first.disconnect()
    # A slot freed by a closed socket can be used again.
    fourth = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    assert (await fourth.receive_json_from(timeout=5))["type"] == "job.snapshot"
    await second.disconnect()
    await fourth.disconnect()


# --- client messages -------------------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(owner):
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def test_unknown_message_gets_an_error_and_the_socket_stays_open(owner):
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    await communicator.send_json_to({"type": "subscribe", "job_id": "x"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "error", "code": "unknown_message"}
    await communicator.send_to(text_data="not json at all")
    assert await communicator.receive_json_from(timeout=5) == {"type": "error", "code": "unknown_message"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


# --- what is sent ----------------------------------------------------------------------------------------


async def test_owner_socket_gets_one_snapshot_per_active_job_only(owner):
    active = await database_sync_to_async(running_job)(owner)
    finished = await database_sync_to_async(running_job)(owner)
    await database_sync_to_async(services.job_mark_canceled)(job_id=finished.pk)
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    snapshot = await communicator.receive_json_from(timeout=5)
    assert (snapshot["type"], snapshot["job_id"]) == ("job.snapshot", str(active.pk))
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_finished_job_socket_receives_its_snapshot_showing_the_outcome(owner, owner_job):
    await database_sync_to_async(services.job_fail)(
        job_id=owner_job.pk, error_code="RENDER_FAILED", error_message="clip c1 on track v1: the encoder stopped"
    )
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["type"] == "job.snapshot"
    assert snapshot["job"]["status"] == "FAILED"
    assert snapshot["job"]["error_code"] == "RENDER_FAILED"
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_progress_reaches_the_job_and_the_owner_sockets_in_order(owner, owner_job):
    ticket = await ticket_for(owner)
    job_socket = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    owner_socket = await open_socket(f"/ws/jobs?token={ticket}")
    for communicator in (job_socket, owner_socket):
        assert (await communicator.receive_json_from(timeout=5))["type"] == "job.snapshot"
    for percent in (10.0, 20.0, 30.0):
        await record_progress(owner_job, percent, f"Encoding {percent}")
    for communicator in (job_socket, owner_socket):
        received = await next_events(communicator, 3)
        assert [event["seq"] for event in received] == [owner_job.last_seq + n for n in (1, 2, 3)]
        assert [event["progress"] for event in received] == [10.0, 20.0, 30.0]
        assert all(set(event) == PROGRESS_KEYS for event in received)
        await communicator.disconnect()


async def test_live_event_not_newer_than_the_snapshot_is_dropped(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    snapshot = await communicator.receive_json_from(timeout=5)
    stale = await database_sync_to_async(lambda: JobEvent.objects.get(job=owner_job, seq=snapshot["seq"]).payload)()
    await get_channel_layer().group_send(rt.group_for_job(owner_job.pk), {"type": "job.event", "event": stale})
    assert await communicator.receive_nothing(timeout=0.5)
    await record_progress(owner_job, 50.0)
    assert (await communicator.receive_json_from(timeout=5))["seq"] == snapshot["seq"] + 1
    await communicator.disconnect()


def _store_without_publishing(job_id, percent: float) -> dict:
    """An event stored the way the service stores it, whose group message then never arrives."""
    job = RenderJob.objects.get(pk=job_id)
    job.last_seq += 1
    job.progress = percent
    job.save(update_fields=["last_seq", "progress"])
    event = rt.event_progress(job, seq=job.last_seq, ts=job.updated_at)
    JobEvent.objects.create(job=job, seq=job.last_seq, type=event["type"], payload=event)
    return event


async def test_a_lost_group_message_is_filled_in_from_the_database(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    await database_sync_to_async(_store_without_publishing)(owner_job.pk, 25.0)
    await record_progress(owner_job, 40.0)
    received = await next_events(communicator, 2)
    assert [(event["seq"], event["progress"]) for event in received] == [(owner_job.last_seq + 1, 25.0),
                                                                          (owner_job.last_seq + 2, 40.0)]
    await communicator.disconnect()


async def test_a_lost_terminal_event_still_reaches_a_connected_socket(owner, owner_job, settings):
    settings.REALTIME_RESYNC_INTERVAL = 0.3
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)

    def cancel_unheard():
        job = RenderJob.objects.get(pk=owner_job.pk)
        job.status, job.last_seq = RenderJob.Status.CANCELED, job.last_seq + 1
        job.save(update_fields=["status", "last_seq"])
        event = rt.event_canceled(job, seq=job.last_seq, ts=job.updated_at)
        JobEvent.objects.create(job=job, seq=job.last_seq, type=event["type"], payload=event)

    await database_sync_to_async(cancel_unheard)()
    event = await communicator.receive_json_from(timeout=5)
    assert (event["type"], event["seq"]) == ("job.canceled", owner_job.last_seq + 1)
    await communicator.disconnect()


async def test_failed_job_sends_job_failed_with_the_contract_fields(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    await database_sync_to_async(services.job_fail)(
        job_id=owner_job.pk, error_code="MEDIA_UNREADABLE", error_message="clip c2 on track v1: cannot be read"
    )
    event = await communicator.receive_json_from(timeout=5)
    assert event == {
        "type": "job.failed", "job_id": str(owner_job.pk), "project_id": str(owner_job.project_id),
        "seq": owner_job.last_seq + 1,
        "ts": event["ts"], "error_code": "MEDIA_UNREADABLE", "error_message": "clip c2 on track v1: cannot be read",
        "retryable": False,
    }
    assert event["ts"].endswith("Z")
    await communicator.disconnect()


async def test_canceled_job_sends_job_canceled_with_the_contract_fields(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    event = await communicator.receive_json_from(timeout=5)
    assert set(event) == {"type", "job_id", "project_id", "seq", "ts"}
    assert (event["type"], event["job_id"], event["seq"]) == ("job.canceled", str(owner_job.pk), owner_job.last_seq + 1)
    await communicator.disconnect()


async def test_nothing_is_sent_for_a_job_after_its_terminal_event(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    await database_sync_to_async(services.job_mark_canceled)(job_id=owner_job.pk)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "job.canceled"
    first = await database_sync_to_async(lambda: JobEvent.objects.get(job=owner_job, seq=1).payload)()
    late = {**first, "seq": owner_job.last_seq + 2}  # newer than the terminal event (last_seq + 1)
    await get_channel_layer().group_send(rt.group_for_job(owner_job.pk), {"type": "job.event", "event": late})
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_a_strangers_owner_socket_hears_nothing_of_the_owners_jobs(owner, owner_job):
    other = await database_sync_to_async(UserFactory)(username="other")
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(other)}")
    # Positive control: the owner's socket, open at the same time, does hear the event.
    control = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    assert (await control.receive_json_from(timeout=5))["type"] == "job.snapshot"
    await record_progress(owner_job, 60.0)
    heard = await control.receive_json_from(timeout=5)
    assert heard["type"] == "job.progress" and heard["progress"] == 60.0
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
    await control.disconnect()


async def test_unknown_websocket_path_closes_with_4404(owner):
    cookie = await database_sync_to_async(session_cookie)(owner)
    communicator = await open_socket("/ws/jobs/not-a-uuid", headers=[cookie])
    assert await close_code(communicator) == 4404
    communicator = await open_socket("/ws/nothing")
    assert await close_code(communicator) == 4404
