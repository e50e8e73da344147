"""Memory follows the output, never the document: huge scales, a huge title and a huge picture render at
1080p inside 1 GiB of process-tree memory, on both paths (a few frames each, at 5 fps)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from jobs.management.commands.bench_render import TreeMemory
from jobs.render import render_timeline
from jobs.render.quality import probe
from tests.jobs.render.conftest import source

LIMIT = 1024 * 2**20


def doc(*tracks) -> dict:
    return {"schema": 2, "output": {"width": 1920, "height": 1080, "fps": 5, "background": "#000000"},
            "tracks": list(tracks), "markers": [], "view": {}}


# What a fresh worker process holds before it renders anything: Django set up, the render package imported.
_WORKER_START = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
import jobs.render, jobs.render.compositor  # noqa
print(next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmRSS:")))
"""


@pytest.fixture(scope="module")
def worker_start_rss() -> int:
    return int(subprocess.run([sys.executable, "-c", _WORKER_START], check=True, capture_output=True,
                              text=True).stdout.split()[-1])


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("memory")
    logo = work / "logo.png"
    Image.new("RGB", (400, 400), (255, 0, 0)).save(logo)
    huge = work / "huge.png"
    Image.new("RGB", (12000, 12000), (0, 128, 255)).save(huge)  # compresses to a few hundred kB
    return {"logo": source("logo", logo, "image"), "huge": source("huge", huge, "image")}


ROWS = {
    "scale_10_static": lambda: doc({"id": "v1", "kind": "video", "clips": [
        {"id": "l", "asset_id": "logo", "start": 0, "duration": 1, "transform": {"scale": 10, "x": 0.3}}]}),
    "scale_10_keyframed_and_turning": lambda: doc({"id": "v1", "kind": "video", "clips": [
        {"id": "l", "asset_id": "logo", "start": 0, "duration": 1, "transform": {"rotation": 30},
         "keyframes": {"scale": [{"t": 0, "v": 1}, {"t": 1, "v": 10}]}}]}),
    "huge_title_scaled": lambda: doc({"id": "t1", "kind": "text", "clips": [
        {"id": "x", "text": "W" * 40, "start": 0, "duration": 1, "style": {"size": 512},
         "transform": {"scale": 10}}]}),
    "picture_12000_square": lambda: doc({"id": "v1", "kind": "video", "clips": [
        {"id": "h", "asset_id": "huge", "start": 0, "duration": 1, "transform": {"scale": 2}}]}),
}


@pytest.mark.parametrize("path", ["ffmpeg", "moviepy"])
@pytest.mark.parametrize("name", list(ROWS))
def test_renders_inside_one_gib_at_1080p(pictures, worker_start_rss, tmp_path: Path, name, path):
    out = tmp_path / f"{name}.mp4"
    with TreeMemory() as memory:
        result = render_timeline(ROWS[name](), pictures, "project", out, path=path)
    assert probe(result.path).frames == 5
    # The tree's peak less what this test process already held (late in a full run it holds hundreds of
    # MB of earlier tests), plus what a fresh worker holds before rendering: the worker's tree as it would be.
    tree = memory.peak_rss - memory.start_rss + worker_start_rss
    assert tree < LIMIT, f"{name} on {path}: {tree / 2**20:.0f} MiB"
