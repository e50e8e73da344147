"""`manage.py seed_demo`: the newcomer's demo user, sample media and a project ready to render."""

from __future__ import annotations

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command

from projects.management.commands.seed_demo import BARS, DEMO_PROJECT_NAME, PATTERN, TONE
from projects.models import MediaAsset, Project
from projects.timeline import timeline_validate


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8123", stdout=out)
    return out.getvalue()


def test_seed_creates_sample_media_and_a_valid_demo_project(db):
    output = seed()

    user = get_user_model().objects.get(username="demo")
    assets = {asset.name: asset for asset in MediaAsset.objects.filter(owner=user)}
    assert set(assets) == {BARS, PATTERN, TONE}
    assert (assets[BARS].kind, assets[PATTERN].kind, assets[TONE].kind) == ("video", "video", "audio")
    assert assets[BARS].thumbnail and assets[BARS].filmstrip
    project = Project.objects.get(owner=user, name=DEMO_PROJECT_NAME)
    assert timeline_validate(project.timeline, owner=user) == project.timeline
    second = project.timeline["tracks"][0]["clips"][1]
    assert second["transition"] == {"type": "crossfade", "duration": 0.5}
    assert project.timeline["tracks"][1]["clips"][0]["text"] == "Welcome to Cutline"
    assert "Demo login: demo / cutline-demo" in output
    assert f"Demo project: http://127.0.0.1:8123/projects/{project.id}/" in output


def test_seed_is_idempotent(db):
    first = seed()
    second = seed()

    assert MediaAsset.objects.count() == 3
    assert Project.objects.count() == 2  # the demo project and the demo template (docs/automation.md)
    assert set(Project.objects.values_list("version", flat=True)) == {1}
    assert "Sample media" not in second
    assert re.search(r"projects/[0-9a-f-]{36}/", first).group() == re.search(r"projects/[0-9a-f-]{36}/", second).group()


def test_seed_repairs_a_demo_project_from_an_older_seed(db):
    user = get_user_model().objects.create(username="demo")
    Project.objects.create(owner=user, name=DEMO_PROJECT_NAME)

    seed()

    project = Project.objects.get(name=DEMO_PROJECT_NAME)
    assert project.clip_count == 4 and project.version == 2
