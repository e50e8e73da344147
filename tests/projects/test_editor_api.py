"""What the editor needs from the project API: view saves without a new version, duplicate."""

from __future__ import annotations

from projects.models import Project
from projects.timeline import timeline_validate
from tests.factories import ProjectFactory, timeline_using


def test_saving_the_view_keeps_version_and_updated_at(owner_client, owner):
    project = ProjectFactory(owner=owner)
    before = Project.objects.get(pk=project.pk)

    response = owner_client.put(f"/api/projects/{project.id}/view",
                                {"current_time": 2.5, "zoom": 2, "tracks": {"v1": {"name": "B-roll"}}}, format="json")

    assert response.status_code == 200, response.content
    after = Project.objects.get(pk=project.pk)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    assert after.timeline["view"] == {"current_time": 2.5, "zoom": 2.0, "tracks": {"v1": {"name": "B-roll"}}}
    assert after.timeline["tracks"] == before.timeline["tracks"]


def test_two_tabs_scrubbing_then_saving_do_not_conflict(owner_client, owner, video):
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video))
    version = owner_client.get(f"/api/projects/{project.id}/").json()["version"]
    for time in (1.0, 2.0, 0.5):
        assert owner_client.put(f"/api/projects/{project.id}/view", {"current_time": time, "zoom": 1},
                                format="json").status_code == 200
    timeline = owner_client.get(f"/api/projects/{project.id}/").json()["timeline"]

    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": timeline, "version": version},
                                  format="json")

    assert response.status_code == 200, response.content
    assert response.json()["timeline"]["view"]["current_time"] == 0.5


def test_a_bad_view_is_refused_with_its_field(owner_client, owner):
    project = ProjectFactory(owner=owner)

    response = owner_client.put(f"/api/projects/{project.id}/view", {"current_time": -1, "zoom": 1}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "view.current_time"


def test_another_users_view_save_is_404(stranger_client, owner):
    project = ProjectFactory(owner=owner)

    assert stranger_client.put(f"/api/projects/{project.id}/view", {"zoom": 1}, format="json").status_code == 404


def test_duplicate_copies_the_timeline_as_a_new_project(owner_client, owner, video):
    project = ProjectFactory(owner=owner, name="Trailer", timeline=timeline_using(video=video, title="Hi"))

    response = owner_client.post(f"/api/projects/{project.id}/duplicate", {}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Trailer (copy)" and body["version"] == 1 and body["id"] != str(project.id)
    original = timeline_validate(Project.objects.get(pk=project.pk).timeline, owner=owner)
    assert body["timeline"]["tracks"] == original["tracks"]
    assert Project.objects.filter(owner=owner).count() == 2


def test_duplicate_takes_a_name_and_hides_others_projects(owner_client, stranger_client, owner):
    project = ProjectFactory(owner=owner, name="Trailer")

    assert owner_client.post(f"/api/projects/{project.id}/duplicate", {"name": "Cut B"},
                             format="json").json()["name"] == "Cut B"
    assert stranger_client.post(f"/api/projects/{project.id}/duplicate", {}, format="json").status_code == 404
