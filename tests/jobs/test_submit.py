"""Starting renders: validation, one active job per project under concurrency, quota, Redis down."""

from __future__ import annotations

import socket
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from jobs import services
from jobs.models import RenderJob
from tests.conftest import token_client
from tests.factories import ProjectFactory


@pytest.mark.django_db
def test_submit_answers_202_with_a_new_pending_job(owner_client, make_project, redis_conn):
    project = make_project()
    response = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["created"] is True and body["job"]["status"] == "PENDING"
    assert body["job"]["output"] == {"width": 640, "height": 360, "fps": 30}
    job = RenderJob.objects.get(pk=body["job"]["id"])
    assert job.timeline["tracks"] == project.timeline["tracks"]  # frozen copy


@pytest.mark.django_db
def test_second_submit_returns_the_pending_job(owner_client, make_project, redis_conn):
    project = make_project()
    first = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json").json()
    again = owner_client.post(f"/api/projects/{project.id}/renders/", {"preset": "hd"}, format="json")
    assert again.status_code == 200
    assert again.json() == {"created": False, "job": first["job"]}


@pytest.mark.django_db
def test_unknown_preset_is_400_naming_the_field(owner_client, make_project, redis_conn):
    project = make_project()
    response = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "4k"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "preset"


@pytest.mark.django_db
def test_invalid_timeline_is_400_with_paths_and_no_job(owner_client, owner, redis_conn):
    timeline = {"schema": 1, "output": {"width": 320, "height": 180, "fps": 30, "background": "#000000"},
                "tracks": [{"id": "v1", "kind": "video", "clips": [
                    {"id": "c1", "asset_id": "00000000-0000-0000-0000-000000000000", "start": 0, "in": 0,
                     "out": 1}]}]}
    project = ProjectFactory(owner=owner, timeline=timeline)
    response = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_TIMELINE"
    assert any((e["attr"] or "").startswith("timeline.tracks.0.clips.0") for e in body["errors"])
    assert not RenderJob.objects.exists()


@pytest.mark.django_db
def test_active_job_limit_per_user_answers_429(owner_client, make_project, settings, redis_conn):
    settings.RENDER_MAX_ACTIVE_JOBS_PER_USER = 1
    first, second = make_project(name="one"), make_project(name="two")
    assert owner_client.post(f"/api/projects/{first.id}/renders", format="json").status_code == 202
    response = owner_client.post(f"/api/projects/{second.id}/renders", format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "QUOTA_EXCEEDED"
    assert "limit is 1" in response.json()["errors"][0]["detail"]


@pytest.mark.django_db
def test_redis_down_answers_503_and_reads_keep_working(owner_client, make_project, settings, redis_conn):
    project = make_project()
    created = owner_client.post(f"/api/projects/{project.id}/renders", format="json").json()["job"]
    other = make_project(name="other")
    # A real Redis client pointed at a port nobody listens on.
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "render": {**settings.RQ_QUEUES["render"],
                                                           "URL": "redis://127.0.0.1:1/0"}}
    response = owner_client.post(f"/api/projects/{other.id}/renders", format="json")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "QUEUE_UNAVAILABLE" and "try again" in body["errors"][0]["detail"]
    assert "127.0.0.1" not in str(body)
    assert owner_client.get(f"/api/jobs/{created['id']}").status_code == 200
    assert owner_client.get("/api/jobs/").status_code == 200
    assert RenderJob.objects.count() == 1


def test_twenty_concurrent_submits_create_exactly_one_job(transactional_db, owner, make_project, redis_conn):
    project = make_project()
    # Credentials are set up front: before the barrier no thread holds a database connection, so the
    # web process's connection pool (10) serves the 20 requests as they come, like a real server's.
    key = token_client(owner)._credentials["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(20)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def submit():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=key)
            barrier.wait(timeout=30)
            response = client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json")
            with lock:
                answers.append((response.status_code, response.json()["job"]["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    codes = sorted(code for code, _ in answers)
    assert codes == [200] * 19 + [202]
    assert len({job_id for _, job_id in answers}) == 1
    assert RenderJob.objects.filter(project=project).count() == 1


@pytest.fixture
def hung_redis():
    """A TCP server that accepts connections and never answers: a Redis that hangs rather than refuses."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.django_db
def test_a_hung_redis_answers_503_within_redis_timeout(owner_client, make_project, settings, hung_redis):
    """The queue connection waits REDIS_TIMEOUT for each reply (it waited at least 5 s before)."""
    settings.REDIS_TIMEOUT = 0.3
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "render": {**settings.RQ_QUEUES["render"], "URL": hung_redis}}
    project = make_project()
    response = owner_client.post(f"/api/projects/{project.id}/renders", format="json")
    assert response.status_code == 503 and response.json()["code"] == "QUEUE_UNAVAILABLE"
    kwargs = services.queue_connection().connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 0.3
    assert RenderJob.objects.count() == 0


@pytest.mark.django_db
def test_the_factory_makes_what_render_submit_makes(owner, make_project, redis_conn):
    """Tests built on RenderJobFactory see the job a submit leaves: same fields, same first event."""
    from jobs.models import JobEvent
    from tests.factories import RenderJobFactory

    def shape(job: RenderJob) -> dict:
        job.refresh_from_db()
        events = [(e.seq, e.type, {k: v for k, v in e.payload.items() if k not in ("job_id", "project_id", "ts")})
                  for e in JobEvent.objects.filter(job=job).order_by("seq")]
        return {"status": job.status, "phase": job.phase, "progress": job.progress, "message": job.message,
                "last_seq": job.last_seq, "queued": job.queued_at is not None, "events": events}

    submitted, created = services.render_submit(project=make_project(), user=owner, preset="draft")
    made = RenderJobFactory(project=make_project(), owner=owner)
    assert created and shape(made) == shape(submitted)
    assert shape(made)["events"][0][:2] == (1, "job.progress")
