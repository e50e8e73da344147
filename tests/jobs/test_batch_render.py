"""A batch of 20 merged renders through real workers: every job completes with its own text and asset."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from config.tools import ffmpeg_exe
from jobs.models import RenderJob
from jobs.render.text import text_render
from tests.conftest import token_client
from tests.factories import ProjectFactory
from tests.jobs.conftest import asset_from_video, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]

NAMES = ["Ada", "Grace", "Linus", "Barbara", "Alan", "Edsger", "Margaret", "Dennis", "Frances", "Ken",
         "Radia", "Guido", "Hedy", "Donald", "Katherine", "Tim", "Sophie", "John", "Shafi", "Niklaus"]
COLORS = {"navy": (0, 0, 128), "maroon": (128, 0, 0)}
WIDTH, HEIGHT = 640, 360  # the draft preset's output for a 16:9 timeline
STYLE = {"size": 36, "color": "#ffffff", "position": "center"}


def color_clip(path, color: str):
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"color=c={color}:size=320x180:rate=10:duration=1", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


def template() -> dict:
    return {
        "schema": 1,
        "output": {"width": 320, "height": 180, "fps": 10, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "muted": True, "clips": [
                {"id": "bg", "asset_id": "{{background}}", "start": 0.0, "in": 0.0, "out": 1.0, "volume": 1.0,
                 "fit": "cover", "transition": None}]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "title", "text": "Hi {{name}}", "start": 0.0, "duration": 1.0, "style": STYLE}]},
        ],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


def frame_at(path, seconds: float) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-ss", str(seconds), "-i", str(path),
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True, timeout=60).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3).astype(float)


def text_score(frame: np.ndarray, text: str, tmp_path) -> float:
    """How well `text`, drawn the way the renderer draws it, matches the frame: the mean brightness
    where its letters are filled, minus the mean brightness of the rest of its box. Only the text the
    frame really shows lights up exactly its own letter shapes."""
    png = tmp_path / "expected.png"
    box = text_render(text, STYLE, frame_size=(WIDTH, HEIGHT), scale=HEIGHT / 180, path=png)
    ink = np.asarray(Image.open(png).convert("RGBA"), dtype=float)
    fill = (ink[..., 3] > 250) & (ink[..., :3].min(axis=2) > 200)
    region = frame[box.y:box.y + box.height, box.x:box.x + box.width].mean(axis=2)
    return float(region[fill].mean() - region[~fill].mean())


def test_batch_of_20_merged_renders_completes_with_the_right_text_and_asset(owner, processes, tmp_path,
                                                                            media_root):
    for color in COLORS:
        asset_from_video(owner, color_clip(tmp_path / f"{color}.mp4", color))
    project = ProjectFactory(owner=owner, timeline=template())
    items = [{"merge": {"name": name, "background": "navy" if n % 2 == 0 else "maroon"}}
             for n, name in enumerate(NAMES)]
    workers = [processes.worker(), processes.worker()]

    response = token_client(owner).post(f"/api/projects/{project.id}/renders",
                                        {"preset": "draft", "items": items}, format="json")
    assert response.status_code == 202, response.content
    ids = [job["id"] for job in response.json()["jobs"]]
    assert len(ids) == 20

    def all_done():
        return not RenderJob.objects.filter(pk__in=ids, status__in=["PENDING", "RUNNING"]).exists()

    try:
        wait_for(all_done, timeout=240, interval=0.5, what="the batch to finish")
    except AssertionError:
        raise AssertionError("\n".join(w.log()[-2000:] for w in workers)) from None
    jobs = {str(job.id): job for job in RenderJob.objects.filter(pk__in=ids)}
    assert {job.status for job in jobs.values()} == {"SUCCEEDED"}, [(j.status, j.error_message) for j in jobs.values()]

    for n, job_id in enumerate(ids):
        job = jobs[job_id]
        frame = frame_at(media_root / job.result_file.name, 0.5)
        expected = COLORS[items[n]["merge"]["background"]]
        corner = frame[5:25, 5:25].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - expected).max() < 30, (job_id, corner, expected)
        own = text_score(frame, f"Hi {NAMES[n]}", tmp_path)
        others = {name: text_score(frame, f"Hi {name}", tmp_path) for name in NAMES if name != NAMES[n]}
        best_other = max(others, key=others.get)
        assert own > 100 and own > others[best_other] + 20, (NAMES[n], own, best_other, others[best_other])
