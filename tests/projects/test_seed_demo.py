"""`manage.py seed_demo`: the newcomer's demo user, sample media and a project ready to render."""

from __future__ import annotations

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command

from projects.management.commands.seed_demo import (
    BARS,
    CAPTIONED_PROJECT_NAME,
    CAPTIONS,
    DEMO_PROJECT_NAME,
    LOGO,
    PATTERN,
    TONE,
)
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
    assert set(assets) == {BARS, PATTERN, TONE, LOGO, CAPTIONS}
    assert (assets[BARS].kind, assets[PATTERN].kind, assets[TONE].kind) == ("video", "video", "audio")
    assert assets[BARS].thumbnail and assets[BARS].filmstrip
    project = Project.objects.get(owner=user, name=DEMO_PROJECT_NAME)
    assert timeline_validate(project.timeline, owner=user) == project.timeline
    tracks = {track["id"]: track for track in project.timeline["tracks"]}
    assert tracks["v1"]["clips"][1]["transition"] == {"type": "wipe_left", "duration": 0.5}  # a wipe
    card = tracks["v2"]["clips"][0]
    assert [point["v"] for point in card["keyframes"]["scale"]] == [1.0, 1.15]  # a Ken Burns title card
    assert tracks["t1"]["clips"][0]["text"] == "Welcome to Cutline"
    logo = tracks["v3"]["clips"][0]
    assert logo["asset_id"] == str(assets[LOGO].id)
    assert (logo["transform"]["x"], logo["transform"]["y"]) == (0.92, 0.1)  # a corner logo
    assert "Demo login: demo / cutline-demo" in output
    assert f"Demo project: http://127.0.0.1:8123/projects/{project.id}/" in output


def test_seed_is_idempotent(db):
    first = seed()
    second = seed()

    assert MediaAsset.objects.count() == 5
    assert Project.objects.count() == 3  # the demo, its captioned 9:16 variant and the template (docs/automation.md)
    assert set(Project.objects.values_list("version", flat=True)) == {1}
    assert "Sample media" not in second
    assert re.search(r"projects/[0-9a-f-]{36}/", first).group() == re.search(r"projects/[0-9a-f-]{36}/", second).group()


def test_seed_repairs_a_demo_project_from_an_older_seed(db):
    user = get_user_model().objects.create(username="demo")
    Project.objects.create(owner=user, name=DEMO_PROJECT_NAME)

    seed()

    project = Project.objects.get(name=DEMO_PROJECT_NAME)
    assert project.clip_count == 6 and project.version == 2


def test_seed_adds_a_captioned_vertical_variant(db):
    output = seed()

    user = get_user_model().objects.get(username="demo")
    project = Project.objects.get(owner=user, name=CAPTIONED_PROJECT_NAME)
    assert timeline_validate(project.timeline, owner=user) == project.timeline
    assert (project.timeline["output"]["width"], project.timeline["output"]["height"]) == (1080, 1920)
    captions = project.timeline["tracks"][-1]
    assert captions["kind"] == "captions"
    assert MediaAsset.objects.get(id=captions["asset_id"]).kind == "subtitles"
    assert f"Captioned 9:16 demo: http://127.0.0.1:8123/projects/{project.id}/" in output
