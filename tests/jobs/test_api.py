"""The job API without workers: representation, isolation, cancel/retry answers, results and publishing."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jobs import services
from jobs.models import RenderJob
from tests.factories import ProjectFactory, RenderJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(owner):
    return ProjectFactory(owner=owner, name="Summer Trip")


@pytest.fixture
def job(project):
    return RenderJobFactory(project=project)


def succeed(job: RenderJob, *, payload: bytes = b"\x00\x01fake-mp4-bytes" * 100) -> RenderJob:
    services.job_claim(job_id=job.id)
    video = default_storage.save(f"renders/{job.owner_id}/{job.id}/render.mp4", ContentFile(payload))
    poster = default_storage.save(f"renders/{job.owner_id}/{job.id}/poster.jpg", ContentFile(b"\xff\xd8jpeg"))
    import hashlib

    return services.job_succeed(job_id=job.id, attempt=job.attempt, result=services.StoredResult(
        result_file=video, poster=poster, sha256=hashlib.sha256(payload).hexdigest(), size_bytes=len(payload),
        duration=2.0, width=320, height=180, fps=30.0, render_path="ffmpeg"))


def test_job_representation_has_exactly_the_contract_keys(owner_client, job):
    body = owner_client.get(f"/api/jobs/{job.id}").json()
    contract = {"id", "project_id", "status", "phase", "progress", "message", "preset", "output", "attempt",
                "error_code", "error_message", "result", "created_at", "started_at", "finished_at", "updated_at",
                "events_url", "ws_url"}
    assert contract <= set(body)
    assert body["id"] == str(job.id) and body["status"] == "PENDING" and body["result"] is None
    assert body["output"] == {"width": 640, "height": 360, "fps": 30}
    assert body["events_url"] == f"/api/jobs/{job.id}/events" and body["ws_url"] == f"/ws/jobs/{job.id}"
    assert body["created_at"].endswith("Z") and body["error_code"] is None


def test_job_urls_answer_with_and_without_trailing_slash(owner_client, job):
    assert owner_client.get(f"/api/jobs/{job.id}/").status_code == 200
    assert owner_client.get("/api/jobs").status_code == 200
    assert owner_client.get(f"/api/projects/{job.project_id}/renders/").status_code == 200


def test_job_list_shows_own_jobs_and_filters_by_status_and_project(owner_client, owner, job, stranger):
    other_project = ProjectFactory(owner=owner)
    other = RenderJobFactory(project=other_project)
    services.job_cancel(job=other)
    RenderJobFactory()  # someone else's
    ids = lambda r: [j["id"] for j in r.json()["results"]]  # noqa: E731
    assert set(ids(owner_client.get("/api/jobs/"))) == {str(job.id), str(other.id)}
    assert ids(owner_client.get("/api/jobs/?status=CANCELED")) == [str(other.id)]
    assert ids(owner_client.get(f"/api/jobs/?project={job.project_id}")) == [str(job.id)]


def test_bad_list_filter_is_a_400_naming_the_field(owner_client, job):
    response = owner_client.get("/api/jobs/?status=DONE")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "status"


def test_project_renders_lists_that_projects_jobs_newest_first(owner_client, project):
    first = RenderJobFactory(project=project)
    services.job_cancel(job=first)
    second = RenderJobFactory(project=project)
    body = owner_client.get(f"/api/projects/{project.id}/renders").json()
    assert [j["id"] for j in body["results"]] == [str(second.id), str(first.id)]


def test_another_user_gets_404_on_every_job_url(stranger_client, job, project):
    succeed(job)
    for method, url in [
        ("get", f"/api/jobs/{job.id}"),
        ("post", f"/api/jobs/{job.id}/cancel"),
        ("post", f"/api/jobs/{job.id}/retry"),
        ("get", f"/api/jobs/{job.id}/result"),
        ("get", f"/api/jobs/{job.id}/thumbnail"),
        ("get", f"/api/projects/{project.id}/renders"),
        ("post", f"/api/projects/{project.id}/renders"),
        ("get", f"/api/projects/{project.id}/published"),
    ]:
        response = getattr(stranger_client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert stranger_client.get("/api/jobs/").json()["results"] == []


def test_another_user_gets_404_for_every_method_on_job_urls(stranger_client, job, project):
    """Not 405 or OPTIONS' 200: those would answer for ids that are not yours."""
    urls = [f"/api/jobs/{job.id}", f"/api/jobs/{job.id}/cancel", f"/api/jobs/{job.id}/result",
            f"/api/projects/{project.id}/renders", f"/api/projects/{project.id}/published"]
    for url in urls:
        for method in ("get", "post", "put", "patch", "delete", "options"):
            response = getattr(stranger_client, method)(url)
            assert response.status_code == 404, (method, url, response.status_code)
            assert response["Content-Type"].startswith("application/json"), (method, url)


def test_owner_gets_405_for_a_method_the_job_url_does_not_take(owner_client, job):
    response = owner_client.delete(f"/api/jobs/{job.id}")
    assert response.status_code == 405
    assert response.json()["type"] == "client_error"


def test_malformed_ids_in_render_urls_get_a_json_404(owner_client):
    for url in ("/api/projects/zzz/renders", "/api/projects/0000/published", "/api/jobs/zzz/events", "/api/jobs/zzz"):
        response = owner_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["type"] == "client_error"


def test_rendering_an_empty_timeline_is_refused_with_its_path(owner_client, project):
    response = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_TIMELINE"
    assert body["errors"] == [{"code": "empty", "detail": "the timeline is empty: add a clip before rendering",
                               "attr": "timeline.tracks"}]
    assert not RenderJob.objects.filter(project=project).exists()


def test_anonymous_requests_are_refused(client, job):
    assert client.get(f"/api/jobs/{job.id}").status_code == 401


def test_malformed_job_id_is_404(owner_client):
    assert owner_client.get("/api/jobs/not-a-uuid").status_code == 404


def test_cancel_of_a_pending_job_answers_202_with_the_canceled_job(owner_client, job, redis_conn):
    response = owner_client.post(f"/api/jobs/{job.id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "CANCELED"


def test_cancel_of_a_running_job_answers_202_and_asks_it_to_stop(owner_client, job):
    services.job_claim(job_id=job.id)
    response = owner_client.post(f"/api/jobs/{job.id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "RUNNING" and response.json()["cancel_requested"] is True


def test_cancel_of_a_finished_job_is_409(owner_client, job):
    succeed(job)
    response = owner_client.post(f"/api/jobs/{job.id}/cancel")
    assert response.status_code == 409
    assert "already finished" in response.json()["errors"][0]["detail"]


def test_retry_of_a_failed_job_creates_a_new_job_with_the_same_timeline(owner_client, job, redis_conn):
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")
    response = owner_client.post(f"/api/jobs/{job.id}/retry")
    assert response.status_code == 202
    new = RenderJob.objects.get(pk=response.json()["id"])
    assert new.pk != job.pk and new.status == "PENDING" and new.retry_of_id == job.pk
    assert new.timeline == job.timeline and response.json()["retry_of"] == str(job.id)


def test_retry_of_a_canceled_job_creates_a_new_job(owner_client, job, redis_conn):
    services.job_cancel(job=job)
    assert owner_client.get(f"/api/jobs/{job.id}").json()["retryable"] is True
    response = owner_client.post(f"/api/jobs/{job.id}/retry")
    assert response.status_code == 202
    assert response.json()["status"] == "PENDING" and response.json()["retry_of"] == str(job.id)


@pytest.mark.parametrize("code", ["MEDIA_MISSING", "MEDIA_UNREADABLE", "INVALID_TIMELINE"])
def test_retry_is_refused_when_it_cannot_help(owner_client, job, code, redis_conn):
    services.job_fail(job_id=job.id, error_code=code, error_message="The media file is missing.")
    shown = owner_client.get(f"/api/jobs/{job.id}").json()
    assert shown["retryable"] is False
    response = owner_client.post(f"/api/jobs/{job.id}/retry")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "JOB_STATE_CONFLICT" and code in body["errors"][0]["detail"]
    assert RenderJob.objects.count() == 1


def test_staff_get_404_for_other_users_jobs_through_the_api(staff, job):
    from tests.conftest import token_client

    client = token_client(staff)
    assert client.get(f"/api/jobs/{job.id}").status_code == 404
    assert client.post(f"/api/jobs/{job.id}/cancel").status_code == 404
    assert client.get(f"/api/projects/{job.project_id}/").status_code == 404
    assert str(job.id) not in client.get("/api/jobs/").content.decode()


def test_retry_of_a_pending_job_is_409(owner_client, job):
    assert owner_client.post(f"/api/jobs/{job.id}/retry").status_code == 409


def test_result_is_404_until_the_job_succeeded(owner_client, job):
    assert owner_client.get(f"/api/jobs/{job.id}/result").status_code == 404


def test_result_downloads_with_range_support_and_never_shows_a_path(owner_client, job, media_root):
    payload = bytes(range(256)) * 8
    done = succeed(job, payload=payload)
    body = owner_client.get(f"/api/jobs/{job.id}").json()
    assert body["result"]["download_url"] == f"/api/jobs/{job.id}/result"
    assert body["result"]["checksum"] == f"sha256:{done.result_sha256}"
    assert body["result"]["thumbnail_url"] == f"/api/jobs/{job.id}/thumbnail"
    assert str(media_root) not in str(body) and "renders/" not in str(body)

    full = owner_client.get(f"/api/jobs/{job.id}/result")
    assert full.status_code == 200
    assert b"".join(full.streaming_content) == payload
    assert full["Content-Disposition"].startswith("attachment")
    assert "summer-trip" in full["Content-Disposition"]

    part = owner_client.get(f"/api/jobs/{job.id}/result", HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == payload[100:200]


def test_result_serves_a_player_that_asks_for_video(owner_client, job):
    """A <video> element or `curl -H 'Accept: video/mp4'` must get the bytes, not a 406."""
    payload = b"\x00\x00\x00\x18ftypmp42" * 4
    succeed(job, payload=payload)
    response = owner_client.get(f"/api/jobs/{job.id}/result", HTTP_ACCEPT="video/mp4", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == payload[:10]
    poster = owner_client.get(f"/api/jobs/{job.id}/thumbnail", HTTP_ACCEPT="image/jpeg")
    assert poster.status_code == 200


def test_thumbnail_serves_the_poster(owner_client, job):
    succeed(job)
    response = owner_client.get(f"/api/jobs/{job.id}/thumbnail")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"


def test_published_is_false_without_a_succeeded_render(owner_client, project, job):
    assert owner_client.get(f"/api/projects/{project.id}/published").json() == {"published": False}


def test_published_names_the_newest_succeeded_render(owner_client, project, job):
    succeed(job)
    body = owner_client.get(f"/api/projects/{project.id}/published").json()
    assert body["published"] is True and body["job_id"] == str(job.id)
    assert body["download_url"] == f"/api/jobs/{job.id}/result"
    assert body["duration"] == 2.0 and body["published_at"].endswith("Z")
    assert body["thumbnail_url"] == f"/api/jobs/{job.id}/thumbnail"


def test_openapi_schema_documents_the_job_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/jobs/{id}/cancel", "/api/projects/{project_id}/renders", "/api/jobs/{id}/result"):
        assert path in schema


def test_presets_list_their_sizes_both_ways(owner_client):
    response = owner_client.get("/api/presets")

    assert response.status_code == 200
    presets = {item["name"]: item for item in response.json()["presets"]}
    assert presets["full_hd"]["landscape"] == {"width": 1920, "height": 1080}
    assert presets["full_hd"]["portrait"] == {"width": 1080, "height": 1920}
    assert presets["project"]["landscape"] is None
    assert presets["draft"]["label"]
