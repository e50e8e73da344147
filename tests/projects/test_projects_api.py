"""The project endpoints: create, list, read, change (with optimistic concurrency), delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import Project
from tests.factories import ProjectFactory, timeline_using


def test_a_new_project_gets_a_valid_empty_timeline(owner_client):
    response = owner_client.post("/api/projects/", {"name": "Trailer"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Trailer" and body["description"] == "" and body["version"] == 1
    assert body["timeline"]["output"] == {"width": 1280, "height": 720, "fps": 30, "background": "#000000"}
    assert body["timeline"]["tracks"] == []
    assert (body["duration"], body["clip_count"]) == (0.0, 0)
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert response["ETag"] == '"1"'


def test_create_with_a_timeline_stores_its_canonical_form(owner_client, video, audio):
    document = timeline_using(video=video, audio=audio, title="Hello")

    response = owner_client.post("/api/projects", {"name": "Cut", "timeline": document}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    clip = body["timeline"]["tracks"][0]["clips"][0]
    assert clip["fit"] == "contain" and clip["transition"] is None and clip["volume"] == 1.0
    assert body["clip_count"] == 3
    assert body["duration"] == pytest.approx(video.duration)
    assert Project.objects.get(pk=body["id"]).timeline == body["timeline"]


def test_create_with_a_broken_timeline_answers_400_with_every_path(owner_client, video):
    document = timeline_using(video=video)
    document["tracks"][0]["clips"][0]["out"] = 12.0
    document["output"]["fps"] = 0

    response = owner_client.post("/api/projects/", {"name": "Cut", "timeline": document}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error" and body["code"] == "INVALID_TIMELINE"
    assert {"code": "out_of_range", "detail": "fps (0.0) must be at least 1.0", "attr": "timeline.output.fps"} in body[
        "errors"]
    assert {"code": "invalid", "detail": f"out (12.0) is past the end of the asset ({round(video.duration, 3)} s)",
            "attr": "timeline.tracks.0.clips.0.out"} in body["errors"]
    assert Project.objects.count() == 0


def test_a_name_is_required(owner_client):
    response = owner_client.post("/api/projects/", {"description": "no name"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "required", "detail": "This field is required.", "attr": "name"}]


def test_the_list_is_paginated_newest_change_first(owner_client, owner, stranger):
    base = timezone.now() - timedelta(days=1)
    for minute in range(52):
        ProjectFactory(owner=owner, name=f"p{minute:02d}")
    for minute in range(52):
        Project.objects.filter(name=f"p{minute:02d}").update(updated_at=base + timedelta(minutes=minute))
    ProjectFactory(owner=stranger, name="not yours")
    touched = Project.objects.get(name="p10")
    owner_client.patch(f"/api/projects/{touched.id}/", {"description": "touched"}, format="json")

    page = owner_client.get("/api/projects/").json()

    assert page["count"] == 52
    names = [p["name"] for p in page["results"]]
    assert len(names) == 50
    assert names[:3] == ["p10", "p51", "p50"]
    rest = owner_client.get(page["next"]).json()["results"]
    assert [p["name"] for p in rest] == ["p01", "p00"]


def test_patch_changes_fields_and_bumps_the_version(owner_client, owner):
    project = ProjectFactory(owner=owner)

    response = owner_client.patch(f"/api/projects/{project.id}", {"name": "Renamed", "version": 1}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["version"]) == ("Renamed", 2)
    assert response["ETag"] == '"2"'


def test_a_stale_version_in_the_body_gets_409_with_the_current_version(owner_client, owner, video):
    project = ProjectFactory(owner=owner)
    tab_a = {"timeline": timeline_using(video=video), "version": 1}
    tab_b = {"timeline": timeline_using(video=video, title="from tab b"), "version": 1}

    assert owner_client.patch(f"/api/projects/{project.id}/", tab_a, format="json").status_code == 200
    response = owner_client.patch(f"/api/projects/{project.id}/", tab_b, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "VERSION_CONFLICT"
    assert body["current_version"] == 2
    assert body["project"]["version"] == 2 and body["project"]["clip_count"] == 1
    assert "you sent version 1, the current version is 2" in body["errors"][0]["detail"]
    stored = Project.objects.get(pk=project.pk)
    assert stored.version == 2 and stored.clip_count == 1  # tab b's save did not land


def test_a_stale_if_match_header_gets_409(owner_client, owner):
    project = ProjectFactory(owner=owner)
    owner_client.patch(f"/api/projects/{project.id}/", {"name": "v2"}, format="json")

    response = owner_client.patch(f"/api/projects/{project.id}/", {"name": "late"}, format="json",
                                  HTTP_IF_MATCH='"1"')

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert Project.objects.get(pk=project.pk).name == "v2"


def test_a_current_if_match_header_saves(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = owner_client.patch(f"/api/projects/{project.id}/", {"name": "ok"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response.json()["version"] == 2


def test_an_unreadable_if_match_header_is_a_400(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = owner_client.patch(f"/api/projects/{project.id}/", {"name": "x"}, format="json",
                                  HTTP_IF_MATCH="yesterday")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "If-Match"


def test_put_replaces_name_description_and_timeline(owner_client, owner, image):
    project = ProjectFactory(owner=owner, description="old")
    document = timeline_using(image=image)

    response = owner_client.put(f"/api/projects/{project.id}/", {"name": "New", "timeline": document, "version": 1},
                                format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["clip_count"], body["version"]) == ("New", "", 1, 2)


def test_put_without_a_timeline_is_refused(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = owner_client.put(f"/api/projects/{project.id}/", {"name": "New"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timeline"


def test_an_invalid_timeline_on_patch_changes_nothing(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": {"tracks": "none"}, "name": "x"},
                                  format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "invalid_type", "detail": "tracks must be a list (got text)",
                                            "attr": "timeline.tracks"}
    before = (project.name, project.version, project.timeline, project.updated_at)
    project.refresh_from_db()
    # Nothing at all was written: a partial write (the name alone, or the version alone) fails this.
    assert (project.name, project.version, project.timeline, project.updated_at) == before


def test_delete_removes_the_project(owner_client, owner):
    project = ProjectFactory(owner=owner)
    assert owner_client.delete(f"/api/projects/{project.id}").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert owner_client.get(f"/api/projects/{project.id}").status_code == 404


def test_paths_answer_with_and_without_a_trailing_slash(owner_client, owner):
    project = ProjectFactory(owner=owner)
    for url in ("/api/projects", "/api/projects/", f"/api/projects/{project.id}", f"/api/projects/{project.id}/"):
        assert owner_client.get(url).status_code == 200, url


def test_anonymous_clients_get_401(client, owner):
    project = ProjectFactory(owner=owner)
    assert client.get("/api/projects/").status_code == 401
    assert client.get(f"/api/projects/{project.id}/").status_code == 401


def test_an_unknown_id_is_a_json_404(owner_client):
    for url in ("/api/projects/00000000-0000-0000-0000-000000000000", "/api/projects/not-a-uuid"):
        response = owner_client.get(url)
        assert response.status_code == 404
        assert response.json()["type"] == "client_error"


def test_a_stale_save_is_a_conflict_even_if_its_timeline_is_also_broken(owner_client, owner):
    project = ProjectFactory(owner=owner)
    owner_client.patch(f"/api/projects/{project.id}/", {"name": "v2"}, format="json")
    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": {"tracks": 1}, "version": 1},
                                  format="json")
    assert response.status_code == 409


def test_two_simultaneous_saves_of_the_same_version_yield_one_winner(transactional_db, owner):
    import threading

    from django.db import connection

    from projects.errors import VersionConflict
    from projects.services import project_update

    project = ProjectFactory(owner=owner)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(name: str) -> None:
        try:
            barrier.wait()
            project_update(project=Project.objects.get(pk=project.pk), name=name, expected_version=1)
            outcomes.append("saved")
        except VersionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(name,)) for name in ("tab a", "tab b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "saved"]
    assert Project.objects.get(pk=project.pk).version == 2


@pytest.mark.parametrize("method", ["patch", "put", "post"])
def test_an_unknown_top_level_field_is_refused_naming_it(owner_client, owner, method):
    project = ProjectFactory(owner=owner)
    before = (project.name, project.version, project.timeline)
    url = "/api/projects/" if method == "post" else f"/api/projects/{project.id}/"
    body = {"name": "Typo", "timline": {"schema": 1}, "timeline": project.timeline}
    response = getattr(owner_client, method)(url, body, format="json")
    assert response.status_code == 400
    item = response.json()["errors"][0]
    assert item["code"] == "unknown_field" and item["attr"] == "timline"
    assert "timline" in item["detail"]
    project.refresh_from_db()
    assert (project.name, project.version, project.timeline) == before  # nothing of the body was saved
    assert Project.objects.filter(name="Typo").count() == 0


def test_fields_of_the_representation_sent_back_unchanged_are_accepted(owner_client, owner):
    project = ProjectFactory(owner=owner)
    shown = owner_client.get(f"/api/projects/{project.id}/").json()
    shown["name"] = "Round trip"
    response = owner_client.put(f"/api/projects/{project.id}/", shown, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Round trip"


def _stored_result(job, owner) -> list[str]:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from jobs import services

    services.job_claim(job_id=job.id)
    video = default_storage.save(f"renders/{owner.pk}/{job.id}/render.mp4", ContentFile(b"mp4"))
    poster = default_storage.save(f"renders/{owner.pk}/{job.id}/poster.jpg", ContentFile(b"jpg"))
    captions = default_storage.save(f"renders/{owner.pk}/{job.id}/captions.vtt", ContentFile(b"WEBVTT"))
    services.job_succeed(job_id=job.id, attempt=1, result=services.StoredResult(
        result_file=video, poster=poster, sha256="0" * 64, size_bytes=3, duration=1.0, width=320, height=180,
        fps=30.0, render_path="ffmpeg"))
    return [video, poster, captions]


def test_deleting_a_project_deletes_its_render_files_after_commit(owner_client, owner,
                                                                  django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from tests.factories import RenderJobFactory

    project = ProjectFactory(owner=owner)
    names = _stored_result(RenderJobFactory(project=project), owner)
    other = _stored_result(RenderJobFactory(project=ProjectFactory(owner=owner)), owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/projects/{project.id}").status_code == 204
    assert not any(default_storage.exists(name) for name in names)
    assert all(default_storage.exists(name) for name in other)


def test_deleting_a_project_takes_its_pending_render_off_the_queue_and_stops_a_running_one(
        owner_client, owner, image, redis_conn, django_capture_on_commit_callbacks):
    from jobs import services
    from jobs.models import RenderJob
    from jobs.services.progress import ProgressReporter

    project = ProjectFactory(owner=owner, timeline=timeline_using(image=image))
    pending = ProjectFactory(owner=owner, timeline=timeline_using(image=image))
    running_job = RenderJob.objects.create(owner=owner, project=project, timeline=project.timeline,
                                           output_width=320, output_height=180, output_fps=30)
    services.job_claim(job_id=running_job.id)
    reporter = ProgressReporter(running_job.id, attempt=1)
    with django_capture_on_commit_callbacks(execute=True):
        queued, _ = services.render_submit(project=pending, user=owner, preset="draft")
    assert str(queued.id) in services.render_queue().get_job_ids()
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(f"/api/projects/{pending.id}").status_code == 204
        assert owner_client.delete(f"/api/projects/{project.id}").status_code == 204
    assert str(queued.id) not in services.render_queue().get_job_ids()
    assert not RenderJob.objects.filter(pk__in=[queued.id, running_job.id]).exists()
    assert reporter.should_cancel() is True  # the worker's next check stops the render
