"""One ffmpeg and one ffprobe for all of Cutline: the configured paths are the ones uploads and renders run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.cache import cache

from config.tools import ffmpeg_exe, ffprobe_exe
from jobs.render import render_timeline
from tests.factories import sample_file
from tests.jobs.render.conftest import timeline, video


def wrapper(tmp_path: Path, name: str, real: str) -> tuple[Path, Path]:
    """A script that notes each call in a log, then runs the real program: (script, log)."""
    log = tmp_path / f"{name}.log"
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def wrapped(settings, tmp_path):
    ffmpeg, ffmpeg_log = wrapper(tmp_path, "my-ffmpeg", ffmpeg_exe())
    ffprobe, ffprobe_log = wrapper(tmp_path, "my-ffprobe", ffprobe_exe())
    settings.FFMPEG_PATH = str(ffmpeg)
    settings.MEDIA_FFPROBE_PATH = str(ffprobe)
    return ffmpeg_log, ffprobe_log


def test_the_locator_answers_the_settings(wrapped, settings):
    assert ffmpeg_exe() == settings.FFMPEG_PATH and ffprobe_exe() == settings.MEDIA_FFPROBE_PATH


def test_the_bundled_ffmpeg_is_the_default(settings):
    settings.FFMPEG_PATH = ""
    assert Path(ffmpeg_exe()).is_file()


def test_an_upload_is_probed_and_previewed_by_the_configured_programs(wrapped, owner_client, media_root, redis_conn):
    ffmpeg_log, ffprobe_log = wrapped
    cache.clear()  # the probe cache would answer for a file seen before
    with open(sample_file("video", seconds=1.0), "rb") as handle:
        response = owner_client.post("/api/assets/", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    assert any("-show_streams" in line for line in calls(ffprobe_log))
    assert calls(ffmpeg_log)  # thumbnail and filmstrip


@pytest.mark.parametrize("path", ["ffmpeg", "moviepy"])
def test_a_render_runs_the_configured_ffmpeg(wrapped, tmp_path, path):
    ffmpeg_log, ffprobe_log = wrapped
    track = {"id": "v1", "kind": "video", "muted": False,
             "clips": [{"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 0.5}]}
    result = render_timeline(timeline(track), {"a": video("a", seconds=1.0)}, "project", tmp_path / "out.mp4",
                             path=path)
    assert result.path.exists()
    assert any("-show_streams" in line for line in calls(ffprobe_log))  # the render-time media check
    outputs = [line for line in calls(ffmpeg_log) if str(tmp_path) in line]
    assert outputs, calls(ffmpeg_log)
    if path == "moviepy":  # the compositor child's decoders and encoder are moviepy's, run through FFMPEG_BINARY
        assert any("rawvideo" in line for line in calls(ffmpeg_log))
