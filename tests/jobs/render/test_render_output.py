"""What a render delivers besides agreeing pictures: titles, silence, background, progress, facts, poster."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from PIL import Image

from jobs.render import Progress, render_timeline
from jobs.render.quality import audio_rms_db, frames_rgb, probe, psnr
from jobs.render.text import text_render
from tests.jobs.render.conftest import timeline, video

PATHS = ["ffmpeg", "moviepy"]


def one_clip(asset_id: str = "a", *, muted: bool = False, start: float = 0.0, seconds: float = 1.0) -> dict:
    return {"id": "v1", "kind": "video", "muted": muted, "clips": [
        {"id": "c1", "asset_id": asset_id, "start": start, "in": 0.0, "out": seconds}]}


@pytest.mark.parametrize("path", PATHS)
def test_a_title_is_drawn_where_its_style_puts_it(tmp_path, out_dir, path):
    assets = {"a": video("a", seconds=1.0, source="smptebars")}
    style = {"size": 36, "color": "#ffffff", "position": "center"}
    title = {"id": "t1", "kind": "text", "clips": [{"id": "x1", "text": "Hello", "start": 0.0, "duration": 1.0,
                                                     "style": style}]}
    plain = render_timeline(timeline(one_clip()), assets, "project", out_dir / "plain.mp4", path=path)
    titled = render_timeline(timeline(one_clip(), title), assets, "project", out_dir / "titled.mp4", path=path)
    box = text_render("Hello", style, frame_size=(320, 180), scale=1.0, path=tmp_path / "probe.png")
    (before,), (after,) = frames_rgb(plain.path, [15], (320, 180)), frames_rgb(titled.path, [15], (320, 180))
    diff = np.abs(after.astype(int) - before.astype(int)).sum(axis=2)
    inside = diff[box.y : box.y + box.height, box.x : box.x + box.width]
    outside = diff.copy()
    outside[max(0, box.y - 4) : box.y + box.height + 4, max(0, box.x - 4) : box.x + box.width + 4] = 0
    assert (inside > 60).mean() > 0.15  # a good part of the box is ink
    assert (outside > 60).mean() < 0.001  # and nothing changed elsewhere


@pytest.mark.parametrize("path", PATHS)
def test_a_muted_track_is_silent_and_an_unmuted_one_is_not(out_dir, path):
    assets = {"a": video("a", seconds=1.0, tone_hz=440)}
    muted = render_timeline(timeline(one_clip(muted=True)), assets, "project", out_dir / "muted.mp4", path=path)
    loud = render_timeline(timeline(one_clip()), assets, "project", out_dir / "loud.mp4", path=path)
    assert probe(muted.path).audio_codec == "aac"  # the stream is there, and it is silent
    assert audio_rms_db(muted.path) < -80
    assert audio_rms_db(loud.path, 0.1, 0.9) == pytest.approx(-21.1, abs=1.0)


@pytest.mark.parametrize("path", PATHS)
def test_gaps_show_the_background_colour(out_dir, path):
    assets = {"a": video("a", seconds=1.0)}
    document = timeline(one_clip(start=0.5, seconds=0.5), background="#c03010")
    result = render_timeline(document, assets, "project", out_dir / "gap.mp4", path=path)
    (gap,) = frames_rgb(result.path, [5], (320, 180))
    assert np.abs(gap.reshape(-1, 3).mean(axis=0) - np.array([0xC0, 0x30, 0x10])).max() < 4
    assert probe(result.path).duration == pytest.approx(1.0, abs=1 / 30)


@pytest.mark.parametrize("path", PATHS)
def test_progress_runs_through_the_phases_and_only_grows(out_dir, path):
    reports: list[Progress] = []
    render_timeline(timeline(one_clip(seconds=1.0)), {"a": video("a", seconds=1.0)}, "project",
                    out_dir / "p.mp4", path=path, on_progress=reports.append)
    phases = [r.phase for r in reports]
    assert phases[0] == "PREPARE" and phases[-1] == "FINALIZE"
    assert phases == sorted(phases, key=["PREPARE", "ENCODE", "FINALIZE"].index)
    percents = [r.percent for r in reports]
    assert percents == sorted(percents) and percents[0] == 0.0 and percents[-1] == 100.0
    encode = [r for r in reports if r.phase == "ENCODE"]
    assert all(5.0 <= r.percent <= 95.0 for r in encode)
    assert any(r.message.startswith("Encoding frame ") and r.message.endswith(" of 30") for r in encode)
    assert all(r.eta_seconds is None or r.eta_seconds >= 0 for r in reports)


@pytest.mark.parametrize("path", PATHS)
def test_result_reports_the_file_its_checksum_and_a_poster_at_a_tenth(out_dir, path):
    assets = {"a": video("a", seconds=2.0, source="testsrc2")}
    result = render_timeline(timeline(one_clip(seconds=2.0)), assets, "draft", out_dir / "r.mp4", path=path)
    data = result.path.read_bytes()
    assert result.path == out_dir / "r.mp4" and result.size_bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.width, result.height, result.fps, result.duration) == (640, 360, 30.0, 2.0)
    assert result.poster_path.parent == out_dir and result.poster_path.suffix == ".jpg"
    poster = np.asarray(Image.open(result.poster_path).convert("RGB"))
    assert poster.shape == (360, 640, 3)
    (at_tenth,), (later,) = frames_rgb(result.path, [6], (640, 360)), frames_rgb(result.path, [30], (640, 360))
    assert psnr(poster, at_tenth) > 30 > psnr(poster, later)
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.jpg", "r.mp4"]


def test_the_setting_chooses_the_path_and_auto_prefers_ffmpeg(settings, out_dir):
    assets = {"a": video("a", seconds=1.0)}
    document = timeline(one_clip(seconds=0.3))
    settings.RENDER_PATH = "moviepy"
    assert render_timeline(document, assets, "project", out_dir / "m.mp4").render_path == "moviepy"
    settings.RENDER_PATH = "auto"
    assert render_timeline(document, assets, "project", out_dir / "a.mp4").render_path == "ffmpeg"


def test_an_empty_timeline_renders_a_frame_of_background_and_silence(out_dir):
    result = render_timeline(timeline(background="#ffffff"), {}, "project", out_dir / "e.mp4")
    facts = probe(result.path)
    assert facts.frames == 1 and facts.audio_codec == "aac"
    assert math.isinf(audio_rms_db(result.path)) or audio_rms_db(result.path) < -80
