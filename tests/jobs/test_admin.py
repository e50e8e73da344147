"""Operators' admin for render jobs: list, filters, search, job page, actions through the services."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from jobs import services
from jobs.models import RenderJob
from tests.factories import ProjectFactory, RenderJobFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def jobs(owner):
    pending = RenderJobFactory(project=ProjectFactory(owner=owner, name="Holiday cut"))
    running = RenderJobFactory(project=ProjectFactory(owner=owner, name="Band video"))
    services.job_claim(job_id=running.id)
    services.job_progress_record(job_id=running.id, attempt=1, phase="ENCODE", progress=42.5, message="Encoding")
    failed = RenderJobFactory(project=ProjectFactory(owner=owner, name="Broken one"))
    services.job_fail(job_id=failed.id, error_code="MEDIA_MISSING", error_message="clip c1 on track v1: missing")
    return {"pending": pending, "running": running, "failed": failed}


def test_job_list_shows_badges_progress_and_columns(admin_client, jobs):
    response = admin_client.get("/admin/jobs/renderjob/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "job-badge" in html and ">RUNNING<" in html and ">FAILED<" in html
    assert '<progress value="42.5"' in html
    assert "Band video" in html and "owner" in html and "ENCODE" in html


def test_job_list_links_to_the_queue_dashboard_for_superusers(admin_client, jobs):
    assert "/admin/django_rq/dashboard/" in admin_client.get("/admin/jobs/renderjob/").content.decode()


def test_job_list_filters_by_status_and_phase(admin_client, jobs):
    html = admin_client.get("/admin/jobs/renderjob/?status__exact=FAILED").content.decode()
    assert "Broken one" in html and "Band video" not in html
    html = admin_client.get("/admin/jobs/renderjob/?phase__exact=ENCODE").content.decode()
    assert "Band video" in html and "Broken one" not in html


def test_job_list_searches_by_project_owner_and_id(admin_client, jobs):
    html = admin_client.get("/admin/jobs/renderjob/?q=Holiday").content.decode()
    assert "Holiday cut" in html and "Band video" not in html
    html = admin_client.get(f"/admin/jobs/renderjob/?q={jobs['failed'].id}").content.decode()
    assert "Broken one" in html and "Holiday cut" not in html
    assert "Holiday cut" in admin_client.get("/admin/jobs/renderjob/?q=owner").content.decode()


def test_job_page_shows_the_event_history(admin_client, jobs):
    job = jobs["running"]
    response = admin_client.get(f"/admin/jobs/renderjob/{job.id}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "job-events" in html and "job.progress" in html and "Encoding" in html


def test_cancel_action_goes_through_the_services(admin_client, jobs, redis_conn):
    ids = [str(jobs["pending"].id), str(jobs["running"].id), str(jobs["failed"].id)]
    response = admin_client.post("/admin/jobs/renderjob/", {"action": "cancel_jobs", "_selected_action": ids},
                                 follow=True)
    assert response.status_code == 200
    assert RenderJob.objects.get(pk=jobs["pending"].pk).status == "CANCELED"
    running = RenderJob.objects.get(pk=jobs["running"].pk)
    assert running.status == "RUNNING" and running.cancel_requested
    assert RenderJob.objects.get(pk=jobs["failed"].pk).status == "FAILED"
    assert "had already finished" in response.content.decode()


def test_retry_action_creates_a_new_job(admin_client, jobs, owner, redis_conn):
    failed = RenderJobFactory(project=ProjectFactory(owner=owner, name="Flaky encoder"))
    services.job_fail(job_id=failed.id, error_code="RENDER_FAILED", error_message="The encoder crashed.")
    admin_client.post("/admin/jobs/renderjob/", {"action": "retry_jobs", "_selected_action": [str(failed.id)]})
    new = RenderJob.objects.get(retry_of=failed)
    assert new.status == "PENDING" and new.timeline == failed.timeline


def test_staff_without_permissions_cannot_see_jobs(client, jobs):
    client.force_login(UserFactory(username="helpdesk", is_staff=True))
    assert client.get("/admin/jobs/renderjob/").status_code == 403


def test_job_page_links_to_the_result_and_the_link_downloads_it(admin_client, owner):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    job = RenderJobFactory(project=ProjectFactory(owner=owner))
    services.job_claim(job_id=job.id)
    name = default_storage.save(f"renders/{owner.pk}/{job.id}/render.mp4", ContentFile(b"mp4-bytes"))
    services.job_succeed(job_id=job.id, attempt=1, result=services.StoredResult(
        result_file=name, poster="", sha256="0" * 64, size_bytes=9, duration=1.0, width=320, height=180,
        fps=30.0, render_path="ffmpeg"))
    html = admin_client.get(f"/admin/jobs/renderjob/{job.id}/change/").content.decode()
    link = f"/admin/jobs/renderjob/{job.id}/result/"
    assert link in html
    response = admin_client.get(link)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"mp4-bytes"


def test_retry_action_refuses_a_failure_a_retry_cannot_fix(admin_client, jobs, redis_conn):
    failed = jobs["failed"]  # MEDIA_MISSING
    response = admin_client.post("/admin/jobs/renderjob/",
                                 {"action": "retry_jobs", "_selected_action": [str(failed.id)]}, follow=True)
    assert not RenderJob.objects.filter(retry_of=failed).exists()
    assert "Retrying cannot help" in response.content.decode()


def test_job_list_shows_error_code_and_message_columns(admin_client, jobs):
    html = admin_client.get("/admin/jobs/renderjob/").content.decode()
    assert "column-error_code" in html and "column-error_summary" in html
    assert "MEDIA_MISSING" in html and "clip c1 on track v1: missing" in html


def test_job_list_refreshes_itself(admin_client, jobs):
    html = admin_client.get("/admin/jobs/renderjob/").content.decode()
    assert 'id="job-list-live-refresh"' in html and "#result_list" in html


def test_job_page_shows_the_project_name_and_cancel_for_an_active_job(admin_client, jobs, redis_conn):
    running = jobs["running"]
    html = admin_client.get(f"/admin/jobs/renderjob/{running.id}/change/").content.decode()
    assert "Band video" in html
    assert 'id="job-cancel"' in html and 'id="job-retry"' not in html
    response = admin_client.post(f"/admin/jobs/renderjob/{running.id}/cancel/")
    assert response.status_code == 302
    assert RenderJob.objects.get(pk=running.id).cancel_requested is True


def test_job_page_offers_retry_only_when_it_can_help(admin_client, jobs, owner, redis_conn):
    html = admin_client.get(f"/admin/jobs/renderjob/{jobs['failed'].id}/change/").content.decode()
    assert 'id="job-retry"' not in html and 'id="job-cancel"' not in html
    flaky = RenderJobFactory(project=ProjectFactory(owner=owner, name="Flaky"))
    services.job_fail(job_id=flaky.id, error_code="RENDER_FAILED", error_message="The encoder crashed.")
    html = admin_client.get(f"/admin/jobs/renderjob/{flaky.id}/change/").content.decode()
    assert 'id="job-retry"' in html
    response = admin_client.post(f"/admin/jobs/renderjob/{flaky.id}/retry/")
    new = RenderJob.objects.get(retry_of=flaky)
    assert response.status_code == 302 and response["Location"].endswith(f"/{new.id}/change/")


def test_job_buttons_need_post_and_the_change_permission(client, jobs):
    client.force_login(UserFactory(username="viewer", is_staff=True))
    running = jobs["running"]
    assert client.post(f"/admin/jobs/renderjob/{running.id}/cancel/").status_code == 403
    assert RenderJob.objects.get(pk=running.id).cancel_requested is False


def test_admin_result_download_streams_asynchronously_with_ranges(admin_client, owner, staff):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    job = RenderJobFactory(project=ProjectFactory(owner=owner))
    services.job_claim(job_id=job.id)
    name = default_storage.save(f"renders/{owner.pk}/{job.id}/render.mp4", ContentFile(b"0123456789"))
    services.job_succeed(job_id=job.id, attempt=1, result=services.StoredResult(
        result_file=name, poster="", sha256="0" * 64, size_bytes=10, duration=1.0, width=320, height=180,
        fps=30.0, render_path="ffmpeg"))
    link = f"/admin/jobs/renderjob/{job.id}/result/"
    asgi = AsyncClient()
    asgi.force_login(staff)
    whole = async_to_sync(asgi.get)(link)
    # Under ASGI an async iterator, sent chunk by chunk; a FileResponse's sync iterator is read whole first.
    assert whole.status_code == 200 and whole.is_async and whole["Content-Disposition"].startswith("attachment")
    part = admin_client.get(link, HTTP_RANGE="bytes=2-5")
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"2345"
