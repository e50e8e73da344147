"""The compile step: presets, frame/sample arithmetic, transitions as opacity ramps, fitting pictures."""

from __future__ import annotations

import pytest

from jobs.render import preset_output
from jobs.render.compiler import place, plan_compile
from jobs.render.errors import MediaMissing, RenderFailed
from jobs.render.media import media_check
from tests.jobs.render.conftest import image, timeline, video


def test_presets_give_the_contract_sizes_for_a_16_9_timeline():
    document = timeline(width=1280, height=720, fps=25)
    assert preset_output("draft", document) == (640, 360, 25.0)
    assert preset_output("hd", document) == (1280, 720, 25.0)
    assert preset_output("full_hd", document) == (1920, 1080, 25.0)
    assert preset_output("project", document) == (1280, 720, 25.0)


def test_presets_keep_a_portrait_timeline_upright_and_even():
    assert preset_output("hd", timeline(width=1080, height=1920)) == (720, 1280, 30.0)
    assert preset_output("full_hd", timeline(width=1080, height=1920)) == (1080, 1920, 30.0)
    assert preset_output("draft", timeline(width=1080, height=1350)) == (360, 450, 30.0)
    assert preset_output("project", timeline(width=321, height=179)) == (320, 178, 30.0)


def test_unknown_preset_is_refused():
    with pytest.raises(RenderFailed, match="Unknown preset"):
        preset_output("huge", timeline())


def test_contain_letterboxes_and_cover_crops_on_even_pixels():
    assert place("contain", (640, 480), (320, 180)) == (40, 0, 240, 180)
    assert place("cover", (640, 480), (320, 180)) == (0, -30, 320, 240)
    assert place("stretch", (640, 480), (320, 180)) == (0, 0, 320, 180)


def _plan(document, assets, tmp_path):
    facts = media_check(document, assets)
    return plan_compile(document, assets, facts, "project", text_dir=tmp_path)


def test_crossfade_ramps_the_later_clip_over_the_earlier_one(tmp_path):
    clip = video("a", seconds=2.0)
    document = timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 1.5},
        {"id": "c2", "asset_id": "a", "start": 1.0, "in": 0.0, "out": 1.5,
         "transition": {"type": "crossfade", "duration": 0.5}},
    ]})
    plan = _plan(document, {"a": clip}, tmp_path)
    first, second = plan.layers
    assert (first.start, first.end, second.start, second.end) == (0, 45, 30, 75)
    assert second.crossfade and second.fade_in == 15 and first.fade_out == 0
    assert [second.opacity(f) for f in (30, 35, 44, 45)] == [0.0, 5 / 15, 14 / 15, 1.0]
    assert plan.frames == 75 and plan.samples == 120000
    first_sound, second_sound = plan.audio
    assert first_sound.fade_out == second_sound.fade_in == 24000


def test_fade_dips_the_previous_clip_to_the_background(tmp_path):
    document = timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 1.0},
        {"id": "c2", "asset_id": "i", "start": 1.0, "duration": 1.0, "transition": {"type": "fade", "duration": 0.2}},
    ]})
    plan = _plan(document, {"a": video("a", seconds=2.0), "i": image("i")}, tmp_path)
    first, second = plan.layers
    assert (first.fade_out, second.fade_in, second.crossfade) == (6, 6, False)
    assert first.opacity(29) == pytest.approx(1 / 6)
    assert second.kind == "image" and second.full_frame


def test_later_video_tracks_are_transparent_around_their_picture(tmp_path):
    document = timeline(
        {"id": "v1", "kind": "video", "clips": [{"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 1.0}]},
        {"id": "v2", "kind": "video", "clips": [{"id": "p1", "asset_id": "b", "start": 0.0, "in": 0.0, "out": 1.0}]},
    )
    plan = _plan(document, {"a": video("a"), "b": video("b", width=160, height=120)}, tmp_path)
    bottom, upper = plan.layers
    assert bottom.full_frame and not upper.full_frame
    assert (upper.x, upper.y, upper.width, upper.height) == (40, 0, 240, 180)


def test_a_clip_whose_asset_is_not_given_is_reported_as_missing_by_name(tmp_path):
    document = timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c7", "asset_id": "gone", "start": 0.0, "in": 0.0, "out": 1.0}]})
    with pytest.raises(MediaMissing, match=r"^clip c7 on track v1: the media file is missing\.$"):
        _plan(document, {}, tmp_path)
