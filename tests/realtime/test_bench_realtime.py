"""bench_realtime, tiny and bounded, against a real daphne: it reports against its floor and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from jobs.models import RenderJob
from realtime.management.commands.bench_realtime import FloorConsumer
from tests.processes import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_floor_dispatches_like_cutlines_consumers():
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    from realtime.consumers import JobConsumer

    # Both skip Channels' per-message thread hop (aclose_old_connections) of the default dispatch.
    assert FloorConsumer.dispatch is not AsyncJsonWebsocketConsumer.dispatch
    assert JobConsumer.dispatch is not AsyncJsonWebsocketConsumer.dispatch


def test_a_tiny_run_reports_and_removes_its_jobs(live_server_url, monkeypatch):
    from jobs import services
    from tests.factories import ProjectFactory, RenderJobFactory, UserFactory

    monkeypatch.setenv("DATABASE_URL", database_url())  # the publisher child writes to this test's database
    # What a run killed before its clean-up leaves: a bench user's RUNNING job. And someone else's job.
    killed_run = UserFactory(username="bench-1-1-0")
    services.job_claim(job_id=RenderJobFactory(project=ProjectFactory(owner=killed_run)).pk, worker_name="bench")
    kept = RenderJobFactory()
    out = io.StringIO()
    call_command("bench_realtime", "--url", live_server_url, "--sockets", "4", "--jobs", "2", "--publish-jobs", "1",
                 "--rate", "5", "--seconds", "1", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert any(line.startswith("removed what an earlier, interrupted run left") for line in lines), lines
    assert lines[-1].startswith("p99_ms=") and "floor_p99_ms=" in lines[-1] and "lost=0" in lines[-1], lines[-8:]
    assert list(RenderJob.objects.all()) == [kept]  # nothing left RUNNING for the sweeper to re-queue
