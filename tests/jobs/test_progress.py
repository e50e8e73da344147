"""The ProgressReporter: throttling, the heartbeat thread, the cancel check."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from jobs import services
from jobs.models import JobEvent, RenderJob
from jobs.services.progress import ProgressReporter
from tests.factories import RenderJobFactory


@dataclass
class Progress:
    phase: str
    percent: float
    message: str
    eta_seconds: float | None = None


@pytest.fixture
def running_job(db):
    job = RenderJobFactory()
    return services.job_claim(job_id=job.id)


def test_a_flood_of_reports_is_throttled_to_about_four_a_second(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    started = time.monotonic()
    for frame in range(2000):
        reporter(Progress("ENCODE", 5 + frame * 90 / 2000, f"Encoding frame {frame} of 2000"))
    elapsed = time.monotonic() - started
    stored = JobEvent.objects.filter(job=running_job).count() - 1  # minus the claim's event
    assert 1 <= stored <= 4 * elapsed + 2


def test_every_phase_change_is_stored(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    for phase, percent in [("PREPARE", 1), ("ENCODE", 5), ("FINALIZE", 95)]:
        reporter(Progress(phase, percent, phase.lower()))
    phases = [e.payload["phase"] for e in JobEvent.objects.filter(job=running_job).order_by("seq")]
    assert phases[-3:] == ["PREPARE", "ENCODE", "FINALIZE"]


def test_small_steps_below_one_percent_are_not_stored(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1, max_per_second=1000)
    reporter(Progress("ENCODE", 10.0, "a"))
    time.sleep(0.01)
    reporter(Progress("ENCODE", 10.5, "a"))
    time.sleep(0.01)
    reporter(Progress("ENCODE", 11.2, "a"))
    percents = [e.payload["progress"] for e in JobEvent.objects.filter(job=running_job, seq__gt=1)]
    assert percents == [10.0, 11.2]


def test_heartbeat_continues_while_one_frame_takes_long(transactional_db):
    job = services.job_claim(job_id=RenderJobFactory().id)
    first = job.heartbeat_at
    reporter = ProgressReporter(job.id, attempt=1)
    with reporter.heartbeating(interval=0.2):
        time.sleep(1.0)  # one slow frame: no progress report at all
    assert RenderJob.objects.get(pk=job.pk).heartbeat_at > first


def test_should_cancel_sees_a_cancel_request_within_half_a_second(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    assert reporter.should_cancel() is False
    services.job_cancel(job=running_job)
    time.sleep(0.55)
    assert reporter.should_cancel() is True


def test_should_cancel_is_true_when_the_job_was_requeued_to_another_attempt(running_job):
    reporter = ProgressReporter(running_job.id, attempt=1)
    services.job_requeue(job_id=running_job.id, attempt=1, error_code="WORKER_LOST", reason="Lost.")
    time.sleep(0.55)
    assert reporter.should_cancel() is True
