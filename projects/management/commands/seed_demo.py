"""Create the demo user, sample media and a demo project for `make run`, once; print how to log in.

The sample media is generated with ffmpeg's lavfi sources (colour bars, a test pattern, a tone) and goes
through the same upload service as any user's file, so the demo shows real probed assets with
thumbnails and filmstrips. Running the command again changes nothing that is already there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects import sample_media, services
from projects.models import MediaAsset, Project
from projects.timeline import timeline_asset_ids

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "cutline-demo"  # noqa: S105 - a local demo login, printed to the console on purpose
DEMO_PROJECT_NAME = "Demo: colour bars and a tone"
# A template (docs/automation.md): `{{name}}` in a title and `{{background}}` as an asset reference, for
# `POST /api/projects/{id}/renders` with `merge` or a batch of `items` (docs/examples/personalised_batch.py).
DEMO_TEMPLATE_NAME = "Demo template: personalised greeting"

BARS = "Colour bars.mp4"
PATTERN = "Test pattern.mp4"
TONE = "Tone 220 Hz.wav"
LOGO = "Logo.png"
SAMPLES = (BARS, PATTERN, TONE, LOGO)
CAPTIONS = "Demo captions.srt"
CAPTIONED_PROJECT_NAME = "Demo: captioned 9:16"
# Accents, Hangul and Arabic: the captions show every script the fonts cover (docs/text-and-captions.md).
CAPTIONS_SRT = """1
00:00:00,300 --> 00:00:02,000
Café, jalapeño – 20 €

2
00:00:02,000 --> 00:00:04,000
안녕하세요, 컷라인입니다

3
00:00:04,000 --> 00:00:06,000
مرحبا بكم في كتلاين
"""


def _make_sample(name: str, directory: Path) -> Path:
    path = directory / name.replace(" ", "_")
    if name == BARS:
        return sample_media.make_video(path, seconds=4.0, width=640, height=360, source="smptebars", tone_hz=1000)
    if name == PATTERN:
        return sample_media.make_video(path, seconds=4.0, width=640, height=360, source="testsrc2", tone_hz=None)
    if name == LOGO:
        return sample_media.make_image(path, width=128, height=128, source="rgbtestsrc")
    return sample_media.make_audio(path, seconds=8.0, tone_hz=220, volume=0.5)


def demo_template_timeline() -> dict:
    return {
        "schema": 1,
        "output": {"width": 1280, "height": 720, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "muted": True, "clips": [
                {"id": "background", "asset_id": "{{background}}", "start": 0.0, "in": 0.0, "out": 3.0,
                 "volume": 1.0, "fit": "cover", "transition": {"type": "fade", "duration": 0.5}},
            ]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "greeting", "text": "Hello {{name}}!", "start": 0.3, "duration": 2.4,
                 "style": {"size": 72, "color": "#ffffff", "position": "center"}},
            ]},
            {"id": "t2", "kind": "text", "clips": [
                {"id": "tagline", "text": "{{tagline}}", "start": 0.8, "duration": 1.9,
                 "style": {"size": 40, "color": "#ffd54a", "position": "bottom"}},
            ]},
        ],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


def demo_timeline(assets: dict[str, MediaAsset]) -> dict:
    """Schema 2: a Ken Burns title card, a wipe between the clips, a corner logo over everything."""
    bars, pattern, tone, logo = assets[BARS], assets[PATTERN], assets[TONE], assets[LOGO]
    return {
        "schema": 2,
        "output": {"width": 1280, "height": 720, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "muted": False, "clips": [
                {"id": "c1", "asset_id": str(bars.id), "start": 0.0, "in": 0.0, "out": 4.0, "volume": 0.2,
                 "fit": "contain", "transition": {"type": "fade", "duration": 0.5}},
                {"id": "c2", "asset_id": str(pattern.id), "start": 3.5, "in": 0.0, "out": 4.0,
                 "fit": "contain", "transition": {"type": "wipe_left", "duration": 0.5}},
            ]},
            {"id": "v2", "kind": "video", "muted": False, "clips": [
                {"id": "card", "color": "#1d2b53", "gradient": {"to": "#7e2553", "angle": 135}, "start": 0.0,
                 "duration": 3.0, "transform": {"scale": 1.0},
                 "keyframes": {"scale": [{"t": 0.0, "v": 1.0}, {"t": 3.0, "v": 1.15, "ease": "ease_in_out"}]},
                 "transition_out": {"type": "fade", "duration": 0.5}},
            ]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "x1", "text": "Welcome to Cutline", "start": 0.3, "duration": 2.7,
                 "style": {"size": 64, "color": "#ffffff", "position": "center"},
                 "transition": {"type": "fade", "duration": 0.4},
                 "keyframes": {"scale": [{"t": 0.0, "v": 1.0}, {"t": 2.7, "v": 1.1, "ease": "ease_out"}]}},
            ]},
            {"id": "v3", "kind": "video", "muted": False, "clips": [
                {"id": "logo", "asset_id": str(logo.id), "start": 0.0, "duration": 7.5,
                 "transform": {"x": 0.92, "y": 0.1, "scale": 0.15, "opacity": 0.85}},
            ]},
            {"id": "a1", "kind": "audio", "muted": False, "clips": [
                {"id": "m1", "asset_id": str(tone.id), "start": 0.0, "in": 0.0, "out": 7.5, "volume": 0.3,
                 "fade_in": 0.5, "fade_out": 1.0},
            ]},
        ],
        "markers": [{"time": 3.5, "label": "Wipe"}],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


def captioned_timeline(assets: dict[str, MediaAsset], captions: MediaAsset) -> dict:
    """The demo as a vertical (9:16) video with a styled, animated title and burned-in captions."""
    bars, pattern, tone = assets[BARS], assets[PATTERN], assets[TONE]
    return {
        "schema": 2,
        "output": {"width": 1080, "height": 1920, "fps": 30, "background": "#101820"},
        "tracks": [
            {"id": "v1", "kind": "video", "muted": True, "clips": [
                {"id": "c1", "asset_id": str(pattern.id), "start": 0.0, "in": 0.0, "out": 4.0, "fit": "cover"},
                {"id": "c2", "asset_id": str(bars.id), "start": 3.5, "in": 0.0, "out": 4.0, "fit": "contain",
                 "transition": {"type": "crossfade", "duration": 0.5}},
            ]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "x1", "text": "Cutline, vertical", "start": 0.0, "duration": 3.0,
                 "style": {"size": 96, "color": "#ffffff", "position": "top", "font": "noto_sans", "weight": 700,
                           "shadow": {"color": "#000000", "x": 4, "y": 4, "blur": 6},
                           "animation": {"in": "slide_up", "out": "fade", "duration": 0.6}}},
            ]},
            {"id": "a1", "kind": "audio", "muted": False, "clips": [
                {"id": "m1", "asset_id": str(tone.id), "start": 0.0, "in": 0.0, "out": 7.5, "volume": 0.3,
                 "fade_in": 0.5, "fade_out": 1.0},
            ]},
            {"id": "cc", "kind": "captions", "asset_id": str(captions.id), "offset": 0.0,
             "style": {"size": 64, "position": "bottom", "max_width": 960,
                       "background": {"color": "#000000", "opacity": 0.6, "padding": 16, "radius": 12}}},
        ],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


class Command(BaseCommand):
    help = "Create the demo user (superuser), its sample media and the demo project if they do not exist yet."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url: str, **options):
        user = self._demo_user()
        assets = self._demo_assets(user)
        project = self._demo_project(user, assets)
        captioned = self._captioned_project(user, assets)
        template = self._demo_template(user)
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Demo project: {base_url}/projects/{project.id}/")
        self.stdout.write(f"Captioned 9:16 demo: {base_url}/projects/{captioned.id}/")
        self.stdout.write(f"Demo template: {base_url}/projects/{template.id}/ (merge fields: name, tagline, "
                          f"background = an asset name such as '{BARS}')")

    @transaction.atomic
    def _demo_user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _demo_assets(self, user) -> dict[str, MediaAsset]:
        assets: dict[str, MediaAsset] = {}
        for asset in MediaAsset.objects.filter(owner=user, name__in=SAMPLES).order_by("created_at"):
            if asset.file and asset.file.storage.exists(asset.file.name):
                assets.setdefault(asset.name, asset)
        missing = [name for name in SAMPLES if name not in assets]
        if missing:
            with tempfile.TemporaryDirectory(prefix="cutline-demo-") as tmp:
                for name in missing:
                    path = _make_sample(name, Path(tmp))
                    assets[name] = services.asset_create_from_path(owner=user, path=path, name=name)
                    length = f"{assets[name].duration:.1f} s" if assets[name].duration else "a still"
                    self.stdout.write(f"Sample media: {name} ({length})")
        return assets

    def _demo_project(self, user, assets: dict[str, MediaAsset]) -> Project:
        project = Project.objects.filter(owner=user, name=DEMO_PROJECT_NAME).order_by("created_at").first()
        if project is None:
            return services.project_create(owner=user, name=DEMO_PROJECT_NAME, timeline=demo_timeline(assets),
                                           description="A Ken Burns title card, colour bars wiping to a test "
                                                       "pattern, a corner logo and a tone. Press Render.")
        in_library = {str(pk) for pk in MediaAsset.objects.filter(owner=user).values_list("id", flat=True)}
        used = timeline_asset_ids(project.timeline)
        if not used or not used <= in_library or project.timeline.get("schema") != 2:
            # Made by an older seed (empty or schema 1 timeline) or its media was deleted: the current demo.
            project = services.project_update(project=project, timeline=demo_timeline(assets))
        return project

    def _captioned_project(self, user, assets: dict[str, MediaAsset]) -> Project:
        captions = MediaAsset.objects.filter(owner=user, name=CAPTIONS, kind=MediaAsset.Kind.SUBTITLES).first()
        if captions is None or not captions.file.storage.exists(captions.file.name):
            with tempfile.TemporaryDirectory(prefix="cutline-demo-") as tmp:
                path = Path(tmp) / "demo_captions.srt"
                path.write_text(CAPTIONS_SRT, encoding="utf-8")
                captions = services.asset_create_from_path(owner=user, path=path, name=CAPTIONS)
        project = Project.objects.filter(owner=user, name=CAPTIONED_PROJECT_NAME).order_by("created_at").first()
        if project is None:
            return services.project_create(owner=user, name=CAPTIONED_PROJECT_NAME,
                                           timeline=captioned_timeline(assets, captions),
                                           description="The demo for phones: 1080×1920 with a styled title and "
                                                       "captions in three scripts.")
        in_library = {str(pk) for pk in MediaAsset.objects.filter(owner=user).values_list("id", flat=True)}
        if not timeline_asset_ids(project.timeline) <= in_library:
            project = services.project_update(project=project, timeline=captioned_timeline(assets, captions))
        return project

    def _demo_template(self, user) -> Project:
        project = Project.objects.filter(owner=user, name=DEMO_TEMPLATE_NAME).order_by("created_at").first()
        if project is None:
            project = services.project_create(
                owner=user, name=DEMO_TEMPLATE_NAME, timeline=demo_template_timeline(),
                description="A template: render it with merge values (name, tagline, background) or a batch; "
                            "see docs/automation.md.")
        return project
