"""The admin pages for projects and assets load for staff and show what operators need."""

from __future__ import annotations

import pytest

from projects.models import Project
from tests.factories import ProjectFactory, timeline_using


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_project_changelist_shows_clip_count_and_duration(staff_client, owner, video):
    ProjectFactory(owner=owner, name="Wedding cut", timeline=timeline_using(video=video, title="Hi"))

    page = staff_client.get("/admin/projects/project/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Wedding cut" in text and "owner" in text
    assert f"{video.duration:.2f}" in text


def test_project_search_finds_by_owner_username(staff_client, owner, stranger):
    ProjectFactory(owner=owner, name="Mine")
    ProjectFactory(owner=stranger, name="Theirs")
    text = staff_client.get("/admin/projects/project/?q=stranger").content.decode()
    assert "Theirs" in text and "Mine" not in text


def test_project_change_page_shows_the_timeline_pretty_printed(staff_client, owner, video):
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video))

    page = staff_client.get(f"/admin/projects/project/{project.id}/change/")

    assert page.status_code == 200
    assert "&quot;asset_id&quot;: &quot;" + str(video.id) in page.content.decode()


def test_saving_in_the_admin_bumps_the_version(staff_client, owner):
    project = ProjectFactory(owner=owner, name="Old")
    response = staff_client.post(f"/admin/projects/project/{project.id}/change/",
                                 {"name": "New", "description": ""})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.version) == ("New", 2)


def test_adding_a_project_in_the_admin_gives_it_an_empty_timeline(staff_client, owner):
    response = staff_client.post("/admin/projects/project/add/", {"name": "Fresh", "owner": owner.pk,
                                                                   "description": ""})
    assert response.status_code == 302
    assert Project.objects.get(name="Fresh").timeline["tracks"] == []


def test_asset_changelist_and_filters_load_with_thumbnails(staff_client, video, audio):
    page = staff_client.get("/admin/projects/mediaasset/?kind__exact=video")

    assert page.status_code == 200
    text = page.content.decode()
    assert "pattern.mp4" in text and "tone.wav" not in text
    assert f"/admin/projects/mediaasset/{video.id}/picture/thumbnail/" in text


def test_asset_change_page_and_its_pictures_load(staff_client, video):
    page = staff_client.get(f"/admin/projects/mediaasset/{video.id}/change/")
    assert page.status_code == 200
    assert "h264" in page.content.decode()

    thumbnail = staff_client.get(f"/admin/projects/mediaasset/{video.id}/picture/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert staff_client.get(f"/admin/projects/mediaasset/{video.id}/picture/filmstrip/").status_code == 200


def test_asset_pictures_are_for_staff_only(client, owner, video):
    client.force_login(owner)
    response = client.get(f"/admin/projects/mediaasset/{video.id}/picture/thumbnail/")
    assert response.status_code == 302  # to the admin login


def test_deleting_an_asset_in_use_from_the_admin_is_refused_with_a_message(staff_client, owner, video):
    ProjectFactory(owner=owner, name="Uses it", timeline=timeline_using(video=video))
    response = staff_client.post(f"/admin/projects/mediaasset/{video.id}/delete/", {"post": "yes"}, follow=True)
    assert "Not deleted" in response.content.decode()
    assert type(video).objects.filter(pk=video.pk).exists()
