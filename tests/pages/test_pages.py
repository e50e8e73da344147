"""The server-rendered pages, through Django's test client (the browser tests drive them in Chromium)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from jobs.models import RenderJob
from tests.factories import ProjectFactory, RenderJobFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/jobs/", f"/projects/{uuid.uuid4()}/"])
def test_pages_send_anonymous_people_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_shows_log_in(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Log in" in response.content.decode()


def test_logging_in_leads_to_the_project_list(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": "correct horse battery"},
                           follow=True)
    assert response.status_code == 200
    assert "<h1>Projects</h1>" in response.content.decode()


def test_project_list_shows_only_own_projects_with_duration(client, owner, stranger):
    ProjectFactory(owner=owner, name="Holiday cut", timeline={
        "schema": 1, "output": {"width": 640, "height": 360, "fps": 30, "background": "#000000"},
        "tracks": [{"id": "t1", "kind": "text", "clips": [
            {"id": "x1", "text": "Hi", "start": 1.0, "duration": 11.5,
             "style": {"size": 64, "color": "#ffffff", "position": "center"}}]}],
        "markers": [], "view": {"current_time": 0.0, "zoom": 1.0}})
    ProjectFactory(owner=stranger, name="Stranger's secret")
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "Holiday cut" in html
    assert "12.5 s long" in html
    assert "Stranger&#x27;s secret" not in html and "Stranger's secret" not in html


def test_project_card_shows_last_render_status_and_newest_poster(client, owner):
    project = ProjectFactory(owner=owner, name="Rendered")
    done = RenderJobFactory(project=project, status=RenderJob.Status.SUCCEEDED, poster="renders/p.jpg",
                            finished_at=timezone.now())
    RenderJobFactory(project=project, status=RenderJob.Status.FAILED, error_code="RENDER_FAILED")
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "Last render: Failed" in html
    assert f'src="/api/jobs/{done.id}/thumbnail"' in html


def test_project_without_renders_says_so(client, owner):
    ProjectFactory(owner=owner, name="Fresh")
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "No renders yet" in html
    assert "Not rendered yet" in html


def test_editor_opens_for_the_owner_with_its_config(client, owner):
    project = ProjectFactory(owner=owner, name="Cut one")
    client.force_login(owner)
    response = client.get(f"/projects/{project.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'"project_id": "{project.id}"' in html
    assert "/static/cutline/js/editor/main.js" in html
    for preset in ("draft", "hd", "full_hd", "project"):
        assert f'<option value="{preset}">' in html


def test_editor_of_another_users_project_is_404(client, owner, stranger):
    project = ProjectFactory(owner=stranger)
    client.force_login(owner)
    assert client.get(f"/projects/{project.id}/").status_code == 404


def test_editor_of_a_missing_project_is_404(client, owner):
    client.force_login(owner)
    assert client.get(f"/projects/{uuid.uuid4()}/").status_code == 404


def test_jobs_page_names_only_own_projects(client, owner, stranger):
    mine = ProjectFactory(owner=owner, name="Mine")
    ProjectFactory(owner=stranger, name="Theirs")
    client.force_login(owner)
    response = client.get("/jobs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'"{mine.id}": "Mine"' in html
    assert "Theirs" not in html
    assert '<option value="FAILED">Failed</option>' in html


def test_pages_set_the_csrf_cookie_the_scripts_send_back(client, owner):
    client.force_login(owner)
    for url in ("/", "/jobs/"):
        client.cookies.clear()
        client.force_login(owner)
        response = client.get(url)
        assert "csrftoken" in response.cookies, url


def test_main_navigation_marks_the_current_page(client, owner):
    client.force_login(owner)
    html = client.get("/jobs/").content.decode()
    assert re.search(r'<a href="/jobs/"\s+aria-current="page">Renders</a>', html)


def test_labels_are_emitted_once_for_the_pages_javascript(client, owner):
    """jobs/labels.py is the only table of labels: the page carries it as JSON and format.js repeats none."""
    client.force_login(owner)
    html = client.get("/jobs/").content.decode()
    match = re.search(r'<script id="cutline-labels" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the labels JSON is missing from the page"
    labels = json.loads(match.group(1))
    assert labels["status"]["RUNNING"] == "Rendering" and labels["preset"]["full_hd"] == "Full HD 1080p"
    assert labels["phase"]["QUEUED"] == "Waiting for a worker"
    format_js = (Path(__file__).resolve().parents[2] / "projects/static/cutline/js/format.js").read_text()
    for text in ("Rendering", "Full HD 1080p", "Waiting for a worker"):
        assert text not in format_js
