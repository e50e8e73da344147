"""Snapshots read on the event loop (realtime/snapshots.py): batched, correct per socket, no thread hop.

Real PostgreSQL, the real Redis channel layer and the real ASGI application, as in test_consumers.py.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections

from jobs import services
from jobs.models import RenderJob
from realtime import consumers, presence
from realtime import snapshots as snapshot_reader
from tests.factories import UserFactory
from tests.realtime.conftest import close_code, open_socket, running_job, ticket_for

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fetches(monkeypatch):
    """How many queries the reader sent, and for how many sockets each (the real method still runs)."""
    sizes: list[int] = []
    real = snapshot_reader.SnapshotReader._answer

    async def counted(self, batch, *, one_job):
        sizes.append(len(batch))
        return await real(self, batch, one_job=one_job)

    monkeypatch.setattr(snapshot_reader.SnapshotReader, "_answer", counted)
    return sizes


async def first_message(communicator) -> dict:
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return message


async def test_sockets_connecting_together_share_a_query_and_each_get_their_own_answer(fetches):
    def given():
        owner, other, gone = UserFactory(), UserFactory(), UserFactory()
        jobs = [running_job(owner) for _ in range(3)]
        other_job = running_job(other)
        for percent in (10.0, 20.0):
            services.job_progress_record(job_id=jobs[0].pk, attempt=1, phase="ENCODE", progress=percent,
                                         message=f"Encoding {percent:.0f} %")
        gone.is_active = False
        gone.save()
        return owner, other, gone, jobs, other_job

    owner, other, gone, jobs, other_job = await database_sync_to_async(given)()
    owner_ticket, other_ticket, gone_ticket = [await ticket_for(user) for user in (owner, other, gone)]
    wanted = (
        [(f"/ws/jobs/{job.pk}?token={owner_ticket}", ("snapshots", [str(job.pk)])) for job in jobs] * 5
        + [(f"/ws/jobs?token={owner_ticket}", ("snapshots", [str(job.pk) for job in jobs]))] * 3
        + [(f"/ws/jobs/{other_job.pk}?token={other_ticket}", ("snapshots", [str(other_job.pk)]))] * 3
        + [(f"/ws/jobs/{other_job.pk}?token={owner_ticket}", ("closed", 4404))] * 3
        + [(f"/ws/jobs/{jobs[0].pk}?token={gone_ticket}", ("closed", 4401))] * 3
        + [(f"/ws/jobs?token={gone_ticket}", ("closed", 4401))] * 2
    )

    async def outcome(path: str, expected):
        communicator = await open_socket(path)
        if expected[0] == "closed":
            return "closed", await close_code(communicator)
        messages = [await communicator.receive_json_from(timeout=5) for _ in expected[1]]
        await communicator.disconnect()
        assert all(message["type"] == "job.snapshot" for message in messages)
        return "snapshots", [message["job_id"] for message in messages]

    got = await asyncio.gather(*(outcome(path, expected) for path, expected in wanted))

    assert list(got) == [expected for _, expected in wanted]
    assert sum(fetches) == len(wanted)
    assert len(fetches) < len(wanted) and max(fetches) > 1, f"no two sockets shared a query: {fetches}"


def finished_with_result(job, *, tracks: list[dict]) -> None:
    RenderJob.objects.filter(pk=job.pk).update(
        status="SUCCEEDED", progress=100.0, result_file=f"renders/{job.pk}.mp4", result_sha256="ab" * 32,
        result_size_bytes=9, result_duration=2.0, result_width=320, result_height=180,
        timeline={**job.timeline, "tracks": tracks},
    )


async def test_the_snapshot_is_what_the_orm_path_reads(owner, owner_job, monkeypatch):
    """The same snapshot, field for field, as the ORM on the database thread (SQLite's path) reads it;
    finished jobs with and without a captions track included (the timeline itself is not read)."""
    await database_sync_to_async(services.job_progress_record)(
        job_id=owner_job.pk, attempt=owner_job.attempt, phase="ENCODE", progress=42.5, message="Encoding é 한"
    )

    def finished_jobs():
        captioned, plain = running_job(owner), running_job(owner)
        finished_with_result(captioned, tracks=[{"id": "v1", "kind": "video", "clips": []},
                                                {"id": "c1", "kind": "captions", "cues": []}])
        finished_with_result(plain, tracks=[{"id": "v1", "kind": "video", "clips": []}])
        return captioned, plain

    captioned, plain = await database_sync_to_async(finished_jobs)()
    ticket = await ticket_for(owner)
    paths = [f"/ws/jobs/{job.pk}?token={ticket}" for job in (owner_job, captioned, plain)]
    paths.append(f"/ws/jobs?token={ticket}")
    on_the_loop = [await first_message(await open_socket(path)) for path in paths]
    monkeypatch.setattr(snapshot_reader, "available", lambda: False)
    through_the_orm = [await first_message(await open_socket(path)) for path in paths]

    assert on_the_loop == through_the_orm
    assert on_the_loop[0]["log"][-1]["message"] == "Encoding é 한"
    assert on_the_loop[0]["job"]["progress"] == 42.5
    assert on_the_loop[1]["job"]["captions_url"] == f"/api/jobs/{captioned.pk}/captions.vtt"
    assert on_the_loop[1]["job"]["captions_srt_url"] == f"/api/jobs/{captioned.pk}/captions.srt"
    assert on_the_loop[2]["job"]["captions_url"] is None
    assert on_the_loop[2]["job"]["result"]["download_url"] == f"/api/jobs/{plain.pk}/result"


async def test_a_connect_needs_no_database_thread(owner, owner_job, monkeypatch):
    def no_thread(func):
        raise AssertionError(f"{func.__name__} was sent to the database thread")

    monkeypatch.setattr(consumers, "db_read", no_thread)
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    assert (await first_message(communicator))["seq"] == owner_job.last_seq


async def test_the_batch_query_is_a_prepared_statement(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    reader = presence._for_loop().snapshots
    cursor = await reader.connection.execute("SELECT statement FROM pg_prepared_statements")
    statements = [row[0] for row in await cursor.fetchall()]
    await communicator.disconnect()
    assert any("WITH ORDINALITY" in statement for statement in statements), statements


async def test_a_connection_broken_while_idle_is_replaced(owner, owner_job):
    ticket = await ticket_for(owner)
    holding = await open_socket(f"/ws/jobs?token={ticket}")  # keeps the process's reader open
    assert (await holding.receive_json_from(timeout=5))["type"] == "job.snapshot"
    reader = presence._for_loop().snapshots
    backend = reader.connection.info.backend_pid

    def terminate():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])

    await database_sync_to_async(terminate)()
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")

    assert (await first_message(communicator))["job_id"] == str(owner_job.pk)
    assert reader.connection.info.backend_pid != backend
    await holding.disconnect()


async def test_the_reader_connection_closes_with_the_last_socket(owner, owner_job):
    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")
    await communicator.receive_json_from(timeout=5)
    reader = presence._for_loop().snapshots
    assert reader.connection is not None and not reader.connection.closed
    await communicator.disconnect()
    assert reader.connection is None

    stranger = await database_sync_to_async(UserFactory)()
    refused = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(stranger)}")
    assert await close_code(refused) == 4404
    for _ in range(50):  # the refusal closes the process's reader right after the close frame
        if asyncio.get_running_loop() not in presence._presence:
            break
        await asyncio.sleep(0.02)
    assert asyncio.get_running_loop() not in presence._presence


async def test_a_database_that_cannot_be_reached_closes_the_socket_with_1013(owner, owner_job, monkeypatch, caplog):
    from config.postgres.base import health

    wrapper = type(connections["default"])
    params = wrapper.get_connection_params
    monkeypatch.setattr(wrapper, "get_connection_params", lambda self: {**params(self), "port": 1})
    # The failed attempt is remembered process-wide (config/postgres); it is forgotten after this test.
    monkeypatch.setattr(health, "ok", health.ok)
    monkeypatch.setattr(health, "failed_at", health.failed_at)

    communicator = await open_socket(f"/ws/jobs/{owner_job.pk}?token={await ticket_for(owner)}")

    assert await close_code(communicator) == 1013
    assert "database unavailable" in caplog.text
    assert "Traceback" not in caplog.text
