"""Captions tracks: burned in like styled text on both paths, and delivered as captions.vtt / captions.srt."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.render import render_timeline
from jobs.render.quality import frames_rgb
from jobs.render.text import text_box, text_picture
from projects.subtitles import subtitles_parse
from tests.jobs.render.conftest import timeline, video

PATHS = ["ffmpeg", "moviepy"]
FRAME = (320, 180)
CAPTION_STYLE = {"size": 20, "position": "bottom", "color": "#ffffff", "max_width": 288,
                 "background": {"color": "#000000", "opacity": 0.6, "padding": 8, "radius": 6}}


def clip_track(seconds: float = 2.0) -> dict:
    return {"id": "v1", "kind": "video", "muted": False, "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": seconds}]}


def captions(cues: list[dict]) -> dict:
    return {"id": "cc", "kind": "captions", "cues": cues, "style": CAPTION_STYLE}


@pytest.mark.parametrize("path", PATHS)
def test_inline_cues_are_burned_in_where_and_when_they_say(out_dir, path):
    assets = {"a": video("a", seconds=2.0, source="color")}  # black
    cues = [{"start": 0.0, "end": 1.0, "text": "첫 번째 자막"}, {"start": 1.0, "end": 3.5, "text": "Second – café"}]
    result = render_timeline(timeline(clip_track(), captions(cues)), assets, "project", out_dir / "cc.mp4", path=path)
    assert result.duration == pytest.approx(2.0)  # a cue past the end does not lengthen the render
    first, second = frames_rgb(result.path, [15, 45], FRAME)
    for frame, text in ((first, cues[0]["text"]), (second, cues[1]["text"])):
        picture = text_picture(text, CAPTION_STYLE, frame_size=FRAME, scale=1.0)
        box = text_box(picture.size, FRAME, "bottom")
        assert box.y > FRAME[1] // 2  # at the bottom
        region = frame[box.y : box.y + box.height, box.x : box.x + box.width].astype(int)
        background = np.array([0, 0, 0])
        alpha = np.array(picture)[:, :, 3:4] / 255.0
        expected = np.array(picture)[:, :, :3] * alpha + background * (1 - alpha)
        assert np.abs(region - expected).mean() < 12
    # The sidecars hold what was shown, the last cue cut at the end of the timeline.
    vtt = subtitles_parse(result.captions_vtt.read_bytes(), "vtt")
    srt = subtitles_parse(result.captions_srt.read_bytes(), "srt")
    assert [(c.start, c.end, c.text) for c in vtt] == [(0.0, 1.0, cues[0]["text"]), (1.0, 2.0, cues[1]["text"])]
    assert vtt == srt


def test_a_render_without_captions_has_no_sidecars(out_dir):
    result = render_timeline(timeline(clip_track(1.0)), {"a": video("a", seconds=1.0)}, "project",
                             out_dir / "plain.mp4", path="ffmpeg")
    assert result.captions_vtt is None and not (out_dir / "captions.vtt").exists()


SRT = "1\n00:00:00,200 --> 00:00:00,800\nFrom the file\n\n2\n00:00:01,000 --> 00:00:01,600\n<b>Bold</b> line\n"


@pytest.mark.django_db(transaction=True)
def test_a_subtitles_asset_renders_with_captions_urls_end_to_end(owner, owner_client, redis_conn):
    from jobs import tasks
    from jobs.models import RenderJob
    from tests.factories import ProjectFactory, video_asset

    clip = video_asset(owner, seconds=2.0)
    uploaded = owner_client.post("/api/assets/", {"file": SimpleUploadedFile("talk.srt", SRT.encode())},
                                 format="multipart")
    assert uploaded.status_code == 201
    subtitles_id = uploaded.json()["id"]
    project = ProjectFactory(owner=owner, name="Captioned")
    document = timeline(
        {"id": "v1", "kind": "video", "clips": [{"id": "c1", "asset_id": str(clip.id), "start": 0.0, "in": 0.0,
                                                  "out": 2.0}]},
        {"id": "cc", "kind": "captions", "asset_id": subtitles_id, "offset": 0.5},
    )
    saved = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": document, "version": project.version},
                               format="json")
    assert saved.status_code == 200, saved.json()
    assert saved.json()["timeline"]["tracks"][1]["style"]["position"] == "bottom"  # caption defaults
    submitted = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "project"}, format="json")
    job_id = submitted.json()["job"]["id"]
    assert submitted.json()["job"]["captions_url"] is None
    tasks.render(job_id)
    assert RenderJob.objects.get(id=job_id).status == "SUCCEEDED"
    body = owner_client.get(f"/api/jobs/{job_id}").json()
    assert body["captions_url"] == f"/api/jobs/{job_id}/captions.vtt"
    vtt = owner_client.get(body["captions_url"])
    assert vtt.status_code == 200 and vtt["Content-Type"].startswith("text/vtt")
    text = b"".join(vtt.streaming_content).decode()
    assert text.startswith("WEBVTT") and "00:00:00.700 --> 00:00:01.300\nFrom the file" in text
    assert "00:00:01.500 --> 00:00:02.000\nBold line" in text  # offset applied, cut at the end, markup gone
    srt = owner_client.get(body["captions_srt_url"])
    assert b"".join(srt.streaming_content).decode().startswith("1\n00:00:00,700 --> 00:00:01,300\nFrom the file")
    published = owner_client.get(f"/api/projects/{project.id}/published").json()
    assert published["captions_url"] == body["captions_url"]
    # The subtitles asset is in use now: deleting it is refused like any other used asset.
    assert owner_client.delete(f"/api/assets/{subtitles_id}/").status_code == 409


@pytest.mark.django_db
def test_a_captions_track_is_validated_with_paths(owner_client, owner):
    from tests.factories import ProjectFactory, video_asset

    clip = video_asset(owner, seconds=1.0)
    project = ProjectFactory(owner=owner)
    document = timeline(
        {"id": "c1", "kind": "captions", "asset_id": str(clip.id)},
        {"id": "c2", "kind": "captions", "cues": [{"start": 2, "end": 1, "text": "x"}, {"start": 0, "text": ""}]},
        {"id": "c3", "kind": "captions"},
    )
    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": document, "version": project.version},
                                  format="json")
    assert response.status_code == 400
    errors = {e["attr"]: e["detail"] for e in response.json()["errors"]}
    assert "takes a subtitles asset" in errors["timeline.tracks.0.asset_id"]
    assert "must be after start" in errors["timeline.tracks.1.cues.0.end"]
    assert errors["timeline.tracks.1.cues.1.end"] == "end is required"
    assert "either asset_id" in errors["timeline.tracks.2"]
