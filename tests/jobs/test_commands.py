"""The sweeper and retention commands, run the way the Procfile and cron run them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs import services
from jobs.models import RenderJob
from tests.factories import RenderJobFactory


@pytest.mark.django_db(transaction=True)
def test_sweep_jobs_once_recovers_a_job_whose_worker_died(redis_conn, capsys):
    job = RenderJobFactory()
    services.job_claim(job_id=job.id)
    RenderJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    call_command("sweep_jobs", "--once")
    job.refresh_from_db()
    assert job.status == "PENDING" and job.attempt == 2
    assert str(job.id) in services.render_queue().get_job_ids()


@pytest.mark.django_db
def test_purge_render_results_keeps_recent_jobs(capsys):
    old = RenderJobFactory()
    services.job_fail(job_id=old.id, error_code="RENDER_FAILED", error_message="boom")
    RenderJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=40))
    recent = RenderJobFactory()
    services.job_fail(job_id=recent.id, error_code="RENDER_FAILED", error_message="boom")
    call_command("purge_render_results")
    assert "1 render job" in capsys.readouterr().out
    assert RenderJob.objects.get(pk=old.pk).result_purged_at is not None
    assert RenderJob.objects.get(pk=old.pk).error_code == "RENDER_FAILED"
    assert recent.events.exists()
