"""Track switches (docs/timeline.md): hidden tracks draw nothing, solo and muted tracks are heard as said, on
both render paths and in the still; the timeline keeps its length and a hidden video track keeps its sound."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from jobs.render import render_timeline
from jobs.render.media import media_check
from jobs.render.quality import audio_rms_db, frames_rgb, probe, psnr
from jobs.render.still import still_render
from tests.jobs.render.conftest import audio, video
from tests.jobs.render.test_features_v2 import dominant_hz

W, H, FPS = 160, 90, 10
PATHS = ("ffmpeg", "moviepy")


def doc(*tracks) -> dict:
    return {"schema": 2, "output": {"width": W, "height": H, "fps": FPS, "background": "#000000"},
            "tracks": list(tracks), "markers": [], "view": {}}


def clip_track(track_id="v1", **switches) -> dict:
    return {"id": track_id, "kind": "video", **switches,
            "clips": [{"id": f"{track_id}c", "asset_id": "clip", "start": 0, "in": 0, "out": 1}]}


def logo_track(**switches) -> dict:
    """A red box at the top-right, lasting longer than the clip below it."""
    return {"id": "v2", "kind": "video", **switches, "clips": [
        {"id": "logo", "color": "#ff0000", "start": 0, "duration": 1.5,
         "transform": {"x": 0.85, "y": 0.2, "scale": 0.25}}]}


def title_track(**switches) -> dict:
    return {"id": "t1", "kind": "text", **switches, "clips": [
        {"id": "x", "text": "HI", "start": 0, "duration": 1, "style": {"size": 40, "color": "#00ff00"}}]}


@pytest.fixture(scope="module")
def assets():
    return {
        "clip": video("clip", seconds=1.0, width=160, height=90, fps=10, source="testsrc2", tone_hz=440),
        "tone": audio("tone", seconds=1.0, tone_hz=880),
    }


def documents() -> dict:
    return {
        "hidden": doc(clip_track(), logo_track(hidden=True), title_track(hidden=True)),
        "alone": doc(clip_track()),
        "shown": doc(clip_track(), logo_track(), title_track()),
        "hidden_bottom": doc(clip_track(hidden=True), logo_track()),
        "solo": doc(clip_track(), {"id": "a1", "kind": "audio", "solo": True, "clips": [
            {"id": "m", "asset_id": "tone", "start": 0, "in": 0, "out": 1}]}),
        "solo_muted": doc(clip_track(solo=True, muted=True), {"id": "a1", "kind": "audio", "clips": [
            {"id": "m", "asset_id": "tone", "start": 0, "in": 0, "out": 1}]}),
    }


@pytest.fixture(scope="module")
def rendered(assets, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("track-switches")
    return {
        name: {path: render_timeline(document, assets, "project", workdir / f"{name}-{path}.mp4", path=path).path
               for path in PATHS}
        for name, document in documents().items()
    }


def frame(path, index) -> np.ndarray:
    return frames_rgb(path, [index], (W, H))[0].astype(int)


def red(pixel) -> bool:
    return pixel[0] > 180 and pixel[1] < 80 and pixel[2] < 80


@pytest.mark.parametrize("path", PATHS)
def test_a_hidden_overlay_and_a_hidden_title_do_not_show(rendered, path):
    hidden, shown = frame(rendered["hidden"][path], 5), frame(rendered["shown"][path], 5)
    assert red(shown[18, 136]), "the red box should show when the track is not hidden"
    assert (shown[:, :, 1] - shown[:, :, 0] > 150).any(), "the green title should show when not hidden"
    assert not red(hidden[18, 136])
    # Nothing but the bottom clip: the frame is the bottom clip's alone.
    alone = frame(rendered["alone"][path], 5)
    assert psnr(hidden.astype(np.uint8), alone.astype(np.uint8)) >= 35
    assert not red(frame(rendered["hidden"][path], 12)[18, 136])  # after the clip: still nothing of the box


@pytest.mark.parametrize("path", PATHS)
def test_hiding_keeps_the_length_and_the_paths_agree(rendered, path):
    # The hidden box lasts 1.5 s, the clip 1 s: the render still lasts 1.5 s.
    assert probe(rendered["hidden"][path]).frames == 15
    first, second = (frames_rgb(rendered["hidden"][p], list(range(15)), (W, H)) for p in PATHS)
    assert min(psnr(a, b) for a, b in zip(first, second, strict=True)) >= 30


@pytest.mark.parametrize("path", PATHS)
def test_a_hidden_bottom_track_keeps_its_sound_but_not_its_picture(rendered, path):
    picture = frame(rendered["hidden_bottom"][path], 5)
    assert red(picture[18, 136])
    assert picture[60:, :40].max() < 30  # the background where the clip's test pattern would be
    assert audio_rms_db(rendered["hidden_bottom"][path], 0.1, 0.9) > -30
    assert dominant_hz(rendered["hidden_bottom"][path], 0.1, 0.9) == pytest.approx(440, abs=15)


@pytest.mark.parametrize("path", PATHS)
def test_solo_plays_only_the_solo_tracks_sound(rendered, path):
    assert dominant_hz(rendered["solo"][path], 0.1, 0.9) == pytest.approx(880, abs=15)
    assert dominant_hz(rendered["alone"][path], 0.1, 0.9) == pytest.approx(440, abs=15)
    # Pictures are not affected: the clip shows as it does alone.
    assert psnr(frame(rendered["solo"][path], 5).astype(np.uint8),
                frame(rendered["alone"][path], 5).astype(np.uint8)) >= 35


@pytest.mark.parametrize("path", PATHS)
def test_a_solo_track_that_is_muted_stays_silent_and_silences_the_rest(rendered, path):
    assert math.isinf(audio_rms_db(rendered["solo_muted"][path], 0.05, 0.95))


def test_the_still_leaves_hidden_tracks_out_too(assets):
    hidden = np.asarray(Image.open(io.BytesIO(still_render(documents()["hidden"], assets, at=0.55, width=W)))
                        .convert("RGB")).astype(int)
    shown = np.asarray(Image.open(io.BytesIO(still_render(documents()["shown"], assets, at=0.55, width=W)))
                       .convert("RGB")).astype(int)
    assert red(shown[18, 136]) and not red(hidden[18, 136])


def test_the_plan_drops_only_hidden_pictures(assets, tmp_path):
    from jobs.render.compiler import plan_compile

    document = doc(clip_track(hidden=True), logo_track(hidden=True), title_track(),
                   {"id": "cc", "kind": "captions", "hidden": True, "cues": [{"start": 0, "end": 1, "text": "Hi"}]})
    plan = plan_compile(document, assets, media_check(document, assets), "project", text_dir=tmp_path)
    assert [layer.track_id for layer in plan.layers] == ["t1"]
    assert [part.track_id for part in plan.audio] == ["v1"]
    assert plan.frames == 15
    assert plan.captions == [{"start": 0.0, "end": 1.0, "text": "Hi"}]  # the sidecar keeps hidden captions
