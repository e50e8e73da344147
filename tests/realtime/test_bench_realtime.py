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


def test_connect_rounds_interleave_the_servers_and_report_medians(transactional_db, redis_conn, process_logs,
                                                                  monkeypatch):
    from tests.processes import service_env, start_daphne

    monkeypatch.setenv("DATABASE_URL", database_url())
    proc, base_url = start_daphne(service_env(), process_logs)
    try:
        out = io.StringIO()
        call_command("bench_realtime", "--url", base_url, "--server-pid", str(proc.pid), "--sockets", "40",
                     "--jobs", "4", "--publish-jobs", "1", "--rate", "5", "--seconds", "1", "--connect-rounds", "2",
                     stdout=out)
    finally:
        proc.stop()
    lines = out.getvalue().strip().splitlines()
    rounds = next(line for line in lines if line.startswith("[connect]"))
    cutline_ms, floor_ms, ratios = (part.split()[-3:] for part in rounds.split(": ", 1)[1].split("; "))
    assert len(cutline_ms) == len(floor_ms) == len(ratios) == 3  # the run's own connect, then two rounds
    summary = dict(field.split("=") for field in lines[-1].split())
    assert float(summary["connect_ms_cpu"]) > 0 and float(summary["floor_connect_ms_cpu"]) > 0
    assert float(summary["connect_ratio"]) == pytest.approx(sorted(map(float, ratios))[1], abs=0.011)
    assert list(RenderJob.objects.all()) == []  # the rounds' users and jobs are removed too
