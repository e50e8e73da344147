"""`GET /api/projects/{id}/still`: one exact frame, made by the renderer's own compiler and graph."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from config.tools import ffmpeg_exe
from jobs.render.still import still_frame_index
from tests.factories import ProjectFactory, timeline_using, video_asset


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def source_frame(path, at: float, size: tuple[int, int]) -> np.ndarray:
    picked = f"select=eq(n\\,{round(at * 30)}),scale={size[0]}:{size[1]}"
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", picked,
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def test_frames_are_shown_from_their_start():
    assert still_frame_index(0.0, 30, 60) == 0
    assert still_frame_index(1.0, 30, 60) == 30
    assert still_frame_index(1.0 - 1e-9, 30, 60) == 30  # float noise does not step back a frame
    assert still_frame_index(9.0, 30, 60) == 59


@pytest.mark.parametrize("at", [0.5, 1.5])
def test_the_still_is_the_frame_at_that_time(owner_client, owner, at):
    video = video_asset(owner, seconds=2.0, name="pattern.mp4")
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video, width=320, height=180))

    response = owner_client.get(f"/api/projects/{project.id}/still", {"t": at, "width": 320})

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/jpeg"
    picture = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert picture.shape == (180, 320, 3)
    # The frame itself scores ~27 dB (JPEG and the render's colour conversions); its neighbours ~19.5 dB.
    assert psnr(picture, source_frame(video.file.path, at, (320, 180))) >= 24
    for neighbour in (-1, 1):
        assert psnr(picture, source_frame(video.file.path, at + neighbour / 30, (320, 180))) < 24


def test_the_still_keeps_a_portrait_shape(owner_client, owner):
    video = video_asset(owner, seconds=1.0, name="pattern.mp4")
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video, width=360, height=640, title="Hi"))

    response = owner_client.get(f"/api/projects/{project.id}/still", {"t": 0.2, "width": 180})

    assert response.status_code == 200, response.content
    assert Image.open(io.BytesIO(response.content)).size == (180, 320)


def test_bad_parameters_name_the_field(owner_client, owner):
    project = ProjectFactory(owner=owner)

    response = owner_client.get(f"/api/projects/{project.id}/still", {"t": "soon"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "t"


def test_an_empty_timeline_shows_its_background(owner_client, owner):
    project = ProjectFactory(owner=owner)

    response = owner_client.get(f"/api/projects/{project.id}/still", {"t": 0, "width": 64})

    assert response.status_code == 200
    picture = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert picture.shape == (36, 64, 3) and picture.mean() < 8


def test_another_users_still_is_404(stranger_client, owner):
    project = ProjectFactory(owner=owner)

    assert stranger_client.get(f"/api/projects/{project.id}/still", {"t": 0}).status_code == 404


def test_the_still_reads_media_from_object_storage(owner_client, owner, s3_storage):
    """A web process with no media directory: the still fetches its inputs from the S3 server."""
    _, bucket = s3_storage
    video = video_asset(owner, seconds=1.0, name="pattern.mp4")
    assert any(obj.key.endswith(video.file.name) for obj in bucket.objects.all())
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video, width=320, height=180))

    response = owner_client.get(f"/api/projects/{project.id}/still", {"t": 0.5, "width": 320})

    assert response.status_code == 200, response.content
    picture = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert picture.shape == (180, 320, 3)
    assert picture.std() > 20  # the test pattern, not an empty (background-only) frame


# --- late stills against a real render --------------------------------------------------------------------------
LATE_TIMES = (8.6, 9.0, 9.5, 9.9)


@pytest.fixture(scope="module")
def late_edit(tmp_path_factory):
    """A 10 s schema 2 timeline busy at its end, and a full ffmpeg render of it (a still must match its frames)."""
    from jobs.render import render_timeline
    from tests.jobs.render.conftest import video

    assets = {
        "a": video("a", seconds=10.0, width=320, height=180, fps=30, source="testsrc2", tone_hz=440),
        "b": video("b", seconds=3.0, width=320, height=180, fps=30, source="testsrc", tone_hz=550),
        "c": video("c", seconds=4.0, width=320, height=180, fps=30, source="rgbtestsrc", tone_hz=None),
    }
    timeline = {
        "schema": 2, "output": {"width": 320, "height": 180, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "clips": [
                # A Ken Burns over the whole clip: its scale keyframes are evaluated 8 s into it.
                {"id": "a", "asset_id": "a", "start": 0, "in": 0, "out": 8.8,
                 "keyframes": {"scale": [{"t": 0, "v": 1}, {"t": 8.8, "v": 1.4, "ease": "ease_in_out"}]}},
                {"id": "b", "asset_id": "b", "start": 8.4, "in": 0.5, "out": 2.1,
                 "transition": {"type": "crossfade", "duration": 0.4}},
            ]},
            {"id": "v2", "kind": "video", "clips": [
                # Half speed from 6 s: source second 1 + (t - 6) / 2, moving right as it plays.
                {"id": "c", "asset_id": "c", "start": 6.0, "in": 1.0, "out": 3.0, "speed": 0.5,
                 "transform": {"scale": 0.4},
                 "keyframes": {"x": [{"t": 0, "v": 0.3}, {"t": 4, "v": 0.7}]}},
            ]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "x", "text": "LATE", "start": 7.0, "duration": 3.0,
                 "style": {"size": 40, "color": "#ffffff", "position": "bottom"}},
            ]},
        ],
        "markers": [], "view": {},
    }
    # ProRes: a real render of the whole timeline whose frames keep what the graph drew (an H.264 encode of
    # these test patterns at 320x180 alone costs ~4 dB, which would hide a still's own error).
    mastered = {**timeline, "output": {**timeline["output"], "format": "mov_prores"}}
    out = tmp_path_factory.mktemp("late") / "render.mov"
    result = render_timeline(mastered, assets, "project", out, path="ffmpeg")
    return timeline, assets, Path(result.path)


@pytest.mark.parametrize("at", LATE_TIMES)
def test_a_late_still_is_the_renders_frame(late_edit, at):
    from jobs.render.quality import frames_rgb
    from jobs.render.still import still_render

    timeline, assets, rendered = late_edit
    index = still_frame_index(at, 30, 300)
    frame = frames_rgb(rendered, [index], (320, 180))[0]

    picture = np.asarray(Image.open(io.BytesIO(still_render(timeline, assets, at=at, width=320))).convert("RGB"))

    assert picture.shape == (180, 320, 3)
    assert psnr(picture, frame) >= 30
    # A still one frame off would not pass: the neighbouring frames of the render score lower.
    neighbours = frames_rgb(rendered, [index - 1, index + 1] if index < 299 else [index - 1], (320, 180))
    assert all(psnr(picture, other) < psnr(picture, frame) for other in neighbours)


def test_a_still_draws_only_the_titles_and_cues_on_screen(tmp_path):
    from jobs.render import AssetSource, render_timeline
    from jobs.render.compiler import plan_compile
    from jobs.render.quality import frames_rgb
    from jobs.render.still import still_document, still_render

    srt = tmp_path / "talk.srt"
    srt.write_text("".join(f"{n}\n00:00:{n - 1:02d},000 --> 00:00:{n:02d},000\nLine {n}\n\n" for n in range(1, 41)))
    subtitles = AssetSource(asset_id="s", path=srt, kind="subtitles", duration=40.0, width=None, height=None,
                            fps=None, has_audio=False, name="talk.srt")
    style = {"size": 24, "animation": {"in": "pop", "duration": 0.5}}
    document = {
        "schema": 2, "output": {"width": 320, "height": 180, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "t1", "kind": "text", "clips": [
                {"id": f"x{n}", "text": f"Title {n}", "start": 2.0 * n, "duration": 2.0, "style": style,
                 "transform": {"x": 0.3}} for n in range(6)]},
            {"id": "cc", "kind": "captions", "asset_id": "s", "offset": 0.5},
            {"id": "c2", "kind": "captions", "cues": [{"start": n, "end": n + 1, "text": f"Cue {n}"}
                                                     for n in range(12)]},
        ], "markers": [], "view": {}}
    kept = still_document(document, {"s": subtitles}, 4.6)
    assert [c["text"] for c in kept["tracks"][0]["clips"] if c["text"]] == ["Title 2"]
    assert [c["text"] for c in kept["tracks"][1]["cues"]] == ["Line 5"]  # 4.5–5.5 s after the offset
    assert [c["text"] for c in kept["tracks"][2]["cues"]] == ["Cue 4"]
    assert document["tracks"][1]["asset_id"] == "s"  # the caller's document is left alone
    # The same length, and the same frame as a full render shows.
    whole = plan_compile(document, {"s": subtitles}, {}, "project", text_dir=tmp_path)
    part = plan_compile(kept, {"s": subtitles}, {}, "project", text_dir=tmp_path)
    assert part.frames == whole.frames == 12 * 30
    assert len(part.layers) < len(whole.layers) / 4
    rendered = render_timeline(document, {"s": subtitles}, "project", tmp_path / "full.mp4", path="ffmpeg")
    expected = frames_rgb(rendered.path, [138], (320, 180))[0]  # 4.6 s
    still = np.array(Image.open(io.BytesIO(still_render(document, {"s": subtitles}, at=4.6, width=320))))
    assert psnr(still, expected) >= 30
