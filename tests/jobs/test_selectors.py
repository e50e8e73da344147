"""Snapshots and replay: what a late joiner sees."""

from __future__ import annotations

import pytest

from jobs import selectors, services
from tests.factories import RenderJobFactory

pytestmark = pytest.mark.django_db


def test_snapshot_carries_the_job_its_seq_and_distinct_messages_oldest_first():
    job = RenderJobFactory()
    submitted = job.last_seq  # the submit's own event
    services.job_claim(job_id=job.id)
    for percent, message in [(10, "Encoding frame 1"), (20, "Encoding frame 2"), (30, "Encoding frame 1")]:
        services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=percent, message=message)
    snapshot = selectors.job_snapshot(job=job)
    assert snapshot["type"] == "job.snapshot" and snapshot["seq"] == submitted + 4
    assert snapshot["job"]["id"] == str(job.id) and snapshot["job"]["progress"] == 30
    assert [entry["message"] for entry in snapshot["log"]] == [
        "Waiting for a worker", "Preparing the render", "Encoding frame 2", "Encoding frame 1"]


def test_snapshot_log_keeps_at_most_fifty_messages():
    job = RenderJobFactory()
    services.job_claim(job_id=job.id)
    for n in range(60):
        services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=n, message=f"frame {n}")
    log = selectors.job_snapshot(job=job)["log"]
    assert len(log) == 50 and log[-1]["message"] == "frame 59" and log[0]["message"] == "frame 10"


def test_snapshot_of_a_failed_job_ends_with_the_error():
    job = RenderJobFactory()
    services.job_fail(job_id=job.id, error_code="MEDIA_MISSING", error_message="clip c1 on track v1: missing")
    snapshot = selectors.job_snapshot(job=job)
    assert snapshot["job"]["status"] == "FAILED"
    assert snapshot["log"][-1] == {"ts": snapshot["log"][-1]["ts"], "phase": "FAILED",
                                   "message": "clip c1 on track v1: missing"}


def test_events_after_returns_newer_events_in_order():
    job = RenderJobFactory()
    claimed = services.job_claim(job_id=job.id).last_seq
    for n in (10, 20, 30):
        services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=n, message=str(n))
    last = services.job_mark_canceled(job_id=job.id).last_seq
    newer = selectors.job_events_after(job_id=job.id, seq=claimed + 1)
    assert [e.seq for e in newer] == [claimed + 2, claimed + 3, claimed + 4] == [last - 2, last - 1, last]
    assert [e.payload["seq"] for e in newer] == [e.seq for e in newer]
    assert [e.payload.get("progress") for e in newer] == [20, 30, None]
    assert list(selectors.job_events_after(job_id=job.id, seq=last)) == []
