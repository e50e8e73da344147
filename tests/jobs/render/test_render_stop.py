"""Stopping: cancel and timeout end every process and leave no scratch files; bad media names its clip."""

from __future__ import annotations

import time

import pytest

from jobs.render import render_timeline
from jobs.render.errors import MediaMissing, MediaUnreadable, RenderCanceled, RenderTimeout
from tests.jobs.render.conftest import encoder_processes, scratch_dirs, timeline, video

PATHS = ["ffmpeg", "moviepy"]


def long_timeline(clips: int = 6, seconds: float = 10.0) -> tuple[dict, dict]:
    """A minute of 320×180 video: long enough that 30 % is well before the end on both paths."""
    assets = {"a": video("a", seconds=seconds, source="testsrc2")}
    document = timeline({"id": "v1", "kind": "video", "clips": [
        {"id": f"c{i}", "asset_id": "a", "start": i * seconds, "in": 0.0, "out": seconds} for i in range(clips)]})
    return document, assets


@pytest.mark.parametrize("path", PATHS)
def test_cancel_at_a_third_stops_within_two_seconds_and_leaves_nothing(out_dir, path):
    document, assets = long_timeline()
    asked: list[float] = []
    seen: list[float] = []

    def on_progress(progress):
        seen.append(progress.percent)

    def should_cancel() -> bool:
        if not asked and seen and seen[-1] >= 30.0:
            asked.append(time.monotonic())
        return bool(asked)

    with pytest.raises(RenderCanceled):
        render_timeline(document, assets, "project", out_dir / "c.mp4", path=path,
                        on_progress=on_progress, should_cancel=should_cancel)
    stopped = time.monotonic()
    assert asked, "the render finished before reaching 30 %"
    assert stopped - asked[0] < 2.0
    assert 30.0 <= max(seen) < 95.0
    assert encoder_processes() == []
    assert scratch_dirs(out_dir) == [] and list(out_dir.iterdir()) == []


@pytest.mark.parametrize("path", PATHS)
def test_a_render_past_its_time_limit_stops_with_timeout(out_dir, path):
    document, assets = long_timeline()
    started = time.monotonic()
    with pytest.raises(RenderTimeout) as caught:
        render_timeline(document, assets, "project", out_dir / "t.mp4", path=path, timeout=1.0)
    assert time.monotonic() - started < 3.0
    assert caught.value.error_code == "TIMEOUT"
    assert encoder_processes() == []
    assert list(out_dir.iterdir()) == []


def one_clip_document() -> dict:
    return timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c2", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 1.0}]})


@pytest.mark.parametrize("path", PATHS)
def test_a_deleted_media_file_fails_with_media_missing_naming_the_clip(tmp_path, out_dir, path):
    source = video("a", seconds=1.0)
    copy = tmp_path / "asset.mp4"
    copy.write_bytes(source.path.read_bytes())
    assets = {"a": source.__class__(**{**source.__dict__, "path": copy})}
    copy.unlink()
    with pytest.raises(MediaMissing) as caught:
        render_timeline(one_clip_document(), assets, "project", out_dir / "m.mp4", path=path)
    assert caught.value.error_code == "MEDIA_MISSING"
    assert caught.value.message == "clip c2 on track v1: the media file is missing."
    assert str(tmp_path) not in caught.value.message
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("path", PATHS)
def test_a_corrupt_media_file_fails_with_media_unreadable_naming_the_clip(tmp_path, out_dir, path):
    source = video("a", seconds=1.0)
    garbage = tmp_path / "asset.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    assets = {"a": source.__class__(**{**source.__dict__, "path": garbage})}
    with pytest.raises(MediaUnreadable) as caught:
        render_timeline(one_clip_document(), assets, "project", out_dir / "u.mp4", path=path)
    assert caught.value.error_code == "MEDIA_UNREADABLE"
    assert caught.value.message == "clip c2 on track v1: the media file cannot be read."
    assert encoder_processes() == []
    assert list(out_dir.iterdir()) == []


class CallerGaveUp(Exception):
    """Stands for what the job's caller may raise mid-render (RQ raises JobTimeoutException this way)."""


@pytest.mark.parametrize("path", PATHS)
def test_an_exception_raised_by_the_caller_mid_render_still_leaves_nothing(out_dir, path):
    document, assets = long_timeline(clips=3)

    def on_progress(progress):
        if progress.phase == "ENCODE" and progress.percent > 20:
            raise CallerGaveUp

    with pytest.raises(CallerGaveUp):
        render_timeline(document, assets, "project", out_dir / "x.mp4", path=path, on_progress=on_progress)
    assert encoder_processes() == []
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("path", PATHS)
def test_a_file_that_breaks_after_the_check_is_still_reported_for_its_clip(tmp_path, path):
    """The media check passed, then the file went bad: the path itself names the clip (MEDIA_UNREADABLE)."""
    from jobs.render.compiler import plan_compile
    from jobs.render.ffmpeg_graph import render_with_ffmpeg
    from jobs.render.media import media_check
    from jobs.render.moviepy_path import render_with_moviepy
    from jobs.render.progress import RenderMonitor

    source = video("a", seconds=1.0)
    copy = tmp_path / "asset.mp4"
    copy.write_bytes(source.path.read_bytes())
    assets = {"a": source.__class__(**{**source.__dict__, "path": copy})}
    document = one_clip_document()
    plan = plan_compile(document, assets, media_check(document, assets), "project", text_dir=tmp_path)
    copy.write_bytes(b"not a video any more" * 100)
    monitor = RenderMonitor(None, None, timeout=60)
    with pytest.raises(MediaUnreadable, match=r"^clip c2 on track v1: the media file cannot be read\.$"):
        if path == "ffmpeg":
            render_with_ffmpeg(plan, tmp_path / "o.mp4", tmp_path, monitor)
        else:
            render_with_moviepy(plan, tmp_path / "o.mp4", tmp_path / "p.jpg", tmp_path, monitor)
    assert encoder_processes() == []
