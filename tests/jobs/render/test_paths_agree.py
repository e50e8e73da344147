"""One timeline using every v1 feature, rendered by both paths: each output is right, and they agree.

Features: video with in/out, an image, fit contain/cover, crossfade, fade (dip to the background),
a second video track (picture over picture, transparent around it, fading in, then crossfading to a
transparent PNG of another shape), two titles, clip sound
following the transitions, an audio track with volume and fades, a background colour, the output size.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from jobs.render import render_timeline
from jobs.render.quality import audio_rms_db, probe, sampled_psnr
from tests.jobs.render.conftest import audio, image, source, timeline, video

FPS = 30
FRAMES = 120  # 4.0 s


def transparent_badge(path):
    """A 120×60 RGBA PNG: an orange disc and a half-transparent bar on a transparent ground."""
    badge = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.ellipse((4, 4, 56, 56), fill=(255, 140, 0, 255))
    draw.rectangle((60, 20, 116, 40), fill=(40, 200, 255, 128))
    badge.save(path)
    return path


def feature_timeline(workdir) -> tuple[dict, dict]:
    assets = {
        "g": source("g", transparent_badge(workdir / "badge.png"), "image"),
        "a": video("a", seconds=3.0, source="testsrc", tone_hz=440),
        "b": video("b", seconds=2.0, width=240, height=180, source="testsrc2", tone_hz=660),
        "p": video("p", seconds=1.5, width=160, height=120, source="rgbtestsrc", tone_hz=880),
        "i": image("i", width=64, height=48, source="smptebars"),
        "m": audio("m", seconds=3.0, tone_hz=330),
    }
    document = timeline(
        {"id": "v1", "kind": "video", "muted": False, "clips": [
            {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.5, "out": 2.0, "volume": 1.0, "fit": "contain",
             "transition": None},
            {"id": "c2", "asset_id": "i", "start": 1.0, "duration": 1.5, "fit": "contain",
             "transition": {"type": "crossfade", "duration": 0.5}},
            {"id": "c3", "asset_id": "b", "start": 2.5, "in": 0.2, "out": 1.7, "volume": 0.8, "fit": "cover",
             "transition": {"type": "fade", "duration": 0.3}},
        ]},
        {"id": "v2", "kind": "video", "muted": False, "clips": [
            {"id": "p1", "asset_id": "p", "start": 0.5, "in": 0.0, "out": 1.0, "volume": 1.0, "fit": "contain",
             "transition": {"type": "fade", "duration": 0.2}},
            {"id": "p2", "asset_id": "g", "start": 1.3, "duration": 1.0, "fit": "contain",
             "transition": {"type": "crossfade", "duration": 0.2}},
        ]},
        {"id": "t1", "kind": "text", "clips": [
            {"id": "x1", "text": "Cutline", "start": 0.0, "duration": 1.2,
             "style": {"size": 40, "color": "#ffffff", "position": "center"}},
            {"id": "x2", "text": "lower third, gjpqy", "start": 2.8, "duration": 1.2,
             "style": {"size": 24, "color": "#ffcc00", "position": "bottom"}},
        ]},
        {"id": "a1", "kind": "audio", "muted": False, "clips": [
            {"id": "m1", "asset_id": "m", "start": 0.5, "in": 0.0, "out": 2.5, "volume": 0.5,
             "fade_in": 0.25, "fade_out": 0.5},
        ]},
        background="#203040",
    )
    return document, assets


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    out = tmp_path_factory.mktemp("features")
    document, assets = feature_timeline(out)
    return {
        path: render_timeline(document, assets, "project", out / f"{path}.mp4", path=path)
        for path in ("ffmpeg", "moviepy")
    }


@pytest.mark.parametrize("path", ["ffmpeg", "moviepy"])
def test_output_has_the_planned_streams_size_and_length(renders, path):
    result = renders[path]
    facts = probe(result.path)
    assert result.render_path == path
    assert (facts.video_codec, facts.pix_fmt, facts.width, facts.height) == ("h264", "yuv420p", 320, 180)
    assert facts.fps == pytest.approx(FPS)
    assert facts.frames == FRAMES
    assert (facts.audio_codec, facts.sample_rate, facts.channels) == ("aac", 48000, 2)
    assert facts.duration == pytest.approx(4.0, abs=1 / FPS)
    assert (result.width, result.height, result.duration) == (320, 180, 4.0)


def test_both_paths_agree_on_duration_within_a_frame(renders):
    durations = [probe(renders[path].path).duration for path in ("ffmpeg", "moviepy")]
    assert abs(durations[0] - durations[1]) <= 1 / FPS


def test_both_paths_draw_the_same_pictures(renders):
    # Every kind of moment: title over video, picture-in-picture fading in, the crossfade to the
    # image, the picture crossfading to the transparent badge, the dip to the background, the
    # cover-cropped clip under the lower title, the last frame.
    frames = [0, 10, 16, 20, 25, 30, 37, 40, 42, 44, 50, 60, 66, 70, 72, 75, 78, 82, 90, 100, 119]
    assert sampled_psnr(renders["ffmpeg"].path, renders["moviepy"].path, frames) >= 30.0


@pytest.mark.parametrize("window", [(0.05, 0.45), (0.55, 0.75), (1.0, 1.5), (1.8, 2.4), (2.5, 2.8), (3.0, 3.95)])
def test_both_paths_mix_the_same_sound(renders, window):
    levels = [audio_rms_db(renders[path].path, *window) for path in ("ffmpeg", "moviepy")]
    assert levels[0] > -40  # sound is there: clip sound and the audio track
    assert levels[0] == pytest.approx(levels[1], abs=1.0)


def test_audio_track_volume_and_clip_volume_set_the_level(renders):
    result = renders["ffmpeg"].path
    # 2.8–3.0 s: only c3's own sound (a tone at -21 dBFS RMS) at volume 0.8 (-1.9 dB), the music is over.
    assert audio_rms_db(result, 3.0, 3.9) == pytest.approx(-21.1 + 20 * __import__("math").log10(0.8), abs=0.7)
