"""The whole job service with real rqworker processes, the sweeper, and real encodes of tiny media."""

from __future__ import annotations

import hashlib
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from jobs import services
from jobs.models import RenderJob
from tests.conftest import token_client
from tests.jobs.conftest import encoder_pids, job_status, kill_session, wait_for, wait_for_status
from tests.processes import service_env, start_daphne

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED"}


def submit(client, project, preset: str = "project") -> str:
    response = client.post(f"/api/projects/{project.id}/renders", {"preset": preset}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["job"]["id"]


def stored_files(media_root) -> list:
    renders = media_root / "renders"
    return [p for p in renders.rglob("*") if p.is_file()] if renders.exists() else []


def work_dirs() -> list:
    root = settings.RENDER_WORK_DIR
    return list(root.iterdir()) if root.exists() else []


def test_render_through_the_api_succeeds_with_a_downloadable_checksummed_mp4(owner, make_project, processes):
    worker = processes.worker()
    client = token_client(owner)
    job_id = submit(client, make_project())

    job = wait_for_status(job_id, TERMINAL, timeout=60, proc=worker)
    body = client.get(f"/api/jobs/{job_id}").json()
    assert body["status"] == "SUCCEEDED", body
    assert body["progress"] == 100 and body["phase"] == "DONE" and job.attempt == 1
    result = body["result"]
    assert result["width"] == 320 and result["height"] == 180 and abs(result["duration"] - 2.0) < 0.1

    download = client.get(result["download_url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert len(data) == result["size_bytes"]
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == result["checksum"]
    assert data[4:8] == b"ftyp"
    assert download["Content-Disposition"].startswith("attachment")

    part = client.get(result["download_url"], HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == data[1000:2000]

    thumb = client.get(result["thumbnail_url"])
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"
    # Progress was told as it happened, and the log ends with the outcome.
    types = list(job.events.order_by("seq").values_list("type", flat=True))
    assert types[0] == "job.progress" and types[-1] == "job.completed" and len(types) >= 4
    assert work_dirs() == []


def test_sigkill_of_the_worker_mid_render_is_retried_by_another_worker(owner, make_project, processes, scratch):
    doomed = processes.worker()
    processes.sweeper()
    client = token_client(owner)
    # Long enough to be caught mid-encode, short enough to render twice: 720p from 12 s of clips.
    job_id = submit(client, make_project(repeat=6), preset="hd")
    wait_for(lambda: job_status(job_id).status == "RUNNING" and job_status(job_id).phase == "ENCODE",
             timeout=60, interval=0.05, what="the render to be encoding")
    killed_at = time.monotonic()
    kill_session(doomed, scratch)
    rescuer = processes.worker()

    job = wait_for_status(job_id, TERMINAL, timeout=90, proc=rescuer)
    recovered_in = time.monotonic() - killed_at
    print(f"\nSIGKILL → SUCCEEDED on attempt {job.attempt} in {recovered_in:.1f} s")
    assert recovered_in < 90
    assert job.status == "SUCCEEDED", (job.error_code, job.error_message)
    assert job.attempt == 2
    messages = list(job.events.values_list("payload__message", flat=True))
    assert any("stopped answering" in (m or "") for m in messages)


def test_sigkill_on_the_last_attempt_fails_with_worker_lost(owner, make_project, processes, scratch):
    doomed = processes.worker()
    processes.sweeper(RENDER_MAX_ATTEMPTS="1")
    job_id = submit(token_client(owner), make_project(repeat=6), preset="hd")
    wait_for(lambda: job_status(job_id).phase == "ENCODE", timeout=60, interval=0.05, what="encoding")
    kill_session(doomed, scratch)

    job = wait_for_status(job_id, TERMINAL, timeout=90)
    assert job.status == "FAILED" and job.error_code == "WORKER_LOST"
    assert "stopped answering" in job.error_message


def test_cancel_of_pending_and_running_jobs(owner, make_project, processes, scratch, media_root):
    worker = processes.worker()
    client = token_client(owner)
    running_id = submit(client, make_project(repeat=6, name="long"), preset="full_hd")
    pending_id = submit(client, make_project(name="waiting"))
    wait_for(lambda: job_status(running_id).phase == "ENCODE", timeout=60, interval=0.05, what="encoding")
    assert job_status(pending_id).status == "PENDING"

    response = client.post(f"/api/jobs/{pending_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "CANCELED"

    asked_at = time.monotonic()
    assert client.post(f"/api/jobs/{running_id}/cancel").status_code == 202
    job = wait_for_status(running_id, TERMINAL, timeout=10, proc=worker)
    canceled_in = time.monotonic() - asked_at
    print(f"\nRUNNING cancel → CANCELED in {canceled_in:.2f} s")
    assert job.status == "CANCELED" and canceled_in < 10
    wait_for(lambda: not encoder_pids(scratch), timeout=3, what="no encoder left")
    assert work_dirs() == [] and stored_files(media_root) == []
    assert client.get(f"/api/jobs/{running_id}/result").status_code == 404
    assert client.post(f"/api/jobs/{running_id}/cancel").status_code == 409

    # The canceled pending job left the queue, so no worker can ever run it.
    assert not RQJob.exists(pending_id, connection=services.queue_connection())
    assert pending_id not in services.render_queue().get_job_ids()
    assert job_status(pending_id).status == "CANCELED" and job_status(pending_id).started_at is None


def test_a_worker_that_ignores_cancel_is_stopped_by_the_sweeper(owner, make_project, processes, scratch,
                                                                 media_root):
    processes.worker()
    job_id = submit(token_client(owner), make_project(repeat=6), preset="full_hd")
    wait_for(lambda: job_status(job_id).phase == "ENCODE", timeout=60, interval=0.05, what="encoding")
    # As if the cancel had been asked long ago and never confirmed: the sweeper's kill path. One transaction,
    # so the worker's cooperative check cannot see the request (and stop by itself) before the kill is sent.
    with transaction.atomic():
        RenderJob.objects.filter(pk=job_id).update(cancel_requested=True,
                                                   cancel_requested_at=timezone.now() - timedelta(minutes=1))
        assert services.overdue_cancels_stop() == 1

    assert job_status(job_id).status == "CANCELED"
    # The work horse was killed by RQ's stop-job command (not a cooperative stop).
    rq_job = RQJob.fetch(job_id, connection=services.queue_connection())
    wait_for(lambda: rq_job.get_status(refresh=True) == JobStatus.STOPPED, timeout=5, what="RQ to stop the job")
    wait_for(lambda: not encoder_pids(scratch), timeout=5, what="no encoder left")
    wait_for(lambda: work_dirs() == [], timeout=5, what="the scratch directory to be removed")
    assert stored_files(media_root) == []


def test_deleted_asset_fails_with_media_missing_and_is_not_retried(owner, make_project, processes, video_asset):
    job_id = submit(token_client(owner), make_project())
    video_asset.delete()  # gone after submit: the frozen timeline still points at it
    worker = processes.worker()

    job = wait_for_status(job_id, TERMINAL, timeout=60, proc=worker)
    assert job.status == "FAILED" and job.error_code == "MEDIA_MISSING" and job.attempt == 1
    assert "clip c1 on track v1" in job.error_message and "/" not in job.error_message
    # RQ files it under "Failed" too, so the queue dashboard agrees with the admin.
    rq_job = RQJob.fetch(job_id, connection=services.queue_connection())
    wait_for(lambda: rq_job.get_status(refresh=True) == JobStatus.FAILED, timeout=10, what="RQ to file the failure")
    assert job_id in FailedJobRegistry(queue=services.render_queue()).get_job_ids()


def test_restart_of_web_and_worker_mid_backlog_loses_no_job(owner, make_project, processes, process_logs):
    env = service_env()
    web, base_url = start_daphne(env, process_logs)
    import httpx

    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=owner)[0].key}"}
    projects = [make_project(name=f"backlog {n}", repeat=2) for n in range(4)]
    ids = []
    try:
        for project in projects[:2]:
            r = httpx.post(f"{base_url}/api/projects/{project.id}/renders", json={"preset": "project"},
                           headers=headers, timeout=10)
            assert r.status_code == 202
            ids.append(r.json()["job"]["id"])
        worker = processes.worker()
        wait_for(lambda: job_status(ids[0]).status != "PENDING", timeout=60, what="the first job to start")
        worker.signal_group(signal.SIGTERM)  # a deploy: warm shutdown of the worker...
        web.stop()  # ...and of the web process
        web, base_url = start_daphne(env, process_logs)
        for project in projects[2:]:
            r = httpx.post(f"{base_url}/api/projects/{project.id}/renders", json={"preset": "project"},
                           headers=headers, timeout=10)
            assert r.status_code == 202
            ids.append(r.json()["job"]["id"])
        processes.worker()
        processes.sweeper()
        for job_id in ids:
            job = wait_for_status(job_id, TERMINAL, timeout=90)
            assert job.status == "SUCCEEDED", (job_id, job.error_code, job.error_message)
    finally:
        web.stop()
