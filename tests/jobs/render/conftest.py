"""Shared pieces for renderer tests: generated media as AssetSources, and process-table checks.

The renderer needs no database; these tests run without one (except the management command's).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobs.render import AssetSource
from jobs.render.procs import descendants, process_cmdline
from jobs.render.quality import probe
from tests.factories import sample_file


def source(asset_id: str, path: Path, kind: str = "video") -> AssetSource:
    """An AssetSource filled in from ffprobe, as the job task fills it in from the MediaAsset row."""
    facts = probe(path)
    return AssetSource(
        asset_id=asset_id, path=path, kind=kind,
        duration=None if kind == "image" else facts.duration,
        width=facts.width, height=facts.height, fps=facts.fps if kind == "video" else None,
        has_audio=facts.audio_codec is not None, name=path.name,
    )


def video(asset_id: str, **params) -> AssetSource:
    return source(asset_id, sample_file("video", **params), "video")


def image(asset_id: str, **params) -> AssetSource:
    return source(asset_id, sample_file("image", **params), "image")


def audio(asset_id: str, **params) -> AssetSource:
    return source(asset_id, sample_file("audio", ".m4a", **params), "audio")


def timeline(*tracks: dict, width: int = 320, height: int = 180, fps: int = 30, background: str = "#000000") -> dict:
    return {
        "schema": 1,
        "output": {"width": width, "height": height, "fps": fps, "background": background},
        "tracks": list(tracks),
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


def encoder_processes() -> list[str]:
    """Command lines of this test process's live descendants that are encoders, decoders or compositors."""
    found = []
    for pid in descendants(os.getpid()):
        cmdline = process_cmdline(pid).replace(b"\0", b" ").decode(errors="replace")
        if "ffmpeg" in cmdline or "jobs.render.compositor" in cmdline:
            found.append(cmdline)
    return found


def scratch_dirs(directory: Path) -> list[Path]:
    return list(directory.glob(".render-*"))


@pytest.fixture
def out_dir(tmp_path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory
