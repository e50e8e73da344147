"""Timelines that are well-formed JSON but cannot be stored or used: refused with their path, never a 500."""

from __future__ import annotations

import pytest

from projects.models import Project
from projects.timeline import timeline_empty
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _patch(client, project, timeline):
    return client.patch(f"/api/projects/{project.id}", {"timeline": timeline, "version": project.version},
                        format="json")


def _text_timeline(**clip) -> dict:
    timeline = timeline_empty()
    timeline["tracks"] = [{"id": "t1", "kind": "text", "clips": [
        {"id": "x1", "text": "Hello", "start": 0.0, "duration": 2.0, **clip}]}]
    return timeline


def test_nul_character_in_text_is_refused_with_its_path(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = _patch(owner_client, project, _text_timeline(text="a\x00b"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timeline.tracks.0.clips.0.text"
    assert "NUL" in response.json()["errors"][0]["detail"]
    assert Project.objects.get(pk=project.pk).version == project.version


def test_nul_character_in_a_view_key_is_refused(owner_client, owner):
    project = ProjectFactory(owner=owner)
    timeline = timeline_empty()
    timeline["view"]["a\x00"] = 1
    response = _patch(owner_client, project, timeline)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timeline.view"


def test_an_integer_too_large_for_a_float_is_out_of_range(owner_client, owner):
    project = ProjectFactory(owner=owner)
    response = _patch(owner_client, project, _text_timeline(start=10**400))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["attr"] == "timeline.tracks.0.clips.0.start"
    assert error["code"] == "out_of_range"


def test_absurdly_nested_editor_state_is_refused(owner_client, owner):
    project = ProjectFactory(owner=owner)
    timeline = timeline_empty()
    nested: dict = {}
    timeline["view"]["deep"] = nested
    for _ in range(40):
        nested["x"] = {}
        nested = nested["x"]
    response = _patch(owner_client, project, timeline)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["errors"][0]["detail"]
