"""Every job of a batch is visible on `/ws/jobs` as it is created (real ASGI app, Redis channel layer)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from jobs.batches import render_batch_submit
from tests.factories import ProjectFactory
from tests.realtime.conftest import open_socket, ticket_for

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_conn")]


def text_template() -> dict:
    return {
        "schema": 1,
        "output": {"width": 320, "height": 180, "fps": 10, "background": "#202020"},
        "tracks": [{"id": "t1", "kind": "text", "clips": [
            {"id": "x1", "text": "Hi {{name}}", "start": 0.0, "duration": 1.0,
             "style": {"size": 32, "color": "#ffffff", "position": "center"}}]}],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


async def test_batch_jobs_appear_on_the_owner_socket(owner):
    project = await database_sync_to_async(ProjectFactory)(owner=owner, timeline=text_template())
    communicator = await open_socket(f"/ws/jobs?token={await ticket_for(owner)}")
    _, jobs = await database_sync_to_async(render_batch_submit)(
        project=project, user=owner, preset="draft", items=[{"merge": {"name": n}} for n in ("Ada", "Grace", "Tim")])
    events = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    assert {e["job_id"] for e in events} == {str(job.id) for job in jobs}
    # A job new to the socket arrives as its snapshot (or its first event), showing it waiting.
    assert all((e["job"]["status"] if e["type"] == "job.snapshot" else e["status"]) == "PENDING" for e in events)
    await communicator.disconnect()
