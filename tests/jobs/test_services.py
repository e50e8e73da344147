"""The job state machine: transitions, the event log, recovery and retention (real PostgreSQL and Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import timezone
from rq.job import Job as RQJob

from jobs import services
from jobs.models import JobEvent, RenderJob
from tests.factories import RenderJobFactory

pytestmark = pytest.mark.django_db


def running(job: RenderJob) -> RenderJob:
    return services.job_claim(job_id=job.id, worker_name="test-worker")


def events(job: RenderJob) -> list[tuple[int, str]]:
    return list(JobEvent.objects.filter(job=job).order_by("seq").values_list("seq", "type"))


def test_claim_moves_a_pending_job_to_running_and_stores_an_event():
    job = RenderJobFactory()
    claimed = running(job)
    assert claimed.status == "RUNNING"
    assert claimed.started_at is not None and claimed.heartbeat_at is not None
    assert events(job) == [(1, "job.progress"), (2, "job.progress")]  # submitted, then claimed
    assert JobEvent.objects.get(job=job, seq=claimed.last_seq).payload["status"] == "RUNNING"


def test_a_second_claim_of_the_same_job_gets_nothing():
    job = RenderJobFactory()
    assert running(job) is not None
    assert running(job) is None


def test_seq_grows_by_one_per_stored_event():
    job = RenderJobFactory()
    claimed = running(job).last_seq
    for percent in (10, 20, 30):
        services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=percent, message="x")
    assert [seq for seq, _ in events(job)] == list(range(1, claimed + 4))
    assert RenderJob.objects.get(pk=job.pk).last_seq == claimed + 3


def test_progress_never_goes_backwards_within_an_attempt():
    job = RenderJobFactory()
    running(job)
    services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=50, message="half")
    services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=40, message="late report")
    assert RenderJob.objects.get(pk=job.pk).progress == 50


def test_a_terminal_job_never_changes_again():
    job = RenderJobFactory()
    running(job)
    services.job_fail(job_id=job.id, attempt=1, error_code="RENDER_FAILED", error_message="boom")
    before = events(job)
    assert services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=99, message="x") is None
    assert services.job_mark_canceled(job_id=job.id) is None
    assert services.job_claim(job_id=job.id) is None
    job.refresh_from_db()
    assert job.status == "FAILED" and job.error_code == "RENDER_FAILED"
    assert events(job) == before


def test_a_write_from_an_old_attempt_is_ignored():
    job = RenderJobFactory()
    running(job)
    services.job_requeue(job_id=job.id, attempt=1, error_code="WORKER_LOST", reason="Lost.")
    assert services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=80, message="x") is None
    assert services.job_heartbeat(job_id=job.id, attempt=1) is False


def test_cancel_of_a_pending_job_cancels_it_at_once(redis_conn, django_capture_on_commit_callbacks):
    job = RenderJobFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.job_enqueue(job.id)
    assert str(job.id) in services.render_queue().get_job_ids()
    with django_capture_on_commit_callbacks(execute=True):
        services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == "CANCELED" and job.finished_at is not None
    assert events(job)[-1][1] == "job.canceled"
    assert str(job.id) not in services.render_queue().get_job_ids()


def test_cancel_of_a_running_job_asks_it_to_stop():
    job = RenderJobFactory()
    running(job)
    services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == "RUNNING" and job.cancel_requested and job.cancel_requested_at is not None


def test_cancel_of_a_finished_job_is_a_conflict():
    job = RenderJobFactory()
    running(job)
    services.job_mark_canceled(job_id=job.id)
    with pytest.raises(services.JobStateConflict):
        services.job_cancel(job=RenderJob.objects.get(pk=job.pk))


def test_a_canceled_pending_job_cannot_be_claimed():
    job = RenderJobFactory()
    services.job_cancel(job=job)
    assert running(job) is None


@override_settings(RENDER_MAX_ATTEMPTS=3)
def test_worker_lost_is_retried_until_the_last_attempt_then_fails():
    job = RenderJobFactory()
    for attempt in (1, 2):
        running(job)
        requeued = services.job_requeue(job_id=job.id, attempt=attempt, error_code="WORKER_LOST", reason="Lost.")
        assert requeued.status == "PENDING" and requeued.attempt == attempt + 1
        assert "attempt" in requeued.message
    running(job)
    final = services.job_requeue(job_id=job.id, attempt=3, error_code="WORKER_LOST", reason="Lost.")
    assert final.status == "FAILED" and final.error_code == "WORKER_LOST"


@pytest.mark.parametrize("code", ["INVALID_TIMELINE", "MEDIA_MISSING", "MEDIA_UNREADABLE"])
def test_input_errors_are_never_retried(code):
    job = RenderJobFactory()
    running(job)
    result = services.job_requeue(job_id=job.id, attempt=1, error_code=code, reason="Bad input.")
    assert result.status == "FAILED" and result.error_code == code and result.attempt == 1


def test_sweeper_requeues_a_job_whose_heartbeat_stopped(redis_conn, django_capture_on_commit_callbacks):
    job = RenderJobFactory()
    running(job)
    RenderJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.lost_jobs_recover() == 1
    job.refresh_from_db()
    assert job.status == "PENDING" and job.attempt == 2 and job.progress == 0
    assert str(job.id) in services.render_queue().get_job_ids()


def test_sweeper_leaves_a_job_with_a_fresh_heartbeat_alone():
    job = RenderJobFactory()
    running(job)
    assert services.lost_jobs_recover() == 0
    assert RenderJob.objects.get(pk=job.pk).status == "RUNNING"


def test_sweeper_enqueues_a_pending_job_the_queue_lost(redis_conn):
    job = RenderJobFactory(queued_at=timezone.now() - timedelta(minutes=1))
    assert services.unqueued_jobs_enqueue() == 1
    rq_job = RQJob.fetch(str(job.id), connection=services.queue_connection())
    assert rq_job.func_name == "jobs.tasks.render"
    assert rq_job.timeout == settings.RENDER_JOB_TIMEOUT == 2 * 60 * 60
    # Already queued now: a second pass leaves it be.
    assert services.unqueued_jobs_enqueue() == 0


def test_sweeper_gives_a_fresh_submit_time_to_enqueue_itself(redis_conn):
    RenderJobFactory(queued_at=timezone.now())
    assert services.unqueued_jobs_enqueue() == 0


def test_sweeper_cancels_a_running_job_that_ignored_its_cancel(redis_conn):
    job = RenderJobFactory()
    running(job)
    services.job_cancel(job=job)
    RenderJob.objects.filter(pk=job.pk).update(cancel_requested_at=timezone.now() - timedelta(minutes=1))
    assert services.overdue_cancels_stop() == 1
    job.refresh_from_db()
    assert job.status == "CANCELED"


def test_retention_deletes_old_results_and_events_but_keeps_the_outcome(django_capture_on_commit_callbacks):
    job = RenderJobFactory()
    running(job)
    video = default_storage.save(f"renders/{job.owner_id}/{job.id}/render.mp4", ContentFile(b"mp4 bytes"))
    poster = default_storage.save(f"renders/{job.owner_id}/{job.id}/poster.jpg", ContentFile(b"jpg"))
    sidecars = [default_storage.save(f"renders/{job.owner_id}/{job.id}/captions.{kind}", ContentFile(b"cues"))
                for kind in ("vtt", "srt")]
    services.job_succeed(job_id=job.id, attempt=1, result=services.StoredResult(
        result_file=video, poster=poster, sha256="ab" * 32, size_bytes=9, duration=2.0, width=320, height=180,
        fps=30.0, render_path="ffmpeg"))
    RenderJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    recent = RenderJobFactory()

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the rows committed
        assert services.old_results_purge(older_than_days=30) == 1

    job.refresh_from_db()
    assert job.status == "SUCCEEDED" and job.result_sha256 == "ab" * 32 and job.result_purged_at is not None
    assert not job.has_result
    assert not default_storage.exists(video) and not default_storage.exists(poster)
    assert not any(default_storage.exists(name) for name in sidecars)
    assert not JobEvent.objects.filter(job=job).exists()
    assert RenderJob.objects.get(pk=recent.pk).result_purged_at is None


def test_tidy_keeps_the_running_attempts_scratch_dir_and_removes_the_rest(settings, tmp_path):
    settings.RENDER_WORK_DIR = tmp_path / "work"
    job = RenderJobFactory()
    running(job)
    done = RenderJobFactory()
    current = settings.RENDER_WORK_DIR / f"{job.id}.1"
    stale = [settings.RENDER_WORK_DIR / f"{job.id}.0", settings.RENDER_WORK_DIR / f"{done.id}.1"]
    for path in [current, *stale]:
        (path / ".render-x").mkdir(parents=True)
    assert services.work_dirs_tidy() == 2
    assert current.exists() and not any(p.exists() for p in stale)


def test_only_transient_failures_are_requeued():
    job = RenderJobFactory()
    running(job)
    result = services.job_requeue(job_id=job.id, attempt=1, error_code="RENDER_FAILED", reason="Broken encoder.")
    assert result.status == "FAILED" and result.error_code == "RENDER_FAILED" and result.attempt == 1
    assert "RENDER_FAILED" not in services.TRANSIENT and {"WORKER_LOST", "STORAGE_ERROR"} <= services.TRANSIENT


def test_each_sweeper_pass_runs_even_when_an_earlier_one_fails(settings, tmp_path):
    """Redis away breaks the enqueue pass; the scratch tidy after it still runs, and the failure is counted."""
    settings.RENDER_WORK_DIR = tmp_path / "work"
    RenderJobFactory(queued_at=timezone.now() - timedelta(minutes=1))  # the enqueue pass must ask Redis
    leftover = settings.RENDER_WORK_DIR / f"{RenderJobFactory().id}.1"
    leftover.mkdir(parents=True)
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "render": {**settings.RQ_QUEUES["render"],
                                                           "URL": "redis://127.0.0.1:1/0"}}
    counts = services.sweep_run()
    assert counts["failed"] == 1 and "enqueued" not in counts
    assert counts["tidied"] == 1 and not leftover.exists()


def test_progress_events_carry_the_renderers_eta():
    job = RenderJobFactory()
    submitted = job.last_seq
    running(job)
    services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=50, message="half",
                                 eta_seconds=12.345)
    services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=60, message="more")
    payloads = [e.payload for e in JobEvent.objects.filter(job=job, seq__gt=submitted).order_by("seq")]
    assert payloads[0]["eta_seconds"] is None  # the claim: no estimate yet
    assert payloads[1]["eta_seconds"] == 12.3
    assert payloads[2]["eta_seconds"] is None


@pytest.mark.parametrize(("code", "retryable"), [("MEDIA_MISSING", False), ("RENDER_FAILED", True),
                                                 ("TIMEOUT", True)])
def test_failed_events_say_whether_a_retry_can_help(code, retryable):
    job = RenderJobFactory()
    running(job)
    services.job_fail(job_id=job.id, error_code=code, error_message="x")
    assert JobEvent.objects.filter(job=job, type="job.failed").get().payload["retryable"] is retryable


def test_a_rolled_back_purge_keeps_the_files(django_capture_on_commit_callbacks):
    from django.db import transaction

    job = RenderJobFactory()
    running(job)
    video = default_storage.save(f"renders/{job.owner_id}/{job.id}/render.mp4", ContentFile(b"mp4 bytes"))
    services.job_succeed(job_id=job.id, attempt=1, result=services.StoredResult(
        result_file=video, poster="", sha256="ab" * 32, size_bytes=9, duration=2.0, width=320, height=180,
        fps=30.0, render_path="ffmpeg"))
    RenderJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            assert services.old_results_purge(older_than_days=30) == 1
            raise RuntimeError("the row change did not commit")
    assert default_storage.exists(video)
    assert RenderJob.objects.get(pk=job.pk).has_result
