"""Output formats: each renders tiny and ffprobe finds the codec, size, duration and frames it should."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from jobs.render import render_timeline
from jobs.render.formats import FORMATS, format_for_name
from jobs.render.quality import audio_rms_db, frames_rgb, probe, psnr
from tests.jobs.render.conftest import timeline, video


def clip_track(seconds: float = 1.0) -> dict:
    return {"id": "v1", "kind": "video", "muted": False, "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": seconds}]}


def document(fmt: str, **output) -> dict:
    doc = timeline(clip_track())
    doc["output"].update({"format": fmt, **output})
    return doc


@pytest.fixture(scope="module")
def assets():
    return {"a": video("a", seconds=1.0, tone_hz=440)}


# format → (extension, video codec, audio codec)
EXPECTED = {
    "mp4": (".mp4", "h264", "aac"),
    "mp4_hevc": (".mp4", "hevc", "aac"),
    "webm": (".webm", "vp9", "opus"),
    "mov_prores": (".mov", "prores", "pcm_s16le"),
    "gif": (".gif", "gif", None),
    "mp3": (".mp3", None, "mp3"),
    "wav": (".wav", None, "pcm_s16le"),
}


def test_every_format_is_tested():
    assert set(EXPECTED) | {"png"} == set(FORMATS)


@pytest.mark.parametrize("path", ["ffmpeg", "moviepy"])
@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_each_format_renders_with_its_codecs_size_and_length(out_dir, assets, fmt, path):
    extension, vcodec, acodec = EXPECTED[fmt]
    result = render_timeline(document(fmt), assets, "project", out_dir / "render.mp4", path=path)
    assert result.path.suffix == extension and result.path.exists()
    assert format_for_name(result.path.name).name == fmt
    facts = probe(result.path)
    assert facts.video_codec == vcodec
    assert facts.audio_codec == acodec
    assert facts.duration == pytest.approx(1.0, abs=0.1)
    if vcodec:
        assert (facts.width, facts.height) == (320, 180)
        assert result.poster_path.exists()
    else:
        assert (result.width, result.height) == (0, 0)
        assert audio_rms_db(result.path, 0.1, 0.9) > -40  # the clip's tone is there
    if fmt in ("mp4", "mp4_hevc", "webm", "mov_prores"):
        count = len(frames_rgb(result.path, list(range(40)), (320, 180)))
        assert count == 30
    if fmt == "gif":
        with Image.open(result.path) as gif:
            assert gif.n_frames == 15  # capped at 15 fps
    if fmt == "mov_prores":
        assert facts.pix_fmt.startswith("yuv422p10")


@pytest.mark.parametrize("path", ["ffmpeg", "moviepy"])
def test_a_png_is_the_frame_at_still_at(out_dir, path):
    assets = {"a": video("a", seconds=1.0, source="testsrc2")}
    mp4 = render_timeline(document("mp4"), assets, "project", out_dir / "full.mp4", path="ffmpeg")
    still = render_timeline(document("png", still_at=0.5), assets, "project", out_dir / "still.mp4", path=path)
    assert still.path.suffix == ".png" and still.duration == 0.0
    with Image.open(still.path) as image:
        assert image.size == (320, 180)
        picture = np.array(image.convert("RGB")).astype(int)
    (frame15,) = frames_rgb(mp4.path, [15], (320, 180))
    (frame5,) = frames_rgb(mp4.path, [5], (320, 180))
    assert np.abs(picture - frame15).mean() < np.abs(picture - frame5).mean()


@pytest.mark.parametrize("fmt", ["mp4_hevc", "mov_prores", "webm", "gif"])
def test_the_moviepy_path_encodes_the_format_once_as_well_as_the_ffmpeg_path(out_dir, fmt):
    # A moving picture with detail: a second generation of lossy compression would show as a lower PSNR.
    assets = {"a": video("a", seconds=1.0, source="testsrc2", tone_hz=440)}
    results = {path: render_timeline(document(fmt), assets, "project", out_dir / f"{path}.mp4", path=path)
               for path in ("ffmpeg", "moviepy")}
    facts = {path: probe(result.path) for path, result in results.items()}
    assert facts["moviepy"].video_codec == facts["ffmpeg"].video_codec == EXPECTED[fmt][1]
    assert facts["moviepy"].pix_fmt == facts["ffmpeg"].pix_fmt
    assert facts["moviepy"].audio_codec == facts["ffmpeg"].audio_codec
    assert facts["moviepy"].duration == pytest.approx(facts["ffmpeg"].duration, abs=0.05)
    count = 15 if fmt == "gif" else 30
    frames = {path: frames_rgb(result.path, list(range(count + 5)), (320, 180)) for path, result in results.items()}
    assert len(frames["moviepy"]) == len(frames["ffmpeg"]) == count
    if fmt == "gif":  # 256 colours: compared as pictures
        worst = min(psnr(a, b) for a, b in zip(frames["moviepy"], frames["ffmpeg"], strict=True))
        assert worst >= 25.0
        return
    # Compared in Y'CbCr as the files hold them (converting both to RGB adds its own rounding). The two
    # paths' pictures differ a little before any encoding (the compositor works in RGB): a plain H.264
    # render of both agrees to ~38 dB here; an H.264 intermediate converted again cost 1–5 dB more.
    _average, minimum = yuv_psnr(results["moviepy"].path, results["ffmpeg"].path)
    assert minimum >= 35.0, f"{fmt}: the moviepy path's file is {minimum:.1f} dB from the ffmpeg path's"
    if fmt == "mov_prores":  # near lossless: as close as the two paths' pictures (old way: 38 dB)
        assert minimum >= 42.0
    assert results["moviepy"].path.stat().st_size == pytest.approx(results["ffmpeg"].path.stat().st_size, rel=0.5)


def yuv_psnr(a, b) -> tuple[float, float]:
    """ffmpeg's psnr filter over every frame of two videos: (average, worst frame) in dB."""
    import re
    import subprocess

    from config.tools import ffmpeg_exe

    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(a), "-i", str(b), "-lavfi",
                           "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]psnr", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    found = re.search(r"average:([0-9.]+|inf) min:([0-9.]+|inf)", done.stderr)
    assert found, done.stderr[-500:]
    return float(found.group(1)), float(found.group(2))


def test_a_portrait_timeline_at_full_hd_is_full_hd_upright():
    from jobs.render import preset_output

    def doc(w, h):
        return {"output": {"width": w, "height": h, "fps": 30}}

    assert preset_output("full_hd", doc(1080, 1920))[:2] == (1080, 1920)
    assert preset_output("hd", doc(1080, 1920))[:2] == (720, 1280)
    assert preset_output("full_hd", doc(1080, 1080))[:2] == (1080, 1080)
    assert preset_output("full_hd", doc(1080, 1350))[:2] == (1080, 1350)
    assert preset_output("uhd", doc(1280, 720))[:2] == (3840, 2160)
    assert preset_output("draft", doc(1920, 1080))[:2] == (640, 360)


@pytest.mark.django_db(transaction=True)
def test_a_webm_job_is_served_as_webm_with_range(owner, owner_client, redis_conn):
    from jobs import tasks
    from tests.factories import ProjectFactory, video_asset

    clip = video_asset(owner, seconds=1.0)
    project = ProjectFactory(owner=owner)
    doc = timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c1", "asset_id": str(clip.id), "start": 0.0, "in": 0.0, "out": 1.0}]})
    doc["output"]["format"] = "webm"
    assert owner_client.patch(f"/api/projects/{project.id}/", {"timeline": doc, "version": project.version},
                              format="json").status_code == 200
    job_id = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "project"},
                               format="json").json()["job"]["id"]
    tasks.render(job_id)
    result = owner_client.get(f"/api/jobs/{job_id}").json()["result"]
    assert (result["format"], result["content_type"], result["extension"]) == ("webm", "video/webm", ".webm")
    whole = owner_client.get(result["download_url"])
    assert whole.status_code == 200 and whole["Content-Type"] == "video/webm"
    assert whole["Content-Disposition"].endswith('.webm"')
    body = b"".join(whole.streaming_content)
    assert body[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a Matroska/WebM file
    assert result["checksum"] == "sha256:" + __import__("hashlib").sha256(body).hexdigest()
    part = owner_client.get(result["download_url"], HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and len(b"".join(part.streaming_content)) == 100


# The first bytes of each format's file, as players and browsers recognise them.
MAGIC = {"mp4": (4, b"ftyp"), "mp4_hevc": (4, b"ftyp"), "mov_prores": (4, b"ftyp"), "webm": (0, b"\x1a\x45\xdf\xa3"),
         "gif": (0, b"GIF89a"), "png": (0, b"\x89PNG"), "wav": (0, b"RIFF"), "mp3": (0, b"ID3")}


@pytest.mark.django_db(transaction=True)
def test_every_format_is_served_with_its_type_checksum_and_range(owner, owner_client, redis_conn):
    import hashlib

    from jobs import tasks
    from tests.factories import ProjectFactory, video_asset

    assert set(MAGIC) == set(FORMATS)
    clip = video_asset(owner, seconds=1.0)
    project = ProjectFactory(owner=owner)
    for fmt in sorted(FORMATS):
        doc = timeline({"id": "v1", "kind": "video", "clips": [
            {"id": "c1", "asset_id": str(clip.id), "start": 0.0, "in": 0.0, "out": 1.0}]})
        doc["output"]["format"] = fmt
        project.refresh_from_db()
        saved = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": doc, "version": project.version},
                                   format="json")
        assert saved.status_code == 200, saved.json()
        job_id = owner_client.post(f"/api/projects/{project.id}/renders", {"preset": "draft"},
                                   format="json").json()["job"]["id"]
        tasks.render(job_id)
        result = owner_client.get(f"/api/jobs/{job_id}").json()["result"]
        expected = FORMATS[fmt]
        assert (result["format"], result["content_type"], result["extension"]) == (
            fmt, expected.content_type, expected.extension), fmt
        whole = owner_client.get(result["download_url"])
        assert whole.status_code == 200 and whole["Content-Type"] == expected.content_type, fmt
        assert whole["Content-Disposition"].endswith(f'{expected.extension}"'), fmt
        body = b"".join(whole.streaming_content)
        offset, magic = MAGIC[fmt]
        assert body[offset : offset + len(magic)] == magic, fmt
        assert result["checksum"] == "sha256:" + hashlib.sha256(body).hexdigest(), fmt
        assert result["size_bytes"] == len(body), fmt
        part = owner_client.get(result["download_url"], HTTP_RANGE="bytes=10-49")
        assert part.status_code == 206, fmt
        assert part["Content-Range"] == f"bytes 10-49/{len(body)}", fmt
        assert part["Content-Type"] == expected.content_type, fmt
        assert b"".join(part.streaming_content) == body[10:50], fmt
