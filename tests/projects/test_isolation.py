"""Another user's projects and assets do not exist for you: 404 on every URL, for every method."""

from __future__ import annotations

import uuid

import pytest

from projects.models import MediaAsset, Project
from tests.factories import ProjectFactory, timeline_using

METHODS = ["get", "head", "options", "post", "put", "patch", "delete"]


def project_urls(project_id) -> list[str]:
    return [f"/api/projects/{project_id}", f"/api/projects/{project_id}/"]


def asset_urls(asset_id) -> list[str]:
    return [
        f"/api/assets/{asset_id}", f"/api/assets/{asset_id}/",
        f"/api/assets/{asset_id}/file", f"/api/assets/{asset_id}/file/",
        f"/api/assets/{asset_id}/thumbnail", f"/api/assets/{asset_id}/filmstrip/",
    ]


def call(client, method: str, url: str):
    body = {"name": "mine now", "timeline": {"tracks": []}, "version": 1}
    if method in {"post", "put", "patch"}:
        return getattr(client, method)(url, body, format="json", HTTP_IF_MATCH='"1"')
    return getattr(client, method)(url)


@pytest.fixture
def owners_things(owner, video):
    project = ProjectFactory(owner=owner, name="Secret", timeline=timeline_using(video=video))
    return project, video


@pytest.mark.parametrize("method", METHODS)
def test_a_stranger_gets_404_for_every_method_on_every_url(stranger_client, owners_things, method):
    project, asset = owners_things
    for url in project_urls(project.id) + asset_urls(asset.id):
        response = call(stranger_client, method, url)
        assert response.status_code == 404, (method, url, response.status_code)
        if method not in {"head"}:
            assert "Secret" not in response.content.decode()
            assert response.json()["type"] == "client_error"


@pytest.mark.parametrize("method", METHODS)
def test_a_strangers_answer_is_the_same_as_for_an_id_that_does_not_exist(stranger_client, owners_things, method):
    project, asset = owners_things
    for real, missing in zip(project_urls(project.id) + asset_urls(asset.id),
                             project_urls(uuid.uuid4()) + asset_urls(uuid.uuid4()), strict=True):
        a, b = call(stranger_client, method, real), call(stranger_client, method, missing)
        assert (a.status_code, a.content.replace(str(project.id).encode(), b"").replace(str(asset.id).encode(), b"")) \
            == (b.status_code, b.content), (method, real)


def test_nothing_changed_after_the_strangers_attempts(stranger_client, owners_things):
    project, asset = owners_things
    for method in METHODS:
        for url in project_urls(project.id) + asset_urls(asset.id):
            call(stranger_client, method, url)
    project.refresh_from_db()
    assert (project.name, project.version) == ("Secret", 1)
    assert MediaAsset.objects.filter(pk=asset.pk).exists()


def test_lists_hold_only_your_own(stranger_client, owners_things):
    assert stranger_client.get("/api/projects/").json()["count"] == 0
    assert stranger_client.get("/api/assets/").json()["count"] == 0


def test_the_owner_is_not_blocked_by_the_same_urls(owner_client, owners_things):
    project, asset = owners_things
    assert owner_client.options(f"/api/projects/{project.id}").status_code == 200
    assert owner_client.post(f"/api/projects/{project.id}", {}, format="json").status_code == 405
    assert owner_client.get(f"/api/assets/{asset.id}/file").status_code == 200


def test_a_stranger_cannot_use_someone_elses_asset_in_a_timeline(stranger_client, owners_things):
    _project, asset = owners_things
    response = stranger_client.post("/api/projects/", {"name": "x", "timeline": timeline_using(video=asset)},
                                    format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "code": "unknown_asset", "detail": f"asset {asset.id} is not in your media library",
        "attr": "timeline.tracks.0.clips.0.asset_id",
    }]
    assert Project.objects.filter(name="x").count() == 0
