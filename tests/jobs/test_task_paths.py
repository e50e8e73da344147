"""The RQ task's failure paths, run in this process exactly as a work horse runs them (real encodes)."""

from __future__ import annotations

import pytest
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

from jobs import services, tasks
from jobs.errors import RenderFailedInQueue
from jobs.models import RenderJob
from tests.jobs.conftest import encoder_pids

pytestmark = pytest.mark.usefixtures("transactional_db", "redis_conn")


def _submitted(owner, project) -> RenderJob:
    job, created = services.render_submit(project=project, user=owner, preset="project")
    assert created
    return job


def test_a_render_over_the_time_limit_fails_with_timeout_and_leaves_nothing_behind(owner, make_project, scratch,
                                                                                   settings):
    settings.RENDER_JOB_TIMEOUT = 60
    job = _submitted(owner, make_project(repeat=6, width=1280, height=720))
    # RQ's own death penalty, as the work horse applies it with `job_timeout`, here after 1 s.
    with pytest.raises(RenderFailedInQueue), UnixSignalDeathPenalty(1, JobTimeoutException, job_id=str(job.id)):
        tasks.render(str(job.id))
    job.refresh_from_db()
    assert job.status == "FAILED" and job.error_code == "TIMEOUT"
    assert "1-minute limit" in job.error_message and job.retryable
    assert list(settings.RENDER_WORK_DIR.glob(f"{job.id}.*")) == []
    assert encoder_pids(scratch) == []


def test_a_result_that_cannot_be_stored_is_retried_then_fails_with_storage_error(owner, make_project, settings,
                                                                                  media_root):
    settings.RENDER_MAX_ATTEMPTS = 2
    (media_root / "renders").write_text("a file where the renders directory should be")
    job = _submitted(owner, make_project())

    tasks.render(str(job.id))  # attempt 1: stored nowhere, re-queued (STORAGE_ERROR is transient)
    job.refresh_from_db()
    assert job.status == "PENDING" and job.attempt == 2 and "Trying again" in job.message

    with pytest.raises(RenderFailedInQueue):
        tasks.render(str(job.id))  # the last attempt fails for good
    job.refresh_from_db()
    assert job.status == "FAILED" and job.error_code == "STORAGE_ERROR" and job.attempt == 2
    assert job.error_message == "The finished video could not be stored." and str(media_root) not in job.error_message
    assert list(settings.RENDER_WORK_DIR.glob(f"{job.id}.*")) == []
